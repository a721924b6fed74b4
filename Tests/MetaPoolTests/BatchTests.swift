// The batch engine: every result equals the single-analysis fit, in input order, whatever the
// number of parallel tasks; tables split by the analysis column; JSON Lines; errors per analysis.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Batch engine (pool --batch)")
struct BatchTests {
    /// Deterministic pseudo-random analyses (LCG), k between 1 and 12.
    static func analyses(_ n: Int) throws -> [BatchAnalysis.Analysis] {
        var state: UInt64 = 7
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        return try (0..<n).map { i in
            let k = 1 + Int(uniform() * 12)
            let v = (0..<k).map { _ in 0.01 + uniform() * 0.3 }
            let y = v.map { 0.3 + (uniform() - 0.5) * 2 * ($0 + 0.1).squareRoot() }
            return try BatchAnalysis.Analysis(id: "a\(i)", yi: y, vi: v)
        }
    }

    @Test("each result equals MetaAnalysis; input order kept; 1 and 3 tasks agree", arguments: [
        (TauSquaredMethod.restrictedMaximumLikelihood, ConfidenceIntervalMethod.hartungKnapp),
        (.derSimonianLaird, .wald), (.pauleMandel, .t), (.fixedEffect, .wald),
    ])
    func matchesSingleFits(_ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod) async throws {
        let input = try Self.analyses(300)
        let engine = BatchAnalysis(method: method, ciMethod: ci, level: 0.9)
        let parallel = await engine.run(input, tasks: 3)
        let serial = await engine.run(input, tasks: 1)
        #expect(parallel.count == input.count)
        #expect(parallel.compactMap(\.fit).map(\.id) == zip(input, parallel).compactMap { $1.fit == nil ? nil : $0.id })
        var fitted = 0
        for (outcome, (s, a)) in zip(parallel, zip(serial, input)) {
            #expect(outcome.fit?.estimate.bitPattern == s.fit?.estimate.bitPattern && outcome.error?.kind == s.error?.kind)
            let single: MetaAnalysis
            do {
                single = try MetaAnalysis(EffectSizes.generic(yi: a.yi, vi: a.vi), method: method, ciMethod: ci, level: 0.9)
            } catch {
                #expect(outcome.error?.kind == error.kind, "\(a.id): single fit fails with \(error), batch with \(String(describing: outcome.error))")
                continue
            }
            fitted += 1
            let r = try #require(outcome.fit, "\(a.id): \(String(describing: outcome.error))")
            #expect(r.estimate == single.estimate && r.standardError == single.standardError, "\(a.id)")
            #expect(r.confidenceInterval == single.confidenceInterval && r.pValue == single.pValue)
            #expect(r.tauSquared == single.tauSquared && r.q == single.q && r.iSquared == single.iSquared)
            #expect(r.predictionInterval == single.predictionInterval)
        }
        #expect(fitted > 250)
    }

    @Test("a table splits by its analysis column; each group pools as alone")
    func table() throws {
        let csv = "analysis,events,total\nA,4,15\nB,2,9\nA,11,15\nB,20,44\nA,2,4\n"
        let t = try DataTable.read(bytes: Array(csv.utf8), source: "b.csv")
        let groups = try BatchAnalysis.analyses(from: t)
        #expect(groups.map(\.id) == ["A", "B"])
        #expect(groups[0].yi.count == 3 && groups[1].yi.count == 2)
        let engine = BatchAnalysis()
        let a = try engine.fit(groups[0]).get()
        let single = try MetaAnalysis(EffectSizes.proportions(events: [4, 11, 2], totals: [15, 15, 4]))
        #expect(abs(a.estimate - single.estimate) < 1e-15 && abs(a.backTransform(a.estimate) - single.backTransform(single.estimate)) < 1e-15)
        #expect(throws: MetaPoolError.self) { _ = try BatchAnalysis.analyses(from: t, column: "sim") }
    }

    @Test("analyses are grouped as --by groups subgroups: trimmed, case-insensitive, named as first written")
    func groupingMatchesSubgroups() throws {
        let csv = "analysis,yi,vi\nA,0.1,0.01\na,0.5,0.02\n A ,0.3,0.03\nb,0.2,0.01\nB,0.4,0.02\n"
        let t = try DataTable.read(bytes: Array(csv.utf8), source: "g.csv")
        let groups = try BatchAnalysis.analyses(from: t)
        #expect(groups.map(\.id) == ["A", "b"])
        #expect(groups.map(\.yi) == [[0.1, 0.5, 0.3], [0.2, 0.4]])
        let subgroups = try SubgroupAnalysis(table: t, by: "analysis", method: .derSimonianLaird)
        #expect(subgroups.subgroups.map(\.count) == groups.map(\.yi.count))
    }

    @Test("JSON Lines: one analysis per line; errors name the line, study and column")
    func jsonLines() throws {
        let text = """
        {"analysis": "s1", "yi": [0.1, 0.3, 0.5], "vi": [0.01, 0.02, 0.03]}

        {"analysis": 2, "events": [4, 11, 2], "total": [15, 15, 4]}
        """
        let groups = try BatchAnalysis.analyses(jsonLines: text, source: "b.jsonl")
        #expect(groups.map(\.id) == ["s1", "2"])
        #expect(groups[1].measure == .logitProportion)
        let bad = "{\"analysis\": \"x\", \"yi\": [1, 2], \"vi\": [0.1, -1]}\n"
        do {
            _ = try BatchAnalysis.analyses(jsonLines: "\n" + bad, source: "b.jsonl")
            Issue.record("expected an error")
        } catch {
            #expect(error.location.line == 2 && error.location.row == 2 && error.location.column == "vi" && error.reason.hasPrefix("analysis x:"))
        }
        for broken in ["{\"analysis\": \"x\", \"yi\": [1, 2], \"vi\": [0.1]}", "[1, 2]", "{\"yi\": [1], \"vi\": [1]}", "{\"analysis\": \"x\", \"yi\": 1, \"vi\": 2}", "{oops"] {
            #expect(throws: MetaPoolError.self, "\(broken)") { _ = try BatchAnalysis.analyses(jsonLines: broken, source: nil) }
        }
        #expect(throws: MetaPoolError.self) { _ = try BatchAnalysis.analyses(jsonLines: "\n\n", source: nil) }
    }

    @Test("JSON Lines as one table: union of columns, rows numbered within their line, CRLF read as LF, identifiers as written")
    func jsonLinesTable() throws {
        let text = "{\"analysis\": 1e2, \"yi\": [0.1, 0.3], \"vi\": [0.01, 0.02], \"arm\": [\"x\", \"y\"]}\r\n\r\n"
            + "{\"Analysis\": 100.0, \"events\": [4, 11, 2], \"total\": [15, 15, 4]}\r\n"
        let input = try DataTable.readJSONLines(text, source: "b.jsonl")
        #expect(input.table.columns == ["analysis", "yi", "vi", "arm", "events", "total"])
        #expect(input.table.rows.map { $0[0] } == ["1e2", "1e2", "100.0", "100.0", "100.0"])
        #expect(input.table.lines == [1, 1, 3, 3, 3] && input.table.rowNumbers == [1, 2, 1, 2, 3])
        #expect(input.table.rows[2] == ["100.0", nil, nil, nil, "4", "15"])
        #expect(input.keys == [1: ["analysis", "yi", "vi", "arm"], 3: ["analysis", "events", "total"]])
        // Each line's effect sizes from its own columns: GEN for the first, PLO for the second.
        let (analyses, excluded) = try BatchAnalysis.analyses(jsonLines: input.table, keys: input.keys)
        #expect(analyses.map(\.id) == ["1e2", "100.0"] && analyses.map(\.measure) == [.generic, .logitProportion] && excluded.isEmpty)
        #expect(try BatchAnalysis.analyses(jsonLines: text.replacingOccurrences(of: "\r\n", with: "\n"), source: nil).map(\.yi)
                == analyses.map(\.yi))
        // Selected rows (as --where arm=x selects them): the line with no row left gives no analysis.
        let selected = try input.table.selecting([RowCondition(column: "arm", value: "x")])
        let one = try BatchAnalysis.analyses(jsonLines: selected, keys: input.keys).analyses
        #expect(one.map(\.id) == ["1e2"] && one[0].yi == [0.1])
        // --drop-missing: rows left out with their analysis and their study number within the line;
        // a line left with no study gives no analysis.
        let missing = try DataTable.readJSONLines("{\"analysis\": \"m\", \"yi\": [0.1, null, 0.3], \"vi\": [0.01, 0.02, 0.03]}\n"
                                                  + "{\"analysis\": \"n\", \"yi\": [null], \"vi\": [0.01]}\n", source: nil)
        var drop = EffectSizeOptions()
        drop.dropMissing = true
        let (kept, left) = try BatchAnalysis.analyses(jsonLines: missing.table, keys: missing.keys, options: drop)
        #expect(kept.map(\.id) == ["m"] && kept[0].yi == [0.1, 0.3])
        #expect(left.map(\.analysis) == ["m", "n"] && left.map(\.row.row) == [2, 1] && left.map(\.row.column) == ["yi", "yi"])
        #expect(throws: MetaPoolError.self) { _ = try BatchAnalysis.analyses(jsonLines: missing.table, keys: missing.keys) }
    }

    @Test("JSON Lines: a repeated identifier (spaces and case ignored) is refused naming both lines")
    func jsonLinesDuplicateIdentifiers() {
        for second in [#""s1""#, #"" S1 ""#] {
            let text = "{\"analysis\": \"s1\", \"yi\": [0.1], \"vi\": [0.01]}\n{\"analysis\": \(second), \"yi\": [0.2], \"vi\": [0.01]}\n"
            do {
                _ = try DataTable.readJSONLines(text, source: "d.jsonl")
                Issue.record("expected an error for \(second)")
            } catch {
                #expect(error.kind == .invalidValue && error.location.line == 2 && error.location.column == "analysis")
                #expect(error.reason.contains("also on line 1"), "\(error.reason)")
            }
        }
    }

    @Test("every split of n analyses over t tasks returns n results in order")
    func splits() async throws {
        let all = try Self.analyses(70)
        let serial = await BatchAnalysis(method: .derSimonianLaird).run(all, tasks: 1)
        for n in [1, 2, 3, 17, 50, 65, 70] {
            for tasks in [1, 2, 3, 8, 100] {
                let results = await BatchAnalysis(method: .derSimonianLaird).run(Array(all.prefix(n)), tasks: tasks)
                #expect(results.count == n)
                // In order: each outcome is the serial outcome of the same analysis.
                #expect(zip(results, serial).allSatisfy { $0.fit?.id == $1.fit?.id && $0.fit?.estimate == $1.fit?.estimate && $0.error?.reason == $1.error?.reason },
                        "n = \(n), tasks = \(tasks)")
            }
        }
        #expect(await BatchAnalysis().run([], tasks: 4).isEmpty)
    }

    @Test("a failing analysis reports its error; the others are fitted")
    func failures() async throws {
        let input = [try BatchAnalysis.Analysis(id: "one", yi: [0.2], vi: [0.1]),
                     try BatchAnalysis.Analysis(id: "two", yi: [0.2, 0.4], vi: [0.1, 0.2])]
        let results = await BatchAnalysis().run(input, tasks: 2)
        #expect(results[0].error?.kind == .insufficientData && results[0].fit == nil)
        #expect(results[0].error?.reason.hasPrefix("analysis one") == true)
        #expect(results[1].error == nil && results[1].fit?.estimate.isFinite == true)
        #expect(throws: MetaPoolError.self) { _ = try BatchAnalysis.Analysis(id: "x", yi: [1, .nan], vi: [1, 1]) }
        #expect(throws: MetaPoolError.self) { _ = try BatchAnalysis.Analysis(id: "x", yi: [1], vi: [0]) }
    }
}

// Mantel–Haenszel (OR, RR, RD) and Peto pooling against metafor's rma.mh() and rma.peto().
// Fixtures: Tests/MetaPoolTests/Fixtures/mh_peto, written by
// `Rscript Tests/Reference/generate_mh_peto.R`.

import Foundation
import Testing
import MetaPool
@testable import MetaPoolTestSupport

struct MHPetoFixture: Decodable {
    struct Back: Decodable {
        var estimate: Double
        var ci_lower: Double
        var ci_upper: Double
    }
    struct Expected: Decodable {
        var measure: String
        var method: String
        var level: Double
        var k: Int
        var estimate: Double
        var se: Double
        var statistic: Double
        var p_value: Double
        var ci_lower: Double
        var ci_upper: Double
        var q: Double
        var q_df: Int
        var q_p_value: Double
        var i2: Double
        var h2: Double
        var cmh: Double?
        var cmh_p_value: Double?
        var tarone: Double?
        var tarone_df: Int?
        var tarone_p_value: Double?
        var back_transformed: Back
    }
    struct Case: Decodable {
        var method: String
        var measure: String
        var level: Double
        var expected: Expected
    }
    var input: String
    var cases: [Case]

    static let directory = FixtureFolder.url("mh_peto")
    static func names() -> [String] {
        FixtureFolder.names(in: directory, suffix: ".expected.json")
    }
    static func load(_ name: String) throws -> (MHPetoFixture, JSONValue, DataTable) {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        let fixture = try JSONDecoder().decode(MHPetoFixture.self, from: data)
        let raw = try JSONValue.parse(String(decoding: data, as: UTF8.self), source: name)
        let table = try DataTable.read(path: directory.appendingPathComponent(fixture.input).path)
        return (fixture, raw, table)
    }
}

/// The kind of the error `body` throws, or `nil` when it returns.
private func thrownKind(_ body: () throws(MetaPoolError) -> Void) -> MetaPoolError.Kind? {
    do {
        try body()
        return nil
    } catch {
        return error.kind
    }
}

@Suite("Mantel-Haenszel and Peto against metafor")
struct MantelHaenszelTests {
    /// p-values to 1e-4 relative; every other number to 1e-6.
    static func tolerance(_ key: String) -> Double { key.hasSuffix("p_value") ? 1e-4 : 1e-6 }

    /// Compares a summary with metafor's values key by key: the same keys in the same order,
    /// strings and integers equal, numbers within tolerance, nulls where metafor reports NA.
    static func compare(_ got: JSONValue, _ want: JSONValue, path: String) {
        switch (got, want) {
        case let (.object(g), .object(w)):
            #expect(g.map(\.0) == w.map(\.0), "\(path): keys \(g.map(\.0)) vs \(w.map(\.0))")
            for (key, value) in w {
                guard let mine = g.first(where: { $0.0 == key })?.1 else { continue }
                compare(mine, value, path: path + "." + key)
            }
        case (.null, .null):
            break
        case let (.string(g), .string(w)):
            #expect(g == w, "\(path): \(g) vs \(w)")
        default:
            guard let g = number(got), let w = number(want) else {
                Issue.record("\(path): \(got.serialized(indent: 0)) vs \(want.serialized(indent: 0))")
                return
            }
            let key = path.split(separator: ".").last.map(String.init) ?? path
            expectClose(g, w, relative: tolerance(key), absolute: 1e-12, "\(path): \(g) vs \(w)")
        }
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .number(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }

    @Test("fixtures are present")
    func present() {
        let names = MHPetoFixture.names()
        #expect(names.count >= 5)
        for required in ["bcg", "yusuf1985_table6", "nielweise2007", "li2007", "hine1989"] {
            #expect(names.contains(required), "missing fixture \(required)")
        }
    }

    @Test("every case matches metafor", arguments: MHPetoFixture.names())
    func dataset(_ name: String) throws {
        let (fixture, raw, table) = try MHPetoFixture.load(name)
        guard case .object(let top) = raw, case .array(let rawCases)? = top.first(where: { $0.0 == "cases" })?.1 else {
            Issue.record("\(name): no cases")
            return
        }
        #expect(fixture.cases.count == 8)
        let counts = try TwoGroupCounts(table: table)
        for (n, c) in fixture.cases.enumerated() {
            let context = "\(name) \(c.method) \(c.measure) \(c.level)"
            let e = c.expected
            guard case .object(let members) = rawCases[n], let want = members.first(where: { $0.0 == "expected" })?.1 else {
                Issue.record("\(context): no expected object")
                continue
            }
            let summary: JSONValue
            if c.method == "MH" {
                let measure = try #require(EffectMeasure(code: c.measure))
                let fit = try MantelHaenszel(counts, measure: measure, level: c.level)
                #expect(fit.count == e.k, "\(context) k")
                expectClose(fit.estimate, e.estimate, relative: 1e-6, absolute: 1e-12, "\(context) estimate \(fit.estimate) vs \(e.estimate)")
                expectClose(fit.standardError, e.se, relative: 1e-6, absolute: 1e-12, "\(context) se \(fit.standardError) vs \(e.se)")
                expectClose(fit.statistic, e.statistic, relative: 1e-6, absolute: 1e-12, "\(context) z")
                expectClose(fit.pValue, e.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p")
                expectClose(fit.confidenceInterval.lower, e.ci_lower, relative: 1e-6, absolute: 1e-12, "\(context) ci_lower")
                expectClose(fit.confidenceInterval.upper, e.ci_upper, relative: 1e-6, absolute: 1e-12, "\(context) ci_upper")
                expectClose(fit.q, e.q, relative: 1e-6, absolute: 1e-12, "\(context) Q \(fit.q) vs \(e.q)")
                #expect(fit.qDegreesOfFreedom == e.q_df, "\(context) Q df")
                expectClose(fit.qPValue, e.q_p_value, relative: 1e-4, absolute: 1e-12, "\(context) Q p")
                expectClose(fit.iSquared, e.i2, relative: 1e-6, absolute: 1e-12, "\(context) I2")
                expectClose(fit.hSquared, e.h2, relative: 1e-6, absolute: 1e-12, "\(context) H2")
                expectClose(fit.backTransformedEstimate, e.back_transformed.estimate, relative: 1e-6, absolute: 1e-12, "\(context) back estimate")
                if measure == .oddsRatio {
                    let cmh = try #require(fit.cochranMantelHaenszel)
                    let ta = try #require(fit.tarone)
                    expectClose(cmh.statistic, e.cmh, relative: 1e-6, absolute: 1e-12, "\(context) CMH \(cmh.statistic)")
                    expectClose(cmh.pValue ?? .nan, e.cmh_p_value, relative: 1e-4, absolute: 1e-12, "\(context) CMH p")
                    expectClose(ta.statistic, e.tarone, relative: 1e-6, absolute: 1e-12, "\(context) Tarone \(ta.statistic) vs \(e.tarone ?? .nan)")
                    #expect(ta.degreesOfFreedom == e.tarone_df, "\(context) Tarone df")
                    if let p = e.tarone_p_value {
                        expectClose(ta.pValue ?? .nan, p, relative: 1e-4, absolute: 1e-12, "\(context) Tarone p")
                    } else {
                        #expect(ta.pValue == nil, "\(context) Tarone p should be NA")
                    }
                } else {
                    #expect(fit.cochranMantelHaenszel == nil && fit.tarone == nil, "\(context) CMH/Tarone only for OR")
                }
                summary = try fit.jsonSummary()
            } else {
                let fit = try Peto(counts, level: c.level)
                #expect(fit.count == e.k, "\(context) k")
                expectClose(fit.estimate, e.estimate, relative: 1e-6, absolute: 1e-12, "\(context) estimate \(fit.estimate) vs \(e.estimate)")
                expectClose(fit.standardError, e.se, relative: 1e-6, absolute: 1e-12, "\(context) se")
                expectClose(fit.q, e.q, relative: 1e-6, absolute: 1e-12, "\(context) Q \(fit.q) vs \(e.q)")
                #expect(fit.qDegreesOfFreedom == e.q_df, "\(context) Q df")
                expectClose(fit.iSquared, e.i2, relative: 1e-6, absolute: 1e-12, "\(context) I2")
                summary = try fit.jsonSummary()
            }
            Self.compare(summary, want, path: context)
        }
    }

    @Test("the same results from arrays as from the table")
    func arrays() throws {
        let counts = try TwoGroupCounts(treatEvents: [4, 6, 3, 62], treatTotals: [123, 306, 231, 13598],
                                        controlEvents: [11, 29, 11, 248], controlTotals: [139, 303, 220, 12867],
                                        labels: ["A", "B", "C", "D"])
        let table = try DataTable.read(bytes: Array("study,treat_events,treat_total,control_events,control_total\nA,4,123,11,139\nB,6,306,29,303\nC,3,231,11,220\nD,62,13598,248,12867\n".utf8), source: "t.csv")
        let fromTable = try TwoGroupCounts(table: table)
        #expect(fromTable.treatEvents == counts.treatEvents && fromTable.controlTotals == counts.controlTotals)
        #expect(fromTable.labels == counts.labels)
        #expect(counts.treatNonEvents == [119, 300, 228, 13536])
        for measure in [EffectMeasure.oddsRatio, .riskRatio, .riskDifference] {
            let a = try MantelHaenszel(counts, measure: measure)
            let b = try MantelHaenszel(fromTable, measure: measure)
            #expect(a.estimate == b.estimate && a.standardError == b.standardError && a.q == b.q)
        }
        #expect(try Peto(counts).estimate == Peto(fromTable).estimate)
    }

    @Test("double-zero studies: in k, out of Q's df; as metafor, only RR's estimate counts all-event tables")
    func doubleZero() throws {
        let base = try TwoGroupCounts(treatEvents: [3, 5, 2], treatTotals: [40, 50, 30], controlEvents: [6, 9, 4], controlTotals: [41, 52, 29])
        let noEvents = try TwoGroupCounts(treatEvents: [3, 5, 2, 0], treatTotals: [40, 50, 30, 25],
                                          controlEvents: [6, 9, 4, 0], controlTotals: [41, 52, 29, 30])
        let both = try TwoGroupCounts(treatEvents: [3, 5, 2, 0, 20], treatTotals: [40, 50, 30, 25, 20],
                                      controlEvents: [6, 9, 4, 0, 18], controlTotals: [41, 52, 29, 30, 18])
        #expect(try both.isDoubleZero(3) && both.isDoubleZero(4) && !both.isDoubleZero(0))
        // A table without events in either arm adds nothing to any MH sum; one with only events
        // (b = d = 0) adds nothing to the OR's sums (R = S = 0) but n₁n₂/n to both of the RR's.
        for (measure, other) in [(EffectMeasure.oddsRatio, both), (.riskRatio, noEvents), (.riskDifference, noEvents)] {
            let a = try MantelHaenszel(base, measure: measure), b = try MantelHaenszel(other, measure: measure)
            if measure != .riskDifference {
                #expect(isClose(a.estimate, b.estimate, relative: 1e-13, absolute: 1e-12) && isClose(a.standardError, b.standardError, relative: 1e-13, absolute: 1e-12), "\(measure)")
                expectClose(a.q, b.q, relative: 1e-13, absolute: 1e-12, "\(measure)")
            }
            #expect(b.count == other.count && b.heterogeneityCount == 3 && b.qDegreesOfFreedom == 2, "\(measure)")
        }
        let rr = try MantelHaenszel(both, measure: .riskRatio)
        let rrBase = try MantelHaenszel(base, measure: .riskRatio)
        #expect(rr.heterogeneityCount == 3 && abs(rr.estimate - rrBase.estimate) > 0.1)
        let tarone = try #require(try MantelHaenszel(both).tarone)
        #expect(tarone.degreesOfFreedom == 2)
        let a = try Peto(base), b = try Peto(both)
        #expect(isClose(a.estimate, b.estimate, relative: 1e-13, absolute: 1e-12) && isClose(a.q, b.q, relative: 1e-13, absolute: 1e-12))
        #expect(b.count == 5 && b.heterogeneityCount == 3 && b.qDegreesOfFreedom == 2)
        #expect(b.variances[3] == 0 && b.variances[4] == 0)
    }

    @Test("errors: empty input, events above the total, bad cells, missing columns")
    func inputErrors() throws {
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try TwoGroupCounts(treatEvents: [], treatTotals: [], controlEvents: [], controlTotals: [])
        } == .insufficientData)
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try TwoGroupCounts(treatEvents: [1, 2], treatTotals: [10], controlEvents: [1, 2], controlTotals: [10, 10])
        } == .invalidArgument)
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try TwoGroupCounts(table: DataTable(source: "e.csv", columns: ["treat_events", "treat_total", "control_events", "control_total"], rows: []))
        } == .insufficientData)

        let header = "study,treat_events,treat_total,control_events,control_total\n"
        func error(_ body: String) throws -> MetaPoolError? {
            let table = try DataTable.read(bytes: Array((header + body).utf8), source: "x.csv")
            do {
                _ = try TwoGroupCounts(table: table)
                return nil
            } catch {
                return error
            }
        }
        let above = try #require(try error("A,3,10,2,10\nB,12,10,2,10\n"))
        #expect(above.kind == .invalidValue && above.location.row == 2 && above.location.column == "treat_events" && above.location.file == "x.csv")
        #expect(above.location.study == "B")
        let control = try #require(try error("A,3,10,12,11\n"))
        #expect(control.kind == .invalidValue && control.location.row == 1 && control.location.column == "control_events")
        let negative = try #require(try error("A,3,10,2,10\nB,1,10,-2,10\n"))
        #expect(negative.kind == .invalidValue && negative.location.row == 2 && negative.location.column == "control_events")
        let fraction = try #require(try error("A,3,10.5,2,10\n"))
        #expect(fraction.kind == .invalidValue && fraction.location.column == "treat_total")
        let zeroTotal = try #require(try error("A,0,0,2,10\n"))
        #expect(zeroTotal.kind == .invalidValue && zeroTotal.location.column == "treat_total")
        let text = try #require(try error("A,three,10,2,10\n"))
        #expect(text.kind == .invalidValue && text.location.column == "treat_events")
        let empty = try #require(try error("A,3,10,,10\n"))
        #expect(empty.kind == .invalidValue && empty.location.column == "control_events")
        do {
            _ = try TwoGroupCounts(treatEvents: [.nan], treatTotals: [10], controlEvents: [1], controlTotals: [10])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.row == 1 && error.location.column == "treat_events")
        }

        let missing = try DataTable.read(bytes: Array("study,treat_events,treat_total,control_events\nA,1,10,2\n".utf8), source: "m.csv")
        do {
            _ = try TwoGroupCounts(table: missing)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .missingColumn && error.location.column == "control_total")
        }
    }

    @Test("errors: all studies double-zero, estimate undefined, bad measure or level")
    func modelErrors() throws {
        let allZero = try TwoGroupCounts(treatEvents: [0, 0, 7], treatTotals: [10, 12, 7], controlEvents: [0, 0, 9], controlTotals: [11, 13, 9])
        for measure in [EffectMeasure.oddsRatio, .riskRatio, .riskDifference] {
            #expect(thrownKind { () throws(MetaPoolError) in
                _ = try MantelHaenszel(allZero, measure: measure)
            } == .insufficientData)
        }
        #expect(thrownKind { () throws(MetaPoolError) in _ = try Peto(allZero) } == .insufficientData)

        // No events in the treatment group of any study: OR and RR are 0 (log −∞); RD and Peto are defined.
        let noTreatEvents = try TwoGroupCounts(treatEvents: [0, 0], treatTotals: [10, 12], controlEvents: [2, 3], controlTotals: [10, 11])
        for measure in [EffectMeasure.oddsRatio, .riskRatio] {
            #expect(thrownKind { () throws(MetaPoolError) in
                _ = try MantelHaenszel(noTreatEvents, measure: measure)
            } == .insufficientData)
        }
        #expect(try MantelHaenszel(noTreatEvents, measure: .riskDifference).estimate < 0)
        #expect(try Peto(noTreatEvents).estimate < 0)
        // Every treated patient has the event: the MH odds ratio is infinite.
        let allTreated = try TwoGroupCounts(treatEvents: [10, 12], treatTotals: [10, 12], controlEvents: [2, 3], controlTotals: [10, 11])
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try MantelHaenszel(allTreated, measure: .oddsRatio)
        } == .insufficientData)
        // No control events: the MH risk ratio is infinite.
        let noControlEvents = try TwoGroupCounts(treatEvents: [1, 2], treatTotals: [10, 12], controlEvents: [0, 0], controlTotals: [10, 11])
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try MantelHaenszel(noControlEvents, measure: .riskRatio)
        } == .insufficientData)

        let fine = try TwoGroupCounts(treatEvents: [3, 4], treatTotals: [20, 25], controlEvents: [5, 6], controlTotals: [21, 24])
        #expect(thrownKind { () throws(MetaPoolError) in
            _ = try MantelHaenszel(fine, measure: .logitProportion)
        } == .invalidArgument)
        for level in [0, 1, 95, -0.5, Double.nan] {
            #expect(thrownKind { () throws(MetaPoolError) in _ = try MantelHaenszel(fine, level: level) } == .invalidArgument)
            #expect(thrownKind { () throws(MetaPoolError) in _ = try Peto(fine, level: level) } == .invalidArgument)
        }
    }

    @Test("the error names the input file")
    func errorLocation() throws {
        let table = try DataTable.read(bytes: Array("study,treat_events,treat_total,control_events,control_total\nA,0,10,0,12\n".utf8), source: "z.csv")
        do {
            _ = try MantelHaenszel(TwoGroupCounts(table: table))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData && error.location.file == "z.csv")
            #expect(error.description.contains("no events in either group"))
        }
    }

    @Test("summary keys: CMH and Tarone only for OR; Tarone p null without df")
    func summaryKeys() throws {
        let counts = try TwoGroupCounts(treatEvents: [2, 0], treatTotals: [25, 30], controlEvents: [6, 0], controlTotals: [24, 31])
        guard case .object(let or) = try MantelHaenszel(counts).jsonSummary(),
              case .object(let rd) = try MantelHaenszel(counts, measure: .riskDifference).jsonSummary(),
              case .object(let peto) = try Peto(counts).jsonSummary() else {
            Issue.record("summaries are not objects")
            return
        }
        #expect(or.map(\.0) == ["measure", "method", "level", "k", "estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper",
                                "q", "q_df", "q_p_value", "i2", "h2", "cmh", "cmh_p_value", "tarone", "tarone_df",
                                "tarone_p_value", "back_transformed"])
        #expect(or.first { $0.0 == "tarone_p_value" }?.1 == .null)
        #expect(or.first { $0.0 == "method" }?.1 == .string("MH"))
        #expect(rd.map(\.0) == ["measure", "method", "level", "k", "estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper",
                                "q", "q_df", "q_p_value", "i2", "h2", "back_transformed"])
        #expect(peto.first { $0.0 == "method" }?.1 == .string("PETO"))
        #expect(peto.first { $0.0 == "measure" }?.1 == .string("OR"))
    }

    @Test("extreme counts do not trap")
    func extremes() throws {
        let big = 9e14
        let counts = try TwoGroupCounts(treatEvents: [1, big - 1], treatTotals: [big, big], controlEvents: [big - 1, 1], controlTotals: [big, big])
        for measure in [EffectMeasure.oddsRatio, .riskRatio, .riskDifference] {
            do {
                let fit = try MantelHaenszel(counts, measure: measure)
                #expect(fit.estimate.isFinite && fit.standardError.isFinite)
                _ = try fit.summary()
            } catch {
                #expect(error.kind == .insufficientData)
            }
        }
        let one = try TwoGroupCounts(treatEvents: [1], treatTotals: [1], controlEvents: [0], controlTotals: [1])
        let peto = try Peto(one)
        #expect(peto.qDegreesOfFreedom == 0 && peto.q == 0 && peto.qPValue == 1)
        // RD = 1 with an estimated variance of 0: metafor reports se = 0 and z = Inf; MetaPool an error.
        #expect(thrownKind { () throws(MetaPoolError) in _ = try MantelHaenszel(one, measure: .riskDifference) } == .insufficientData)
    }
}

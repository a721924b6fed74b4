// Field conventions of effect sizes against R: hazard ratios from a CI at any level, from a p-value
// and from O − E and V; escalc()'s continuity correction (add, to, drop00); rows with empty cells
// left out as rma()'s na.omit. Fixtures: Tests/MetaPoolTests/Fixtures/conventions, written by
// `Rscript Tests/Reference/generate_conventions.R`.

import Foundation
import Testing
import MetaPool
@testable import MetaPoolTestSupport

struct ConventionsFixture: Decodable {
    struct Options: Decodable {
        var add: Double?
        var to: String?
        var drop00: Bool?
        var hr_level: Double?
        var drop_missing: Bool?
    }
    struct Fit: Decodable {
        var method: String
        var k: Int
        var estimate: Double
        var se: Double
        var tau2: Double
    }
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var input: String
        var measure: String
        var options: Options
        var yi: [Double]
        var vi: [Double]
        var excluded_rows: [Int]
        var fits: [Fit]
        var testDescription: String { name }
    }
    var cases: [Case]

    static let directory = FixtureFolder.url("conventions")
    static func all() -> [Case] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("cases.json")),
              let fixture = try? JSONDecoder().decode(ConventionsFixture.self, from: data) else { return [] }
        return fixture.cases
    }
}

extension ConventionsFixture.Options: Sendable {}
extension ConventionsFixture.Fit: Sendable {}

extension ConventionsFixture.Case {
    /// The library's settings for the case's R arguments.
    var effectSizeOptions: EffectSizeOptions? {
        var target = ContinuityCorrection.Target.onlyZero
        if let to = options.to {
            guard let t = ContinuityCorrection.Target(rawValue: to) else { return nil }
            target = t
        }
        return EffectSizeOptions(continuityCorrection: ContinuityCorrection(add: options.add, to: target, dropDoubleZero: options.drop00 ?? false),
                                 hazardRatioLevel: options.hr_level ?? 0.95, dropMissing: options.drop_missing ?? false)
    }
}

@Suite("Field conventions: hazard ratios, continuity correction, missing cells (against R)")
struct ConventionsTests {
    static let cases = ConventionsFixture.all()

    @Test("the fixture is present and covers every convention")
    func present() {
        #expect(Self.cases.count >= 50)
        for input in ["hr_levels.csv", "hr_pvalue.csv", "hr_oe.csv", "nielweise2007.csv", "proportions_zeros.csv", "missing_two_group.csv"] {
            #expect(Self.cases.contains { $0.input == input }, "no case reads \(input)")
        }
    }

    @Test("yi, vi, the rows left out and the pooled fits match R to 1e-10", arguments: cases)
    func matchesR(_ c: ConventionsFixture.Case) throws {
        let measure = try #require(EffectMeasure(code: c.measure))
        let options = try #require(c.effectSizeOptions)
        let table = try DataTable.read(path: ConventionsFixture.directory.appendingPathComponent(c.input).path)
        let effects = try EffectSizes(table: table, measure: measure, options: options)
        try #require(effects.count == c.yi.count, "k = \(effects.count), R has \(c.yi.count)")
        for i in c.yi.indices {
            expectClose(effects.yi[i], c.yi[i], relative: 1e-10, absolute: 1e-13, "yi[\(i)]")
            expectClose(effects.vi[i], c.vi[i], relative: 1e-10, absolute: 1e-13, "vi[\(i)]")
        }
        #expect(effects.excluded.map(\.row) == c.excluded_rows.map { Optional($0) })
        #expect(effects.excluded.allSatisfy { (c.options.drop_missing ?? false) == ($0.column != nil) })
        // The rows left out by the table itself, as the CLI and the subgroup and regression fits use them.
        let (kept, excluded) = try table.excludingStudies(measure: measure, options: options)
        #expect(kept.rowNumbers.count == c.yi.count)
        #expect(excluded.map(\.row) == c.excluded_rows.map { Optional($0) })
        for fit in c.fits {
            let method = try #require(TauSquaredMethod(code: fit.method))
            let m = try MetaAnalysis(effects, method: method)
            #expect(m.count == fit.k)
            // DL is closed-form: 1e-10. REML is iterated to metafor's and MetaPool's tolerances: 1e-8.
            let tolerance = method == .derSimonianLaird ? 1e-10 : 1e-8
            expectClose(m.estimate, fit.estimate, relative: tolerance, absolute: 1e-13, "\(fit.method) estimate")
            expectClose(m.standardError, fit.se, relative: tolerance, absolute: 1e-13, "\(fit.method) se")
            expectClose(m.tauSquaredEstimate, fit.tau2, relative: tolerance, absolute: 1e-12, "\(fit.method) tau2")
            // The specification path (pool, forest, report) gives the same fit.
            var spec = AnalysisSpecification(pooling: .inverseVariance(method), measure: measure)
            spec.effectSizeOptions = options
            let viaSpec = try spec.fit(table)
            #expect(viaSpec.pooled.estimate == m.estimate)
        }
    }

    @Test("confidence levels: proportions and percentages accepted, ambiguous values refused", arguments: [
        ("0.95", 0.95 as Double?), ("95", 0.95), ("95%", 0.95), ("0.9", 0.9), ("90", 0.9), (" 99.9 ", 0.999), ("0.5", 0.5), ("50%", 0.5),
        ("0.05", nil), ("5", nil), ("1", nil), ("100", nil), ("100%", nil), ("0", nil), ("-0.95", nil), ("ninety", nil), ("45%", nil),
    ])
    func levels(_ text: String, _ expected: Double?) {
        switch EffectSizeOptions.parseLevel(text) {
        case .success(let level): expectClose(level, expected, relative: 1e-15, absolute: 0, text)
        case .failure(let e):
            #expect(expected == nil, "\(text): \(e.reason)")
            #expect(!e.reason.isEmpty)
        }
    }

    @Test("a p-value of 1, 0 or a bound, and an HR of 1, are refused with the reason")
    func pValueLimits() throws {
        for (cells, column, reason) in [("0.8,1", "p_value", "p = 1 gives z = 0"), ("0.8,0", "p_value", "p = 0"), ("1,0.04", "hr", "log HR = 0"),
                                        ("0.8,<0.001", "p_value", "is a bound"), ("0.8,1.2", "p_value", "between 0 and 1"),
                                        ("-0.2,0.04", "hr", "log scale")] {
            let table = try DataTable.readCSV("study,hr,p_value\nA,0.7,0.03\nB,\(cells)\n", source: "p.csv")
            do {
                _ = try EffectSizes(table: table)
                Issue.record("\(cells) was accepted")
            } catch {
                #expect(error.kind == .invalidValue)
                #expect(error.location.row == 2)
                #expect(error.location.column == column, "\(error)")
                #expect(error.reason.contains(reason), "\(error)")
            }
        }
    }

    @Test("O − E and V: V must be > 0")
    func observedMinusExpected() throws {
        let table = try DataTable.readCSV("study,o_minus_e,v\nA,-3,20\nB,2,0\n", source: "oe.csv")
        #expect(throws: MetaPoolError.self) { try EffectSizes(table: table) }
        let e = try EffectSizes.observedMinusExpected([-3, 2], variances: [20, 10])
        #expect(e.yi == [-0.15, 0.2])
        #expect(e.vi == [0.05, 0.1])
    }

    @Test("fractional counts that look like percentages get the hint, with the count they would be")
    func percentageHint() throws {
        let table = try DataTable.readCSV("study,events,total\nA,3,10\nB,62.3,77\n", source: "pct.csv")
        do {
            _ = try EffectSizes(table: table)
            Issue.record("62.3 was accepted")
        } catch {
            #expect(error.location.column == "events")
            #expect(error.reason.contains("looks like a percentage"))
            #expect(error.reason.contains("62.3% of 77 is 48"), "\(error)")
        }
        let large = try DataTable.readCSV("study,events,total\nA,3,10\nB,162.5,400\n", source: "pct.csv")
        #expect { try EffectSizes(table: large) } throws: { ($0 as? MetaPoolError)?.reason.contains("percentage") == false }
    }

    @Test("the array API: levels, p-values, the correction and drop00")
    func arrays() throws {
        let at90 = try EffectSizes.hazardRatios([0.8], lower: [0.6], upper: [1.0], level: 0.9)
        let at95 = try EffectSizes.hazardRatios([0.8], lower: [0.6], upper: [1.0])
        // SE scales with 1/z: z_0.95 / z_0.975.
        expectClose(at90.vi[0] / at95.vi[0], pow(1.959963984540054 / 1.6448536269514722, 2), relative: 1e-14, absolute: 0)
        #expect(throws: MetaPoolError.self) { try EffectSizes.hazardRatios([0.8], lower: [0.6], upper: [1.0], level: 95) }
        let noCorrection = try EffectSizes.twoGroup(treatEvents: [0, 3], treatTotals: [10, 10], controlEvents: [0, 5], controlTotals: [10, 10],
                                                    measure: .oddsRatio, correction: ContinuityCorrection(dropDoubleZero: true))
        #expect(noCorrection.count == 1)
        #expect(noCorrection.excluded.map(\.row) == [1])
        #expect(noCorrection.locations[0].row == 2)
        #expect(throws: MetaPoolError.self) {
            try EffectSizes.twoGroup(treatEvents: [0], treatTotals: [10], controlEvents: [0], controlTotals: [10],
                                     correction: ContinuityCorrection(dropDoubleZero: true))
        }
        #expect(throws: MetaPoolError.self) {
            try EffectSizes.proportions(events: [0], totals: [10], correction: ContinuityCorrection(add: -1))
        }
    }
}

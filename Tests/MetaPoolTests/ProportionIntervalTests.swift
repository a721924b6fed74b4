// Study-level confidence intervals of a proportion against R (binom.test, prop.test, qbeta) and
// Newcombe's (1998, Stat Med 17:857) Table I.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/proportion_intervals/reference.json, written by
// `Rscript Tests/Reference/generate_proportion_intervals.R`.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct ProportionIntervalReference: Decodable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var method: String
        var events: Int
        var total: Int
        var level: Double
        var lower: Double
        var upper: Double
        var testDescription: String { "\(method) \(events)/\(total) at \(level)" }
    }
    var cases: [Case]

    static let all: [Case] = {
        let url = FixtureFolder.url("proportion_intervals").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url),
              let table = try? JSONDecoder().decode(ProportionIntervalReference.self, from: data) else { return [] }
        return table.cases
    }()
}

@Suite("Study-level intervals of a proportion")
struct ProportionIntervalTests {
    @Test("the reference table is present: 6 methods × 22 counts × 3 levels")
    func present() {
        #expect(ProportionIntervalReference.all.count == 396)
        #expect(Set(ProportionIntervalReference.all.map(\.method)) == Set(ProportionIntervalMethod.allCases.map(\.rawValue)))
    }

    // The beta quantiles (Clopper–Pearson, Jeffreys) go through the F quantile's Newton
    // iteration: 1e-12 relative. The closed forms: 1e-13 relative, or 1e-17 absolute where the
    // Wald and Agresti–Coull bounds are differences of nearly equal terms (3/100000).
    @Test("each method matches R", arguments: ProportionIntervalReference.all)
    func matchesR(_ c: ProportionIntervalReference.Case) throws {
        let method = try #require(ProportionIntervalMethod(rawValue: c.method))
        let ci = try method.interval(events: Double(c.events), total: Double(c.total), level: c.level)
        let exact = method == .clopperPearson || method == .jeffreys
        let relative = exact ? 1e-12 : 1e-13, absolute = exact ? 1e-300 : 1e-17
        expectClose(ci.lower, c.lower, relative: relative, absolute: absolute, "lower")
        expectClose(ci.upper, c.upper, relative: relative, absolute: absolute, "upper")
        #expect(0 <= ci.lower && ci.lower <= ci.upper && ci.upper <= 1)
    }

    @Test("Newcombe (1998) Table I, to the four decimals printed")
    func newcombeTable() throws {
        func rounded(_ ci: (lower: Double, upper: Double)) -> [Double] {
            [(ci.lower * 1e4).rounded() / 1e4, (ci.upper * 1e4).rounded() / 1e4]
        }
        #expect(rounded(try ProportionIntervalMethod.wilson.interval(events: 81, total: 263, level: 0.95)) == [0.2553, 0.3662])
        #expect(rounded(try ProportionIntervalMethod.clopperPearson.interval(events: 81, total: 263, level: 0.95)) == [0.2527, 0.3676])
        #expect(rounded(try ProportionIntervalMethod.wilson.interval(events: 0, total: 20, level: 0.95)) == [0, 0.1611])
        #expect(rounded(try ProportionIntervalMethod.clopperPearson.interval(events: 0, total: 20, level: 0.95)) == [0, 0.1684])
    }

    @Test("the trials' published exact intervals (PATRICIA 4/37: 3.0-25.4%; HER2CLIMB 4/20: 5.7-43.7%)")
    func publishedIntervals() throws {
        let patricia = try ProportionIntervalMethod.clopperPearson.interval(events: 4, total: 37, level: 0.95)
        #expect((patricia.lower * 1000).rounded() == 30 && (patricia.upper * 1000).rounded() == 254)
        let climb = try ProportionIntervalMethod.clopperPearson.interval(events: 4, total: 20, level: 0.95)
        #expect((climb.lower * 1000).rounded() == 57 && (climb.upper * 1000).rounded() == 437)
    }

    @Test("counts and levels outside the domain throw typed errors")
    func badInput() {
        for (x, n) in [(-1.0, 10.0), (11, 10), (1.5, 10), (0, 0), (.nan, 10), (1, .infinity)] {
            #expect(throws: MetaPoolError.self) { try ProportionIntervalMethod.wilson.interval(events: x, total: n, level: 0.95) }
        }
        for level in [0.0, 1.0, .nan, -0.5] {
            #expect(throws: MetaPoolError.self) { try ProportionIntervalMethod.clopperPearson.interval(events: 1, total: 10, level: level) }
        }
    }

    // The upper tail is checked from 1e-3 only: below that, 1 − x is not representable to the
    // accuracy asked (x = 1 − 1e-10 carries a relative error of 1e-6 in 1 − x).
    @Test("the beta distribution: quantile inverts the CDF across shapes and tails")
    func betaRoundTrip() {
        for (a, b) in [(0.5, 0.5), (1.0, 1.0), (4.0, 34.0), (81.0, 183.0), (3.0, 99998.0), (2000.0, 3.0)] {
            let d = BetaDistribution(alpha: a, beta: b)
            for p in [1e-10, 0.025, 0.5, 0.975] {
                expectClose(d.cdf(d.quantile(p)), p, relative: 1e-11, absolute: 0, "Beta(\(a), \(b)) at \(p)")
            }
            for q in [1e-3, 0.025, 0.5] {
                expectClose(d.survival(d.survivalQuantile(q)), q, relative: 1e-11, absolute: 0, "Beta(\(a), \(b)) upper \(q)")
            }
        }
        #expect(BetaDistribution(alpha: 0, beta: 1).quantile(0.5).isNaN)
        #expect(BetaDistribution(alpha: 2, beta: 3).quantile(0) == 0)
        #expect(BetaDistribution(alpha: 2, beta: 3).quantile(1) == 1)
    }
}

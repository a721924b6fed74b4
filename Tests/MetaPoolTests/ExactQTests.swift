// Cochran's Q, I², H², the DerSimonian–Laird τ² and the pooled estimates at variance ratios of
// 1e300 and more (issue 18, item 6), against exact rational arithmetic: metafor computes these in
// doubles and loses every digit here, and Rmpfr is not available, so the reference is
// `python3 Tests/Reference/exact_extreme_q.py` (fractions.Fraction on the exact binary values of
// yi and vi), which writes Fixtures/extreme/exact_q.json. Tolerance: relative 1e-12 (the results
// are sums of non-negative terms; a few ulps each), absolute 0.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ExactQFixture: Decodable {
    struct Values: Decodable {
        var estimate, se, q, i2, h2: Double
        var tau2: Double?
    }
    struct Dataset: Decodable {
        var yi, vi: [Double]
        var FE, DL: Values
    }
    var datasets: [String: Dataset]

    static func load() throws -> ExactQFixture {
        try JSONDecoder().decode(ExactQFixture.self, from: Data(contentsOf: FixtureFolder.url("extreme").appendingPathComponent("exact_q.json")))
    }
}

@Suite("Q and DL at variance ratios beyond 1e300, against exact arithmetic")
struct ExactQTests {
    static let names = ["issue18_ratio_1e400", "issue18_reordered", "shifted_ratio_1e300", "two_dominant"]

    @Test("the fixture holds every dataset")
    func present() throws {
        #expect(Set(try ExactQFixture.load().datasets.keys) == Set(Self.names))
    }

    @Test("FE and DL: estimate, SE, Q, I², H², tau² match the exact values", arguments: names)
    func exact(_ name: String) throws {
        let d = try #require(try ExactQFixture.load().datasets[name])
        let effects = try EffectSizes.generic(yi: d.yi, vi: d.vi)
        for (method, want) in [(TauSquaredMethod.fixedEffect, d.FE), (.derSimonianLaird, d.DL)] {
            let fit = try MetaAnalysis(effects, method: method)
            let context = "\(name) \(method.rawValue)"
            #expect(isClose(fit.q, want.q, relative: 1e-12, absolute: 0), "\(context) Q \(fit.q) vs exact \(want.q)")
            #expect(isClose(fit.estimate, want.estimate, relative: 1e-12, absolute: 0), "\(context) estimate \(fit.estimate) vs \(want.estimate)")
            #expect(isClose(fit.standardError, want.se, relative: 1e-12, absolute: 0), "\(context) SE \(fit.standardError) vs \(want.se)")
            #expect(isClose(fit.iSquared, want.i2, relative: 1e-12, absolute: 0), "\(context) I2 \(fit.iSquared ?? .nan) vs \(want.i2)")
            #expect(isClose(fit.hSquared, want.h2, relative: 1e-12, absolute: 0), "\(context) H2 \(fit.hSquared ?? .nan) vs \(want.h2)")
            #expect(isClose(fit.tauSquared, want.tau2, relative: 1e-12, absolute: 0), "\(context) tau2 \(fit.tauSquared ?? .nan) vs \(want.tau2 ?? .nan)")
        }
    }
}

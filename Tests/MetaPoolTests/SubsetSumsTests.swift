// Leave-one-out, cumulative and influence refits from power sums (SubsetModel, from 30 studies on)
// against the direct refits over each subset's own arrays, for every estimator and test.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Refits from power sums agree with direct refits")
struct SubsetSumsTests {
    /// k studies: effects around 0.3 with τ² ≈ 0.05, variances in [0.01, 0.5] (a fixed generator).
    static func studies(_ k: Int, seed: UInt64) -> (y: [Double], v: [Double]) {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var y: [Double] = [], v: [Double] = []
        for _ in 0..<k {
            let vi = 0.01 + 0.49 * uniform()
            let z = (uniform() + uniform() + uniform() + uniform() - 2) * 1.7320508075688772
            y.append(0.3 + z * (vi + 0.05).squareRoot())
            v.append(vi)
        }
        return (y, v)
    }

    static func expectSame(_ got: SubsetFit, _ want: SubsetFit, _ context: String) {
        let pairs: [(String, Double, Double)] = [
            ("estimate", got.estimate, want.estimate), ("se", got.standardError, want.standardError),
            ("statistic", got.statistic, want.statistic), ("p", got.pValue, want.pValue),
            ("ci_lower", got.confidenceInterval.lower, want.confidenceInterval.lower),
            ("ci_upper", got.confidenceInterval.upper, want.confidenceInterval.upper),
            ("q", got.q, want.q), ("q_p", got.qPValue, want.qPValue),
            ("tau2", got.tauSquaredValue, want.tauSquaredValue), ("i2", got.iSquared, want.iSquared), ("h2", got.hSquared, want.hSquared),
        ]
        for (name, a, b) in pairs {
            expectClose(a, b, relative: 1e-9, absolute: 1e-12, "\(context) \(name) \(a) vs \(b)")
        }
        #expect(got.count == want.count && got.study == want.study, "\(context)")
    }

    @Test("every estimator and test, k = 260", arguments: TauSquaredMethod.allCases)
    func agree(_ method: TauSquaredMethod) throws {
        let k = 260
        #expect(k >= SubsetModel.minimumStudies)
        let data = Self.studies(k, seed: 7)
        let effects = try EffectSizes.generic(yi: data.y, vi: data.v)
        for ci in [ConfidenceIntervalMethod.wald, .hartungKnapp] {
            let fit = try MetaAnalysis(effects, method: method, ciMethod: ci)
            var direct = SubsetFitter(fit)
            let context = "\(method.rawValue) \(ci.rawValue)"
            let loo = try LeaveOneOut(fit)
            for i in stride(from: 0, to: k, by: 13) {
                var y = data.y, v = data.v
                y.remove(at: i); v.remove(at: i)
                let want = try direct.fit(y: y, v: v, study: effects.labels[i], context: "")
                Self.expectSame(loo.fits[i], want, "\(context) without \(i)")
            }
            // Cumulative in reverse order: the power sums grow study by study.
            let order = Array((0..<k).reversed())
            let cumulative = try CumulativeAnalysis(fit, order: order)
            for n in [2, 3, 10, 50, 199, 200, 201, 259, 260] {
                let members = order.prefix(n)
                let want = try direct.fit(y: members.map { data.y[$0] }, v: members.map { data.v[$0] },
                                          study: effects.labels[order[n - 1]], context: "")
                Self.expectSame(cumulative.fits[n - 1], want, "\(context) first \(n)")
            }
            // Influence from the leave-one-out refits equals influence refitting on its own.
            #expect(InfluenceDiagnostics(loo).studies == (try InfluenceDiagnostics(fit)).studies, "\(context) influence")
        }
    }
}

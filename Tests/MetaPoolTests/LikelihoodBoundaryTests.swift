// The intercept-only model's boundary check (InterceptModel.higherOfRootAndBoundary) without a
// logarithm per study gives the decision of the two log-likelihoods it replaces.

import RealModule
import Testing
@testable import MetaPool

@Suite struct LikelihoodBoundaryTests {
    /// Deterministic studies: effects around `mean` with spread `spread`, variances in [0.01, 0.51].
    static func studies(_ k: Int, seed: UInt64, spread: Double) -> (y: [Double], v: [Double]) {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var y: [Double] = [], v: [Double] = []
        for _ in 0..<k {
            v.append(0.01 + 0.5 * uniform())
            y.append(0.3 + spread * (uniform() - 0.5))
        }
        return (y, v)
    }

    /// Σlog(1 + τ²/vᵢ) by blocked mantissa products against log1p summed directly: 1e-12 relative
    /// plus one ulp of 1 per study.
    @Test func logRatioSumMatchesLog1p() throws {
        for (k, tau2) in [(1, 0.3), (2, 1e-9), (513, 0.05), (1025, 7.5), (100_000, 0.02), (3, 1e250)] {
            let d = Self.studies(k, seed: UInt64(k), spread: 1)
            var direct = 0.0
            for vi in d.v { direct += Double.log(onePlus: tau2 / vi) }
            let fast = try #require(InterceptModel.logOnePlusRatioSum(d.v, tau2: tau2))
            // Forming 1 + τ²/vᵢ rounds it, an absolute error of up to one ulp of 1 per study.
            #expect(abs(fast - direct) <= 1e-12 * abs(direct) + Double(k) * 2.3e-16, "k = \(k), tau2 = \(tau2): \(fast) vs \(direct)")
        }
        // 1e300/1e-10 overflows: no sum, so the caller compares the log-likelihoods themselves.
        #expect(InterceptModel.logOnePlusRatioSum([1e-10, 1], tau2: 1e300) == nil)
    }

    /// For REML and ML, roots from just above 0 to 10: the same choice (root or 0) as the two
    /// log-likelihoods, on data with and without heterogeneity; both choices occur.
    @Test func sameDecisionAsTheLogLikelihoods() throws {
        var zeros = 0, roots = 0
        for (seed, spread) in [(1 as UInt64, 0.1), (2, 0.6), (3, 2.0), (4, 0.01)] {
            for k in [2, 5, 14, 200] {
                let d = Self.studies(k, seed: seed, spread: spread)
                for root in [1e-12, 1e-6, 1e-3, 0.01, 0.05, 0.2, 1, 10] {
                    for restricted in [true, false] {
                        var fast = InterceptModel(y: d.y, v: d.v)
                        var exact = InterceptModel(y: d.y, v: d.v)
                        let chosen = try fast.higherOfRootAndBoundary(root, restricted: restricted)
                        let expected = try exact.compareLikelihoods(root, restricted: restricted)
                        #expect(chosen == expected, "seed \(seed), k \(k), root \(root), restricted \(restricted)")
                        if expected == 0 { zeros += 1 } else { roots += 1 }
                    }
                }
            }
        }
        #expect(zeros > 20 && roots > 20, "zeros \(zeros), roots \(roots)")
    }
}

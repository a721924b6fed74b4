// Behaviour of the fit that holds for every estimator, checked on small exact cases.

import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Random-effects models")
struct ModelTests {
    static let y = [-0.94, -1.67, -1.39, -1.46, -0.22, -0.96, -1.63, 0.01, -0.47, -1.40, 0.45, -0.02, -0.32]
    static let v = [0.357, 0.208, 0.433, 0.020, 0.051, 0.007, 0.227, 0.004, 0.056, 0.073, 0.013, 0.537, 0.071]

    @Test("identical effects give tau^2 = 0 for every estimator", arguments: TauSquaredMethod.allCases)
    func identicalEffects(_ method: TauSquaredMethod) throws {
        let effects = try EffectSizes.generic(yi: [0.3, 0.3, 0.3, 0.3], vi: [0.1, 0.2, 0.05, 0.4])
        let fit = try MetaAnalysis(effects, method: method)
        #expect(fit.tauSquaredEstimate == 0)
        #expect(abs(fit.estimate - 0.3) <= 1e-15)
    }

    @Test("hksj on identical effects is a clear error, not SE = 0 (property tests found it)", arguments: TauSquaredMethod.allCases)
    func hartungKnappIdenticalEffects(_ method: TauSquaredMethod) throws {
        for value in [0.0, 0.3] {
            let effects = try EffectSizes.generic(yi: [value, value, value], vi: [0.1, 0.2, 0.05])
            do {
                let fit = try MetaAnalysis(effects, method: method, ciMethod: .hartungKnapp)
                Issue.record("expected an error, got SE \(fit.standardError)")
            } catch {
                #expect(error.kind == .insufficientData)
                #expect(error.reason.contains("same effect") && error.remedy == .intervals(["hksj-adhoc", "t"]), "\(error)")
                #expect(error.description.contains("hksj-adhoc"))
            }
            // The ad hoc variant floors the scale at 1: the FE interval, on the t distribution.
            let adhoc = try MetaAnalysis(effects, method: method, ciMethod: .hartungKnappAdHoc)
            #expect(abs(adhoc.estimate - value) <= 1e-15)
            #expect(abs(adhoc.standardError - (1 / (10 + 5 + 20.0)).squareRoot()) <= 1e-15)
            let batch = BatchAnalysis(method: method, ciMethod: .hartungKnapp).fit(try BatchAnalysis.Analysis(id: "same", yi: effects.yi, vi: effects.vi))
            #expect(batch.error?.kind == .insufficientData)
        }
    }

    @Test("fuzz reproducer: tau^2 near the largest Double gives an error, never I^2 = inf (Fuzz/Reproducers/FuzzPooling-i2-infinite.bin)")
    func hugeTauSquared() throws {
        let effects = try EffectSizes.generic(yi: [0.1, 1e308], vi: [2.3e-308, 1e308])
        for method in TauSquaredMethod.allCases {
            for ci in ConfidenceIntervalMethod.allCases {
                do {
                    let fit = try MetaAnalysis(effects, method: method, ciMethod: ci)
                    let numbers = [fit.estimate, fit.standardError, fit.confidenceInterval.lower, fit.confidenceInterval.upper,
                                   fit.iSquared ?? 0, fit.hSquared ?? 0, fit.predictionInterval?.lower ?? 0, fit.predictionInterval?.upper ?? 0]
                    #expect(numbers.allSatisfy { $0.isFinite }, "\(method) \(ci): \(numbers)")
                } catch {
                    #expect(error.kind == .insufficientData || error.kind == .noConvergence, "\(method) \(ci): \(error)")
                }
                let batch = BatchAnalysis(method: method, ciMethod: ci).fit(try BatchAnalysis.Analysis(id: "x", yi: effects.yi, vi: effects.vi))
                if let batch = batch.fit {
                    #expect([batch.estimate, batch.iSquared ?? 0, batch.predictionInterval?.upper ?? 0].allSatisfy { $0.isFinite }, "batch \(method) \(ci)")
                }
            }
        }
        // I² and H² through the typical variance do not overflow for a huge but finite τ².
        #expect(Heterogeneity.iSquared(tauSquared: 1e308, typicalVariance: 1e300) <= 100)
        #expect(Heterogeneity.iSquared(tauSquared: 1e308, typicalVariance: 1e300).isFinite)
        #expect(abs(Heterogeneity.iSquared(tauSquared: 0.3, typicalVariance: 0.1) - 75) <= 1e-13)
        #expect(abs(Heterogeneity.hSquared(tauSquared: 0.3, typicalVariance: 0.1) - 4) <= 1e-14)
    }

    @Test("fuzz finding: the chi-squared tail of a huge statistic is 0 at once, not after a million steps")
    func hugeChiSquared() {
        let clock = ContinuousClock()
        let start = clock.now
        for df in [1.0, 5, 63] {
            for x in [1e5, 1e17, 1e300, Double.greatestFiniteMagnitude] {
                #expect(ChiSquared(degreesOfFreedom: df).survival(x) == 0, "df \(df) x \(x)")
                #expect(ChiSquared(degreesOfFreedom: df).cdf(x) == 1, "df \(df) x \(x)")
            }
        }
        #expect(clock.now - start < .milliseconds(50))
        // Just below the underflow the tail is still computed (Q(1/2, 350) = erfc(√350) ≈ 2.1e-154).
        let p = ChiSquared(degreesOfFreedom: 1).survival(700)
        #expect(p > 1e-155 && p < 1e-153)
    }

    @Test("fuzz reproducer: one huge variance does not loosen convergence (Fuzz/Reproducers/FuzzPooling-qprofile-reversed.bin)")
    func hugeVarianceConvergence() throws {
        let y = [0.3, -2.3534373682784416e-185, 0.5, 2.0, 2.7161903628e-312]
        let v = [1e-12, 9.999999999905767e-07, 1.0, 8.882460399257109e+252, 999936.0]
        let fit = try MetaAnalysis(EffectSizes.generic(yi: y, vi: v), level: 0.5982283464566929)
        let intervals = try #require(try fit.heterogeneityIntervals())
        #expect(intervals.tauSquared.lower <= intervals.tauSquared.upper, "\(intervals.tauSquared)")
        // Each bound solves Q(tau^2) = its chi-squared quantile, to 1e-9.
        let chi2 = ChiSquared(degreesOfFreedom: 4)
        for (bound, target) in [(intervals.tauSquared.lower, chi2.survivalQuantile(0.4017716535433071 / 2)),
                                (intervals.tauSquared.upper, chi2.quantile(0.4017716535433071 / 2))] where bound > 0 {
            let q = WeightedSums(y: y, v: v, tau2: bound).q
            #expect(abs(q - target) <= 1e-9 * target, "Q(\(bound)) = \(q), target \(target)")
        }
        // PM and REML solve their equations too, not just take one step.
        let pm = try PauleMandel.tauSquared(y: y, v: v)
        #expect(abs(WeightedSums(y: y, v: v, tau2: pm).q - 4) <= 1e-9 * 4)
        let reml = try RestrictedMaximumLikelihood.tauSquared(y: y, v: v)
        let s = WeightedSums(y: y, v: v, tau2: reml)
        #expect(abs(s.sumW2Residual2 - s.traceP) <= 1e-9 * s.traceP)
    }

    @Test("fuzz reproducer: a Q-profile interval is ordered and solves its equations, or is an error (Fuzz/Reproducers/FuzzPooling-qprofile-unconverged.bin)")
    func qProfileExtreme() throws {
        let y = [1.1278055297264741e+45, 1.1278055297264741e+45, 1.1278055297264741e+45, 1.1278055297264741e+45, 1.1278055297264741e+45]
        let v = [1.1278055297264741e+45, 1.1278055297264741e+45, 1.1278055316164702e+45, 1.115037259929504e+45, 1.1278055297264741e+45]
        let fit = try MetaAnalysis(EffectSizes.generic(yi: y, vi: v), level: 0.6434133858267717)
        do {
            if let i = try fit.heterogeneityIntervals() {
                #expect(i.tauSquared.lower <= i.tauSquared.upper, "\(i.tauSquared)")
            }
        } catch {
            #expect(error.kind == .noConvergence)
        }
    }

    @Test("one dominant weight: the REML traces do not cancel (tau^2 = 0.0047 as metafor, not 0)")
    func dominantWeightTraces() throws {
        let y = [0.05, 0.4, -0.2, 0.6, 0.3, 0.1], v = [1e-10, 0.1, 0.2, 0.15, 0.3, 0.12]
        let s = WeightedSums(y: y, v: v, tau2: 0)
        // Exact traces from the definition, summing over the other studies.
        let w = v.map { 1 / $0 }, total = w.reduce(0, +)
        var tp = 0.0, tpp = 0.0
        for i in w.indices {
            let others = w.indices.filter { $0 != i }
            let rest = others.map { w[$0] }.reduce(0, +), rest2 = others.map { w[$0] * w[$0] }.reduce(0, +)
            tp += w[i] * rest / total
            tpp += w[i] * w[i] * (rest * rest + rest2) / (total * total)
        }
        #expect(abs(s.traceP - tp) <= 1e-12 * tp)
        #expect(abs(s.tracePP - tpp) <= 1e-12 * tpp)
        let tau2 = try RestrictedMaximumLikelihood.tauSquared(y: y, v: v)
        #expect(abs(tau2 - 0.00465486131223643) <= 1e-6 * 0.00465486131223643)
    }

    @Test("DerSimonian-Laird matches its closed form")
    func derSimonianLairdClosedForm() throws {
        let w = Self.v.map { 1 / $0 }
        let sw = w.reduce(0, +)
        let mean = zip(w, Self.y).map { $0 * $1 }.reduce(0, +) / sw
        let q = zip(w, Self.y).map { $0 * ($1 - mean) * ($1 - mean) }.reduce(0, +)
        let c = sw - w.map { $0 * $0 }.reduce(0, +) / sw
        let expected = (q - 12) / c
        let tau2 = try DerSimonianLaird.tauSquared(y: Self.y, v: Self.v)
        #expect(abs(tau2 - expected) <= 1e-14 * expected)
    }

    @Test("REML solves its estimating equation to 1e-10")
    func remlSolvesScore() throws {
        let tau2 = try RestrictedMaximumLikelihood.tauSquared(y: Self.y, v: Self.v)
        let s = WeightedSums(y: Self.y, v: Self.v, tau2: tau2)
        #expect(tau2 > 0)
        #expect(abs(s.sumW2Residual2 - s.traceP) <= 1e-10 * s.traceP)
    }

    @Test("ML solves its estimating equation to 1e-10")
    func mlSolvesScore() throws {
        let tau2 = try MaximumLikelihood.tauSquared(y: Self.y, v: Self.v)
        let s = WeightedSums(y: Self.y, v: Self.v, tau2: tau2)
        #expect(tau2 > 0)
        #expect(abs(s.sumW2Residual2 - s.sumW) <= 1e-10 * s.sumW)
    }

    @Test("Paule-Mandel and empirical Bayes set Q(tau^2) = k - 1")
    func pauleMandelEquation() throws {
        for estimator in [PauleMandel.self, EmpiricalBayes.self] as [any TauSquaredEstimator.Type] {
            let tau2 = try estimator.tauSquared(y: Self.y, v: Self.v)
            let s = WeightedSums(y: Self.y, v: Self.v, tau2: tau2)
            #expect(abs(s.q - 12) <= 1e-10 * 12)
        }
    }

    @Test("study order does not change the fit")
    func orderInvariance() throws {
        let order = Array((0..<Self.y.count).reversed())
        let a = try MetaAnalysis(EffectSizes.generic(yi: Self.y, vi: Self.v))
        let b = try MetaAnalysis(EffectSizes.generic(yi: order.map { Self.y[$0] }, vi: order.map { Self.v[$0] }))
        #expect(abs(a.estimate - b.estimate) <= 1e-13)
        #expect(abs(a.tauSquaredEstimate - b.tauSquaredEstimate) <= 1e-12 * a.tauSquaredEstimate)
    }

    @Test("Hartung-Knapp ad hoc is never narrower than the Wald-type t interval")
    func adHocNotNarrower() throws {
        let effects = try EffectSizes.generic(yi: [0.1, 0.12, 0.11], vi: [0.5, 0.4, 0.6])
        let t = try MetaAnalysis(effects, method: .derSimonianLaird, ciMethod: .t)
        let adhoc = try MetaAnalysis(effects, method: .derSimonianLaird, ciMethod: .hartungKnappAdHoc)
        let knha = try MetaAnalysis(effects, method: .derSimonianLaird, ciMethod: .hartungKnapp)
        #expect(adhoc.standardError == t.standardError)
        #expect(knha.standardError < t.standardError)
    }

    @Test("weights are percentages that sum to 100")
    func weightsSumTo100() throws {
        let fit = try MetaAnalysis(EffectSizes.generic(yi: Self.y, vi: Self.v))
        #expect(abs(fit.weights.reduce(0, +) - 100) <= 1e-12)
    }

    @Test("the fixed-effect model reports no tau^2 or prediction interval, and the Q-based I^2 and H^2 (as metafor)")
    func fixedEffectHasNoHeterogeneityEstimates() throws {
        let fit = try MetaAnalysis(EffectSizes.generic(yi: Self.y, vi: Self.v), method: .fixedEffect)
        #expect(fit.tauSquared == nil && fit.predictionInterval == nil)
        #expect(try fit.heterogeneityIntervals() == nil)
        // Higgins & Thompson (2002): I² = 100·(Q − df)/Q, H² = Q/df.
        let df = Double(Self.y.count - 1)
        #expect(abs(try #require(fit.iSquared) - max(0, 100 * (fit.q - df) / fit.q)) <= 1e-12)
        #expect(abs(try #require(fit.hSquared) - fit.q / df) <= 1e-12 * fit.q)
        // One study: Q = 0 on 0 df, I² = 0 and H² = 1, as metafor's rma(method = "FE") reports.
        let one = try MetaAnalysis(EffectSizes.generic(yi: [0.3], vi: [0.1]), method: .fixedEffect)
        #expect(one.iSquared == 0 && one.hSquared == 1)
    }
}

@Suite("Back-transformations")
struct BackTransformTests {
    @Test("Miller's inverse undoes the Freeman-Tukey transform for one study")
    func freemanTukeyRoundTrip() {
        for n in [5.0, 17, 120] {
            for x in stride(from: 0.0, through: n, by: 1) {
                let t = BackTransform.freemanTukey(events: x, total: n)
                let p = BackTransform.inverseFreemanTukey(t, n: n)
                #expect(abs(p - x / n) <= 1e-12, "x = \(x), n = \(n)")
            }
        }
    }

    @Test("inverse logit is accurate in both tails")
    func inverseLogitTails() {
        #expect(BackTransform.inverseLogit.apply(-800) >= 0)
        #expect(BackTransform.inverseLogit.apply(800) == 1)
        #expect(abs(BackTransform.inverseLogit.apply(-40) - 4.248354255291589e-18) <= 1e-30)
    }

    @Test("inverse arcsine is clipped to [0, 1]")
    func inverseArcsineClipped() {
        #expect(BackTransform.inverseArcsine.apply(-0.2) == 0)
        #expect(BackTransform.inverseArcsine.apply(2) == 1)
    }
}

@Suite("Ordered JSON")
struct JSONTests {
    @Test("keys keep the declared order and absent optionals are omitted")
    func orderedKeys() throws {
        struct S: Encodable { var b = 1; var a = 0.5; var none: Double? = nil; var s = "x\"y" }
        let text = try OrderedJSONEncoder.encode(S()).serialized(indent: 0)
        #expect(text == #"{"b":1,"a":0.5,"s":"x\"y"}"#)
    }
}

// A fitted meta-analysis with its inference: the third and fourth stages of the pipeline.

import RealModule

/// A fixed- or random-effects meta-analysis of one set of effect sizes, with the inference
/// metafor's `rma()`, `confint()`, `predict()` and `weights()` give for the same settings.
///
/// ```swift
/// let effects = try EffectSizes.proportions(events: [4, 9, 12], totals: [15, 30, 40])
/// let fit = try MetaAnalysis(effects, method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
/// print(fit.estimate, fit.confidenceInterval, fit.tauSquared ?? 0)
/// ```
public struct MetaAnalysis: Sendable {
    /// The effect sizes analysed.
    public let effects: EffectSizes
    /// The τ² estimator, or `FE` for the fixed-effect model (metafor's `method`).
    public let method: TauSquaredMethod
    /// The confidence-interval and test method (metafor's `test`).
    public let ciMethod: ConfidenceIntervalMethod
    /// Confidence level in (0, 1), e.g. 0.95.
    public let level: Double

    /// τ̂² (0 for the fixed-effect model).
    public let tauSquaredEstimate: Double
    /// The pooled estimate μ̂ with its standard error under `ciMethod`, interval and z or t test.
    public let pooled: EstimateInference
    /// Cochran's Q = Σ(yᵢ − μ̂_FE)²/vᵢ with k − 1 df and its p-value.
    public let q: Double
    /// The degrees of freedom of Q, k − 1.
    public let qDegreesOfFreedom: Int
    /// The p-value of Q (metafor's QEp).
    public let qPValue: Double
    /// The typical within-study variance ṽ = (k−1)Σwᵢ/((Σwᵢ)² − Σwᵢ²), wᵢ = 1/vᵢ (Higgins & Thompson 2002, eq. 9).
    public let typicalVariance: Double
    /// Percentage weights 100·wᵢ/Σw with wᵢ = 1/(vᵢ + τ̂²).
    public let weights: [Double]
    /// Which prediction interval the fit reports (metafor's unless set).
    public var predictionIntervalSetting: PredictionIntervalSetting = .metafor

    /// Fits the model.
    /// - Throws: ``MetaPoolError`` for fewer studies than the method needs, an invalid level,
    ///   or an estimator that does not converge.
    public init(_ effects: EffectSizes, method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        let k = effects.count
        let input = InputLocation(file: effects.locations.first?.file)
        if method != .fixedEffect && k < 2 {
            throw MetaPoolError(.insufficientData, "the \(method.rawValue) random-effects model needs at least 2 studies; there is \(k)", at: input, remedy: .methods(["FE"]))
        }
        if ciMethod.usesT && k < 2 {
            throw MetaPoolError(.insufficientData, "the \(ciMethod.rawValue) interval uses a t distribution with k - 1 degrees of freedom and needs at least 2 studies; there is \(k)", at: input)
        }
        if var error = Self.hartungKnappUndefined(effects.yi, ciMethod: ciMethod) {
            error.location = input
            throw error
        }
        self.effects = effects
        self.method = method
        self.ciMethod = ciMethod
        self.level = level

        let y = effects.yi, v = effects.vi
        let tau2: Double
        // DL's τ̂² comes from the fixed-effect sums at τ² = 0, which the pooled estimate needs too:
        // computed once (the same sums DerSimonianLaird.estimate forms, so the same τ̂²).
        var fixedSums: WeightedSums? = nil
        do {
            if method == .derSimonianLaird {
                try DerSimonianLaird.validate(y: y, v: v)
                let fixed = WeightedSums(y: y, v: v, tau2: 0, center: WeightedSums.plainMean(y))
                fixedSums = fixed
                tau2 = max(0, (fixed.q - Double(k - 1)) / fixed.traceP)
            } else {
                tau2 = try method.estimator?.tauSquared(y: y, v: v) ?? 0
            }
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = input.file }
            throw located
        }
        tauSquaredEstimate = tau2

        let core = PooledEstimate(y: y, v: v, tau2: tau2, ciMethod: ciMethod, level: level, fixed: fixedSums)
        q = core.q
        qDegreesOfFreedom = k - 1
        qPValue = core.qPValue
        typicalVariance = core.typicalVariance
        pooled = core.inference
        let s = core.sums
        let sumW = s.sumW
        var nonFinite = false
        weights = Self.percentageWeights(v, tau2: tau2, sumW: sumW, nonFinite: &nonFinite)
        // Extreme inputs (effects near the largest Double, variances near the smallest) can
        // overflow the weighted sums; report that rather than print NaN or infinity.
        // The typical variance, I², H² and the prediction interval too: found by fuzzing (Fuzz/Reproducers),
        // yi = (0.1, 1e308), vi = (2.3e-308, 1e308) gave I² = inf under PM.
        var results = [tau2, estimate, standardError, statistic, pValue, confidenceInterval.lower, confidenceInterval.upper, q]
        if method != .fixedEffect {
            // (The FE model's I² and H² are Q-based; with k = 1 its typical variance is 0/0.)
            results += [typicalVariance, Heterogeneity.iSquared(tauSquared: tau2, typicalVariance: typicalVariance),
                        Heterogeneity.hSquared(tauSquared: tau2, typicalVariance: typicalVariance), typicalVariance > 0 ? 0 : .nan]
        } else {
            results += [heterogeneity.iSquared, heterogeneity.hSquared]
        }
        if let pi = predictionInterval { results += [pi.lower, pi.upper] }
        guard results.allSatisfy(\.isFinite), !nonFinite else {
            throw MetaPoolError(.insufficientData, "the effects or variances are too extreme to pool in double precision (the weighted sums overflow); check the yi and vi values or rescale them", at: input)
        }
    }

    /// 100/((vᵢ + τ²)·Σw) for every study, and whether one of them is not finite: one loop with
    /// no branch, which the compiler vectorises (a `map` with a check after it was a fifth of DL's
    /// time at k = 10⁴).
    static func percentageWeights(_ v: [Double], tau2: Double, sumW: Double, nonFinite: inout Bool) -> [Double] {
        var bad: UInt8 = 0
        let weights = [Double](unsafeUninitializedCapacity: v.count) { out, count in
            v.withUnsafeBufferPointer { v in
                for i in 0..<v.count {
                    let w = 100 / ((v[i] + tau2) * sumW)
                    out[i] = w
                    bad |= w - w == 0 ? 0 : 1  // x − x is 0 for every finite x, NaN otherwise
                }
            }
            count = v.count
        }
        nonFinite = bad != 0
        return weights
    }

    /// Why the `hksj` interval cannot be formed, or `nil` when it can. With every yᵢ equal, the
    /// Hartung–Knapp scale factor Σwᵢ(yᵢ − μ̂)²/(k − 1) is 0: the SE is 0, the interval has no
    /// width and the statistic is ±∞ or NaN (metafor reports SE = 0 and a zero-width CI). That is
    /// no inference, so it is an error, not a number. The same holds when the effects agree to 8
    /// significant digits (max − min ≤ 1e-8·max|yᵢ|): metafor 3.8-1 then reports SE = 0 as well
    /// (effects 0.5 + e·(0, 1, 0, 2): exact SEs down to e = 1e-8, SE = 0 from e = 1e-9), and an
    /// interval a billionth of the effect wide is not an interval anyone can use.
    static func hartungKnappUndefined(_ y: [Double], ciMethod: ConfidenceIntervalMethod) -> MetaPoolError? {
        guard ciMethod == .hartungKnapp, let first = y.first else { return nil }
        var lo = first, hi = first
        for value in y { lo = min(lo, value); hi = max(hi, value) }
        if lo == hi {
            return MetaPoolError(.insufficientData, "the hksj interval is undefined when every study has the same effect (\(first)): its scale factor sum(w_i (y_i - mu)^2)/(k - 1) is 0, so the standard error would be 0",
                                 remedy: .intervals(["hksj-adhoc", "t"]))
        }
        guard hi - lo <= 1e-8 * max(abs(lo), abs(hi)) else { return nil }
        return MetaPoolError(.insufficientData, "the hksj interval is undefined when the effects agree to 8 significant digits (from \(lo) to \(hi)): its scale factor sum(w_i (y_i - mu)^2)/(k - 1) is then rounding noise and metafor reports a standard error of 0",
                             remedy: .intervals(["hksj-adhoc", "t"]))
    }

    /// The number of studies k.
    public var count: Int { effects.count }

    /// Whether τ² is estimated (every method but `FE`).
    public var isRandomEffects: Bool { method != .fixedEffect }

    /// τ̂², or `nil` for the fixed-effect model.
    public var tauSquared: Double? { isRandomEffects ? tauSquaredEstimate : nil }

    /// I²: for random-effects models 100·τ̂²/(τ̂² + ṽ), the share of total variability due to
    /// heterogeneity (Higgins & Thompson 2002, eq. 10, through the typical variance, for any τ²
    /// estimator); for the fixed-effect model the Q-based max(0, 100·(Q − df)/Q), as metafor.
    public var iSquared: Double? { heterogeneity.iSquared }

    /// H² = (τ̂² + ṽ)/ṽ, or Q/df for the fixed-effect model (Higgins & Thompson 2002).
    public var hSquared: Double? { heterogeneity.hSquared }

    /// Q, I², H² and τ² (see ``Heterogeneity``).
    public var heterogeneity: Heterogeneity {
        isRandomEffects
            // Q's p-value as the fit computed it (the same function of the same Q).
            ? Heterogeneity(tauSquared: tauSquaredEstimate, typicalVariance: typicalVariance, q: q, count: count,
                            degreesOfFreedom: count - 1, pValue: qPValue)
            : Heterogeneity(q: q, count: count)
    }


    /// The prediction interval for the true effect of a new study, μ̂ ± c·√(SE² + τ̂²), with c by
    /// ``predictionIntervalSetting`` (by default metafor's `predict()`: the normal under wald, t on
    /// k − 1 df under the other methods). `nil` for FE.
    public var predictionInterval: Interval? { newStudyPrediction?.interval }

    /// The prediction for a new study by ``predictionIntervalSetting``; `nil` for FE.
    public var newStudyPrediction: Prediction? {
        guard isRandomEffects else { return nil }
        // ``FittedModel/prediction(_:)`` without building ``heterogeneity`` and ``studies`` for τ̂² and k.
        let method = predictionIntervalSetting.method(modelDegreesOfFreedom: pooled.degreesOfFreedom)
        return pooled.prediction(tauSquared: tauSquaredEstimate, studies: count, method: method)
    }

    /// Per-study confidence intervals yᵢ ± z·√vᵢ at the model's level.
    public var studyConfidenceIntervals: [Interval] { studies.confidenceIntervals(level: level) }

    /// Maps a value on the analysis scale to the natural scale (proportion or ratio).
    public func backTransform(_ x: Double) -> Double {
        effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal)
    }
}

extension MetaAnalysis: FittedModel {
    /// "Random-effects model (REML)" and the like, or "Common-effect model" for `FE`.
    public var modelName: String {
        isRandomEffects ? "Random-effects model (\(method.rawValue))" : "Common-effect model"
    }

    /// The measure of the effect sizes.
    public var measure: EffectMeasure { effects.measure }

    /// The effect sizes with their percentage weights.
    public var studies: FittedStudies { FittedStudies(effects: effects, weights: weights, rows: nil) }

    /// The ``PoolSummary`` as the JSON object `metapool pool --format json` prints.
    public func jsonSummary() throws(MetaPoolError) -> JSONValue {
        try MetaPoolError.encodedSummary(summary())
    }
}

/// The pooled estimate and its inference at a given τ², shared by ``MetaAnalysis`` and the batch
/// engine: inverse-variance weights 1/(vᵢ + τ²), the z or t interval (Hartung & Knapp 2001 scale
/// for `hksj`, floored at 1 for `hksj-adhoc`), Cochran's Q and the typical variance. O(k), no allocation.
struct PooledEstimate {
    var sums: WeightedSums
    var q: Double
    var qPValue: Double
    var typicalVariance: Double
    var inference: EstimateInference

    /// `fixed`: the sums at τ² = 0 when the caller has them already (`WeightedSums(y:v:tau2: 0)`).
    init(y: [Double], v: [Double], tau2: Double, ciMethod: ConfidenceIntervalMethod, level: Double, fixed known: WeightedSums? = nil) {
        let k = y.count
        // One pass each where nothing cancels (see WeightedSums(y:v:tau2:center:)): the fixed-effect
        // sums centred on the plain mean of the effects, the random-effects sums on the fixed-effect mean.
        let fixed = known ?? WeightedSums(y: y, v: v, tau2: 0, center: WeightedSums.plainMean(y))
        q = fixed.q
        qPValue = k > 1 ? ChiSquared(degreesOfFreedom: Double(k - 1)).survival(fixed.q) : 1
        typicalVariance = Double(k - 1) / fixed.traceP
        let s = tau2 == 0 ? fixed : WeightedSums(y: y, v: v, tau2: tau2, center: fixed.mean.isFinite ? fixed.mean : nil)
        sums = s
        let variance = ciMethod.varianceFactor(q: s.q, residualDegreesOfFreedom: Double(k - 1)) / s.sumW
        inference = EstimateInference(estimate: s.mean, standardError: variance.squareRoot(), level: level,
                                      degreesOfFreedom: ciMethod.usesT ? k - 1 : nil)
    }
}

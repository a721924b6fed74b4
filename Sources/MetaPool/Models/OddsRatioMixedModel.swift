// The unconditional GLMM with fixed study effects for two-group binary data (odds ratios), as
// metafor's `rma.glmm(measure = "OR", model = "UM.FS")` fits it through
// lme4::glmer(cbind(x, n − x) ~ −1 + study + group + (group − 1 | study), nAGQ = Q), group = ±½.

import RealModule

/// A random-effects meta-analysis of odds ratios by the unconditional logistic mixed model with
/// fixed study effects (metafor's model "UM.FS"; see `FixedStudyEffectsLikelihood` for the
/// model and its AGHQ likelihood). Studies without events in both groups, or with only events in
/// both groups, carry no information on the odds ratio and are left out (metafor's
/// `drop00 = TRUE`), as are they from k.
///
/// Reported as by metafor 3.8-1: β̂ (the pooled log odds ratio) with the standard error from the
/// inverse of the full observed information of (α₁…α_k, β, τ); the Wald-type test of the k − 1
/// study-by-group interactions of the saturated model, Σwᵢ(yᵢ − ȳ_w)² over studies without a zero
/// cell (yᵢ the log odds ratio, wᵢ = 1/(1/a + 1/b + 1/c + 1/d); a study with a zero cell has an
/// infinite estimate and variance and adds nothing) and the likelihood-ratio test of the
/// equal-effects model (τ = 0) against the saturated one, both on k − 1 df; I² and H² from the
/// typical within-study variance of the escalc OR variances (½ added to every cell of a study with
/// a zero cell); and as log-likelihood the binomial log-likelihood at the conditional modes.
public struct OddsRatioMixedModel: Sendable {
    /// Labels of the studies in the model, and of those left out (no events in both groups, or
    /// only events in both groups).
    public let labels: [String]
    /// Labels of the studies left out: no events, or only events, in both groups.
    public let excludedStudies: [String]
    /// The escalc log odds ratios of the studies in the model (½ added to every cell of a study
    /// with a zero cell), for I², the plots and the study intervals.
    public let effects: EffectSizes
    /// Q, the number of adaptive Gauss–Hermite quadrature points (1 = Laplace).
    public let quadraturePoints: Int
    /// The confidence level in (0, 1), e.g. 0.95.
    public let level: Double
    /// Which prediction interval the fit reports (metafor's unless set).
    public var predictionIntervalSetting: PredictionIntervalSetting = .metafor
    /// β̂, the pooled log odds ratio, with its standard error, interval and test (stored once; estimate, SE,
    /// interval, statistic and p-value are read from it through ``PooledResult``).
    public internal(set) var pooled: EstimateInference
    /// τ̂², the between-study variance of the log odds ratios.
    public let tauSquared: Double
    /// I² in percent and H².
    public let iSquared: Double
    /// H² = (τ̂² + ṽ)/ṽ (1 when τ̂² = 0).
    public let hSquared: Double
    /// ṽ, the typical within-study variance of the escalc OR variances, used for I² and H².
    public let typicalVariance: Double
    /// The Wald-type test for heterogeneity (metafor's QE.Wld).
    public let waldTest: GeneralizedLinearMixedModel.HeterogeneityTest
    /// The likelihood-ratio test for heterogeneity (metafor's QE.LRT).
    public let likelihoodRatioTest: GeneralizedLinearMixedModel.HeterogeneityTest
    /// The log-likelihood as metafor reports it: binomial, at the conditional modes.
    public let logLikelihood: Double
    /// The maximised AGHQ approximation to the marginal log-likelihood.
    public let marginalLogLikelihood: Double
    /// α̂ᵢ, the fixed study effects (log odds at the mid-point of the two groups).
    public let studyEffects: [Double]
    /// τ̂·ẑᵢ, the conditional modes of the studies' deviations from β̂.
    public let randomEffects: [Double]
    /// Newton iterations used.
    public let iterations: Int

    /// The number of studies in the model k (excluded studies not counted).
    public var count: Int { labels.count }
    /// τ̂, the square root of τ̂².
    public var tau: Double { tauSquared.squareRoot() }
    /// The odds ratio: eˣ.
    public func backTransform(_ x: Double) -> Double { BackTransform.exponential.apply(x) }

    /// Fits the model to aᵢ events of n₁ᵢ treated and cᵢ events of n₂ᵢ controls.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad Q or level or mismatched arrays;
    ///   `.invalidValue` for invalid counts; `.insufficientData` for fewer than 2 informative
    ///   studies; `.noConvergence` when the likelihood has no finite maximum or the fit fails.
    public init(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double],
                labels: [String]? = nil, quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        try self.init(treatEvents: treatEvents, treatTotals: treatTotals, controlEvents: controlEvents, controlTotals: controlTotals,
                      labels: labels, locations: nil, quadraturePoints: quadraturePoints, level: level)
    }

    /// Fits the model to a table with columns `treat_events`, `treat_total`, `control_events`,
    /// `control_total` (and optionally `study`).
    public init(table: DataTable, quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        for name in ["treat_events", "treat_total", "control_events", "control_total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "the GLMM for odds ratios needs the columns `treat_events`, `treat_total`, `control_events` and `control_total`; the column is missing",
                                at: InputLocation(file: table.source, column: name))
        }
        let reader = ColumnReader(table: table)
        let locations = StudyLocations(table: table)
        try self.init(treatEvents: reader.numbers("treat_events"), treatTotals: reader.numbers("treat_total"),
                      controlEvents: reader.numbers("control_events"), controlTotals: reader.numbers("control_total"),
                      labels: reader.labels(), locations: locations, quadraturePoints: quadraturePoints, level: level)
    }

    init(treatEvents a: [Double], treatTotals n1: [Double], controlEvents c: [Double], controlTotals n2: [Double],
         labels: [String]?, locations: StudyLocations?, quadraturePoints: Int, level: Double) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        guard quadraturePoints >= 1 else {
            throw MetaPoolError(.invalidArgument, "the number of quadrature points must be at least 1 (1 is the Laplace approximation); got \(quadraturePoints)")
        }
        let rule = try GaussHermiteRule(points: quadraturePoints)
        // Validates the counts and gives the escalc OR values (½ added to studies with a zero cell).
        let all = try EffectSizes.twoGroup(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2,
                                           measure: .oddsRatio, labels: labels, locations: locations)
        let kept = a.indices.filter { !((a[$0] == 0 && c[$0] == 0) || (a[$0] == n1[$0] && c[$0] == n2[$0])) }
        guard kept.count >= 2 else {
            throw MetaPoolError(.insufficientData, "a random-effects model needs at least 2 studies with events and non-events; there \(kept.count == 1 ? "is" : "are") \(kept.count) (studies with no events, or only events, in both groups are left out)")
        }
        // Without a study that has all four cells > 0, every study's log odds ratio is ±∞: the
        // pooled log odds ratio or τ has no finite maximum-likelihood estimate.
        guard kept.contains(where: { a[$0] > 0 && a[$0] < n1[$0] && c[$0] > 0 && c[$0] < n2[$0] }) else {
            throw MetaPoolError(.noConvergence, "every study has a group with no events or only events, so the odds ratios have no finite maximum-likelihood estimate; at least one study needs events and non-events in both groups")
        }
        let keptSet = Set(kept)
        excludedStudies = all.labels.indices.filter { !keptSet.contains($0) }.map { all.labels[$0] }
        self.labels = kept.map { all.labels[$0] }
        self.quadraturePoints = quadraturePoints
        self.level = level
        let effects = try EffectSizes(measure: .oddsRatio, yi: kept.map { all.yi[$0] }, vi: kept.map { all.vi[$0] },
                                      labels: self.labels, totals: nil, locations: all.locations.subset(kept))
        self.effects = effects
        let ka = kept.map { a[$0] }, kn1 = kept.map { n1[$0] }, kc = kept.map { c[$0] }, kn2 = kept.map { n2[$0] }
        let likelihood = FixedStudyEffectsLikelihood(treatEvents: ka, treatTotals: kn1, controlEvents: kc, controlTotals: kn2, rule: rule)
        let (fit, equalEffectsLogLikelihood) = try likelihood.maximize(effects: effects)

        tauSquared = fit.tau * fit.tau
        iterations = fit.iterations
        marginalLogLikelihood = fit.logLikelihood
        studyEffects = fit.alphas
        guard let variance = fit.hessian.varianceOfBeta(tauIsZero: fit.tau == 0) else {
            throw MetaPoolError(.noConvergence, "the GLMM fit did not reach a maximum of the likelihood (the observed information is not positive definite)")
        }
        pooled = EstimateInference(estimate: fit.beta, standardError: variance.squareRoot(), level: level, degreesOfFreedom: nil)
        let conditional = likelihood.conditionalLogLikelihood(alphas: fit.alphas, beta: fit.beta, tau: fit.tau)
        logLikelihood = conditional.value
        randomEffects = conditional.modes.map { fit.tau * $0 }

        let k = kept.count
        typicalVariance = Heterogeneity.typicalVariance(y: effects.yi, v: effects.vi)
        iSquared = Heterogeneity.iSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)
        hSquared = Heterogeneity.hSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)

        let df = k - 1
        let chi = ChiSquared(degreesOfFreedom: Double(df))
        var swy = 0.0, swAll = 0.0
        var terms: [(w: Double, y: Double)] = []
        for i in 0..<k {
            let b = kn1[i] - ka[i], d = kn2[i] - kc[i]
            guard ka[i] > 0, b > 0, kc[i] > 0, d > 0 else { continue }
            let w = 1 / (1 / ka[i] + 1 / b + 1 / kc[i] + 1 / d)
            let y = Double.log(ka[i]) + Double.log(d) - Double.log(b) - Double.log(kc[i])
            terms.append((w, y))
            swAll += w
            swy += w * y
        }
        var wald = 0.0
        if terms.count >= 2 {
            let mean = swy / swAll
            for t in terms { wald += t.w * (t.y - mean) * (t.y - mean) }
        }
        waldTest = .init(statistic: wald, degreesOfFreedom: df, pValue: chi.survival(wald))
        var saturated = 0.0
        for i in 0..<k {
            for (x, n) in [(ka[i], kn1[i]), (kc[i], kn2[i])] {
                if x > 0 { saturated += x * Double.log(x / n) }
                if n - x > 0 { saturated += (n - x) * Double.log((n - x) / n) }
            }
            saturated += likelihood.logBinomial[i]
        }
        let lrt = max(0, 2 * (saturated - equalEffectsLogLikelihood))
        likelihoodRatioTest = .init(statistic: lrt, degreesOfFreedom: df, pValue: chi.survival(lrt))
    }

}

extension OddsRatioMixedModel: BinomialMixedModel {
    /// `.oddsRatio` (metafor's `OR`): the model is on the log odds ratio scale.
    public var measure: EffectMeasure { .oddsRatio }
    /// `UM.FS`, metafor's name for the unconditional model with fixed study effects.
    public var modelCode: String? { "UM.FS" }
    /// The studies left out (no events, or only events, in both groups).
    public var summaryExcludedStudies: [String]? { excludedStudies }
}

// The binomial–normal random-intercept model for single proportions, fitted by maximum likelihood
// with adaptive Gauss–Hermite quadrature, as metafor's `rma.glmm(measure = "PLO")` fits it through
// lme4::glmer(cbind(xi, ni − xi) ~ 1 + (1 | study), family = binomial, nAGQ = Q).

import RealModule

/// A random-effects meta-analysis of proportions by a generalized linear mixed model (GLMM):
/// xᵢ ~ Binomial(nᵢ, expit(θᵢ)), θᵢ = μ + τ·zᵢ, zᵢ ~ N(0, 1), so θᵢ ~ N(μ, τ²) on the logit scale
/// (the binomial–normal model of Stijnen, Hamza & Özdemir 2010, Stat Med 29:3046, eq. 5; Hamza,
/// van Houwelingen & Stijnen 2008).
///
/// The marginal likelihood of study i, Lᵢ(μ, τ) = ∫ Binom(xᵢ | nᵢ, expit(μ + τz)) φ(z) dz, is
/// approximated by adaptive Gauss–Hermite quadrature (AGHQ; Liu & Pierce 1994, Biometrika 81:624;
/// Pinheiro & Bates 1995, JCGS 4:12): the integrand is centred at its mode ẑᵢ (the conditional
/// mode of the spherical random effect, lme4's ũ) and scaled by sᵢ = (−∂²log integrand/∂z²)^(−½)
/// there, Lᵢ ≈ sᵢ Σₖ wₖ g(ẑᵢ + sᵢzₖ)/φ(zₖ) with the Q-point rule (zₖ, wₖ) for φ. Q = 1 is the
/// Laplace approximation. This is the approximation lme4 maximises (Bates et al. 2015, JSS 67(1),
/// §5 and lme4's glmer documentation, argument nAGQ), with τ in the role of lme4's θ.
///
/// (μ, τ) are found by Newton's method on the approximate log-likelihood, with its analytic
/// gradient (implicit differentiation of the mode and scale) and a Hessian by central differences
/// of the gradient. The likelihood is even in τ, so τ is unconstrained in the search and τ̂ = |τ|;
/// τ̂ = 0 (homogeneous data) is reached as an interior stationary point, not a boundary.
///
/// What is reported follows metafor 3.8-1 (rma.glmm, Viechtbauer 2010, JSS 36(3)):
/// - the standard error of μ̂ from the inverse of the full observed information of (τ, μ), as
///   lme4's `vcov()` takes it from the Hessian of the deviance (`use.hessian = TRUE`), not the
///   information for μ at fixed τ; Wald z test and CI;
/// - the tests for heterogeneity of the equal-effects model against the saturated model (one
///   proportion per study), both on k − 1 df: the Wald-type test of the k − 1 study dummies, which
///   is Σwᵢ(yᵢ − ȳ_w)² with yᵢ = logit(xᵢ/nᵢ), wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ (a study with 0 or nᵢ events has
///   an infinite estimate and variance and adds nothing), and the likelihood-ratio test
///   2(ℓ_saturated − ℓ_equal-effects); neither uses the random-effects fit;
/// - I² = 100 τ̂²/(τ̂² + ṽ) and H² = (τ̂² + ṽ)/ṽ with ṽ the typical within-study variance
///   (Higgins & Thompson 2002, eq. 9) of the escalc PLO sampling variances (½ added to the counts
///   of studies with 0 or nᵢ events);
/// - the log-likelihood metafor prints, which is the *conditional* binomial log-likelihood at the
///   conditional modes, Σ log Binom(xᵢ | nᵢ, expit(μ̂ + τ̂ẑᵢ)) (metafor takes ll_saturated −
///   deviance(fit)/2, and lme4's deviance of a GLMM is the sum of squared deviance residuals);
///   the maximised AGHQ marginal log-likelihood is ``marginalLogLikelihood``.
public struct GeneralizedLinearMixedModel: Sendable {
    /// A χ² test for heterogeneity.
    public struct HeterogeneityTest: Sendable, Hashable {
        /// The χ² statistic (metafor's QE.Wld or QE.LRT).
        public let statistic: Double
        /// Its degrees of freedom, k − 1.
        public let degreesOfFreedom: Int
        /// Its p-value, P(χ²_df > statistic) (metafor's QEp.Wld or QEp.LRT).
        public let pValue: Double
    }

    /// Study labels.
    public let labels: [String]
    /// The escalc PLO effects of the studies (½ added to studies with 0 or nᵢ events), for I²,
    /// the plots and the study intervals; the model itself uses the exact binomial likelihood.
    public let effects: EffectSizes
    /// The numbers of events xᵢ, one per study.
    public let events: [Double]
    /// The study totals nᵢ.
    public let totals: [Double]
    /// Q, the number of quadrature points (1 = Laplace).
    public let quadraturePoints: Int
    /// The confidence level in (0, 1), e.g. 0.95.
    public let level: Double
    /// Which prediction interval the fit reports (metafor's unless set).
    public var predictionIntervalSetting: PredictionIntervalSetting = .metafor
    /// μ̂, the pooled log odds, with its standard error, interval and test (stored once; estimate, SE,
    /// interval, statistic and p-value are read from it through ``PooledResult``).
    public internal(set) var pooled: EstimateInference
    /// τ̂², the between-study variance of the logits.
    public let tauSquared: Double
    /// I² in percent and H².
    public let iSquared: Double
    /// H² = (τ̂² + ṽ)/ṽ (1 when τ̂² = 0).
    public let hSquared: Double
    /// ṽ, the typical within-study variance used for I² and H².
    public let typicalVariance: Double
    /// The Wald-type test for heterogeneity (metafor's QE.Wld).
    public let waldTest: HeterogeneityTest
    /// The likelihood-ratio test for heterogeneity (metafor's QE.LRT).
    public let likelihoodRatioTest: HeterogeneityTest
    /// The log-likelihood as metafor reports it (see the type's documentation): conditional on the
    /// modes of the random effects.
    public let logLikelihood: Double
    /// The maximised AGHQ approximation to the marginal log-likelihood Σ log Lᵢ(μ̂, τ̂)
    /// (with the binomial coefficients): lme4's `logLik()` for Q = 1.
    public let marginalLogLikelihood: Double
    /// The conditional modes of the study effects on the logit scale, τ̂·ẑᵢ (lme4's `ranef()`).
    public let randomEffects: [Double]
    /// Newton iterations used.
    public let iterations: Int

    /// The number of studies.
    public var count: Int { events.count }
    /// τ̂.
    public var tau: Double { tauSquared.squareRoot() }

    /// The pooled proportion and its CI on the natural scale, expit of the logit-scale values.
    public func backTransform(_ x: Double) -> Double { BackTransform.inverseLogit.apply(x) }

    /// Fits the model to events xᵢ out of totals nᵢ.
    /// - Parameters:
    ///   - events: the numbers of events xᵢ.
    ///   - totals: the study totals nᵢ.
    ///   - labels: study labels, or `nil` for numbered studies.
    ///   - quadraturePoints: Q ≥ 1 points of adaptive Gauss–Hermite quadrature (1 = Laplace), at most 100.
    ///   - level: the confidence level, in (0, 1).
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad Q or level or mismatched arrays;
    ///   `.invalidValue` for counts that are not whole numbers with 0 ≤ xᵢ ≤ nᵢ, nᵢ > 0;
    ///   `.insufficientData` for fewer than 2 studies or no events (or no non-events) at all;
    ///   `.noConvergence` when the likelihood has no finite maximum (only studies with 0 or all
    ///   events, pulling τ to infinity; or estimates beyond |μ|, |τ| = 100) or the iteration fails.
    public init(events: [Double], totals: [Double], labels: [String]? = nil,
                quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        try self.init(events: events, totals: totals, labels: labels, locations: nil,
                      quadraturePoints: quadraturePoints, level: level)
    }

    /// Fits the model to a table with columns `events` and `total` (and optionally `study`).
    public init(table: DataTable, quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        for name in ["events", "total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "the GLMM for proportions needs the columns `events` and `total`; the column is missing",
                                at: InputLocation(file: table.source, column: name))
        }
        let reader = ColumnReader(table: table)
        let locations = StudyLocations(table: table)
        try self.init(events: reader.numbers("events"), totals: reader.numbers("total"), labels: reader.labels(),
                      locations: locations, quadraturePoints: quadraturePoints, level: level)
    }

    init(events: [Double], totals: [Double], labels: [String]?, locations: StudyLocations?,
         quadraturePoints: Int, level: Double) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        guard quadraturePoints >= 1 else {
            throw MetaPoolError(.invalidArgument, "the number of quadrature points must be at least 1 (1 is the Laplace approximation); got \(quadraturePoints)")
        }
        let rule = try GaussHermiteRule(points: quadraturePoints)
        // Validates the counts (whole, 0 ≤ x ≤ n, n > 0) and gives the escalc PLO variances for I².
        let effects = try EffectSizes.proportions(events: events, totals: totals, measure: .logitProportion,
                                                  labels: labels, locations: locations)
        let k = events.count
        guard k >= 2 else {
            throw MetaPoolError(.insufficientData, "a random-effects model needs at least 2 studies; there is \(k)")
        }
        try Self.requireFiniteMaximum(events: events, totals: totals, logOdds: "the pooled log odds is")
        self.labels = effects.labels
        self.effects = effects
        self.events = events
        self.totals = totals
        self.quadraturePoints = quadraturePoints
        self.level = level

        let likelihood = BinomialNormalLikelihood(events: events, totals: totals, rule: rule)
        let fit = try likelihood.maximize(effects: effects)
        tauSquared = fit.tau * fit.tau
        iterations = fit.iterations
        marginalLogLikelihood = fit.logLikelihood

        // Var(μ̂) = [(−H)⁻¹]_μμ over (μ, τ), the Schur complement; at τ̂ = 0 the cross term
        // vanishes by symmetry (ℓ is even in τ).
        guard let variance = fit.hessian.varianceOfBeta(tauIsZero: fit.tau == 0) else {
            throw MetaPoolError(.noConvergence, "the GLMM fit did not reach a maximum of the likelihood (the observed information is not positive definite)")
        }
        pooled = EstimateInference(estimate: fit.mu, standardError: variance.squareRoot(), level: level, degreesOfFreedom: nil)

        let modes = likelihood.modes(mu: fit.mu, tau: fit.tau)
        randomEffects = modes.map { fit.tau * $0 }
        logLikelihood = likelihood.conditionalLogLikelihood(mu: fit.mu, tau: fit.tau, modes: modes)

        // Typical within-study variance (Higgins & Thompson 2002, eq. 9) from the PLO variances.
        typicalVariance = Heterogeneity.typicalVariance(y: effects.yi, v: effects.vi)
        iSquared = Heterogeneity.iSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)
        hSquared = Heterogeneity.hSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)

        let df = k - 1
        let chi = ChiSquared(degreesOfFreedom: Double(df))
        let wald = Self.waldStatistic(events: events, totals: totals)
        waldTest = HeterogeneityTest(statistic: wald, degreesOfFreedom: df, pValue: chi.survival(wald))
        let lrt = Self.likelihoodRatioStatistic(events: events, totals: totals)
        likelihoodRatioTest = HeterogeneityTest(statistic: lrt, degreesOfFreedom: df, pValue: chi.survival(lrt))
    }

    /// The Wald test that the k study logits of the saturated logistic model are equal:
    /// Σwᵢ(yᵢ − ȳ_w)², yᵢ = log(xᵢ/(nᵢ − xᵢ)), wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ the inverse of the ML variance of
    /// yᵢ. Studies with 0 or nᵢ events have weight 0 in the limit (glm's estimate diverges with
    /// its variance) and drop out; with fewer than two informative studies the statistic is 0.
    /// The counts' conditions for a finite maximum of the binomial–normal likelihood, with or
    /// without moderators: some events and some non-events overall (else `logOdds` is ∓∞), and
    /// one study with both — with every study at 0 or nᵢ events the likelihood grows towards
    /// τ → ∞ (complete separation), whatever glmer reports.
    static func requireFiniteMaximum(events: [Double], totals: [Double], logOdds: String) throws(MetaPoolError) {
        let sumX = events.reduce(0, +), sumN = totals.reduce(0, +)
        guard sumX > 0, sumX < sumN else {
            throw MetaPoolError(.insufficientData, sumX == 0
                ? "no study has any event; \(logOdds) −∞"
                : "every patient in every study had the event; \(logOdds) +∞")
        }
        guard zip(events, totals).contains(where: { $0 > 0 && $0 < $1 }) else {
            throw MetaPoolError(.noConvergence, "every study has either no events or only events, so the between-study variance has no finite maximum-likelihood estimate (tau^2 → ∞); at least one study needs both events and non-events")
        }
    }

    static func waldStatistic(events: [Double], totals: [Double]) -> Double {
        var sw = 0.0, swy = 0.0
        var terms: [(w: Double, y: Double)] = []
        for (x, n) in zip(events, totals) where x > 0 && x < n {
            let w = x * (n - x) / n
            let y = Double.log(x) - Double.log(n - x)
            terms.append((w, y))
            sw += w
            swy += w * y
        }
        guard terms.count >= 2 else { return 0 }
        let mean = swy / sw
        var q = 0.0
        for t in terms { q += t.w * (t.y - mean) * (t.y - mean) }
        return q
    }

    /// The likelihood-ratio test of one common proportion p̄ = Σx/Σn against one proportion per
    /// study: the deviance of the equal-effects logistic model, 2Σ[xᵢ log(xᵢ/(nᵢp̄)) +
    /// (nᵢ − xᵢ) log((nᵢ − xᵢ)/(nᵢ(1 − p̄)))], with 0·log 0 = 0.
    static func likelihoodRatioStatistic(events: [Double], totals: [Double]) -> Double {
        let sx = events.reduce(0, +), sn = totals.reduce(0, +)
        let logP = Double.log(sx / sn), logQ = Double.log((sn - sx) / sn)
        var g = 0.0
        for (x, n) in zip(events, totals) {
            if x > 0 { g += x * (Double.log(x / n) - logP) }
            if n - x > 0 { g += (n - x) * (Double.log((n - x) / n) - logQ) }
        }
        return max(0, 2 * g)
    }

}

extension GeneralizedLinearMixedModel: BinomialMixedModel {
    /// `.logitProportion` (metafor's `PLO`): the model is on the logit scale.
    public var measure: EffectMeasure { .logitProportion }
    /// `nil`: metafor names no model for the binomial–normal GLMM of proportions.
    public var modelCode: String? { nil }
    /// `nil`: every study enters the model.
    public var summaryExcludedStudies: [String]? { nil }
}

/// The binomial GLMMs (``GeneralizedLinearMixedModel``, ``OddsRatioMixedModel``): random study
/// effects on the logit scale fitted by maximum likelihood with adaptive Gauss–Hermite quadrature.
/// They answer the shared questions the same way: heterogeneity from the Wald-type test's Q
/// (metafor's `QE.Wld`) with I² and H² through the typical within-study variance, the
/// prediction interval estimate ± z·√(SE² + τ̂²) (metafor's `predict()` for `rma.glmm`), and no
/// per-study weights.
public protocol BinomialMixedModel: FittedModel {
    /// The number of quadrature points (1 = Laplace).
    var quadraturePoints: Int { get }
    /// τ̂².
    var tauSquared: Double { get }
    /// ṽ, the typical within-study variance of the escalc effects.
    var typicalVariance: Double { get }
    /// The Wald-type test for heterogeneity.
    var waldTest: GeneralizedLinearMixedModel.HeterogeneityTest { get }
    /// The escalc effects of the studies in the model.
    var effects: EffectSizes { get }
    /// The number of studies in the model, the confidence level and the number of quadrature points.
    var count: Int { get }
    var level: Double { get }
    /// τ̂, I² (%) and H².
    var tau: Double { get }
    var iSquared: Double { get }
    var hSquared: Double { get }
    /// The likelihood-ratio test for heterogeneity.
    var likelihoodRatioTest: GeneralizedLinearMixedModel.HeterogeneityTest { get }
    /// The conditional log-likelihood metafor prints and the maximised marginal one.
    var logLikelihood: Double { get }
    var marginalLogLikelihood: Double { get }
    /// metafor's model code in the summary (`UM.FS` for odds ratios), and the studies left out.
    var modelCode: String? { get }
    var summaryExcludedStudies: [String]? { get }
    /// Which prediction interval the fit reports.
    var predictionIntervalSetting: PredictionIntervalSetting { get }
}

extension BinomialMixedModel {
    /// The typed summary, with metafor's names in snake_case when encoded.
    public func summary() -> MixedModelSummary {
        var summary = MixedModelSummary(
            measure: measure.rawValue, method: "GLMM", model: modelCode, quadraturePoints: quadraturePoints, level: level,
            k: count, excludedStudies: summaryExcludedStudies, estimate: estimate, se: standardError, statistic: statistic,
            df: pooled.degreesOfFreedom, pValue: pValue, ciLower: confidenceInterval.lower, ciUpper: confidenceInterval.upper,
            tau2: tauSquared, tau: tau, i2: iSquared, h2: hSquared,
            qeWald: waldTest.statistic, qeWaldDF: waldTest.degreesOfFreedom, qeWaldPValue: waldTest.pValue,
            qeLRT: likelihoodRatioTest.statistic, qeLRTDF: likelihoodRatioTest.degreesOfFreedom,
            qeLRTPValue: likelihoodRatioTest.pValue, logLikelihood: logLikelihood, marginalLogLikelihood: marginalLogLikelihood,
            backTransformed: PoolSummary.BackTransformed(self))
        summary.populationAveraged = (self as? GeneralizedLinearMixedModel)?.populationAveragedSummary
        summary.profileLikelihood = (self as? GeneralizedLinearMixedModel)?.profileLikelihoodSummary
        if let prediction = newStudyPrediction {
            (summary.piLower, summary.piUpper) = (prediction.interval.lower, prediction.interval.upper)
            (summary.piMethod, summary.piDF) = (prediction.method.rawValue, prediction.degreesOfFreedom)
        }
        return summary
    }

    /// The JSON object of `summary()`, with metafor's names in snake_case.
    public func jsonSummary() throws(MetaPoolError) -> JSONValue { try MetaPoolError.encodedSummary(summary()) }
    /// "Random-effects model (GLMM, Laplace)" for Q = 1, else "(GLMM, Q-point AGHQ)".
    public var modelName: String { "Random-effects model (GLMM, \(quadraturePoints == 1 ? "Laplace" : "\(quadraturePoints)-point AGHQ"))" }
    /// The Wald-type test's Q (metafor's QE.Wld) on k − 1 df, with τ̂² and the ṽ-based I² and H².
    public var heterogeneity: Heterogeneity {
        Heterogeneity(tauSquared: tauSquared, typicalVariance: typicalVariance, q: waldTest.statistic, count: effects.count,
                      degreesOfFreedom: waldTest.degreesOfFreedom)
    }
    /// The prediction interval estimate ± c·√(SE² + τ̂²) on the analysis scale (logits or log odds
    /// ratios), c by ``predictionIntervalSetting`` (metafor's z unless set).
    public var predictionInterval: Interval? { newStudyPrediction?.interval }
    /// The prediction for a new study by ``predictionIntervalSetting``.
    public var newStudyPrediction: Prediction? { prediction(setting: predictionIntervalSetting) }
    /// The escalc effects of the studies, without weights (a GLMM gives no fixed per-study share).
    public var studies: FittedStudies { FittedStudies(effects: effects, weights: nil, rows: nil) }
}

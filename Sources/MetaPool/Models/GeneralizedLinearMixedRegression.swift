// The binomial–normal model for proportions with moderators, logit pᵢ = xᵢᵀβ + τzᵢ, fitted by
// maximum likelihood with adaptive Gauss–Hermite quadrature, as metafor's
// `rma.glmm(measure = "PLO", xi, ni, mods = ~ …, method = "ML", nAGQ = Q)` fits it through
// lme4::glmer(cbind(xi, ni − xi) ~ −1 + X + (1 | study), family = binomial, nAGQ = Q).

import RealModule

/// A mixed-effects logistic meta-regression of proportions: xᵢ ~ Binomial(nᵢ, expit(θᵢ)),
/// θᵢ = xᵢᵀβ + τ·zᵢ, zᵢ ~ N(0, 1) (Stijnen, Hamza & Özdemir 2010, Stat Med 29:3046, §2 with
/// covariates; Hamza, van Houwelingen & Stijnen 2008). The intercept-only model is
/// ``GeneralizedLinearMixedModel``, which this generalises: the same AGHQ likelihood (Liu & Pierce
/// 1994; Pinheiro & Bates 1995) with μ replaced by xᵢᵀβ, its analytic gradient, a Hessian by
/// differences of the gradient, Newton's method with line search over (β, τ) with τ unconstrained
/// (ℓ is even in τ), and τ̂ = 0 compared with the logistic regression, where AGHQ is exact.
///
/// What is reported follows metafor 3.8-1 (rma.glmm with `mods`):
/// - coefficients with standard errors from the inverse of the full observed information over
///   (β, τ) (lme4's `vcov()` with `use.hessian = TRUE`); at τ̂ = 0 the information for β alone,
///   the cross terms vanishing by symmetry; Wald z tests and intervals;
/// - QM, the Wald χ² test that every coefficient but the intercept is 0 (df p − 1);
/// - the tests for residual heterogeneity of the fixed-effects logistic regression with the
///   moderators against the saturated model (one proportion per study), on k − p df: the Wald
///   test of the saturated model's extra study coefficients, which by invariance of the Wald
///   test to the parametrisation is the weighted residual sum of squares
///   minᵦ Σwᵢ(yᵢ − xᵢᵀβ)², yᵢ = logit(xᵢ/nᵢ), wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ (studies with 0 or nᵢ
///   events have weight 0 in the limit and drop out), and the likelihood-ratio test
///   2(ℓ_saturated − ℓ_logistic);
/// - I² = 100 τ̂²/(τ̂² + ṽ), H² = 1 + τ̂²/ṽ with ṽ = (k − p)/tr P, P = W − WX(XᵀWX)⁻¹XᵀW,
///   W = diag(1/vᵢ) of the escalc PLO variances (metafor's `i2def = "1"`);
/// - the log-likelihood metafor prints, conditional on the modes of the random effects
///   (see ``GeneralizedLinearMixedModel/logLikelihood``), with deviance, AIC, BIC and AICc on
///   p + 1 parameters; and the maximised AGHQ marginal log-likelihood.
public struct GeneralizedLinearMixedRegression: Sendable {
    /// Study labels.
    public let labels: [String]
    /// The escalc PLO effects of the studies (for I² and the residual-heterogeneity weights).
    public let effects: EffectSizes
    /// The numbers of events xᵢ and the totals nᵢ.
    public let events: [Double]
    public let totals: [Double]
    /// The coefficient names, `intrcpt` first.
    public let predictors: [String]
    /// The k × p design, row-major.
    public let design: [Double]
    /// Q, the number of quadrature points (1 = Laplace).
    public let quadraturePoints: Int
    /// The confidence level.
    public let level: Double
    /// β̂ with SE, z test and CI, one per predictor.
    public let coefficients: [EstimateInference]
    /// Cov(β̂), p × p row-major.
    public let covariance: [Double]
    /// τ̂², the residual between-study variance of the logits.
    public let tauSquared: Double
    /// I² (%) and H² of the residual heterogeneity, and the typical within-study variance ṽ.
    public let iSquared: Double
    public let hSquared: Double
    public let typicalVariance: Double
    /// The Wald-type and likelihood-ratio tests for residual heterogeneity (metafor's QE.Wld, QE.LRT), df k − p.
    public let waldTest: GeneralizedLinearMixedModel.HeterogeneityTest
    public let likelihoodRatioTest: GeneralizedLinearMixedModel.HeterogeneityTest
    /// QM, the test of the moderators (every coefficient but the intercept); `nil` for intercept only.
    public let moderatorTest: MetaRegression.ModeratorTest?
    /// The log-likelihood as metafor prints it (conditional on the modes), and the marginal one.
    public let logLikelihood: Double
    public let marginalLogLikelihood: Double
    /// metafor's fit statistics: deviance −2(ℓ − ℓ_saturated), AIC, BIC and AICc on p + 1 parameters.
    public let deviance: Double
    public let aic: Double
    public let bic: Double
    public let aicc: Double
    /// The conditional modes of the study effects, τ̂·ẑᵢ.
    public let randomEffects: [Double]
    /// Newton iterations used.
    public let iterations: Int

    /// The number of studies.
    public var count: Int { events.count }
    /// τ̂.
    public var tau: Double { tauSquared.squareRoot() }

    /// Fits the model to events and totals with a design matrix from ``ModeratorDesign``.
    /// - Parameters:
    ///   - design: the k × p design, row-major, its first column the intercept.
    ///   - predictors: the p column names.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad Q, level or shapes; `.invalidValue`
    ///   for bad counts; `.insufficientData` for k ≤ p, no events (or no non-events) at all,
    ///   linearly dependent moderators, or moderators that separate the data (the logistic
    ///   regression has no finite maximum); `.noConvergence` when the GLMM likelihood has no
    ///   finite maximum or the iteration fails.
    public init(events: [Double], totals: [Double], design: [Double], predictors: [String], labels: [String]? = nil,
                quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        try self.init(events: events, totals: totals, design: design, predictors: predictors, labels: labels, locations: nil,
                      quadraturePoints: quadraturePoints, level: level)
    }

    /// Fits the model to a table with columns `events` and `total` and the moderator columns.
    public init(table: DataTable, moderators: [String], quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        for name in ["events", "total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "the GLMM for proportions needs the columns `events` and `total`; the column is missing",
                                at: InputLocation(file: table.source, column: name))
        }
        let reader = ColumnReader(table: table)
        let locations = StudyLocations(table: table)
        let events = try reader.numbers("events"), totals = try reader.numbers("total")
        let design = try ModeratorDesign(table: table, moderators: moderators)
        try self.init(events: events, totals: totals, design: design.matrix, predictors: design.predictors, labels: reader.labels(),
                      locations: locations, quadraturePoints: quadraturePoints, level: level)
    }

    init(events: [Double], totals: [Double], design: [Double], predictors: [String], labels: [String]?, locations: StudyLocations?,
         quadraturePoints: Int, level: Double) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        guard quadraturePoints >= 1 else {
            throw MetaPoolError(.invalidArgument, "the number of quadrature points must be at least 1 (1 is the Laplace approximation); got \(quadraturePoints)")
        }
        let rule = try GaussHermiteRule(points: quadraturePoints)
        let effects = try EffectSizes.proportions(events: events, totals: totals, measure: .logitProportion,
                                                  labels: labels, locations: locations)
        let k = events.count, p = predictors.count
        guard p >= 1, design.count == k * p, design.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.invalidArgument, "the GLMM with moderators needs a finite k × p design (k = \(k), p = \(p), \(design.count) design cells)")
        }
        guard k > p else {
            throw MetaPoolError(.insufficientData, "a model with \(p) coefficient\(p == 1 ? "" : "s") needs more than \(p) studies; there \(k == 1 ? "is" : "are") \(k)")
        }
        try GeneralizedLinearMixedModel.requireFiniteMaximum(events: events, totals: totals, logOdds: "the log odds are")
        // The fixed-effects regression on the escalc effects: ṽ for I², and linear dependence of the moderators.
        let equalEffects = try MetaRegression(y: effects.yi, v: effects.vi, design: design, predictors: predictors,
                                              method: .fixedEffect, level: level)
        self.labels = effects.labels
        self.effects = effects
        self.events = events
        self.totals = totals
        self.predictors = predictors
        self.design = design
        self.quadraturePoints = quadraturePoints
        self.level = level

        let likelihood = BinomialNormalRegressionLikelihood(
            base: BinomialNormalLikelihood(events: events, totals: totals, rule: rule), design: design, p: p)
        let logistic = try likelihood.logisticRegression()
        // Starts: the DerSimonian–Laird meta-regression on the logits (as the intercept-only
        // model starts from DL), else the logistic regression.
        var start = logistic.beta + [0.3]
        if let dl = try? MetaRegression(y: effects.yi, v: effects.vi, design: design, predictors: predictors,
                                        method: .derSimonianLaird, level: level) {
            start = dl.coefficients + [max(dl.tauSquaredEstimate.squareRoot(), 0.3)]
        }
        let fit = try likelihood.maximize(start: start, fixedEffects: logistic.beta)
        let theta = fit.theta
        let tau = theta[p]
        tauSquared = tau * tau
        iterations = fit.iterations
        marginalLogLikelihood = fit.value

        // Cov(β̂): the β block of (−H)⁻¹ over (β, τ); at τ̂ = 0 the inverse of −H_ββ.
        let h = differenceHessian(at: theta, scales: likelihood.scales) { likelihood.evaluate($0).gradient }
        let size = tau == 0 ? p : p + 1
        var information = [Double](repeating: 0, count: size * size)
        for a in 0..<size { for b in 0..<size { information[a * size + b] = -h[a * (p + 1) + b] } }
        guard let inverse = SymmetricMatrix.inverse(information, n: size) else {
            throw MetaPoolError(.noConvergence, "the GLMM fit did not reach a maximum of the likelihood (the observed information is not positive definite)")
        }
        var cov = [Double](repeating: 0, count: p * p)
        for a in 0..<p { for b in 0..<p { cov[a * p + b] = inverse[a * size + b] } }
        guard (0..<p).allSatisfy({ cov[$0 * p + $0] > 0 && cov[$0 * p + $0].isFinite }) else {
            throw MetaPoolError(.noConvergence, "the GLMM fit did not reach a maximum of the likelihood (the observed information is not positive definite)")
        }
        covariance = cov
        coefficients = (0..<p).map {
            EstimateInference(estimate: theta[$0], standardError: cov[$0 * p + $0].squareRoot(), level: level, degreesOfFreedom: nil)
        }

        // QM: β_tᵀ Cov_tt⁻¹ β_t over every coefficient but the intercept.
        let tested = predictors.first == "intrcpt" ? Array(1..<p) : Array(0..<p)
        if tested.isEmpty {
            moderatorTest = nil
        } else {
            let m = tested.count
            var block = [Double](repeating: 0, count: m * m)
            for (a, i) in tested.enumerated() { for (b, j) in tested.enumerated() { block[a * m + b] = cov[i * p + j] } }
            guard let l = SymmetricMatrix.cholesky(block, n: m) else {
                throw MetaPoolError(.noConvergence, "the covariance of the moderator coefficients is singular; QM cannot be computed")
            }
            let b = tested.map { theta[$0] }
            let solved = SymmetricMatrix.solve(cholesky: l, n: m, b)
            let qm = zip(b, solved).map(*).reduce(0, +)
            moderatorTest = MetaRegression.ModeratorTest(coefficients: tested, statistic: qm, degreesOfFreedom: m, denominatorDegreesOfFreedom: nil,
                                                         pValue: ChiSquared(degreesOfFreedom: Double(m)).survival(qm))
        }

        let modes = likelihood.modes(theta)
        randomEffects = modes.map { tau * $0 }
        logLikelihood = likelihood.conditionalLogLikelihood(theta, modes: modes)

        typicalVariance = equalEffects.typicalVariance
        iSquared = Heterogeneity.iSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)
        hSquared = Heterogeneity.hSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)

        let df = k - p
        let chi = ChiSquared(degreesOfFreedom: Double(df))
        let wald = Self.waldStatistic(events: events, totals: totals, design: design, p: p)
        let saturated = Self.saturatedLogLikelihood(events: events, totals: totals, logBinomial: likelihood.base.logBinomial)
        let lrt = max(0, 2 * (saturated - logistic.logLikelihood))
        waldTest = .init(statistic: wald, degreesOfFreedom: df, pValue: chi.survival(wald))
        likelihoodRatioTest = .init(statistic: lrt, degreesOfFreedom: df, pValue: chi.survival(lrt))

        // metafor's fit.stats for method = "ML" on p + 1 parameters.
        let parameters = Double(p + 1), kk = Double(k)
        deviance = -2 * (logLikelihood - saturated)
        aic = -2 * logLikelihood + 2 * parameters
        bic = -2 * logLikelihood + parameters * Double.log(kk)
        aicc = -2 * logLikelihood + 2 * parameters * max(kk, parameters + 2) / (max(kk, parameters + 2) - parameters - 1)
    }

    /// Σ log Binom(xᵢ | nᵢ, xᵢ/nᵢ), with 0·log 0 = 0: the saturated model's log-likelihood.
    static func saturatedLogLikelihood(events: [Double], totals: [Double], logBinomial: [Double]) -> Double {
        var total = 0.0
        for i in events.indices {
            let x = events[i], n = totals[i]
            total += logBinomial[i]
            if x > 0 { total += x * Double.log(x / n) }
            if n - x > 0 { total += (n - x) * Double.log((n - x) / n) }
        }
        return total
    }

    /// The Wald test of the saturated model against the moderators: minᵦ Σwᵢ(yᵢ − xᵢᵀβ)² over the
    /// studies with 0 < xᵢ < nᵢ, yᵢ = logit(xᵢ/nᵢ), wᵢ = xᵢ(nᵢ − xᵢ)/nᵢ, by modified Gram–Schmidt on
    /// the columns of W^½X (a column dependent on the earlier ones, e.g. a level whose studies all
    /// dropped out, is skipped: the minimum is the same).
    static func waldStatistic(events: [Double], totals: [Double], design: [Double], p: Int) -> Double {
        var rows: [Int] = []
        for i in events.indices where events[i] > 0 && events[i] < totals[i] { rows.append(i) }
        guard rows.count > 1 else { return 0 }
        var r = rows.map { i -> Double in
            let x = events[i], n = totals[i]
            return (x * (n - x) / n).squareRoot() * (Double.log(x) - Double.log(n - x))
        }
        var basis: [[Double]] = []
        for j in 0..<p {
            var c = rows.map { i -> Double in
                let x = events[i], n = totals[i]
                return (x * (n - x) / n).squareRoot() * design[i * p + j]
            }
            let original = c.map { $0 * $0 }.reduce(0, +).squareRoot()
            for q in basis {
                let dot = zip(q, c).map(*).reduce(0, +)
                for m in c.indices { c[m] -= dot * q[m] }
            }
            let norm = c.map { $0 * $0 }.reduce(0, +).squareRoot()
            guard norm > 1e-10 * max(original, .leastNormalMagnitude) else { continue }
            basis.append(c.map { $0 / norm })
        }
        for q in basis {
            let dot = zip(q, r).map(*).reduce(0, +)
            for m in r.indices { r[m] -= dot * q[m] }
        }
        return max(0, r.map { $0 * $0 }.reduce(0, +))
    }
}

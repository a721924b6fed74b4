// `--bayes`, `--tau-prior` and `--mu-prior` for forest and report (pool declares its own, with
// the same names), and the one place where the CLI chooses the Bayesian model for a table.

import ArgumentParser
import MetaPool

struct BayesArguments: ParsableArguments {
    @Flag(help: "The Bayesian random-effects model (normal-normal), computed by numerical integration as R's bayesmeta: shrinkage estimates beside the studies, mu's posterior as the diamond, the posterior predictive interval.")
    var bayes = false

    @Option(name: .customLong("tau-prior"), help: ArgumentHelp("With --bayes: the prior of tau: half-normal(SCALE), half-cauchy(SCALE), half-t(SCALE, DF), uniform(0, UPPER), log-normal(MU, SIGMA), jeffreys, flat. Default half-normal(0.5) for PLO, OR, RR, HR.", valueName: "prior"))
    var tauPrior: String?

    @Option(name: .customLong("mu-prior"), help: ArgumentHelp("With --bayes: the prior of mu: normal(MEAN, SD) or flat (default).", valueName: "prior"))
    var muPrior: String?

    /// Checks the priors and what `--bayes` cannot be combined with in `command`.
    func validate(_ command: String, model: ModelOptions, by: String?, commonTauSquared: Bool, prediction: PredictionOptions) throws {
        guard bayes else {
            if tauPrior != nil || muPrior != nil {
                warn("--tau-prior and --mu-prior set the priors of --bayes; they have no effect without it (ignored)")
            }
            return
        }
        if model.cluster != nil || model.isCountBased {
            throw ValidationError("\(command) --bayes draws the normal-normal model of the studies' effect sizes; it cannot be combined with --cluster or --method MH/PETO/GLMM")
        }
        if commonTauSquared {
            throw ValidationError("--common-tau2 shares one tau^2 between subgroups of an inverse-variance model; \(command) --bayes --by fits each subgroup on its own with the same priors")
        }
        if let text = tauPrior, case .failure(let e) = PriorText.tau(text) { throw e }
        if let text = muPrior, case .failure(let e) = PriorText.mu(text) { throw e }
        if prediction.setting != nil {
            warn("--pi sets the prediction interval of the frequentist models; with --bayes the \(command) shows the posterior predictive interval (ignored)")
        }
    }

    /// The priors asked for (checked in `validate`); τ's is `nil` for the measure's default.
    var priors: (tau: TauPrior?, mu: EffectPrior) {
        (tauPrior.flatMap { try? PriorText.tau($0).get() }, muPrior.flatMap { try? PriorText.mu($0).get() } ?? .flat)
    }
}

/// A Bayesian fit of one table's studies, as every command fits it.
struct BayesFit: Sendable {
    let effects: EffectSizes
    let posterior: any BayesianPosterior
    /// The τ prior as resolved for the measure, and μ's.
    let tauPrior: TauPrior, muPrior: EffectPrior

    /// Reads the effect sizes of `table` and fits the Bayesian model with `priors` (τ's `nil`: the
    /// measure's default, ``PriorText/defaultTau(for:)``).
    ///
    /// The one place the CLI chooses the model: the normal–normal ``BayesianMetaAnalysis`` of yᵢ and vᵢ.
    /// A model with another likelihood (the exact binomial one for proportions) is chosen here
    /// from `table` and the measure; everything downstream takes ``BayesianPosterior``.
    init(table: DataTable, measure: EffectMeasure?, options: EffectSizeOptions, priors: (tau: TauPrior?, mu: EffectPrior)) throws(MetaPoolError) {
        let effects = try EffectSizes(table: table, measure: measure, options: options)
        try self.init(effects: effects, priors: priors)
    }

    init(effects: EffectSizes, priors: (tau: TauPrior?, mu: EffectPrior)) throws(MetaPoolError) {
        guard let tau = priors.tau ?? PriorText.defaultTau(for: effects.measure) else { throw PriorText.noDefault(effects.measure) }
        self.init(effects: effects, posterior: try BayesianMetaAnalysis(yi: effects.yi, vi: effects.vi, tauPrior: tau, muPrior: priors.mu))
    }

    /// A fit made elsewhere (a subgroup of ``BayesianSubgroups``).
    init(effects: EffectSizes, posterior: any BayesianPosterior) {
        self.effects = effects
        self.posterior = posterior
        tauPrior = posterior.tauPrior
        muPrior = posterior.muPrior
    }

    /// The model of a table's rows for ``BayesianSubgroups``: as ``init(effects:priors:)`` fits it.
    static func model(priors: (tau: TauPrior?, mu: EffectPrior)) -> (DataTable, EffectSizes) throws(MetaPoolError) -> any BayesianPosterior {
        { (_: DataTable, effects: EffectSizes) throws(MetaPoolError) -> any BayesianPosterior in
            try BayesFit(effects: effects, priors: priors).posterior
        }
    }

    /// The summaries at `level`, with P(mu > c) and P(new > c) at the natural-scale threshold `c`
    /// where given.
    func summary(level: Double, threshold c: Double?) throws(MetaPoolError) -> BayesianMetaAnalysisSummary {
        try posterior.summary(level: level, threshold: analysisThreshold(c) ?? 0)
    }

    /// The JSON object of `pool --bayes --format json` without the recorded input and options.
    func json(level: Double, threshold c: Double?) throws(MetaPoolError) -> JSONValue {
        let analysis = try analysisThreshold(c)
        let s = try posterior.summary(level: level, threshold: analysis ?? 0)
        return PoolCommand.bayesJSON(s, effects: effects, tau: tauPrior, mu: muPrior, model: posterior.likelihoodName,
                                     threshold: c.map { ($0, analysis!) }, back: backTransform)
    }

    /// The threshold c (natural scale) on the analysis scale.
    func analysisThreshold(_ c: Double?) throws(MetaPoolError) -> Double? {
        try c.map { c throws(MetaPoolError) in try effects.measure.analysisValue(ofNatural: c, harmonicMeanTotal: effects.harmonicMeanTotal) }
    }

    func backTransform(_ x: Double) -> Double { effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal) }
}

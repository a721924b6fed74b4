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

    @Option(help: ArgumentHelp("With --bayes: the likelihood of the studies: normal (their effect sizes and sampling variances, the normal-normal model; default) or binomial (the exact likelihood of the counts: for events/total the binomial-normal model on the logit scale; for two-group counts with OR the conditional, noncentral hypergeometric likelihood of the log odds ratio).", valueName: "likelihood"))
    var likelihood: BayesLikelihood?

    /// Checks the priors and what `--bayes` cannot be combined with in `command`.
    func validate(_ command: String, model: ModelOptions, by: String?, commonTauSquared: Bool, prediction: PredictionOptions) throws {
        guard bayes else {
            if tauPrior != nil || muPrior != nil || likelihood != nil {
                warn("--tau-prior, --mu-prior and --likelihood set the model of --bayes; they have no effect without it (ignored)")
            }
            return
        }
        if model.cluster != nil || model.isCountBased {
            throw ValidationError("\(command) --bayes draws the Bayesian random-effects model; it cannot be combined with --cluster or --method MH/PETO/GLMM")
        }
        if let message = BayesLikelihood.refusal(likelihood, measure: model.measure) { throw ValidationError(message) }
        if commonTauSquared {
            throw ValidationError("--common-tau2 shares one tau^2 between subgroups of an inverse-variance model; \(command) --bayes --by fits each subgroup on its own with the same priors")
        }
        if let text = tauPrior, case .failure(let e) = PriorText.tau(text) { throw e }
        if let text = muPrior, case .failure(let e) = PriorText.mu(text) { throw e }
        if prediction.setting != nil {
            warn("--pi sets the prediction interval of the frequentist models; with --bayes the \(command) shows the posterior predictive interval (ignored)")
        }
    }

    /// The model asked for (checked in `validate`); τ's prior is `nil` for the measure's default.
    var priors: BayesChoice {
        BayesChoice(tau: tauPrior.flatMap { try? PriorText.tau($0).get() }, mu: muPrior.flatMap { try? PriorText.mu($0).get() } ?? .flat,
                    likelihood: likelihood ?? .normal)
    }
}

/// `--likelihood`: how the Bayesian model sees each study.
enum BayesLikelihood: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// yᵢ ~ N(θᵢ, vᵢ): the normal–normal model of the effect sizes (``BayesianMetaAnalysis``).
    case normal
    /// The exact likelihood of the counts: xᵢ ~ Binomial(nᵢ, expit θᵢ) for events/total, the binomial–normal
    /// model (``BinomialBayesianMetaAnalysis``); for two-group counts, aᵢ given aᵢ + cᵢ noncentral
    /// hypergeometric with odds ratio e^θᵢ, the hypergeometric–normal model (``OddsRatioBayesianMetaAnalysis``).
    case binomial

    /// Why `--likelihood binomial` cannot go with `--measure`, or `nil`.
    static func refusal(_ likelihood: BayesLikelihood?, measure: EffectMeasure?) -> String? {
        guard likelihood == .binomial, let measure, measure != .logitProportion, measure != .oddsRatio else { return nil }
        return "--likelihood binomial models the counts exactly: events out of a total on the logit scale (PLO), or two-group counts as a log odds ratio (OR); --measure \(measure.rawValue) is another scale: drop it, or give --measure PLO or OR"
    }
}

/// The Bayesian model the CLI fits: the priors (τ's `nil`: the measure's default,
/// ``PriorText/defaultTau(for:)``) and the likelihood.
struct BayesChoice: Sendable {
    var tau: TauPrior?
    var mu: EffectPrior
    var likelihood: BayesLikelihood = .normal
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
    /// The one place the CLI chooses the model: the normal–normal ``BayesianMetaAnalysis`` of yᵢ and
    /// vᵢ, or with `--likelihood binomial` the binomial–normal ``BinomialBayesianMetaAnalysis`` of the
    /// table's `events` and `total`, or the hypergeometric–normal ``OddsRatioBayesianMetaAnalysis`` of
    /// its two-group counts (the effect sizes, PLO or OR, are then what the plots draw beside it);
    /// everything downstream takes ``BayesianPosterior``.
    init(table: DataTable, measure: EffectMeasure?, options: EffectSizeOptions, priors: BayesChoice) throws(MetaPoolError) {
        let effects = try EffectSizes(table: table, measure: measure, options: options)
        try self.init(table: table, effects: effects, priors: priors)
    }

    /// The model of `effects`, read from `table` (its rows, in the same order).
    init(table: DataTable, effects: EffectSizes, priors: BayesChoice) throws(MetaPoolError) {
        guard let tau = priors.tau ?? PriorText.defaultTau(for: effects.measure) else { throw PriorText.noDefault(effects.measure) }
        switch priors.likelihood {
        case .normal:
            self.init(effects: effects, posterior: try BayesianMetaAnalysis(yi: effects.yi, vi: effects.vi, tauPrior: tau, muPrior: priors.mu))
        case .binomial:
            switch effects.measure {
            case .logitProportion:
                self.init(effects: effects, posterior: try BinomialBayesianMetaAnalysis(table: table, tauPrior: tau, muPrior: priors.mu))
            case .oddsRatio:
                self.init(effects: effects, posterior: try OddsRatioBayesianMetaAnalysis(table: table, tauPrior: tau, muPrior: priors.mu))
            default:
                throw MetaPoolError(.invalidArgument, "--likelihood binomial models counts exactly: events out of a total (logit proportions, PLO) or two-group counts as a log odds ratio (OR); these effects are \(effects.measure.rawValue): give events and total, two-group counts with --measure OR, or --likelihood normal",
                                    at: InputLocation(file: table.source))
            }
        }
    }

    /// A fit made elsewhere (a subgroup of ``BayesianSubgroups``).
    init(effects: EffectSizes, posterior: any BayesianPosterior) {
        self.effects = effects
        self.posterior = posterior
        tauPrior = posterior.tauPrior
        muPrior = posterior.muPrior
    }

    /// The model of a table's rows for ``BayesianSubgroups``: as ``init(effects:priors:)`` fits it.
    static func model(priors: BayesChoice) -> (DataTable, EffectSizes) throws(MetaPoolError) -> any BayesianPosterior {
        { (table: DataTable, effects: EffectSizes) throws(MetaPoolError) -> any BayesianPosterior in
            try BayesFit(table: table, effects: effects, priors: priors).posterior
        }
    }

    /// The likelihood of the fitted model.
    var likelihood: BayesLikelihood { posterior is BayesianMetaAnalysis ? .normal : .binomial }

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
                                     threshold: c.map { ($0, analysis!) }, rates: try rates(level: level), uninformative: uninformative,
                                     back: backTransform)
    }

    /// The posterior of the response rates (conditional and population-averaged) of the binomial
    /// model; `nil` for the normal–normal one.
    func rates(level: Double) throws(MetaPoolError) -> BinomialRateSummary? {
        guard let binomial = posterior as? BinomialBayesianMetaAnalysis else { return nil }
        return try binomial.rates(level: level)
    }

    /// The studies without information on the odds ratio (the hypergeometric–normal model's
    /// ``OddsRatioBayesianMetaAnalysis/uninformative``); none for the other models.
    var uninformative: [Int] { (posterior as? OddsRatioBayesianMetaAnalysis)?.uninformative ?? [] }

    /// The threshold c (natural scale) on the analysis scale.
    func analysisThreshold(_ c: Double?) throws(MetaPoolError) -> Double? {
        try c.map { c throws(MetaPoolError) in try effects.measure.analysisValue(ofNatural: c, harmonicMeanTotal: effects.harmonicMeanTotal) }
    }

    func backTransform(_ x: Double) -> Double { effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal) }
}

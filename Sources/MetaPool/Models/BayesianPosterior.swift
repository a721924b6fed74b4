// What every Bayesian random-effects model answers: the marginal posteriors of τ and μ, the
// posterior predictive distribution of a new study's effect, and their summaries. Later stages
// (the forest plot's shrinkage rows, the report's density plots, the CLI's --by and --batch)
// take any conforming model, as metafor's print/forest take any "rma" object.

/// A fitted Bayesian random-effects meta-analysis: yᵢ ~ N(θᵢ, vᵢ) or an exact likelihood for
/// counts, θᵢ ~ N(μ, τ²), with priors on τ and μ (Röver 2020, J Stat Softw 93(6), §2).
///
/// ``BayesianMetaAnalysis`` (the normal–normal model) conforms; a model with another likelihood
/// (the binomial one for proportions) conforms with the same members, so that ``ForestPlot``,
/// ``Report`` and the CLI's subgroups and batches work with it unchanged.
public protocol BayesianPosterior: Sendable {
    /// The number of studies k.
    var count: Int { get }
    /// The prior of the between-study standard deviation τ.
    var tauPrior: TauPrior { get }
    /// The prior of the overall effect μ.
    var muPrior: EffectPrior { get }
    /// A short name of the likelihood, as the JSON's `model` names it ("normal-normal").
    var likelihoodName: String { get }

    /// The marginal posterior density p(τ|y), its CDF and quantile function.
    func tauDensity(_ tau: Double) -> Double
    func tauCDF(_ x: Double) -> Double
    func tauQuantile(_ p: Double) -> Double
    /// The marginal posterior density p(μ|y) (analysis scale), its CDF and quantile function.
    func muDensity(_ x: Double) -> Double
    func muCDF(_ x: Double) -> Double
    func muQuantile(_ p: Double) -> Double
    /// The posterior predictive density of a new study's θ, its CDF and quantile function.
    func predictiveDensity(_ x: Double) -> Double
    func predictiveCDF(_ x: Double) -> Double
    func predictiveQuantile(_ p: Double) -> Double

    /// Posterior summaries at credibility `level`, with P(μ > c) and P(θ_new > c) at `threshold` c;
    /// ``BayesianMetaAnalysisSummary/studies`` holds the shrinkage posteriors in study order.
    func summary(level: Double, threshold: Double) throws(MetaPoolError) -> BayesianMetaAnalysisSummary
}

extension BayesianMetaAnalysis: BayesianPosterior {
    /// "normal-normal": yᵢ ~ N(θᵢ, vᵢ).
    public var likelihoodName: String { "normal-normal" }
}

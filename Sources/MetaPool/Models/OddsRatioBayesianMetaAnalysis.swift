// The Bayesian random-effects model of log odds ratios from two-group counts with the exact conditional
// (noncentral hypergeometric) likelihood, integrated as the binomial–normal model is.

/// A Bayesian random-effects meta-analysis of odds ratios: given the total events mᵢ = aᵢ + cᵢ of study i,
/// aᵢ follows Fisher's noncentral hypergeometric distribution with odds ratio e^θᵢ,
/// P(aᵢ | mᵢ, θᵢ) = C(n1ᵢ, aᵢ)C(n2ᵢ, mᵢ − aᵢ)e^(θᵢaᵢ) / Σ_u C(n1ᵢ, u)C(n2ᵢ, mᵢ − u)e^(θᵢu), and
/// θᵢ ~ N(μ, τ²), with priors on τ and μ (Van Houwelingen, Zwinderman & Stijnen 1993, Stat Med 12:2273;
/// the conditional logistic model of metafor's rma.glmm(model = "CM.EL")). Conditioning on mᵢ removes
/// each study's baseline risk, so the posterior is p(μ, τ | data) ∝ p(μ)p(τ)Πᵢ Lᵢ(μ, τ),
/// Lᵢ = ∫ P(aᵢ | mᵢ, θ)N(θ; μ, τ²)dθ, integrated exactly as ``BinomialBayesianMetaAnalysis`` integrates
/// its likelihood (the same study integral, rules in μ and τ, densities and summaries).
///
/// A study with mᵢ = 0 or mᵢ = n1ᵢ + n2ᵢ has a single possible aᵢ: its likelihood is 1, it carries no
/// information on the odds ratio and drops out of the posterior of (μ, τ) (``uninformative``); its θᵢ
/// posterior in ``summary(level:threshold:)`` is the predictive distribution.
///
/// Propriety (as for the binomial model, whose documentation derives it): P(aᵢ | mᵢ, θ) decays
/// exponentially as θ → ±∞ when aᵢ lies strictly between its bounds max(0, mᵢ − n2ᵢ) and min(n1ᵢ, mᵢ)
/// (so ∫P dθ is finite and Lᵢ ~ c/τ as τ → ∞), but tends to 1 on a half-line when aᵢ is at a bound.
/// With k′ studies strictly inside, p(τ | data) ~ τ^(−a), a = b + k′ with a normal prior on μ and
/// b + k′ − 1 with a flat one (p(τ) ~ τ^(−b)); the posterior is proper iff a > 1. A flat μ prior also
/// needs a study with aᵢ above its lower bound and one with aᵢ below its upper bound (else ΠLᵢ → 1 as
/// μ → −∞ or +∞).
public struct OddsRatioBayesianMetaAnalysis: Sendable {
    /// The counts: events and totals of the treatment and control groups.
    public let treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double]
    /// The (0-based) studies without information (no events, or only events, in both groups together).
    public let uninformative: [Int]
    let core: BinomialBayesianMetaAnalysis

    /// - Throws: ``MetaPoolError`` for no studies, arrays of different lengths, counts that are not whole
    ///   numbers with 0 ≤ events ≤ total, total ≥ 1 (naming the row and column), the Jeffreys prior, no
    ///   informative study, an improper posterior, or a quadrature that fails.
    public init(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double],
                tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        let k = treatEvents.count
        for (name, v) in [("treatTotals", treatTotals), ("controlEvents", controlEvents), ("controlTotals", controlTotals)] where v.count != k {
            throw MetaPoolError(.invalidArgument, "treatEvents has \(k) values but \(name) has \(v.count); give one value per study in each")
        }
        guard k > 0 else {
            throw MetaPoolError(.insufficientData, "the Bayesian odds-ratio meta-analysis needs at least 1 study; there are none")
        }
        for i in 0..<k {
            for (group, x, n) in [("treat", treatEvents[i], treatTotals[i]), ("control", controlEvents[i], controlTotals[i])] {
                let column = group + "_events", totalColumn = group + "_total"
                guard n.isFinite, n >= 1, n == n.rounded(), n < 1e9 else {
                    throw MetaPoolError(.invalidValue, "study \(i + 1): \(totalColumn) = \(n); the total must be a whole number of at least 1",
                                        at: InputLocation(row: i + 1, column: totalColumn))
                }
                guard x.isFinite, x >= 0, x == x.rounded() else {
                    throw MetaPoolError(.invalidValue, "study \(i + 1): \(column) = \(x); the events must be a whole number of at least 0",
                                        at: InputLocation(row: i + 1, column: column))
                }
                guard x <= n else {
                    throw MetaPoolError(.invalidValue, "study \(i + 1): \(column) = \(BayesianMetaAnalysis.format(x)) > \(totalColumn) = \(BayesianMetaAnalysis.format(n)); the events cannot exceed the total",
                                        at: InputLocation(row: i + 1, column: column))
                }
            }
        }
        if tauPrior == .jeffreys {
            throw MetaPoolError(.invalidArgument, "the Jeffreys tau prior is defined through the sampling variances of the normal-normal model and is not available for the hypergeometric-normal model; use a proper tau prior (half-normal, half-Cauchy, ...) or the flat one")
        }
        try tauPrior.validate()
        try muPrior.validate()
        let counts = (0..<k).map { HypergeometricCounts(treatEvents: treatEvents[$0], treatTotal: treatTotals[$0],
                                                          controlEvents: controlEvents[$0], controlTotal: controlTotals[$0]) }
        let informative = counts.filter { $0.highest > 0 }
        guard !informative.isEmpty else {
            throw MetaPoolError(.insufficientData, "no study has information on the odds ratio: every study has no events, or only events, in both groups together")
        }
        let flatMu = muPrior == .flat
        if flatMu {
            guard informative.contains(where: { $0.observed > 0 }) else {
                throw MetaPoolError(.insufficientData, "the posterior is improper: every informative study has the fewest treatment events its total events allow, so with a flat prior on mu the likelihood does not vanish as mu -> -infinity; use a normal prior on mu")
            }
            guard informative.contains(where: { $0.observed < $0.highest }) else {
                throw MetaPoolError(.insufficientData, "the posterior is improper: every informative study has the most treatment events its total events allow, so with a flat prior on mu the likelihood does not vanish as mu -> +infinity; use a normal prior on mu")
            }
        }
        let inside = informative.filter { $0.observed > 0 && $0.observed < $0.highest }.count
        let a = tauPrior.tailExponent + Double(flatMu ? inside - 1 : inside)
        guard a > 1 else {
            throw MetaPoolError(.insufficientData, "the posterior is improper: with \(inside) stud\(inside == 1 ? "y" : "ies") whose treatment events lie strictly between the bounds their total events allow (no zero cell), \(flatMu ? "a flat" : "a normal") prior on mu and this tau prior, p(tau | data) falls like tau^-\(BayesianMetaAnalysis.format(a)) and does not integrate; use a proper tau prior (half-normal, half-Cauchy, ...)\(flatMu ? " or a normal prior on mu" : ""), or more studies")
        }
        self.treatEvents = treatEvents
        self.treatTotals = treatTotals
        self.controlEvents = controlEvents
        self.controlTotals = controlTotals
        uninformative = counts.indices.filter { counts[$0].highest == 0 }
        // A start for μ: the pooled empirical log odds ratio (½ added to each cell).
        let sa = treatEvents.reduce(0, +), sb = zip(treatTotals, treatEvents).map(-).reduce(0, +)
        let sc = controlEvents.reduce(0, +), sd = zip(controlTotals, controlEvents).map(-).reduce(0, +)
        let start = Double.log((sa + 0.5) * (sd + 0.5) / ((sb + 0.5) * (sc + 0.5)))
        core = try BinomialBayesianMetaAnalysis(studies: counts.map { .hypergeometric($0) }, events: treatEvents, totals: treatTotals,
                                                logChoose: [], tauPrior: tauPrior, muPrior: muPrior, tailExponent: a, start: start)
    }
}

extension OddsRatioBayesianMetaAnalysis: BayesianPosterior {
    /// The number of studies k (the uninformative ones included).
    public var count: Int { treatEvents.count }
    public var tauPrior: TauPrior { core.tauPrior }
    public var muPrior: EffectPrior { core.muPrior }
    /// "hypergeometric-normal": aᵢ | mᵢ ~ noncentral hypergeometric(e^θᵢ).
    public var likelihoodName: String { "hypergeometric-normal" }
    public func tauDensity(_ tau: Double) -> Double { core.tauDensity(tau) }
    public func tauCDF(_ x: Double) -> Double { core.tauCDF(x) }
    public func tauQuantile(_ p: Double) -> Double { core.tauQuantile(p) }
    public func muDensity(_ x: Double) -> Double { core.muDensity(x) }
    public func muCDF(_ x: Double) -> Double { core.muCDF(x) }
    public func muQuantile(_ p: Double) -> Double { core.muQuantile(p) }
    public func predictiveDensity(_ x: Double) -> Double { core.predictiveDensity(x) }
    public func predictiveCDF(_ x: Double) -> Double { core.predictiveCDF(x) }
    public func predictiveQuantile(_ p: Double) -> Double { core.predictiveQuantile(p) }
    /// Posterior summaries (log odds ratio scale); the studies' θᵢ: p(θᵢ | data) = P(aᵢ | mᵢ, θᵢ)·∫∫ p(μ, τ | data)
    /// N(θᵢ; μ, τ²)/Lᵢ(μ, τ) dμ dτ.
    public func summary(level: Double = 0.95, threshold: Double = 0) throws(MetaPoolError) -> BayesianMetaAnalysisSummary {
        try core.summary(level: level, threshold: threshold)
    }
}

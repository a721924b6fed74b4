// Summaries of the Bayesian binomial–normal model: the same ``BayesianMetaAnalysisSummary`` as the
// normal–normal model (τ, μ, θ_new, the studies' θᵢ, probabilities, Bayes factors, marginal likelihood),
// and the response rates on the proportion scale.

import RealModule

/// The posterior of a response rate (a quantity in (0, 1)).
public struct RatePosterior: Sendable, Hashable {
    public let mean: Double, standardDeviation: Double, median: Double
    /// The equal-tailed interval.
    public let central: Interval
}

/// What ``BinomialBayesianMetaAnalysis/rates(level:)`` returns.
public struct BinomialRateSummary: Sendable, Hashable {
    public let level: Double
    /// The conditional (median) rate expit(μ), the rate of a study with θ = μ: its quantiles are expit
    /// of μ's; its mean is E[expit μ].
    public let conditional: RatePosterior
    /// The population-averaged rate ∫expit(μ + τz)φ(z)dz, the mean rate over the population of studies
    /// (Zeger, Liang & Albert 1988, Biometrics 44:1049, the marginal mean of a logistic-normal model).
    public let populationAveraged: RatePosterior
}

extension BinomialBayesianMetaAnalysis {
    /// Posterior summaries at credibility `level`; `threshold` c for P(μ > c) and P(θ_new > c) (logit scale).
    /// The studies' θᵢ: p(θᵢ | x) = Binom(xᵢ | θᵢ)·∫∫ p(μ, τ | x)·N(θᵢ; μ, τ²)/Lᵢ(μ, τ) dμ dτ.
    /// - Throws: ``MetaPoolError`` for a level outside (0, 1) or a non-finite threshold.
    public func summary(level: Double = 0.95, threshold: Double = 0) throws(MetaPoolError) -> BayesianMetaAnalysisSummary {
        try BayesianMetaAnalysis.checkSummaryArguments(level: level, threshold: threshold)
        let alpha = (1 - level) / 2
        let a = tailExponent
        let flatMu = muPrior == .flat
        var tauMean = 0.0, tau2 = 0.0, muMean = 0.0, mu2 = 0.0
        for j in nodeWeight.indices {
            tauMean += nodeWeight[j] * nodeTau[j]
            tau2 += nodeWeight[j] * nodeTau[j] * nodeTau[j]
            muMean += nodeWeight[j] * muRules[j].mean
            mu2 += nodeWeight[j] * muRules[j].secondMoment
        }
        let tauSummary = PosteriorSummary(
            mean: a > 2 ? tauMean : .infinity,
            standardDeviation: a > 3 ? max(0, tau2 - tauMean * tauMean).squareRoot() : .infinity,
            median: tauQuantile(0.5),
            central: Interval(tauQuantile(alpha), tauQuantile(1 - alpha)),
            shortest: BayesianMetaAnalysis.shortestInterval(level: level, tolerance: 1e-15, quantile: tauQuantile, density: tauDensity))
        // μ and θ_new: their densities tabulated once on Chebyshev panels (the interpolants agree with
        // muDensity and predictiveDensity to 1e-12), so that the many quantiles of the shortest intervals
        // are cheap.
        let muSD = max(0, mu2 - muMean * muMean).squareRoot()
        let muTable = Self.tabulate(center: muMean, scale: muSD > 0 && muSD.isFinite ? muSD : 1, muDensity)
        let muSummary = PosteriorSummary(
            mean: !flatMu || a > 2 ? muMean : .nan,
            standardDeviation: !flatMu || a > 3 ? muSD : .infinity,
            median: Self.quantile(muTable, 0.5),
            central: Interval(Self.quantile(muTable, alpha), Self.quantile(muTable, 1 - alpha)),
            shortest: BayesianMetaAnalysis.shortestInterval(level: level, tolerance: 1e-15, quantile: { Self.quantile(muTable, $0) }, density: { muTable.value($0) }))
        let predictionSD = max(0, mu2 + tau2 - muMean * muMean).squareRoot()
        let predictionTable = Self.tabulate(center: muMean, scale: predictionSD > 0 && predictionSD.isFinite ? predictionSD : 1, predictiveDensity)
        let predictionSummary = PosteriorSummary(
            mean: a > 2 ? muMean : .nan,
            standardDeviation: a > 3 ? predictionSD : .infinity,
            median: Self.quantile(predictionTable, 0.5),
            central: Interval(Self.quantile(predictionTable, alpha), Self.quantile(predictionTable, 1 - alpha)),
            shortest: BayesianMetaAnalysis.shortestInterval(level: level, tolerance: 1e-15, quantile: { Self.quantile(predictionTable, $0) }, density: { predictionTable.value($0) }))
        var studies: [StudyPosterior] = []
        studies.reserveCapacity(count)
        for i in 0..<count { studies.append(studyPosterior(i, level: level)) }
        let logMarginal: Double? = tauPrior.isProper && !flatMu ? logEvidence : nil
        var bfTau: Double?
        if let p0 = tauPrior.densityAtZero { bfTau = tauDensity(0) / p0 }
        var bfMu: Double?
        if case .normal(let m, let s) = muPrior {
            bfMu = muDensity(0) / Normal(mean: m, standardDeviation: s).density(0)
        }
        var nodes = 0
        for rule in muRules { nodes += rule.nodes.count }
        return BayesianMetaAnalysisSummary(
            level: level, threshold: threshold, tau: tauSummary, mu: muSummary, prediction: predictionSummary,
            probabilityMuAbove: 1 - muCDF(threshold), probabilityPredictionAbove: 1 - predictiveCDF(threshold),
            studies: studies, logMarginalLikelihood: logMarginal, bayesFactorTauZero: bfTau, bayesFactorMuZero: bfMu,
            nodeCount: nodes)
    }

    // MARK: The studies' θᵢ

    /// Study i's log Lᵢ at every μ node of every τ node, with E[θᵢ | μ, τ, xᵢ] and Var[θᵢ | μ, τ, xᵢ] summed.
    struct StudyTable {
        var logL: [[Double]]
        var mean: Double, variance: Double
    }

    func studyTable(_ i: Int) -> StudyTable {
        let study = studies[i]
        var logL: [[Double]] = []
        logL.reserveCapacity(nodeWeight.count)
        var m1 = 0.0, m2 = 0.0
        for j in nodeWeight.indices {
            let rule = muRules[j]
            var row = [Double](repeating: 0, count: rule.nodes.count)
            for l in rule.nodes.indices {
                let r = study.evaluate(mu: rule.nodes[l], tau: nodeTau[j])
                row[l] = r.log
                let w = nodeWeight[j] * rule.weights[l]
                m1 += w * r.mean
                m2 += w * (r.variance + r.mean * r.mean)
            }
            logL.append(row)
        }
        return StudyTable(logL: logL, mean: m1, variance: max(0, m2 - m1 * m1))
    }

    /// log Lᵢ(μ, τⱼ) interpolated on the panel of τ node j's rule holding μ (nil outside the panels).
    func interpolatedLogL(_ table: StudyTable, _ j: Int, _ mu: Double) -> Double? {
        let rule = muRules[j]
        let p = rule.panels.panel(mu)
        guard p >= 0, p < rule.panels.panelCount else { return nil }
        let a = rule.panels.lower[p], b = rule.panels.upper[p]
        let t = (2 * mu - a - b) / (b - a)
        let first = p * 17
        return table.logL[j].withUnsafeBufferPointer {
            ChebyshevPanel.interpolate(UnsafeBufferPointer(rebasing: $0[first..<(first + 17)]), t)
        }
    }

    /// The marginal posterior density of θᵢ at θ.
    func studyDensity(_ i: Int, _ table: StudyTable, _ theta: Double) -> Double {
        let logBinomial = studies[i].logLikelihood(theta)
        var s = 0.0
        for j in nodeWeight.indices {
            let rule = muRules[j], tau = nodeTau[j]
            var d = 0.0
            if tau == 0 {
                d = rule.density(theta)
            } else if tau < rule.sd {
                // μ = θ − τz: E_z[p(θ − τz | τ, x)·Binom(xᵢ | θ)/Lᵢ(θ − τz, τ)].
                for q in hermite.nodes.indices {
                    let mu = theta - tau * hermite.nodes[q]
                    let g = rule.density(mu)
                    guard g > 0, let logL = interpolatedLogL(table, j, mu) else { continue }
                    d += hermite.weights[q] * g * Double.exp(logBinomial - logL)
                }
            } else {
                let row = table.logL[j]
                for l in rule.nodes.indices {
                    let z = (theta - rule.nodes[l]) / tau
                    d += rule.weights[l] * Double.exp(logBinomial - row[l] - 0.5 * z * z) / (tau * Normal.sqrtTwoPi)
                }
            }
            s += nodeWeight[j] * d
        }
        return s
    }

    /// The posterior of θᵢ: mean and SD from the conditional moments, median and central interval from
    /// its density tabulated on Chebyshev panels.
    func studyPosterior(_ i: Int, level: Double) -> StudyPosterior {
        let table = studyTable(i)
        let sd = table.variance.squareRoot()
        let density = { (t: Double) in self.studyDensity(i, table, t) }
        let pieces = Self.tabulate(center: table.mean, scale: max(sd, 1e-8), density)
        let alpha = (1 - level) / 2
        func q(_ p: Double) -> Double { Self.quantile(pieces, p) }
        return StudyPosterior(mean: table.mean, standardDeviation: sd, median: q(0.5), central: Interval(q(alpha), q(1 - alpha)))
    }

    /// A density tabulated on panels of width `scale` out from `center` until it has fallen below 1e-16
    /// of its largest value, then refined until the interpolants' error estimates sum to 1e-10 of the mass.
    static func tabulate(center: Double, scale: Double, _ density: (Double) -> Double) -> PiecewiseChebyshev {
        var panels: [(a: Double, b: Double, v: [Double])] = []
        var scratch = [Double](repeating: 0, count: ChebyshevPanel.count)
        func panel(_ a: Double, _ b: Double) -> [Double] {
            for i in 0..<ChebyshevPanel.count { scratch[i] = max(0, density(a + 0.5 * (b - a) * (ChebyshevPanel.nodes[i] + 1))) }
            return scratch
        }
        let w = scale
        panels.append((center - w / 2, center + w / 2, panel(center - w / 2, center + w / 2)))
        var peak = panels[0].v.max() ?? 0
        for side in 0..<2 {
            var edge = side == 0 ? center - w / 2 : center + w / 2
            var width = w
            for step in 0..<400 {
                let a = side == 0 ? edge - width : edge, b = side == 0 ? edge : edge + width
                let v = panel(a, b)
                panels.append((a, b, v))
                peak = max(peak, v.max() ?? 0)
                edge = side == 0 ? a : b
                let far = side == 0 ? v[0] : v[16]
                if step >= 8 && far <= 1e-16 * peak { break }
                if step >= 8 { width *= 1.3 }
            }
        }
        // 1e-10: well inside the accuracy of the quantiles asked of it, and above the rounding noise of
        // the mixture (whose terms are exp of differences of log-likelihoods of size up to 1e5).
        panels = ChebyshevPanel.refine(panels, tolerance: 1e-10, steps: 300, maxPanels: 300, values: panel)
        var out = PiecewiseChebyshev()
        for p in panels { p.v.withUnsafeBufferPointer { out.append(lower: p.a, upper: p.b, values: $0) } }
        // Normalised: the mass beyond the panels is below 1e-16 of the peak density times their reach.
        let mass = out.total
        guard mass > 0, mass.isFinite else { return out }
        var normalised = PiecewiseChebyshev()
        for p in panels { p.v.map { $0 / mass }.withUnsafeBufferPointer { normalised.append(lower: p.a, upper: p.b, values: $0) } }
        return normalised
    }

    /// The quantile of a tabulated, normalised density.
    static func quantile(_ table: PiecewiseChebyshev, _ p: Double) -> Double {
        guard p >= 0, p <= 1, table.panelCount > 0 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        return solve(p, lower: table.lower[0], upper: table.upper[table.panelCount - 1],
                     cdf: { table.integral(to: $0) }, density: { table.value($0) })
    }

    // MARK: Rates

    /// R(μ, τ) = ∫expit(μ + τz)φ(z)dz and ∂R/∂μ. For τ ≤ 20, the trapezoidal rule in z with step
    /// min(0.5, 0.4/τ) on |z| ≤ 9.5 (expit is analytic in |Im θ| < π: error ~ exp(−2π·(π/τ)/h); Trefethen &
    /// Weideman 2014). For larger τ, R = Φ(μ/τ) + ∫₀^∞ expit(−s)[N(−s; μ, τ²) − N(s; μ, τ²)] ds (expit(θ) −
    /// 1[θ > 0] is odd and decays like e^(−|θ|)), by 15-point Gauss–Legendre on 20 panels of [0, 40].
    static func populationRate(_ mu: Double, _ tau: Double) -> (rate: Double, slope: Double) {
        if tau == 0 {
            let (p, q) = BinomialNormalLikelihood.probabilities(mu)
            return (p, p * q)
        }
        if tau > 20 {
            let t2 = tau * tau
            let z = mu / tau
            var rate = Normal.standardSurvival(-z)
            var slope = Double.exp(-0.5 * z * z) / (tau * Normal.sqrtTwoPi)
            let rule = GaussLegendreRule.fifteen
            for panel in 0..<20 {
                for i in 0..<rule.nodes.count {
                    let s = 2 * Double(panel) + 1 + rule.nodes[i]
                    let e = BinomialNormalLikelihood.probabilities(-s).p * rule.weights[i]
                    let dm = -s - mu, dp = s - mu
                    let nm = Double.exp(-0.5 * dm * dm / t2), np = Double.exp(-0.5 * dp * dp / t2)
                    rate += e * (nm - np) / (tau * Normal.sqrtTwoPi)
                    slope += e * (dm * nm - dp * np) / (t2 * tau * Normal.sqrtTwoPi)
                }
            }
            return (min(1, max(0, rate)), slope)
        }
        let h = min(0.5, 0.4 / tau)
        let m = Int((9.5 / h).rounded(.up))
        var s = 0.0, d = 0.0
        for j in -m...m {
            let z = Double(j) * h
            let w = Double.exp(-0.5 * z * z)
            let (p, q) = BinomialNormalLikelihood.probabilities(mu + tau * z)
            s += w * p
            d += w * p * q
        }
        let c = h / Normal.sqrtTwoPi
        return (s * c, d * c)
    }

    /// The μ with R(μ, τ) = r (R increases in μ): Newton from the probit approximation
    /// expit(μ/√(1 + π²τ²/8))⁻¹, kept in a bracket.
    static func inversePopulationRate(_ r: Double, _ tau: Double) -> Double {
        let logit = Double.log(r / (1 - r))
        if tau == 0 { return logit }
        var mu = logit * (1 + Double.pi * Double.pi * tau * tau / 8).squareRoot()
        var lo = -Double.infinity, hi = Double.infinity
        for _ in 0..<100 {
            let (value, slope) = populationRate(mu, tau)
            let g = value - r
            if g == 0 { return mu }
            if g < 0 { lo = mu } else { hi = mu }
            var next = slope > 0 ? mu - g / slope : .nan
            if !(next > lo && next < hi) {
                if lo.isFinite && hi.isFinite { next = 0.5 * (lo + hi) } else { next = g < 0 ? mu + max(1, tau) : mu - max(1, tau) }
            }
            if abs(next - mu) <= 1e-14 * max(1, abs(mu)) { return next }
            mu = next
        }
        return mu
    }

    /// The posterior CDF of the population-averaged rate: Σⱼ Wⱼ·P(μ ≤ R⁻¹(c; τⱼ) | τⱼ, x).
    public func populationRateCDF(_ c: Double) -> Double {
        guard !c.isNaN else { return .nan }
        if c <= 0 { return 0 }
        if c >= 1 { return 1 }
        var s = 0.0
        for j in nodeWeight.indices { s += nodeWeight[j] * muRules[j].cdf(Self.inversePopulationRate(c, nodeTau[j])) }
        return min(1, max(0, s))
    }

    /// The posterior quantile of the population-averaged rate (bisection on the logit of the rate).
    public func populationRateQuantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        var lo = -40.0, hi = 40.0
        func expit(_ l: Double) -> Double { 1 / (1 + Double.exp(-l)) }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if populationRateCDF(expit(mid)) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-13 * max(1, abs(mid)) { break }
        }
        return expit(0.5 * (lo + hi))
    }

    /// The conditional rate expit(μ) and the population-averaged rate at credibility `level`.
    /// - Throws: ``MetaPoolError`` for a level outside (0, 1).
    public func rates(level: Double = 0.95) throws(MetaPoolError) -> BinomialRateSummary {
        try EstimateInference.checkLevel(level)
        let alpha = (1 - level) / 2
        func expit(_ l: Double) -> Double { 1 / (1 + Double.exp(-l)) }
        var c1 = 0.0, c2 = 0.0, r1 = 0.0, r2 = 0.0
        for j in nodeWeight.indices {
            let rule = muRules[j]
            for l in rule.nodes.indices {
                let w = nodeWeight[j] * rule.weights[l]
                let e = expit(rule.nodes[l])
                c1 += w * e
                c2 += w * e * e
                let r = Self.populationRate(rule.nodes[l], nodeTau[j]).rate
                r1 += w * r
                r2 += w * r * r
            }
        }
        let conditional = RatePosterior(mean: c1, standardDeviation: max(0, c2 - c1 * c1).squareRoot(), median: expit(muQuantile(0.5)),
                                        central: Interval(expit(muQuantile(alpha)), expit(muQuantile(1 - alpha))))
        let population = RatePosterior(mean: r1, standardDeviation: max(0, r2 - r1 * r1).squareRoot(), median: populationRateQuantile(0.5),
                                       central: Interval(populationRateQuantile(alpha), populationRateQuantile(1 - alpha)))
        return BinomialRateSummary(level: level, conditional: conditional, populationAveraged: population)
    }
}

// The marginal posteriors of the Bayesian binomial–normal model: τ, μ, a new study's θ, the studies' θᵢ
// and the response rates, each a sum over the quadrature's τ nodes of conditional quantities in μ.

import RealModule

extension BinomialBayesianMetaAnalysis {
    // MARK: τ

    /// s(τ), the inverse of `tauOf`.
    func variable(_ tau: Double) -> Double {
        if tau <= tailStart || !hasTail { return tau }
        if tau == .infinity { return tailStart + 1 }
        let r = Double.pow((tau - tailStart) / tailScale, 1 / tailPower)
        return tailStart + r / (1 + r)
    }

    /// The posterior density p(τ | x).
    public func tauDensity(_ tau: Double) -> Double {
        guard !tau.isNaN else { return .nan }
        guard tau >= 0, tau <= tauPrior.upperBound, tau.isFinite else { return 0 }
        let s = variable(tau)
        let j = Self.tauOf(s, start: tailStart, scale: tailScale, power: tailPower).jacobian
        return max(0, tauPanels.value(s) / j)
    }

    /// The posterior CDF P(τ ≤ x | x).
    public func tauCDF(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        if x >= tauPrior.upperBound || x == .infinity { return 1 }
        return min(1, max(0, tauPanels.integral(to: variable(x))))
    }

    /// The posterior quantile of τ.
    public func tauQuantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return tauPrior.upperBound }
        let lo = tauPanels.lower[0], hi = tauPanels.upper[tauPanels.panelCount - 1]
        let s = Self.solve(p, lower: lo, upper: hi, cdf: { tauPanels.integral(to: $0) }, density: { tauPanels.value($0) })
        return Self.tauOf(s, start: tailStart, scale: tailScale, power: tailPower).tau
    }

    // MARK: μ

    /// The posterior density, CDF and quantile of μ: mixtures over the τ nodes of p(μ | τ, x).
    public func muDensity(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        var s = 0.0
        for j in nodeWeight.indices { s += nodeWeight[j] * muRules[j].density(x) }
        return max(0, s)
    }
    public func muCDF(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        var s = 0.0
        for j in nodeWeight.indices { s += nodeWeight[j] * muRules[j].cdf(x) }
        return min(1, max(0, s))
    }
    public func muQuantile(_ p: Double) -> Double {
        quantile(p, cdf: muCDF, density: muDensity)
    }

    // MARK: A new study's θ = μ + τz

    /// E[K(μ)] under p(μ | τⱼ, x) for a kernel smooth on the scale τⱼ (the μ nodes) or, where τⱼ is
    /// below the conditional SD of μ, E[k(x − τⱼz)] over z ~ N(0, 1) (Gauss–Hermite, 40 points) of the
    /// interpolated conditional CDF or density: both integrands are then smooth on the scale of their rule.
    @inline(__always)
    func predictiveComponent(_ j: Int, _ x: Double, cdf: Bool) -> Double {
        let rule = muRules[j], tau = nodeTau[j]
        var s = 0.0
        if tau < rule.sd {
            for q in hermite.nodes.indices {
                let m = x - tau * hermite.nodes[q]
                s += hermite.weights[q] * (cdf ? rule.cdf(m) : rule.density(m))
            }
        } else {
            for l in rule.nodes.indices {
                let z = (x - rule.nodes[l]) / tau
                s += rule.weights[l] * (cdf ? Normal.standardSurvival(-z) : Double.exp(-0.5 * z * z) / (tau * Normal.sqrtTwoPi))
            }
        }
        return s
    }

    /// The posterior predictive density, CDF and quantile of a new study's θ.
    public func predictiveDensity(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        var s = 0.0
        for j in nodeWeight.indices { s += nodeWeight[j] * predictiveComponent(j, x, cdf: false) }
        return max(0, s)
    }
    public func predictiveCDF(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        var s = 0.0
        for j in nodeWeight.indices { s += nodeWeight[j] * predictiveComponent(j, x, cdf: true) }
        return min(1, max(0, s))
    }
    public func predictiveQuantile(_ p: Double) -> Double {
        quantile(p, cdf: predictiveCDF, density: predictiveDensity)
    }

    // MARK: Root finding

    /// The x with cdf(x) = p for an increasing cdf: bracketing out from the median-like start, then
    /// Newton steps on the density kept inside the bracket (bisection otherwise).
    func quantile(_ p: Double, cdf: (Double) -> Double, density: (Double) -> Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        // A start from the first τ node rules: the overall mean and spread of μ.
        var m = 0.0, v = 0.0
        for j in nodeWeight.indices { m += nodeWeight[j] * muRules[j].mean }
        for j in nodeWeight.indices { v += nodeWeight[j] * (muRules[j].secondMoment - m * m + nodeTau[j] * nodeTau[j]) }
        let sd = v > 0 && v.isFinite ? v.squareRoot() : 1
        var lo = m - sd, hi = m + sd
        var step = sd
        for _ in 0..<200 where cdf(lo) > p { step *= 2; lo -= step }
        step = sd
        for _ in 0..<200 where cdf(hi) < p { step *= 2; hi += step }
        return Self.solve(p, lower: lo, upper: hi, cdf: cdf, density: density)
    }

    /// Newton–bisection for cdf(x) = p in [lower, upper].
    static func solve(_ p: Double, lower: Double, upper: Double, cdf: (Double) -> Double, density: (Double) -> Double) -> Double {
        var lo = lower, hi = upper
        var x = 0.5 * (lo + hi)
        let upperTail = p > 0.5
        for _ in 0..<300 {
            let f = cdf(x)
            let g = upperTail ? (1 - p) - (1 - f) : f - p
            if g == 0 { return x }
            if g < 0 { lo = x } else { hi = x }
            let d = density(x)
            var next = d > 0 ? x - g / d : .nan
            if !(next > lo && next < hi) { next = 0.5 * (lo + hi) }
            if abs(next - x) <= 1e-15 * max(abs(x), 1e-3) || hi - lo <= 1e-15 * max(abs(x), 1e-3) { return next }
            x = next
        }
        return x
    }
}

// One study's marginal likelihood in the binomial–normal model, Lᵢ(μ, τ) = ∫ Binom(x | n, expit θ) N(θ; μ, τ²) dθ,
// by the trapezoidal rule centred and scaled at the mode of the integrand.

import RealModule

/// The integral over θ of h(θ) = Binom(x | n, expit θ)·N(θ; μ, τ²), with the moments of the
/// conditional distribution h/L that the Bayesian model needs.
///
/// log h is strictly concave (ψ(θ) = xθ − n·log(1 + e^θ) − (θ − μ)²/(2τ²), ψ″ = −n·p(1 − p) − 1/τ²), so
/// it has one mode θ̂ (Newton steps in the bracket [μ + τ²(x − n), μ + τ²x]) and σ̂ = (−ψ″(θ̂))^(−½).
/// The integral is the trapezoidal rule with step Δ = min(0.7σ̂, 0.2) on the nodes θ̂ + jΔ, summed
/// outwards from the mode until the rest of the (log-concave, so geometrically bounded) tail is below
/// 1e-17 of the sum. For an integrand analytic in a strip the trapezoidal rule converges
/// geometrically, error ~ exp(−2πd/Δ) (Trefethen & Weideman 2014, SIAM Rev 56:385, Thm 5.1): the
/// Gaussian part needs Δ ≲ 0.75σ̂ (error ~ 2exp(−2π²σ̂²/Δ²) < 1e-15); the binomial part, e^(xθ)(1 + e^θ)^(−n),
/// grows like exp(n·e^θ) off the real axis beyond |Im θ| = π/2, so Δ ≲ 0.2 (exp(−π²/Δ) ~ 4e-22; for the
/// Gumbel-like likelihood of x = 3 events in n = 1e5 the error is 2e-12 at Δ = 0.25, below 1e-15 at 0.2).
/// The relative error is below 1e-13 on the grid of (x, n, μ, τ) in the tests (against the rule with Δ/4).
struct BinomialStudyIntegral {
    /// log Lᵢ, ∂ log Lᵢ/∂μ = E[x − n·p], ∂² log Lᵢ/∂μ² = −E[n·p(1 − p)] + n²·Var[p], E[θ], Var[θ]
    /// (expectations under h/L).
    struct Result {
        var log: Double, first: Double, second: Double, mean: Double, variance: Double
    }

    /// σ̂ above which studies with x = 0 or x = n use ``plateau(n:logChoose:mu:tau:)``.
    static let plateauScale = 8.0

    /// Lᵢ for x = 0 and a wide N(μ, τ²) (|μ| < 3τ): with b(θ) = (1 + e^θ)^(−n) = 1[θ < 0] + r(θ),
    /// L = Φ(−μ/τ) + ∫₋ₐ⁰ (b − 1)N dθ + ∫₀ᴮ b·N dθ, the remainders decaying like n·e^θ and e^(−nθ), so a =
    /// 40 + log n and B = 40/n (Gauss–Legendre, 15 points on panels of width ≤ 2); the truncated normal
    /// moments ∫₋∞⁰ θʲN are closed-form (Johnson, Kotz & Balakrishnan 1994, §10.1), and the μ-derivatives
    /// follow from ∂N/∂μ = (θ − μ)/τ²·N.
    static func plateau(n: Double, logChoose: Double, mu: Double, tau: Double) -> Result {
        let t2 = tau * tau
        let z0 = mu / tau
        let phi0 = Double.exp(-0.5 * z0 * z0) / Normal.sqrtTwoPi
        let cdf0 = Normal.standardSurvival(z0)
        // ∫₋∞⁰ of N, (θ − μ)N/τ², ((θ − μ)²/τ⁴ − 1/τ²)N, θN, θ²N.
        var l0 = cdf0, l1 = -phi0 / tau, l2 = mu * phi0 / (t2 * tau)
        var e1 = mu * cdf0 - tau * phi0, e2 = (mu * mu + t2) * cdf0 - mu * tau * phi0
        let rule = GaussLegendreRule.fifteen
        func add(_ a: Double, _ b: Double, left: Bool) {
            let half = 0.5 * (b - a), centre = 0.5 * (a + b)
            for i in 0..<rule.nodes.count {
                let theta = centre + half * rule.nodes[i]
                let bValue = Double.exp(-n * BinomialNormalLikelihood.log1pexp(theta))
                let r = left ? bValue - 1 : bValue
                let d = theta - mu
                let w = rule.weights[i] * half * r * Double.exp(-0.5 * d * d / t2) / (tau * Normal.sqrtTwoPi)
                l0 += w
                l1 += w * d / t2
                l2 += w * (d * d / (t2 * t2) - 1 / t2)
                e1 += w * theta
                e2 += w * theta * theta
            }
        }
        let a = 40 + Double.log(n), bEnd = 40 / n
        let leftPanels = Int((a / 2).rounded(.up))
        for j in 0..<leftPanels { add(-a + Double(j) * a / Double(leftPanels), -a + Double(j + 1) * a / Double(leftPanels), left: true) }
        let rightPanels = max(1, Int((bEnd / 2).rounded(.up)))
        for j in 0..<rightPanels { add(Double(j) * bEnd / Double(rightPanels), Double(j + 1) * bEnd / Double(rightPanels), left: false) }
        let first = l1 / l0
        let mean = e1 / l0
        return Result(log: logChoose + Double.log(l0), first: first, second: l2 / l0 - first * first,
                      mean: mean, variance: max(0, e2 / l0 - mean * mean))
    }

    /// The trapezoid step as a fraction of σ̂ and its largest value.
    static let relativeStep = 0.7, largestStep = 0.2

    /// The binomial study: ``evaluate(_:mu:tau:stepScale:plateau:)`` with ``BinomialCounts``.
    @inline(__always)
    static func evaluate(x: Double, n: Double, logChoose: Double, mu: Double, tau: Double,
                         stepScale: Double = 1, plateau usePlateau: Bool = true) -> Result {
        evaluate(BinomialCounts(x: x, n: n, logChoose: logChoose), mu: mu, tau: tau, stepScale: stepScale, plateau: usePlateau)
    }

    /// ∫ f(a | θ)N(θ; μ, τ²)dθ for a study whose likelihood is an exponential family in θ,
    /// log f(a | θ) = c + θa − K(θ) (``StudyCountLikelihood``): the binomial (K = n·log(1 + e^θ)) and the
    /// conditional noncentral hypergeometric one of a 2×2 table. log h = c + θa − K(θ) − (θ − μ)²/(2τ²) is
    /// strictly concave (K″ = Var_θ[a] ≥ 0), its mode lies in [μ + τ²(a − a_max), μ + τ²(a − a_min)]
    /// (K′ ∈ [a_min, a_max]), and ∂ log L/∂μ = E[a − K′(θ)], ∂² log L/∂μ² = −E[K″(θ)] + Var[K′(θ)]
    /// (expectations under h/L; from ∂N/∂μ = (θ − μ)/τ²·N and integration by parts).
    @inline(__always)
    static func evaluate<L: StudyCountLikelihood>(_ study: L, mu: Double, tau: Double,
                                                   stepScale: Double = 1, plateau usePlateau: Bool = true) -> Result {
        let x = study.observed
        if study.lowest == study.highest {
            // No information: f ≡ 1, L = 1, θ | μ, τ ~ N(μ, τ²).
            return Result(log: study.logConstant, first: 0, second: 0, mean: mu, variance: tau * tau)
        }
        if tau == 0 {
            let m = study.moments(mu)
            return Result(log: study.logConstant + x * mu - m.cumulant, first: m.residual, second: -m.variance, mean: mu, variance: 0)
        }
        let t2 = tau * tau
        let precision = 1 / t2
        // Start: the precision-weighted mean of μ and the study's own estimate.
        let (estimate, information) = study.startEstimate
        var lo = mu + t2 * (x - study.highest), hi = mu + t2 * (x - study.lowest)
        var theta = (mu * precision + estimate * information) / (precision + information)
        if !(theta > lo && theta < hi) { theta = 0.5 * (lo + hi) }
        if !theta.isFinite { theta = mu }
        var m = study.moments(theta)
        for _ in 0..<100 {
            m = study.moments(theta)
            let g = m.residual - (theta - mu) * precision
            if g > 0 { lo = theta } else if g < 0 { hi = theta } else { break }
            let curvature = m.variance + precision
            var next = theta + g / curvature
            if !(next > lo && next < hi) { next = 0.5 * (lo + hi) }
            let step = abs(next - theta)
            theta = next
            if step <= 1e-9 / curvature.squareRoot() + 1e-15 * abs(theta) { break }
            if !(hi - lo > 1e-15 * max(1, abs(theta))) { break }
        }
        m = study.moments(theta)
        let sigma = 1 / (m.variance + precision).squareRoot()
        // No events (or no non-events) and a wide N(μ, τ²): the integrand is a plateau of width ~τ ending in a
        // logistic edge of width ~1, which a uniform step cannot resolve cheaply (σ̂ > 8 happens only then:
        // with 0 < x < n, n·p̂(1 − p̂) ≳ ½).
        if usePlateau && sigma > plateauScale && abs(mu) < 3 * tau && (x == study.lowest || x == study.highest),
           let r = study.plateau(mu: mu, tau: tau) {
            return r
        }
        let delta = min(relativeStep * sigma, largestStep) * stepScale
        // ψ(θ̂ + d) − ψ(θ̂) as a function of the offset d (exact multiples of Δ): evaluating (θ − μ)²/τ² at
        // rounded nodes θ̂ + d would cost |θ|·1e-16/τ², 1e-8 of the log for τ = 1e-8.
        let c = theta - mu
        let cumulantPeak = m.cumulant
        let peak = x * theta - cumulantPeak - 0.5 * c * c * precision
        // Moments of K′ about K′(θ̂) and of θ about θ̂ (shifted sums keep the variances accurate).
        let meanHat = m.mean, residualHat = m.residual
        var s0 = 1.0, s1 = 0.0, s2 = 0.0, sp = 0.0, spp = 0.0, spq = m.variance
        for side in 0..<2 {
            let direction: Double = side == 0 ? -1 : 1
            var previous = 1.0
            var j = 1.0
            while j < 2e4 {
                let d = direction * j * delta
                let mt = study.moments(theta + d)
                let term = Double.exp(x * d - (mt.cumulant - cumulantPeak) - 0.5 * (2 * c + d) * d * precision)
                s0 += term
                s1 += term * d
                s2 += term * d * d
                let dp = mt.mean - meanHat
                sp += term * dp
                spp += term * dp * dp
                spq += term * mt.variance
                let ratio = term / previous
                if term < 1e-17 * s0 && (ratio < 1 && term * ratio / (1 - ratio) < 1e-17 * s0) { break }
                if term == 0 { break }
                previous = term
                j += 1
            }
        }
        let log = study.logConstant + peak + Double.log(delta * s0) - Double.log(tau * Normal.sqrtTwoPi)
        let meanShift = sp / s0
        let varianceMean = max(0, spp / s0 - meanShift * meanShift)
        let first = residualHat - meanShift
        let second = -spq / s0 + varianceMean
        let m1 = s1 / s0
        return Result(log: log, first: first, second: second, mean: theta + m1, variance: max(0, s2 / s0 - m1 * m1))
    }
}

/// One study's likelihood of θ as an exponential family in a count a: log f(a | θ) = c + θa − K(θ), a in
/// [a_min, a_max] (K the log normaliser, K′ = E_θ[a], K″ = Var_θ[a]).
protocol StudyCountLikelihood: Sendable {
    /// a, a_min, a_max and c.
    var observed: Double { get }
    var lowest: Double { get }
    var highest: Double { get }
    var logConstant: Double { get }
    /// The study's own estimate of θ and its information (a start for the mode).
    var startEstimate: (value: Double, information: Double) { get }
    /// K(θ), a − K′(θ), K′(θ), K″(θ).
    func moments(_ theta: Double) -> (cumulant: Double, residual: Double, mean: Double, variance: Double)
    /// L by a rule for the plateau of a wide N(μ, τ²) when a is a bound (nil: the trapezoid rule).
    func plateau(mu: Double, tau: Double) -> BinomialStudyIntegral.Result?
}

/// Binom(x | n, expit θ): a = x in [0, n], K(θ) = n·log(1 + e^θ), c = log C(n, x).
struct BinomialCounts: StudyCountLikelihood {
    let x: Double, n: Double, logChoose: Double
    var observed: Double { x }
    var lowest: Double { 0 }
    var highest: Double { n }
    var logConstant: Double { logChoose }
    var startEstimate: (value: Double, information: Double) {
        let pTilde = (x + 0.5) / (n + 1)
        return (Double.log((x + 0.5) / (n - x + 0.5)), n * pTilde * (1 - pTilde))
    }
    @inline(__always)
    func moments(_ theta: Double) -> (cumulant: Double, residual: Double, mean: Double, variance: Double) {
        let (p, q) = BinomialNormalLikelihood.probabilities(theta)
        return (n * BinomialNormalLikelihood.log1pexp(theta), BinomialNormalLikelihood.residual(x, n, p, q), n * p, n * p * q)
    }
    func plateau(mu: Double, tau: Double) -> BinomialStudyIntegral.Result? {
        if x == 0 { return BinomialStudyIntegral.plateau(n: n, logChoose: logChoose, mu: mu, tau: tau) }
        // x = n: θ → −θ, μ → −μ.
        let r = BinomialStudyIntegral.plateau(n: n, logChoose: logChoose, mu: -mu, tau: tau)
        return .init(log: r.log, first: -r.first, second: r.second, mean: -r.mean, variance: r.variance)
    }
}

/// A study of the Bayesian model: binomial counts or a two-group table's conditional likelihood.
enum StudyCounts: Sendable {
    case binomial(BinomialCounts)
    case hypergeometric(HypergeometricCounts)

    var likelihood: any StudyCountLikelihood {
        switch self {
        case .binomial(let b): b
        case .hypergeometric(let h): h
        }
    }

    @inline(__always)
    func evaluate(mu: Double, tau: Double) -> BinomialStudyIntegral.Result {
        switch self {
        case .binomial(let b): BinomialStudyIntegral.evaluate(b, mu: mu, tau: tau)
        case .hypergeometric(let h): BinomialStudyIntegral.evaluate(h, mu: mu, tau: tau)
        }
    }

    /// log f(a | θ).
    func logLikelihood(_ theta: Double) -> Double {
        switch self {
        case .binomial(let b): b.logChoose + b.x * theta - b.n * BinomialNormalLikelihood.log1pexp(theta)
        case .hypergeometric(let h): h.logConstant + h.observed * theta - h.moments(theta).cumulant
        }
    }
}

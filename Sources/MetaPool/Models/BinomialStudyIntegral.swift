// One study's marginal likelihood in the binomial–normal model, Lᵢ(μ, τ) = ∫ Binom(x | n, expit θ) N(θ; μ, τ²) dθ,
// by the trapezoidal rule centred and scaled at the mode of the integrand.

import RealModule

/// The integral over θ of h(θ) = Binom(x | n, expit θ)·N(θ; μ, τ²), with the moments of the
/// conditional distribution h/L that the Bayesian model needs.
///
/// log h is strictly concave (ψ(θ) = xθ − n·log(1 + e^θ) − (θ − μ)²/(2τ²), ψ″ = −n·p(1 − p) − 1/τ²), so
/// it has one mode θ̂ (Newton steps in the bracket [μ + τ²(x − n), μ + τ²x]) and σ̂ = (−ψ″(θ̂))^(−½).
/// The integral is the trapezoidal rule with step Δ = min(0.7σ̂, 0.35) on the nodes θ̂ + jΔ, summed
/// outwards from the mode until the rest of the (log-concave, so geometrically bounded) tail is below
/// 1e-17 of the sum. For an integrand analytic in a strip the trapezoidal rule converges
/// geometrically, error ~ exp(−2πd/Δ) (Trefethen & Weideman 2014, SIAM Rev 56:385, Thm 5.1): the
/// Gaussian part needs Δ ≲ 0.75σ̂ (error ~ 2exp(−2π²σ̂²/Δ²) < 1e-15), the logistic part, singular at
/// θ = ±iπ, Δ ≲ 0.35. The relative error is below 1e-13 on the grid of (x, n, μ, τ) in the tests
/// (against the rule with Δ/4).
struct BinomialStudyIntegral {
    /// log Lᵢ, ∂ log Lᵢ/∂μ = E[x − n·p], ∂² log Lᵢ/∂μ² = −E[n·p(1 − p)] + n²·Var[p], E[θ], Var[θ]
    /// (expectations under h/L).
    struct Result {
        var log: Double, first: Double, second: Double, mean: Double, variance: Double
    }

    /// The trapezoid step as a fraction of σ̂ and its largest value.
    static let relativeStep = 0.7, largestStep = 0.35

    @inline(__always)
    static func evaluate(x: Double, n: Double, logChoose: Double, mu: Double, tau: Double,
                         stepScale: Double = 1) -> Result {
        if tau == 0 {
            let (p, q) = BinomialNormalLikelihood.probabilities(mu)
            let log = logChoose + x * mu - n * BinomialNormalLikelihood.log1pexp(mu)
            return Result(log: log, first: BinomialNormalLikelihood.residual(x, n, p, q), second: -n * p * q, mean: mu, variance: 0)
        }
        let t2 = tau * tau
        let precision = 1 / t2
        // Start: the precision-weighted mean of μ and the empirical logit.
        let pTilde = (x + 0.5) / (n + 1)
        let information = n * pTilde * (1 - pTilde)
        let logit = Double.log((x + 0.5) / (n - x + 0.5))
        var lo = mu + t2 * (x - n), hi = mu + t2 * x
        var theta = (mu * precision + logit * information) / (precision + information)
        if !(theta > lo && theta < hi) { theta = 0.5 * (lo + hi) }
        if !theta.isFinite { theta = mu }
        var p = 0.0, q = 0.0
        for _ in 0..<100 {
            (p, q) = BinomialNormalLikelihood.probabilities(theta)
            let g = BinomialNormalLikelihood.residual(x, n, p, q) - (theta - mu) * precision
            if g > 0 { lo = theta } else if g < 0 { hi = theta } else { break }
            let curvature = n * p * q + precision
            var next = theta + g / curvature
            if !(next > lo && next < hi) { next = 0.5 * (lo + hi) }
            let step = abs(next - theta)
            theta = next
            if step <= 1e-9 / curvature.squareRoot() + 1e-15 * abs(theta) { break }
            if !(hi - lo > 1e-15 * max(1, abs(theta))) { break }
        }
        (p, q) = BinomialNormalLikelihood.probabilities(theta)
        let sigma = 1 / (n * p * q + precision).squareRoot()
        let delta = min(relativeStep * sigma, largestStep) * stepScale
        @inline(__always) func psi(_ t: Double) -> Double {
            let d = t - mu
            return x * t - n * BinomialNormalLikelihood.log1pexp(t) - 0.5 * d * d * precision
        }
        let peak = psi(theta)
        var s0 = 1.0, s1 = 0.0, s2 = 0.0, sp = p, spp = 0.0, spq = p * q
        // Moments of p about p̂ and of θ about θ̂ (shifted sums keep the variances accurate).
        let pHat = p
        for side in 0..<2 {
            let direction: Double = side == 0 ? -1 : 1
            var previous = 1.0
            var j = 1.0
            while j < 1e6 {
                let d = direction * j * delta
                let t = theta + d
                let term = Double.exp(psi(t) - peak)
                let (pt, qt) = BinomialNormalLikelihood.probabilities(t)
                s0 += term
                s1 += term * d
                s2 += term * d * d
                let dp = pt - pHat
                sp += term * pt
                spp += term * dp * dp
                spq += term * pt * qt
                let ratio = term / previous
                if term < 1e-17 * s0 && (ratio < 1 && term * ratio / (1 - ratio) < 1e-17 * s0) { break }
                if term == 0 { break }
                previous = term
                j += 1
            }
        }
        let log = logChoose + peak + Double.log(delta * s0) - Double.log(tau * Normal.sqrtTwoPi)
        let meanP = sp / s0
        let meanShift = meanP - pHat
        let varianceP = max(0, spp / s0 - meanShift * meanShift)
        let first = x - n * meanP
        let second = -n * spq / s0 + n * n * varianceP
        let m1 = s1 / s0
        return Result(log: log, first: first, second: second, mean: theta + m1, variance: max(0, s2 / s0 - m1 * m1))
    }
}

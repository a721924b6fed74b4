// The AGHQ log-likelihood of the binomial–normal model, its gradient, and its maximisation.

import RealModule

/// ℓ(μ, τ) = Σᵢ log Lᵢ(μ, τ), Lᵢ = ∫ Binom(xᵢ | nᵢ, expit(μ + τz)) φ(z) dz, approximated by adaptive
/// Gauss–Hermite quadrature (Liu & Pierce 1994; Pinheiro & Bates 1995, §3).
///
/// With η = μ + τz and h(z) = xη − n·log(1 + e^η) − z²/2 (the log integrand less log C(n, x) and
/// −½ log 2π), ẑ maximises h (h″ = −(τ²n·p(1 − p) + 1) < 0, so ẑ is unique), s = (−h″(ẑ))^(−½) and
/// log Lᵢ ≈ log C(n, x) + log s + log Σₖ wₖ exp(h(ẑ + s·zₖ) + zₖ²/2).
/// Its gradient follows by differentiating through ẑ(μ, τ) and s(μ, τ) (implicit function theorem
/// on h′(ẑ) = 0): ∂ℓ/∂α = s_α/s + Σₖ πₖ[h_α(uₖ) + h′(uₖ)(ẑ_α + zₖ s_α)], uₖ = ẑ + s·zₖ, πₖ the
/// normalised terms of the sum. For Q = 1 this is the envelope theorem on the Laplace approximation.
struct BinomialNormalLikelihood: Sendable {
    let events: [Double]
    let totals: [Double]
    let logBinomial: [Double]
    let rule: GaussHermiteRule
    private let logWeights: [Double]

    struct Fit: Sendable {
        var mu: Double
        /// τ̂ ≥ 0.
        var tau: Double
        var logLikelihood: Double
        var hessian: LikelihoodHessian
        var iterations: Int
    }

    private struct Evaluation {
        var value: Double
        var gradient: (mu: Double, tau: Double)
        /// Σ of |each term| summed into the value (see ``LikelihoodEvaluation/magnitude``).
        var magnitude: Double
    }

    init(events: [Double], totals: [Double], rule: GaussHermiteRule) {
        self.events = events
        self.totals = totals
        self.rule = rule
        logWeights = rule.weights.map { Double.log($0) }
        logBinomial = zip(events, totals).map { x, n in
            Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
        }
    }

    // MARK: Logistic helpers

    /// log(1 + eˣ) without overflow or loss of precision.
    @inline(__always) static func log1pexp(_ x: Double) -> Double {
        x > 0 ? x + Double.log(onePlus: Double.exp(-x)) : Double.log(onePlus: Double.exp(x))
    }

    /// (p, 1 − p) for p = expit(η), each to full relative precision.
    @inline(__always) static func probabilities(_ eta: Double) -> (p: Double, q: Double) {
        if eta >= 0 {
            let e = Double.exp(-eta)
            return (1 / (1 + e), e / (1 + e))
        }
        let e = Double.exp(eta)
        return (e / (1 + e), 1 / (1 + e))
    }

    /// x − n·p computed from whichever of p, 1 − p is the smaller.
    @inline(__always) static func residual(_ x: Double, _ n: Double, _ p: Double, _ q: Double) -> Double {
        p <= 0.5 ? x - n * p : (x - n) + n * q
    }

    // MARK: Conditional modes

    /// The mode ẑ of h for one study: the root of h′(z) = τ(x − n·p(μ + τz)) − z, which is
    /// strictly decreasing and lies between τ(x − n) and τx. Newton steps kept in that bracket.
    func mode(_ x: Double, _ n: Double, mu: Double, tau: Double) -> Double {
        if tau == 0 { return 0 }
        var lo = min(tau * x, tau * (x - n))
        var hi = max(tau * x, tau * (x - n))
        var z = min(max(0, lo), hi)
        for _ in 0..<200 {
            let (p, q) = Self.probabilities(mu + tau * z)
            let f = tau * Self.residual(x, n, p, q) - z
            if f > 0 { lo = z } else if f < 0 { hi = z } else { return z }
            let slope = tau * tau * n * p * q + 1
            var next = z + f / slope
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            let step = abs(next - z)
            z = next
            if step <= 1e-13 * max(1, abs(z)) || hi - lo <= 1e-15 * max(1, abs(z)) { break }
        }
        return z
    }

    func modes(mu: Double, tau: Double) -> [Double] {
        events.indices.map { mode(events[$0], totals[$0], mu: mu, tau: tau) }
    }

    /// Σ log Binom(xᵢ | nᵢ, expit(μ + τẑᵢ)): the binomial log-likelihood at the conditional modes.
    func conditionalLogLikelihood(mu: Double, tau: Double, modes: [Double]) -> Double {
        var total = 0.0
        for i in events.indices {
            let eta = mu + tau * modes[i]
            total += logBinomial[i] + events[i] * eta - totals[i] * Self.log1pexp(eta)
        }
        return total
    }

    // MARK: Log-likelihood and gradient

    private func evaluate(mu: Double, tau: Double) -> Evaluation {
        var value = 0.0, gMu = 0.0, gTau = 0.0, magnitude = 0.0
        var terms = [Double](repeating: 0, count: rule.nodes.count)
        for i in events.indices {
            let t = studyTerm(i, mu: mu, tau: tau, terms: &terms)
            value += t.value
            magnitude += t.magnitude
            gMu += t.gMu
            gTau += t.gTau
        }
        return Evaluation(value: value, gradient: (gMu, gTau), magnitude: magnitude)
    }

    /// Study i's log Lᵢ(μ, τ) with its derivatives in μ and τ and the magnitude of its terms;
    /// `terms` is scratch space of Q entries. μ may be study-specific (xᵢᵀβ in the regression).
    func studyTerm(_ i: Int, mu: Double, tau: Double, terms: inout [Double])
        -> (value: Double, gMu: Double, gTau: Double, magnitude: Double) {
        let z = rule.nodes
        let x = events[i], n = totals[i]
        let u = mode(x, n, mu: mu, tau: tau)
        let eta = mu + tau * u
        let (p, q) = Self.probabilities(eta)
        let v = p * q
        let d = tau * tau * n * v + 1
        let s = 1 / d.squareRoot()
        let hHat = x * eta - n * Self.log1pexp(eta) - u * u / 2
        var largest = -Double.infinity
        for k in z.indices {
            let uk = u + s * z[k]
            let ek = mu + tau * uk
            terms[k] = logWeights[k] + (x * ek - n * Self.log1pexp(ek) - uk * uk / 2) - hHat + z[k] * z[k] / 2
            largest = max(largest, terms[k])
        }
        var sum = 0.0
        for k in z.indices { sum += Double.exp(terms[k] - largest) }
        let logSum = largest + Double.log(sum)
        let value = logBinomial[i] + Double.log(s) + hHat + logSum
        let magnitude = abs(logBinomial[i]) + abs(hHat) + abs(Double.log(s)) + abs(logSum)

        // Derivatives of the mode and of D = −h″(ẑ) = τ²n·v + 1, v = p(1 − p), dv/dη = v(1 − 2p).
        let r = Self.residual(x, n, p, q)
        let uMu = -tau * n * v / d
        let uTau = (r - tau * n * v * u) / d
        let vPrime = v * (q - p)
        let dMu = tau * tau * n * vPrime * (1 + tau * uMu)
        let dTau = 2 * tau * n * v + tau * tau * n * vPrime * (u + tau * uTau)
        let logSMu = -0.5 * dMu / d, logSTau = -0.5 * dTau / d
        let sMu = s * logSMu, sTau = s * logSTau
        var aMu = logSMu, aTau = logSTau
        for k in z.indices {
            let weight = Double.exp(terms[k] - logSum)
            let uk = u + s * z[k]
            let (pk, qk) = Self.probabilities(mu + tau * uk)
            let rk = Self.residual(x, n, pk, qk)
            let slope = tau * rk - uk
            aMu += weight * (rk + slope * (uMu + z[k] * sMu))
            aTau += weight * (uk * rk + slope * (uTau + z[k] * sTau))
        }
        return (value, aMu, aTau, magnitude)
    }

    /// ℓ(μ, τ), for tests and diagnostics.
    func logLikelihood(mu: Double, tau: Double) -> Double { evaluate(mu: mu, tau: tau).value }

    /// (∂ℓ/∂μ, ∂ℓ/∂τ), for tests and diagnostics.
    func gradient(mu: Double, tau: Double) -> (mu: Double, tau: Double) { evaluate(mu: mu, tau: tau).gradient }

    /// The Hessian of ℓ in (μ, τ) (Richardson-extrapolated central differences of the gradient).
    func hessian(mu: Double, tau: Double) -> LikelihoodHessian {
        LikelihoodHessian(beta: mu, tau: tau) { let g = gradient(mu: $0, tau: $1); return (g.mu, g.tau) }
    }

    // MARK: Maximisation

    /// Largest |μ| and |τ| accepted: beyond them the likelihood has no finite maximum in practice.
    static let parameterBound = 100.0

    /// Maximises ℓ from a DerSimonian–Laird (1986) start on the logit scale and from the
    /// equal-effects estimate, and compares with τ = 0, where AGHQ is exact and ℓ is maximised by
    /// μ = logit(Σx/Σn) (see ``maximizeEvenInTau``).
    func maximize(effects: EffectSizes) throws(MetaPoolError) -> Fit {
        let sumX = events.reduce(0, +), sumN = totals.reduce(0, +)
        let muFE = Double.log(sumX) - Double.log(sumN - sumX)
        let (muDL, tau2DL) = derSimonianLairdStart(effects)
        let result = try maximizeEvenInTau(starts: [(muDL, max(tau2DL.squareRoot(), 0.3)), (muFE, 1.0)],
                                           betaAtZero: muFE, bound: Self.parameterBound) { mu, tau in
            let e = evaluate(mu: mu, tau: tau)
            return LikelihoodEvaluation(value: e.value, gradient: (e.gradient.mu, e.gradient.tau), magnitude: e.magnitude)
        }
        return Fit(mu: result.beta, tau: result.tau, logLikelihood: result.value,
                   hessian: hessian(mu: result.beta, tau: result.tau), iterations: result.iterations)
    }
}

/// The DerSimonian & Laird (1986) estimates (μ̂, τ̂²) from effect sizes: starting values.
func derSimonianLairdStart(_ effects: EffectSizes) -> (mu: Double, tau2: Double) {
    var sw = 0.0, sw2 = 0.0, swy = 0.0
    for (y, v) in zip(effects.yi, effects.vi) { sw += 1 / v; sw2 += 1 / (v * v); swy += y / v }
    let yBar = swy / sw
    var q = 0.0
    for (y, v) in zip(effects.yi, effects.vi) { q += (y - yBar) * (y - yBar) / v }
    let tau2 = max(0, (q - Double(effects.count - 1)) / (sw - sw2 / sw))
    var swr = 0.0, swry = 0.0
    for (y, v) in zip(effects.yi, effects.vi) { swr += 1 / (v + tau2); swry += y / (v + tau2) }
    return (swry / swr, tau2)
}

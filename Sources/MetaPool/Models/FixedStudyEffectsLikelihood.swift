// The AGHQ log-likelihood of the unconditional logistic model with fixed study effects and a
// random treatment effect (metafor's UM.FS), profiled over the study effects.

import RealModule

/// Study i has aᵢ events of n₁ᵢ treated and cᵢ of n₂ᵢ controls, with
/// logit p₁ᵢ = αᵢ + ½(β + τzᵢ), logit p₂ᵢ = αᵢ − ½(β + τzᵢ), zᵢ ~ N(0, 1): the group coded
/// ±½ (metafor's default `coding = 1/2`), a fixed intercept αᵢ per study and a normal random
/// log odds ratio with mean β and variance τ² (Turner et al. 2000, Stat Med 19:3417; Stijnen,
/// Hamza & Özdemir 2010, §3.2; Jackson et al. 2018, Stat Med 37:1059, model 4).
///
/// Each study's integral over zᵢ is approximated by AGHQ as in ``BinomialNormalLikelihood``, with
/// h(z) = Σⱼ[xⱼηⱼ − nⱼ log(1 + e^ηⱼ)] − z²/2 over the two arms, ηⱼ = α + cⱼ(β + τz), c = ±½.
/// With eⱼ(θ) = ∂ηⱼ/∂θ at fixed z (1, cⱼ, cⱼz for α, β, τ), rⱼ = xⱼ − nⱼpⱼ, vⱼ = pⱼ(1 − pⱼ):
/// h′ = τΣcⱼrⱼ − z, D = −h″ = τ²Σcⱼ²nⱼvⱼ + 1, and ẑ_θ = (∂h′/∂θ)/D,
/// ∂h′/∂θ = −τΣcⱼnⱼvⱼeⱼ(θ) (+ Σcⱼrⱼ for τ), D_θ = τ²Σcⱼ²nⱼvⱼ′eⱼ(θ) (+ 2τΣcⱼ²nⱼvⱼ for τ)
/// + τ³Σcⱼ³nⱼvⱼ′·ẑ_θ with vⱼ′ = vⱼ(1 − 2pⱼ).
///
/// The k study effects are profiled out: for given (β, τ) each αᵢ maximises its own study's
/// likelihood (a one-dimensional Newton search), and the profile log-likelihood ℓ_p(β, τ) has
/// gradient ∂ℓ/∂(β, τ) at α̂(β, τ) (envelope theorem). The inverse of the profile's Hessian is the
/// (β, τ) block of the inverse full Hessian, so Var(β̂) is that of the full model, as lme4 gives it.
struct FixedStudyEffectsLikelihood: Sendable {
    let treatEvents: [Double]
    let treatTotals: [Double]
    let controlEvents: [Double]
    let controlTotals: [Double]
    let logBinomial: [Double]
    let rule: GaussHermiteRule
    private let logWeights: [Double]

    static let parameterBound = 100.0
    private static let coding = (0.5, -0.5)

    struct StudyEvaluation {
        var value: Double
        var alpha: Double
        var beta: Double
        var tau: Double
    }

    struct Fit: Sendable {
        var beta: Double
        var tau: Double
        var logLikelihood: Double
        var alphas: [Double]
        var hessian: LikelihoodHessian
        var iterations: Int
    }

    init(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double], rule: GaussHermiteRule) {
        self.treatEvents = treatEvents
        self.treatTotals = treatTotals
        self.controlEvents = controlEvents
        self.controlTotals = controlTotals
        self.rule = rule
        logWeights = rule.weights.map { Double.log($0) }
        func logChoose(_ n: Double, _ x: Double) -> Double {
            Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
        }
        logBinomial = treatEvents.indices.map { i in
            logChoose(treatTotals[i], treatEvents[i]) + logChoose(controlTotals[i], controlEvents[i])
        }
    }

    var count: Int { treatEvents.count }

    private typealias P = BinomialNormalLikelihood

    /// The mode of h in z: the root of h′, decreasing, bracketed by τ·[Σcⱼrⱼ bounds].
    func mode(_ i: Int, alpha: Double, beta: Double, tau: Double) -> Double {
        if tau == 0 { return 0 }
        let a = treatEvents[i], n1 = treatTotals[i], c = controlEvents[i], n2 = controlTotals[i]
        let (c1, c2) = Self.coding
        let sLow = c1 * (a - n1) + c2 * c, sHigh = c1 * a + c2 * (c - n2)
        var lo = min(tau * sLow, tau * sHigh), hi = max(tau * sLow, tau * sHigh)
        var z = min(max(0, lo), hi)
        for _ in 0..<200 {
            let (p1, q1) = P.probabilities(alpha + c1 * (beta + tau * z))
            let (p2, q2) = P.probabilities(alpha + c2 * (beta + tau * z))
            let f = tau * (c1 * P.residual(a, n1, p1, q1) + c2 * P.residual(c, n2, p2, q2)) - z
            if f > 0 { lo = z } else if f < 0 { hi = z } else { return z }
            let slope = tau * tau * (c1 * c1 * n1 * p1 * q1 + c2 * c2 * n2 * p2 * q2) + 1
            var next = z + f / slope
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            let step = abs(next - z)
            z = next
            if step <= 1e-13 * max(1, abs(z)) || hi - lo <= 1e-15 * max(1, abs(z)) { break }
        }
        return z
    }

    /// log Lᵢ by AGHQ and its gradient in (αᵢ, β, τ).
    func study(_ i: Int, alpha: Double, beta: Double, tau: Double) -> StudyEvaluation {
        let x = (treatEvents[i], controlEvents[i]), n = (treatTotals[i], controlTotals[i])
        let (c1, c2) = Self.coding
        let z = rule.nodes
        let u = mode(i, alpha: alpha, beta: beta, tau: tau)
        func h(_ w: Double) -> Double {
            let e1 = alpha + c1 * (beta + tau * w), e2 = alpha + c2 * (beta + tau * w)
            return x.0 * e1 - n.0 * P.log1pexp(e1) + x.1 * e2 - n.1 * P.log1pexp(e2) - w * w / 2
        }
        let (p1, q1) = P.probabilities(alpha + c1 * (beta + tau * u))
        let (p2, q2) = P.probabilities(alpha + c2 * (beta + tau * u))
        let v1 = p1 * q1, v2 = p2 * q2
        let d = tau * tau * (c1 * c1 * n.0 * v1 + c2 * c2 * n.1 * v2) + 1
        let s = 1 / d.squareRoot()
        let hHat = h(u)
        var terms = [Double](repeating: 0, count: z.count)
        var largest = -Double.infinity
        for k in z.indices {
            terms[k] = logWeights[k] + h(u + s * z[k]) - hHat + z[k] * z[k] / 2
            largest = max(largest, terms[k])
        }
        var sum = 0.0
        for k in z.indices { sum += Double.exp(terms[k] - largest) }
        let logSum = largest + Double.log(sum)
        let value = logBinomial[i] + Double.log(s) + hHat + logSum

        // Mode and curvature derivatives at ẑ, for θ = α, β, τ (eⱼ = 1, cⱼ, cⱼẑ).
        let r1 = P.residual(x.0, n.0, p1, q1), r2 = P.residual(x.1, n.1, p2, q2)
        let w1 = n.0 * v1, w2 = n.1 * v2
        let w1p = w1 * (q1 - p1), w2p = w2 * (q2 - p2)
        let dz = tau * tau * tau * (c1 * c1 * c1 * w1p + c2 * c2 * c2 * w2p)
        func derivatives(_ e1: Double, _ e2: Double, isTau: Bool) -> (mode: Double, logS: Double) {
            var hPrime = -tau * (c1 * w1 * e1 + c2 * w2 * e2)
            var dTheta = tau * tau * (c1 * c1 * w1p * e1 + c2 * c2 * w2p * e2)
            if isTau {
                hPrime += c1 * r1 + c2 * r2
                dTheta += 2 * tau * (c1 * c1 * w1 + c2 * c2 * w2)
            }
            let zTheta = hPrime / d
            return (zTheta, -0.5 * (dTheta + dz * zTheta) / d)
        }
        let dAlpha = derivatives(1, 1, isTau: false)
        let dBeta = derivatives(c1, c2, isTau: false)
        let dTau = derivatives(c1 * u, c2 * u, isTau: true)
        var gAlpha = dAlpha.logS, gBeta = dBeta.logS, gTau = dTau.logS
        for k in z.indices {
            let weight = Double.exp(terms[k] - logSum)
            let uk = u + s * z[k]
            let (pk1, qk1) = P.probabilities(alpha + c1 * (beta + tau * uk))
            let (pk2, qk2) = P.probabilities(alpha + c2 * (beta + tau * uk))
            let rk1 = P.residual(x.0, n.0, pk1, qk1), rk2 = P.residual(x.1, n.1, pk2, qk2)
            let slope = tau * (c1 * rk1 + c2 * rk2) - uk
            gAlpha += weight * ((rk1 + rk2) + slope * (dAlpha.mode + z[k] * s * dAlpha.logS))
            gBeta += weight * ((c1 * rk1 + c2 * rk2) + slope * (dBeta.mode + z[k] * s * dBeta.logS))
            gTau += weight * (uk * (c1 * rk1 + c2 * rk2) + slope * (dTau.mode + z[k] * s * dTau.logS))
        }
        return StudyEvaluation(value: value, alpha: gAlpha, beta: gBeta, tau: gTau)
    }

    /// α̂ᵢ(β, τ), from the logit of the study's pooled proportion.
    func profileAlpha(_ i: Int, beta: Double, tau: Double) -> Double? {
        let pooled = (treatEvents[i] + controlEvents[i] + 0.5) / (treatTotals[i] + controlTotals[i] + 1)
        let start = Double.log(pooled) - Double.log(1 - pooled)
        return newtonAscent1D(start: start, bound: Self.parameterBound) { alpha in
            let e = study(i, alpha: alpha, beta: beta, tau: tau)
            return (e.value, e.alpha)
        }?.x
    }

    /// The profile log-likelihood and its gradient; NaN where a study effect cannot be profiled.
    func profile(beta: Double, tau: Double) -> (LikelihoodEvaluation, alphas: [Double]) {
        var value = 0.0, gBeta = 0.0, gTau = 0.0, magnitude = 0.0
        var alphas = [Double](repeating: .nan, count: count)
        for i in 0..<count {
            guard let alpha = profileAlpha(i, beta: beta, tau: tau) else {
                return (LikelihoodEvaluation(value: .nan, gradient: (.nan, .nan)), alphas)
            }
            alphas[i] = alpha
            let e = study(i, alpha: alpha, beta: beta, tau: tau)
            value += e.value
            magnitude += abs(logBinomial[i]) + abs(e.value - logBinomial[i])
            gBeta += e.beta
            gTau += e.tau
        }
        return (LikelihoodEvaluation(value: value, gradient: (gBeta, gTau), magnitude: magnitude), alphas)
    }

    /// The equal-effects (τ = 0) fit: the logistic regression on study and group, where AGHQ is
    /// exact. Returns β̂ and the maximised log-likelihood.
    func equalEffectsFit(start: Double) throws(MetaPoolError) -> (beta: Double, value: Double) {
        guard let fit = newtonAscent1D(start: start, bound: Self.parameterBound, { beta in
            let e = profile(beta: beta, tau: 0).0
            return (e.value, e.gradient.beta)
        }) else {
            throw MetaPoolError(.noConvergence, "the equal-effects logistic model has no finite maximum (the log odds ratio runs off; e.g. no events in one group of every study)")
        }
        return (fit.x, fit.value)
    }

    /// Maximises the profile likelihood in (β, τ) from the DerSimonian–Laird start and from the
    /// equal-effects estimate, with τ = 0 a candidate (see ``maximizeEvenInTau``).
    func maximize(effects: EffectSizes) throws(MetaPoolError) -> (fit: Fit, equalEffects: Double) {
        let (betaDL, tau2DL) = derSimonianLairdStart(effects)
        let fe = try equalEffectsFit(start: betaDL)
        let result = try maximizeEvenInTau(starts: [(betaDL, max(tau2DL.squareRoot(), 0.3)), (fe.beta, 1.0)],
                                           betaAtZero: fe.beta, bound: Self.parameterBound) { profile(beta: $0, tau: $1).0 }
        let alphas = profile(beta: result.beta, tau: result.tau).alphas
        let hessian = LikelihoodHessian(beta: result.beta, tau: result.tau) { profile(beta: $0, tau: $1).0.gradient }
        return (Fit(beta: result.beta, tau: result.tau, logLikelihood: result.value, alphas: alphas, hessian: hessian,
                    iterations: result.iterations), fe.value)
    }

    /// Σᵢ Σⱼ log Binom(xᵢⱼ | nᵢⱼ, expit(α̂ᵢ + cⱼ(β̂ + τ̂ẑᵢ))): the binomial log-likelihood at the
    /// conditional modes (what metafor reports as the log-likelihood).
    func conditionalLogLikelihood(alphas: [Double], beta: Double, tau: Double) -> (value: Double, modes: [Double]) {
        let (c1, c2) = Self.coding
        var total = 0.0
        var modes: [Double] = []
        for i in 0..<count {
            let u = mode(i, alpha: alphas[i], beta: beta, tau: tau)
            modes.append(u)
            let e1 = alphas[i] + c1 * (beta + tau * u), e2 = alphas[i] + c2 * (beta + tau * u)
            total += logBinomial[i] + treatEvents[i] * e1 - treatTotals[i] * P.log1pexp(e1)
                + controlEvents[i] * e2 - controlTotals[i] * P.log1pexp(e2)
        }
        return (total, modes)
    }
}

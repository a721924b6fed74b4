// The AGHQ log-likelihood of the binomial–normal model, its gradient, and its maximisation.

import RealModule

/// ℓ(μ, τ) = Σᵢ log Lᵢ(μ, τ), Lᵢ = ∫ Binom(xᵢ | nᵢ, expit(μ + τz)) φ(z) dz, approximated by adaptive
/// Gauss–Hermite quadrature (Liu & Pierce 1994; Pinheiro & Bates 1995, §3).
///
/// With η = μ + τz and h(z) = xη − n·log(1 + eᵉᵗᵃ) − z²/2 (the log integrand less log C(n, x) and
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

    struct Hessian: Sendable {
        var mm: Double
        var mt: Double
        var tt: Double
    }

    struct Fit: Sendable {
        var mu: Double
        /// τ̂ ≥ 0.
        var tau: Double
        var logLikelihood: Double
        var hessian: Hessian
        var iterations: Int
    }

    private struct Evaluation {
        var value: Double
        var gradient: (mu: Double, tau: Double)
    }

    init(events: [Double], totals: [Double], rule: GaussHermiteRule) {
        self.events = events
        self.totals = totals
        self.rule = rule
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
        let z = rule.nodes
        let logW = rule.weights.map { Double.log($0) }
        var value = 0.0, gMu = 0.0, gTau = 0.0
        var terms = [Double](repeating: 0, count: z.count)
        for i in events.indices {
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
                terms[k] = logW[k] + (x * ek - n * Self.log1pexp(ek) - uk * uk / 2) - hHat + z[k] * z[k] / 2
                largest = max(largest, terms[k])
            }
            var sum = 0.0
            for k in z.indices { sum += Double.exp(terms[k] - largest) }
            let logSum = largest + Double.log(sum)
            value += logBinomial[i] + Double.log(s) + hHat + logSum

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
            gMu += aMu
            gTau += aTau
        }
        return Evaluation(value: value, gradient: (gMu, gTau))
    }

    /// ℓ(μ, τ), for tests and diagnostics.
    func logLikelihood(mu: Double, tau: Double) -> Double { evaluate(mu: mu, tau: tau).value }

    /// (∂ℓ/∂μ, ∂ℓ/∂τ), for tests and diagnostics.
    func gradient(mu: Double, tau: Double) -> (mu: Double, tau: Double) { evaluate(mu: mu, tau: tau).gradient }

    /// The Hessian of ℓ by central differences of the analytic gradient with one Richardson
    /// extrapolation (error O(δ⁴)), symmetrised.
    func hessian(mu: Double, tau: Double) -> Hessian {
        func column(_ j: Int, _ delta: Double) -> (Double, Double) {
            let plus = j == 0 ? evaluate(mu: mu + delta, tau: tau) : evaluate(mu: mu, tau: tau + delta)
            let minus = j == 0 ? evaluate(mu: mu - delta, tau: tau) : evaluate(mu: mu, tau: tau - delta)
            return ((plus.gradient.mu - minus.gradient.mu) / (2 * delta), (plus.gradient.tau - minus.gradient.tau) / (2 * delta))
        }
        func extrapolated(_ j: Int, _ x: Double) -> (Double, Double) {
            let delta = 2e-3 * max(1, abs(x))
            let coarse = column(j, delta), fine = column(j, delta / 2)
            return ((4 * fine.0 - coarse.0) / 3, (4 * fine.1 - coarse.1) / 3)
        }
        let byMu = extrapolated(0, mu), byTau = extrapolated(1, tau)
        return Hessian(mm: byMu.0, mt: (byMu.1 + byTau.0) / 2, tt: byTau.1)
    }

    // MARK: Maximisation

    /// Largest |μ| and |τ| accepted: beyond them the likelihood has no finite maximum in practice.
    static let parameterBound = 100.0

    /// Maximises ℓ from a DerSimonian–Laird start on the logit scale and from the equal-effects
    /// estimate, and compares with τ = 0, where AGHQ is exact and ℓ is maximised by
    /// μ = logit(Σx/Σn). τ̂ = 0 is taken when the search ends at |τ| < 10⁻⁶ and τ = 0 is a local
    /// maximum no worse than it.
    func maximize(effects: EffectSizes) throws(MetaPoolError) -> Fit {
        let sumX = events.reduce(0, +), sumN = totals.reduce(0, +)
        let muFE = Double.log(sumX) - Double.log(sumN - sumX)
        // DerSimonian & Laird (1986) on the escalc PLO values.
        var sw = 0.0, sw2 = 0.0, swy = 0.0
        for (y, v) in zip(effects.yi, effects.vi) { sw += 1 / v; sw2 += 1 / (v * v); swy += y / v }
        let yBar = swy / sw
        var qStat = 0.0
        for (y, v) in zip(effects.yi, effects.vi) { qStat += (y - yBar) * (y - yBar) / v }
        let tau2DL = max(0, (qStat - Double(effects.count - 1)) / (sw - sw2 / sw))
        var swr = 0.0, swry = 0.0
        for (y, v) in zip(effects.yi, effects.vi) { swr += 1 / (v + tau2DL); swry += y / (v + tau2DL) }
        let muDL = swry / swr

        var failure: MetaPoolError?
        var best: Fit?
        var totalIterations = 0
        for start in [(muDL, max(tau2DL.squareRoot(), 0.3)), (muFE, 1.0)] {
            do {
                let fit = try newton(mu: start.0, tau: start.1)
                totalIterations += fit.iterations
                if best == nil || fit.logLikelihood > best!.logLikelihood { best = fit }
            } catch {
                failure = error
            }
        }
        guard var fit = best else {
            throw failure ?? MetaPoolError(.noConvergence, "the GLMM fit did not converge")
        }
        // τ = 0: exact binomial likelihood, a local maximum in τ when ∂²ℓ/∂τ² ≤ 0 there.
        let zero = evaluate(mu: muFE, tau: 0)
        let delta = 1e-4
        let curvature = evaluate(mu: muFE, tau: delta).gradient.tau / delta
        let tolerance = 1e-10 * max(1, abs(zero.value))
        if curvature <= 0, abs(fit.tau) < 1e-6 || zero.value > fit.logLikelihood + tolerance,
           zero.value >= fit.logLikelihood - tolerance {
            fit = Fit(mu: muFE, tau: 0, logLikelihood: zero.value, hessian: hessian(mu: muFE, tau: 0), iterations: fit.iterations)
        }
        fit.tau = abs(fit.tau)
        fit.iterations = totalIterations
        return fit
    }

    /// Newton's method with a Hessian made positive definite where needed (Levenberg 1944
    /// shift of the spectrum) and backtracking (Nocedal & Wright 2006, §3.1, §3.4).
    private func newton(mu startMu: Double, tau startTau: Double) throws(MetaPoolError) -> Fit {
        var mu = startMu, tau = startTau
        var current = evaluate(mu: mu, tau: tau)
        guard current.value.isFinite, current.gradient.mu.isFinite, current.gradient.tau.isFinite else {
            throw MetaPoolError(.noConvergence, "the GLMM log-likelihood is not finite at the starting values")
        }
        let maxIterations = 500
        for iteration in 1...maxIterations {
            let h = hessian(mu: mu, tau: tau)
            guard h.mm.isFinite, h.mt.isFinite, h.tt.isFinite else {
                throw MetaPoolError(.noConvergence, "the GLMM log-likelihood has a non-finite curvature at mu = \(mu), tau = \(tau)")
            }
            // A = −H; shift its spectrum so that the smallest eigenvalue is clearly positive.
            var a11 = -h.mm, a12 = -h.mt, a22 = -h.tt
            let trace = a11 + a22
            let root = ((a11 - a22) * (a11 - a22) / 4 + a12 * a12).squareRoot()
            let smallest = trace / 2 - root
            let floor = 1e-8 * max(1, abs(trace))
            let shifted = smallest < floor
            if shifted {
                let shift = floor - smallest
                a11 += shift
                a22 += shift
            }
            let det = a11 * a22 - a12 * a12
            let g = current.gradient
            var dMu = (a22 * g.mu - a12 * g.tau) / det
            var dTau = (a11 * g.tau - a12 * g.mu) / det
            let longest = max(abs(dMu), abs(dTau))
            if longest > 2 { dMu *= 2 / longest; dTau *= 2 / longest }
            let slope = g.mu * dMu + g.tau * dTau

            let small = 1e-10
            // Converged on a tiny step, unless the shift hid a direction of clearly negative
            // curvature of −ℓ (a saddle, where the gradient can vanish by symmetry).
            if !shifted || smallest > -1e-6 * max(1, abs(trace)),
               abs(dMu) <= small * max(1, abs(mu)), abs(dTau) <= small * max(1, abs(tau)) {
                // Converged: take the final (tiny) Newton step if it does not lower ℓ.
                let last = evaluate(mu: mu + dMu, tau: tau + dTau)
                if last.value >= current.value { mu += dMu; tau += dTau; current = last }
                return Fit(mu: mu, tau: tau, logLikelihood: current.value, hessian: hessian(mu: mu, tau: tau), iterations: iteration)
            }
            var step = 1.0
            var accepted = false
            for _ in 0..<60 {
                let trial = evaluate(mu: mu + step * dMu, tau: tau + step * dTau)
                if trial.value.isFinite, trial.gradient.mu.isFinite, trial.gradient.tau.isFinite,
                   trial.value >= current.value + 1e-4 * step * slope
                    || (trial.value >= current.value - 1e-13 * max(1, abs(current.value))
                        && step * longest <= 1e-8) {
                    mu += step * dMu
                    tau += step * dTau
                    current = trial
                    accepted = true
                    break
                }
                step /= 2
            }
            guard accepted else {
                // No ascent possible along a Newton direction: ℓ is flat to rounding here.
                if max(abs(dMu), abs(dTau)) <= 1e-6 {
                    return Fit(mu: mu, tau: tau, logLikelihood: current.value, hessian: hessian(mu: mu, tau: tau), iterations: iteration)
                }
                throw MetaPoolError(.noConvergence, "the GLMM fit could not increase the likelihood from mu = \(mu), tau = \(tau)")
            }
            guard abs(mu) <= Self.parameterBound, abs(tau) <= Self.parameterBound else {
                throw MetaPoolError(.noConvergence, "the GLMM likelihood has no finite maximum: the estimates run off (mu = \(mu), tau = \(tau)); this happens when the data separate completely, e.g. only studies with 0 or all events")
            }
        }
        throw MetaPoolError(.noConvergence, "the GLMM fit did not converge in \(maxIterations) Newton iterations")
    }
}

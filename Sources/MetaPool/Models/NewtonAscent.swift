// Maximisation of a smooth two-parameter log-likelihood ℓ(β, τ) that is even in τ, with an
// analytic gradient: the GLMM fits (proportions, and odds ratios with fixed study effects).

/// A log-likelihood value with its gradient in (β, τ).
struct LikelihoodEvaluation: Sendable {
    var value: Double
    var gradient: (beta: Double, tau: Double)
    /// Σ of the absolute values of the terms added up into `value` (at least |value|): the value's
    /// rounding error scales with it, not with |value|. A study of 10⁹ patients adds log C(n, x)
    /// ≈ 10¹⁰ and a binomial kernel of about −10¹⁰, which cancel to a few units but leave an error
    /// of ~10⁻⁶ in ℓ, far above the gain of a Newton step near the maximum.
    var magnitude: Double

    init(value: Double, gradient: (beta: Double, tau: Double), magnitude: Double? = nil) {
        self.value = value
        self.gradient = gradient
        self.magnitude = max(abs(value), magnitude ?? 0)
    }

    var isFinite: Bool { value.isFinite && gradient.beta.isFinite && gradient.tau.isFinite }
}

/// The 2 × 2 Hessian of ℓ in (β, τ).
struct LikelihoodHessian: Sendable {
    var bb: Double
    var bt: Double
    var tt: Double

    /// The central-difference Hessian of an analytic gradient, with one Richardson extrapolation
    /// (error O(δ⁴), δ = 2·10⁻³ max(1, |x|)), symmetrised.
    init(beta: Double, tau: Double, gradient: (Double, Double) -> (beta: Double, tau: Double)) {
        func column(_ j: Int, _ delta: Double) -> (Double, Double) {
            let plus = j == 0 ? gradient(beta + delta, tau) : gradient(beta, tau + delta)
            let minus = j == 0 ? gradient(beta - delta, tau) : gradient(beta, tau - delta)
            return ((plus.beta - minus.beta) / (2 * delta), (plus.tau - minus.tau) / (2 * delta))
        }
        func extrapolated(_ j: Int, _ x: Double) -> (Double, Double) {
            let delta = 2e-3 * max(1, abs(x))
            let coarse = column(j, delta), fine = column(j, delta / 2)
            return ((4 * fine.0 - coarse.0) / 3, (4 * fine.1 - coarse.1) / 3)
        }
        let byBeta = extrapolated(0, beta), byTau = extrapolated(1, tau)
        bb = byBeta.0
        bt = (byBeta.1 + byTau.0) / 2
        tt = byTau.1
    }

    init(bb: Double, bt: Double, tt: Double) {
        self.bb = bb
        self.bt = bt
        self.tt = tt
    }

    /// Var(β̂) = [(−H)⁻¹]_ββ = 1/(−H_ββ + H_βτ²/H_ττ) (the Schur complement), or 1/(−H_ββ) when
    /// the cross term vanishes (τ̂ = 0, where ℓ is even in τ). `nil` if not a maximum.
    func varianceOfBeta(tauIsZero: Bool) -> Double? {
        let information: Double
        if tauIsZero || bt == 0 {
            information = -bb
        } else {
            guard tt < 0 else { return nil }
            information = -bb + bt * bt / tt
        }
        guard information > 0, information.isFinite else { return nil }
        return 1 / information
    }
}

/// A gain in log-likelihood too small to check by comparing values: 10⁻⁹ + 10⁻¹³·M, M the
/// magnitude of the terms summed into ℓ (|ℓ| when they do not cancel), ~500 units of rounding.
func negligibleGain(_ magnitude: Double) -> Double { 1e-9 + 1e-13 * abs(magnitude) }

/// The result of a Newton ascent.
struct NewtonAscentResult: Sendable {
    var beta: Double
    var tau: Double
    var value: Double
    var iterations: Int
}

/// Newton's method with the Hessian's spectrum shifted where it is not negative definite
/// (Levenberg 1944) and backtracking to an Armijo increase (Nocedal & Wright 2006, §3.1, §3.4).
/// Steps are at most 2 in each parameter. Stops on a Newton step below 10⁻¹⁰·max(1, |x|).
/// - Throws: `.noConvergence` when |β| or |τ| passes `bound` (the likelihood has no finite maximum),
///   when no ascent is possible away from a stationary point, when the steps shrink to nothing
///   for 10 iterations in a row (a stall), or after 200 iterations: at most 200 × (9 + 60)
///   evaluations, each one pass over the studies.
func newtonAscent(beta startBeta: Double, tau startTau: Double, bound: Double,
                  evaluate: (Double, Double) -> LikelihoodEvaluation) throws(MetaPoolError) -> NewtonAscentResult {
    var beta = startBeta, tau = startTau
    var current = evaluate(beta, tau)
    guard current.isFinite else {
        throw MetaPoolError(.noConvergence, "the GLMM log-likelihood is not finite at the starting values")
    }
    let maxIterations = 200
    var creeping = 0
    for iteration in 1...maxIterations {
        let h = LikelihoodHessian(beta: beta, tau: tau) { evaluate($0, $1).gradient }
        guard h.bb.isFinite, h.bt.isFinite, h.tt.isFinite else {
            throw MetaPoolError(.noConvergence, "the GLMM log-likelihood has a non-finite curvature at (\(beta), \(tau))")
        }
        // A = −H, shifted so that its smallest eigenvalue is clearly positive.
        var a11 = -h.bb, a22 = -h.tt
        let a12 = -h.bt
        let trace = a11 + a22
        let root = ((a11 - a22) * (a11 - a22) / 4 + a12 * a12).squareRoot()
        let smallest = trace / 2 - root
        let floor = 1e-8 * max(1, abs(trace))
        let shifted = smallest < floor
        if shifted {
            a11 += floor - smallest
            a22 += floor - smallest
        }
        let det = a11 * a22 - a12 * a12
        let g = current.gradient
        var dBeta = (a22 * g.beta - a12 * g.tau) / det
        var dTau = (a11 * g.tau - a12 * g.beta) / det
        var longest = max(abs(dBeta), abs(dTau))
        if longest > 2 { dBeta *= 2 / longest; dTau *= 2 / longest }
        // At (or near) a saddle the gradient vanishes — exactly so at τ = 0 when ℓ has a minimum
        // in τ there — and the shifted Newton step goes nowhere: step along the direction of
        // negative curvature of −ℓ instead, where ℓ increases (Moré & Sorensen 1979).
        var needsIncrease = false
        if shifted, smallest < -1e-8 * max(1, abs(trace)), max(abs(dBeta), abs(dTau)) < 1e-4 {
            let b11 = -h.bb, b22 = -h.tt
            var v = (a12, smallest - b11)
            let other = (smallest - b22, a12)
            if abs(other.0) + abs(other.1) > abs(v.0) + abs(v.1) { v = other }
            let norm = (v.0 * v.0 + v.1 * v.1).squareRoot()
            if norm > 0 {
                let sign: Double = g.beta * v.0 + g.tau * v.1 < 0 ? -1 : 1
                let length = 0.1 * max(1, abs(beta), abs(tau))
                dBeta = sign * length * v.0 / norm
                dTau = sign * length * v.1 / norm
                needsIncrease = true
            }
        }
        longest = max(abs(dBeta), abs(dTau))
        let slope = g.beta * dBeta + g.tau * dTau

        // Converged on a tiny step, unless the shift hid clearly negative curvature of −ℓ
        // (a saddle, where the gradient can vanish by symmetry).
        let small = 1e-10
        if !needsIncrease, !shifted || smallest > -1e-6 * max(1, abs(trace)),
           abs(dBeta) <= small * max(1, abs(beta)), abs(dTau) <= small * max(1, abs(tau)) {
            let last = evaluate(beta + dBeta, tau + dTau)
            if last.isFinite, last.value >= current.value { beta += dBeta; tau += dTau; current = last }
            return NewtonAscentResult(beta: beta, tau: tau, value: current.value, iterations: iteration)
        }
        // Flat to rounding in τ: −ℓ's curvature is positive but below the shift, β has converged
        // and the whole gain left, ½gᵀd, is below the resolution of ℓ. This is a maximum whose
        // τ-curvature vanishes (ℓ ≈ ℓ₀ − cτ⁴ about τ = 0 when the score test for τ² is exactly 0:
        // events 3,1,2,0,2,2,0,1,1,3 of 5 each), where the shifted Newton steps in τ shrink
        // as τ³ and never reach the step test; lme4 stops in the same flat region (τ̂² ≈ 3e-8).
        if shifted, !needsIncrease, smallest >= 0, abs(dBeta) <= 1e-8 * max(1, abs(beta)),
           0.5 * slope <= 1e-15 * max(1, abs(current.value)) {
            return NewtonAscentResult(beta: beta, tau: tau, value: current.value, iterations: iteration)
        }
        // Near the maximum the predicted gain ½gᵀd falls below the rounding noise of ℓ (a sum of
        // terms of size ~n, so ~10⁻¹⁰ with n ~ 10⁶): there the Newton step is taken on the
        // strength of the gradient, which stays accurate, instead of comparing values.
        if !shifted, !needsIncrease, 0.5 * slope <= negligibleGain(current.magnitude) {
            let trial = evaluate(beta + dBeta, tau + dTau)
            if trial.isFinite, trial.value >= current.value - max(1e-6, 10 * negligibleGain(current.magnitude)) {
                beta += dBeta
                tau += dTau
                current = trial
                continue
            }
        }
        var step = 1.0
        var accepted = false
        for _ in 0..<60 {
            let trial = evaluate(beta + step * dBeta, tau + step * dTau)
            let increases = needsIncrease
                ? trial.value > current.value
                : trial.value >= current.value + 1e-4 * step * slope
                    || (trial.value >= current.value - 1e-13 * max(1, current.magnitude) && step * longest <= 1e-8)
            if trial.isFinite, increases {
                beta += step * dBeta
                tau += step * dTau
                current = trial
                accepted = true
                break
            }
            step /= 2
        }
        // Steps cut to nothing, iteration after iteration, mean the values no longer tell the
        // search anything (rounding): stop rather than creep for hundreds of iterations, each
        // costing dozens of passes over the studies.
        if accepted, step * longest <= 1e-9 * max(1, abs(beta), abs(tau)) {
            creeping += 1
            if creeping >= 10 {
                throw MetaPoolError(.noConvergence, "the GLMM fit stalled at (\(beta), tau = \(tau)): the log-likelihood is flat to rounding there but its gradient is not 0")
            }
        } else {
            creeping = 0
        }
        guard accepted else {
            // No ascent along a Newton direction: ℓ is flat to rounding here.
            if longest <= 1e-6 { return NewtonAscentResult(beta: beta, tau: tau, value: current.value, iterations: iteration) }
            throw MetaPoolError(.noConvergence, "the GLMM fit could not increase the likelihood from (\(beta), \(tau))")
        }
        guard abs(beta) <= bound, abs(tau) <= bound else {
            throw MetaPoolError(.noConvergence, "the GLMM likelihood has no finite maximum: the estimates run off (\(beta), tau = \(tau)); this happens when the data separate completely, e.g. only studies with 0 or all events")
        }
    }
    throw MetaPoolError(.noConvergence, "the GLMM fit did not converge in \(maxIterations) Newton iterations")
}

/// Runs `newtonAscent` from each start, keeps the highest maximum, and takes τ̂ = 0 with
/// β̂ = `betaAtZero` (the maximiser of ℓ(·, 0), where AGHQ is exact) when the search ends at
/// |τ| < 10⁻⁶ or below ℓ there, and τ = 0 is a local maximum in τ (∂²ℓ/∂τ² ≤ 0).
func maximizeEvenInTau(starts: [(Double, Double)], betaAtZero: Double, bound: Double,
                       evaluate: (Double, Double) -> LikelihoodEvaluation) throws(MetaPoolError) -> NewtonAscentResult {
    var failure: MetaPoolError?
    var best: NewtonAscentResult?
    var iterations = 0
    for start in starts {
        do {
            let fit = try newtonAscent(beta: start.0, tau: start.1, bound: bound, evaluate: evaluate)
            iterations += fit.iterations
            if best.map({ fit.value > $0.value }) ?? true { best = fit }
        } catch {
            failure = error
        }
    }
    guard var fit = best else {
        throw failure ?? MetaPoolError(.noConvergence, "the GLMM fit did not converge")
    }
    let zero = evaluate(betaAtZero, 0)
    let delta = 1e-4
    let curvature = evaluate(betaAtZero, delta).gradient.tau / delta
    let tolerance = 1e-10 * max(1, abs(zero.value))
    if zero.isFinite, curvature <= 0, abs(fit.tau) < 1e-6 || zero.value > fit.value + tolerance,
       zero.value >= fit.value - tolerance {
        fit = NewtonAscentResult(beta: betaAtZero, tau: 0, value: zero.value, iterations: fit.iterations)
    }
    fit.tau = abs(fit.tau)
    fit.iterations = iterations
    return fit
}

/// Maximises a smooth function of one parameter with an analytic derivative: Newton steps with
/// the curvature from a central difference of the derivative, at most 2 long, backtracking to an
/// Armijo increase; an ascent step of length min(1, |f′|) where the curvature is not negative.
/// Returns `nil` when the maximiser passes `bound` or no step increases f away from a stationary
/// point. Converges on a step below 10⁻¹¹·max(1, |x|).
func newtonAscent1D(start: Double, bound: Double,
                    _ evaluate: (Double) -> (value: Double, derivative: Double)) -> (x: Double, value: Double)? {
    var x = start
    var current = evaluate(x)
    guard current.value.isFinite, current.derivative.isFinite else { return nil }
    for _ in 0..<200 {
        let g = current.derivative
        let delta = 1e-5 * max(1, abs(x))
        let curvature = (evaluate(x + delta).derivative - evaluate(x - delta).derivative) / (2 * delta)
        guard curvature.isFinite else { return nil }
        let concave = curvature < 0
        var d = concave ? -g / curvature : (g > 0 ? 1 : -1) * min(1, abs(g))
        if abs(d) > 2 { d = d > 0 ? 2 : -2 }
        if concave, abs(d) <= 1e-11 * max(1, abs(x)) {
            let last = evaluate(x + d)
            if last.value.isFinite, last.value >= current.value { x += d; current = last }
            return (x, current.value)
        }
        if g == 0 { return concave ? (x, current.value) : nil }
        // Below the rounding noise of f, trust the derivative (see `newtonAscent`).
        if concave, 0.5 * g * d <= negligibleGain(current.value) {
            let trial = evaluate(x + d)
            if trial.value.isFinite, trial.derivative.isFinite, trial.value >= current.value - 1e-6 {
                x += d
                current = trial
                continue
            }
        }
        var step = 1.0
        var accepted = false
        for _ in 0..<60 {
            let trial = evaluate(x + step * d)
            if trial.value.isFinite, trial.derivative.isFinite,
               trial.value >= current.value + 1e-4 * step * g * d
                || (trial.value >= current.value - 1e-13 * max(1, abs(current.value)) && step * abs(d) <= 1e-9) {
                x += step * d
                current = trial
                accepted = true
                break
            }
            step /= 2
        }
        guard accepted else { return abs(d) <= 1e-7 && concave ? (x, current.value) : nil }
        guard abs(x) <= bound else { return nil }
    }
    return nil
}

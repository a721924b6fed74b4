// Maximisation of a smooth log-likelihood ℓ(θ) of several parameters with an analytic gradient,
// the last of which is a standard deviation τ in which ℓ is even: the GLMM with moderators,
// ℓ(β₁, …, β_p, τ). The two-parameter case (`newtonAscent`) is kept for the intercept-only models.

import RealModule

/// A log-likelihood value with its gradient in θ.
struct VectorLikelihoodEvaluation: Sendable {
    var value: Double
    var gradient: [Double]
    /// Σ of the absolute values of the terms summed into `value` (see ``LikelihoodEvaluation/magnitude``).
    var magnitude: Double

    var isFinite: Bool { value.isFinite && gradient.allSatisfy(\.isFinite) }
}

/// Small dense symmetric matrices, row-major n × n.
enum SymmetricMatrix {
    /// The lower Cholesky factor of A, or `nil` when A is not (numerically) positive definite.
    static func cholesky(_ a: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var d = a[j * n + j]
            for m in 0..<j { d -= l[j * n + m] * l[j * n + m] }
            guard d > 0, d.isFinite else { return nil }
            let root = d.squareRoot()
            l[j * n + j] = root
            for i in (j + 1)..<max(j + 1, n) {
                var s = a[i * n + j]
                for m in 0..<j { s -= l[i * n + m] * l[j * n + m] }
                l[i * n + j] = s / root
            }
        }
        return l
    }

    /// Solves L·Lᵀ x = b.
    static func solve(cholesky l: [Double], n: Int, _ b: [Double]) -> [Double] {
        var y = b
        for i in 0..<n {
            for m in 0..<i { y[i] -= l[i * n + m] * y[m] }
            y[i] /= l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for m in (i + 1)..<max(i + 1, n) { y[i] -= l[m * n + i] * y[m] }
            y[i] /= l[i * n + i]
        }
        return y
    }

    /// A⁻¹ for symmetric positive definite A, or `nil`.
    static func inverse(_ a: [Double], n: Int) -> [Double]? {
        guard let l = cholesky(a, n: n) else { return nil }
        var out = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            let column = solve(cholesky: l, n: n, e)
            for i in 0..<n { out[i * n + j] = column[i] }
        }
        for i in 0..<n { for j in 0..<i { let m = (out[i * n + j] + out[j * n + i]) / 2; out[i * n + j] = m; out[j * n + i] = m } }
        return out
    }
}

/// The Hessian of ℓ at θ by central differences of the analytic gradient with one Richardson
/// extrapolation (error O(δ⁴), δⱼ = 2·10⁻³ max(sⱼ, |θⱼ|)), symmetrised: the rule of
/// ``LikelihoodHessian`` for any number of parameters. sⱼ is the parameter's natural scale (1 by
/// default; 1/max|xᵢⱼ| for the coefficient of a moderator column, so that a step moves the linear
/// predictor by ~2·10⁻³ whatever the moderator's units).
func differenceHessian(at theta: [Double], scales: [Double]? = nil, gradient: ([Double]) -> [Double]) -> [Double] {
    let n = theta.count
    var h = [Double](repeating: 0, count: n * n)
    func column(_ j: Int, _ delta: Double) -> [Double] {
        var plus = theta, minus = theta
        plus[j] += delta
        minus[j] -= delta
        let gp = gradient(plus), gm = gradient(minus)
        return (0..<n).map { (gp[$0] - gm[$0]) / (2 * delta) }
    }
    for j in 0..<n {
        let delta = 2e-3 * max(scales?[j] ?? 1, abs(theta[j]))
        let coarse = column(j, delta), fine = column(j, delta / 2)
        for i in 0..<n { h[i * n + j] = (4 * fine[i] - coarse[i]) / 3 }
    }
    for i in 0..<n { for j in 0..<i { let m = (h[i * n + j] + h[j * n + i]) / 2; h[i * n + j] = m; h[j * n + i] = m } }
    return h
}

/// Newton's method on ℓ(θ) with −H shifted by a multiple of the identity until it is positive
/// definite (Levenberg 1944), steps at most 2 in each parameter and backtracking to an Armijo
/// increase (Nocedal & Wright 2006, §3.1, §3.4, §3.4 "modified Newton"), as ``newtonAscent`` for
/// two parameters. The last parameter is τ, in which ℓ is even: where the Newton step vanishes but
/// −H needed a shift (a saddle, e.g. τ = 0 with ℓ increasing away from it), a step in τ alone is
/// tried. Stops on a step below 10⁻¹⁰·max(sⱼ, |θⱼ|) in every parameter, sⱼ the parameter's scale
/// (see ``differenceHessian(at:scales:gradient:)``; steps and `bound` are in units of sⱼ too).
/// - Throws: `.noConvergence` when a parameter passes `bound`, when no ascent is possible away from
///   a stationary point, on a stall (10 vanishing steps in a row) or after 200 iterations.
func newtonAscentVector(start: [Double], bound: Double, scales: [Double]? = nil,
                        evaluate: ([Double]) -> VectorLikelihoodEvaluation) throws(MetaPoolError) -> (theta: [Double], value: Double, iterations: Int) {
    let n = start.count
    let scale = scales ?? [Double](repeating: 1, count: n)
    var theta = start
    var current = evaluate(theta)
    guard current.isFinite else {
        throw MetaPoolError(.noConvergence, "the GLMM log-likelihood is not finite at the starting values")
    }
    var creeping = 0
    for iteration in 1...200 {
        let h = differenceHessian(at: theta, scales: scale) { evaluate($0).gradient }
        guard h.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.noConvergence, "the GLMM log-likelihood has a non-finite curvature at \(theta)")
        }
        var a = h.map { -$0 }
        var trace = 0.0
        for j in 0..<n { trace += abs(a[j * n + j]) }
        let floor = 1e-8 * max(1, trace)
        var shift = 0.0
        var factor = SymmetricMatrix.cholesky(a, n: n)
        // Positive definite with room to spare, or shifted until it is.
        if factor == nil || (0..<n).contains(where: { factor![$0 * n + $0] * factor![$0 * n + $0] < floor }) {
            shift = floor
            while true {
                var shifted = a
                for j in 0..<n { shifted[j * n + j] += shift }
                if let f = SymmetricMatrix.cholesky(shifted, n: n), (0..<n).allSatisfy({ f[$0 * n + $0] * f[$0 * n + $0] >= floor / 2 }) {
                    factor = f
                    a = shifted
                    break
                }
                shift *= 4
                guard shift.isFinite, shift < 1e300 else {
                    throw MetaPoolError(.noConvergence, "the GLMM log-likelihood has a non-finite curvature at \(theta)")
                }
            }
        }
        let g = current.gradient
        var d = SymmetricMatrix.solve(cholesky: factor!, n: n, g)
        var longest = (0..<n).map { abs(d[$0]) / scale[$0] }.max() ?? 0
        if longest > 2 { d = d.map { $0 * 2 / longest } }
        let shifted = shift > 0
        let tiny = (0..<n).allSatisfy { abs(d[$0]) <= 1e-10 * max(scale[$0], abs(theta[$0])) }
        if tiny && !shifted {
            var last = theta
            for j in 0..<n { last[j] += d[j] }
            let e = evaluate(last)
            if e.isFinite, e.value >= current.value { theta = last; current = e }
            return (theta, current.value, iteration)
        }
        var needsIncrease = false
        if shifted, (0..<n).allSatisfy({ abs(d[$0]) < 1e-4 * scale[$0] }) {
            // Stationary but not a maximum in every direction (or flat): try τ alone, the direction
            // in which ℓ, even in τ, can have a minimum at a stationary point.
            let length = 0.1 * max(1, abs(theta[n - 1]))
            var best: (theta: [Double], e: VectorLikelihoodEvaluation)?
            for sign in [1.0, -1.0] {
                var trial = theta
                trial[n - 1] += sign * length
                let e = evaluate(trial)
                if e.isFinite, e.value > current.value + negligibleGain(current.magnitude), best.map({ e.value > $0.e.value }) ?? true { best = (trial, e) }
            }
            if let best {
                theta = best.theta
                current = best.e
                needsIncrease = true
            } else if (0..<n - 1).allSatisfy({ abs(d[$0]) <= 1e-8 * max(scale[$0], abs(theta[$0])) }) {
                // Flat to rounding in τ (ℓ ≈ ℓ₀ − cτ⁴ about τ = 0): the maximum, as in ``newtonAscent``.
                return (theta, current.value, iteration)
            }
        }
        if needsIncrease { continue }
        longest = (0..<n).map { abs(d[$0]) / scale[$0] }.max() ?? 0
        var slope = 0.0
        for j in 0..<n { slope += g[j] * d[j] }
        // Below the rounding noise of ℓ, take the Newton step on the strength of the gradient.
        if !shifted, 0.5 * slope <= negligibleGain(current.magnitude) {
            var trial = theta
            for j in 0..<n { trial[j] += d[j] }
            let e = evaluate(trial)
            if e.isFinite, e.value >= current.value - max(1e-6, 10 * negligibleGain(current.magnitude)) {
                theta = trial
                current = e
                continue
            }
        }
        var step = 1.0
        var accepted = false
        for _ in 0..<60 {
            var trial = theta
            for j in 0..<n { trial[j] += step * d[j] }
            let e = evaluate(trial)
            if e.isFinite, e.value >= current.value + 1e-4 * step * slope
                || (e.value >= current.value - 1e-13 * max(1, current.magnitude) && step * longest <= 1e-8) {
                theta = trial
                current = e
                accepted = true
                break
            }
            step /= 2
        }
        if accepted, step * longest <= 1e-9 * max(1, (0..<n).map { abs(theta[$0]) / scale[$0] }.max() ?? 0) {
            creeping += 1
            if creeping >= 10 {
                throw MetaPoolError(.noConvergence, "the GLMM fit stalled: the log-likelihood is flat to rounding there but its gradient is not 0")
            }
        } else {
            creeping = 0
        }
        guard accepted else {
            if longest <= 1e-6 { return (theta, current.value, iteration) }
            throw MetaPoolError(.noConvergence, "the GLMM fit could not increase the likelihood")
        }
        guard (0..<n).allSatisfy({ abs(theta[$0]) <= bound * scale[$0] }) else {
            throw MetaPoolError(.noConvergence, "the GLMM likelihood has no finite maximum: the estimates run off to infinity; this happens when the moderators separate the data completely, e.g. a factor level whose studies have no events (or only events)")
        }
    }
    throw MetaPoolError(.noConvergence, "the GLMM fit did not converge in 200 Newton iterations")
}

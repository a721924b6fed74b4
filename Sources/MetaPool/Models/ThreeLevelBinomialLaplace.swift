// The Laplace approximation of the three-level binomial–normal log-likelihood, its gradient, and
// its maximisation: O(k) per evaluation through the arrow structure of each cluster's Hessian.

import RealModule

/// ℓ(μ, θ₁, θ₂) = Σᵢ log ∫ Πⱼ Binom(xᵢⱼ | nᵢⱼ, expit(μ + θ₁aᵢ + θ₂bᵢⱼ)) φ(aᵢ) Πⱼ φ(bᵢⱼ) daᵢ dbᵢ,
/// each cluster's integral replaced by its Laplace approximation in the spherical random effects
/// (aᵢ, bᵢⱼ) ~ N(0, I) (Bates et al. 2015, JSS 67(1), eqs. 21–23 and §5.4; Pinheiro & Bates 1995,
/// JCGS 4:12, eq. 5): with hᵢ(z) = Σⱼ[xᵢⱼηᵢⱼ − nᵢⱼ log(1 + e^ηᵢⱼ)] − aᵢ²/2 − Σⱼ bᵢⱼ²/2, ẑᵢ its
/// maximiser and Hᵢ = −∇²hᵢ(ẑᵢ),
///
///     log Lᵢ ≈ Σⱼ log C(nᵢⱼ, xᵢⱼ) + hᵢ(ẑᵢ) − ½ log|Hᵢ|,
///
/// which is −½ lme4's Laplace deviance for glmer(… ~ 1 + (1 | cluster/cohort), nAGQ = 1) (the
/// binomial AIC term, ‖ũ‖² and log|L|²). The approximation is invariant under linear changes of the
/// integration variable, so it is the same function of (μ, σ₁, σ₂) as lme4's of (β, θ).
///
/// With wⱼ = nⱼpⱼ(1 − pⱼ), Hᵢ has the arrow form H_aa = 1 + θ₁²Σwⱼ, H_abⱼ = θ₁θ₂wⱼ,
/// H_bⱼbⱼ = Dⱼ = 1 + θ₂²wⱼ (the bⱼ are independent given a), so with the Schur complement
/// S = 1 + θ₁²Σⱼ wⱼ/Dⱼ: log|Hᵢ| = Σⱼ log Dⱼ + log S, and H δ = g is solved by
/// δa = (g_a − Σⱼ θ₁θ₂wⱼ g_bⱼ/Dⱼ)/S, δbⱼ = (g_bⱼ − θ₁θ₂wⱼ δa)/Dⱼ — O(mᵢ) for mᵢ cohorts.
/// The gradient differentiates through the modes (implicit function theorem: dẑ/dα = H⁻¹ ∂g/∂α)
/// and the weights wⱼ (dwⱼ/dη = wⱼ(1 − 2pⱼ)); the value's h-part follows the envelope theorem.
/// ℓ is even in θ₁ and in θ₂, so they are unconstrained in the search and σ̂ = |θ̂|.
struct ThreeLevelBinomialLaplace {
    let x: [Double], n: [Double], logBinomial: [Double]
    /// The first study of each cluster, and the number of studies at the end.
    let starts: [Int]
    /// The conditional modes (warm starts for the next evaluation): aᵢ per cluster, bᵢⱼ per study.
    private var a: [Double], b: [Double]
    /// Scratch per study: the Newton step in b, and wⱼ, g_bⱼ at the current mode iterate.
    private var step: [Double], weight: [Double], gradB: [Double]

    init(events: [Double], totals: [Double], starts: [Int]) {
        x = events
        n = totals
        logBinomial = zip(events, totals).map { x, n in
            Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
        }
        self.starts = starts
        a = [Double](repeating: 0, count: starts.count - 1)
        b = [Double](repeating: 0, count: events.count)
        step = b
        weight = b
        gradB = b
    }

    var clusterCount: Int { starts.count - 1 }

    /// The conditional log-likelihood h of cluster g at (a, b + t·step), without the binomial coefficients.
    private func clusterH(_ g: Int, mu: Double, t1: Double, t2: Double, a av: Double, t: Double) -> Double {
        var h = -0.5 * av * av
        for j in starts[g]..<starts[g + 1] {
            let bj = b[j] + t * step[j]
            let eta = mu + t1 * av + t2 * bj
            h += x[j] * eta - n[j] * BinomialNormalLikelihood.log1pexp(eta) - 0.5 * bj * bj
        }
        return h
    }

    /// Newton's method with backtracking for the mode of the strictly concave h of cluster g,
    /// from the previous mode; each step O(mᵢ) through the Schur complement.
    private mutating func solveMode(_ g: Int, mu: Double, t1: Double, t2: Double) {
        let lo = starts[g], hi = starts[g + 1]
        var av = a[g]
        for j in lo..<hi { step[j] = 0 }
        var hCurrent = clusterH(g, mu: mu, t1: t1, t2: t2, a: av, t: 0)
        if !hCurrent.isFinite { av = 0; for j in lo..<hi { b[j] = 0 }; hCurrent = clusterH(g, mu: mu, t1: t1, t2: t2, a: 0, t: 0) }
        for _ in 0..<200 {
            var sumR = 0.0, sumT = 0.0, sumCG = 0.0
            for j in lo..<hi {
                let (p, q) = BinomialNormalLikelihood.probabilities(mu + t1 * av + t2 * b[j])
                let w = n[j] * p * q
                let r = BinomialNormalLikelihood.residual(x[j], n[j], p, q)
                let d = 1 + t2 * t2 * w
                let gb = t2 * r - b[j]
                weight[j] = w
                gradB[j] = gb
                sumR += r
                sumT += w / d
                sumCG += t1 * t2 * w * gb / d
            }
            let ga = t1 * sumR - av
            let da = (ga - sumCG) / (1 + t1 * t1 * sumT)
            var decrement = ga * da, largest = abs(da)
            for j in lo..<hi {
                let w = weight[j]
                let db = (gradB[j] - t1 * t2 * w * da) / (1 + t2 * t2 * w)
                step[j] = db
                decrement += gradB[j] * db
                largest = max(largest, abs(db))
            }
            // Backtracking (Armijo) on h; rounding in h is allowed for near the mode.
            var t = 1.0, hNew = hCurrent
            while true {
                hNew = clusterH(g, mu: mu, t1: t1, t2: t2, a: av + t * da, t: t)
                if hNew >= hCurrent + 1e-4 * t * decrement - 1e-13 * (1 + abs(hCurrent)) || t < 1e-10 { break }
                t *= 0.5
            }
            av += t * da
            for j in lo..<hi { b[j] += t * step[j] }
            hCurrent = hNew
            if t * largest <= 1e-11 * (1 + abs(av)) || (t == 1 && decrement <= 1e-26) { break }
        }
        a[g] = av
    }

    /// ℓ and its gradient in (μ, θ₁, θ₂), with the sum of the magnitudes of the terms summed into ℓ
    /// (its rounding error is a few ulps of that, far more than of ℓ when the totals are large).
    mutating func evaluate(_ point: SIMD3<Double>) -> (value: Double, gradient: SIMD3<Double>, magnitude: Double) {
        let mu = point[0], t1 = point[1], t2 = point[2]
        var value = 0.0, gradient = SIMD3<Double>(0, 0, 0), magnitude = 0.0
        for g in 0..<clusterCount {
            solveMode(g, mu: mu, t1: t1, t2: t2)
            let lo = starts[g], hi = starts[g + 1]
            let av = a[g]
            // Pass A: the value and the sums the mode derivatives need.
            var sumR = 0.0, sumWB = 0.0, sumT = 0.0, sumV = 0.0, sumRB = 0.0, logD = 0.0
            for j in lo..<hi {
                let eta = mu + t1 * av + t2 * b[j]
                let (p, q) = BinomialNormalLikelihood.probabilities(eta)
                let w = n[j] * p * q
                let r = BinomialNormalLikelihood.residual(x[j], n[j], p, q)
                let d = 1 + t2 * t2 * w
                let binomial = x[j] * eta - n[j] * BinomialNormalLikelihood.log1pexp(eta)
                value += logBinomial[j] + binomial - 0.5 * b[j] * b[j]
                magnitude += abs(logBinomial[j]) + abs(binomial) + 0.5 * b[j] * b[j]
                logD += Double.log(d)
                sumR += r; sumWB += w * b[j]; sumRB += r * b[j]
                sumT += w / d; sumV += w * (r - t2 * w * b[j]) / d
            }
            let s = 1 + t1 * t1 * sumT
            value += -0.5 * av * av - 0.5 * (logD + Double.log(s))
            magnitude += 0.5 * av * av + 0.5 * (logD + Double.log(s))
            // dâ/dα = (∂g_a/∂α − Σⱼ cⱼ ∂g_bⱼ/∂α / Dⱼ)/S, cⱼ = θ₁θ₂wⱼ, for α = μ, θ₁, θ₂
            // (Σⱼ wⱼ − θ₂²Σⱼ wⱼ²/Dⱼ = Σⱼ wⱼ/Dⱼ).
            let daMu = -t1 * sumT / s
            let daT1 = (sumR - t1 * av * sumT) / s
            let daT2 = -t1 * (sumWB + t2 * sumV) / s
            // Pass B: d log|H|/dα through the weights at the moving mode.
            var dLogD = SIMD3<Double>(0, 0, 0), dT = SIMD3<Double>(0, 0, 0)
            for j in lo..<hi {
                let eta = mu + t1 * av + t2 * b[j]
                let (p, q) = BinomialNormalLikelihood.probabilities(eta)
                let w = n[j] * p * q
                let r = BinomialNormalLikelihood.residual(x[j], n[j], p, q)
                let d = 1 + t2 * t2 * w
                let c = t1 * t2 * w
                let dbMu = (-t2 * w - c * daMu) / d
                let dbT1 = (-t2 * w * av - c * daT1) / d
                let dbT2 = (r - t2 * w * b[j] - c * daT2) / d
                let etaMu = 1 + t1 * daMu + t2 * dbMu
                let etaT1 = av + t1 * daT1 + t2 * dbT1
                let etaT2 = b[j] + t1 * daT2 + t2 * dbT2
                let wPrime = w * (q - p)
                let dw = SIMD3<Double>(etaMu, etaT1, etaT2) * wPrime
                var dd = dw * (t2 * t2)
                dd[2] += 2 * t2 * w
                dLogD += dd / d
                var dt = dw / (d * d)
                dt[2] -= 2 * t2 * w * w / (d * d)
                dT += dt
            }
            var dS = dT * (t1 * t1)
            dS[1] += 2 * t1 * sumT
            let dLogDet = dLogD + dS / s
            gradient += SIMD3<Double>(sumR, av * sumR, sumRB) - 0.5 * dLogDet
        }
        return (value, gradient, magnitude)
    }

    /// Σ log Binom(xᵢⱼ | nᵢⱼ, expit(μ + θ₁âᵢ + θ₂b̂ᵢⱼ)): the binomial log-likelihood at the conditional
    /// modes of the random effects (with the binomial coefficients), the log-likelihood metafor prints
    /// for its GLMMs (the two-level analogue is ``BinomialNormalLikelihood``'s).
    mutating func conditionalLogLikelihood(_ point: SIMD3<Double>) -> Double {
        let mu = point[0], t1 = point[1], t2 = point[2]
        var total = 0.0
        for g in 0..<clusterCount {
            solveMode(g, mu: mu, t1: t1, t2: t2)
            for j in starts[g]..<starts[g + 1] {
                let eta = mu + t1 * a[g] + t2 * b[j]
                total += logBinomial[j] + x[j] * eta - n[j] * BinomialNormalLikelihood.log1pexp(eta)
            }
        }
        return total
    }

    // MARK: Maximisation

    /// Largest |μ|, |θ₁|, |θ₂| accepted: beyond them the likelihood has no finite maximum in practice.
    static let parameterBound = 100.0

    /// The Hessian of ℓ by central differences of the analytic gradient, Richardson-extrapolated
    /// (steps h and h/2, error O(h⁴)) when `accurate`; components not `free` get −1 on the diagonal.
    mutating func hessian(_ p: SIMD3<Double>, free: [Bool], accurate: Bool) -> [SIMD3<Double>] {
        var rows = [SIMD3<Double>](repeating: .zero, count: 3)
        for i in 0..<3 {
            guard free[i] else { continue }
            let h = 1e-4 * max(1, abs(p[i]))
            func central(_ h: Double) -> SIMD3<Double> {
                var up = p, down = p
                up[i] += h
                down[i] -= h
                return (evaluate(up).gradient - evaluate(down).gradient) / (2 * h)
            }
            let coarse = central(h)
            rows[i] = accurate ? (4 * central(h / 2) - coarse) / 3 : coarse
        }
        var m = [SIMD3<Double>](repeating: .zero, count: 3)
        for i in 0..<3 {
            for j in 0..<3 where free[i] && free[j] { m[i][j] = 0.5 * (rows[i][j] + rows[j][i]) }
            if !free[i] { m[i][i] = -1 }
        }
        return m
    }

    /// Solves A s = g for a symmetric positive definite 3 × 3 A by Cholesky; `nil` if A is not positive definite.
    static func solvePositiveDefinite(_ a: [SIMD3<Double>], _ g: SIMD3<Double>) -> SIMD3<Double>? {
        var l = [SIMD3<Double>](repeating: .zero, count: 3)
        for i in 0..<3 {
            for j in 0...i {
                var s = a[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                if i == j {
                    guard s > 0, s.isFinite else { return nil }
                    l[i][i] = s.squareRoot()
                } else {
                    l[i][j] = s / l[j][j]
                }
            }
        }
        var y = SIMD3<Double>(0, 0, 0)
        for i in 0..<3 {
            var s = g[i]
            for k in 0..<i { s -= l[i][k] * y[k] }
            y[i] = s / l[i][i]
        }
        var out = SIMD3<Double>(0, 0, 0)
        for i in stride(from: 2, through: 0, by: -1) {
            var s = y[i]
            for k in (i + 1)..<3 { s -= l[k][i] * out[k] }
            out[i] = s / l[i][i]
        }
        return out
    }

    /// Maximises ℓ over the `free` components from `start` (the others held): Newton steps with the
    /// finite-difference Hessian, shifted towards a gradient step (Levenberg 1944; Marquardt 1963)
    /// where −H is not positive definite, halved until ℓ does not fall. Returns the maximiser
    /// (θ's made non-negative), ℓ there and the iterations; `nil` if it does not converge in 500
    /// iterations or leaves the bound.
    mutating func maximize(from start: SIMD3<Double>, free: [Bool])
        -> (point: SIMD3<Double>, value: Double, iterations: Int)? {
        var p = start
        var (f, g, magnitude) = evaluate(p)
        guard f.isFinite else { return nil }
        let mask = SIMD3<Double>(free[0] ? 1 : 0, free[1] ? 1 : 0, free[2] ? 1 : 0)
        for iteration in 1...500 {
            g *= mask
            let h = hessian(p, free: free, accurate: false)
            var info = h.map { -$0 }
            var shift = 0.0
            var direction: SIMD3<Double>? = nil
            let diagonal = max(abs(info[0][0]), abs(info[1][1]), abs(info[2][2]), 1e-8)
            for _ in 0..<60 {
                direction = Self.solvePositiveDefinite(info, g)
                if direction != nil { break }
                let next = shift == 0 ? 1e-6 * diagonal : 4 * shift
                for i in 0..<3 { info[i][i] += next - shift }
                shift = next
            }
            guard var s = direction else { return nil }
            s *= mask
            var t = 1.0
            var next = p, nextValue = f, nextGradient = g, nextMagnitude = magnitude
            // ℓ may not fall by more than its rounding error.
            let slack = 1e-14 * magnitude + 1e-13 * (1 + abs(f))
            var stalled = false
            while true {
                next = p + t * s
                (nextValue, nextGradient, nextMagnitude) = evaluate(next)
                if nextValue.isFinite && nextValue >= f - slack { break }
                t *= 0.5
                if t < 1e-12 { stalled = true; break }
            }
            if stalled {
                // No step gains beyond the rounding error: converged if the Newton step is small.
                guard (s * s).sum().squareRoot() <= 1e-6 * max(1, abs(p[0])) else { return nil }
                p[1] = abs(p[1])
                p[2] = abs(p[2])
                (f, _, _) = evaluate(p)
                return (p, f, iteration)
            }
            let moved = (t * s).max() > -(t * s).min() ? (t * s).max() : -(t * s).min()
            // A full Newton step whose predicted gain gᵀs is within the rounding error of ℓ lands on
            // the maximiser to the precision ℓ allows (with large totals, ~1e-10 rather than 1e-11).
            let settled = t == 1 && (g * s).sum() <= slack
            p = next
            f = nextValue
            g = nextGradient
            magnitude = nextMagnitude
            guard abs(p[0]) <= Self.parameterBound, abs(p[1]) <= Self.parameterBound, abs(p[2]) <= Self.parameterBound else {
                return nil
            }
            if moved <= 1e-11 * max(1, abs(p[0])) || settled {
                p[1] = abs(p[1])
                p[2] = abs(p[2])
                (f, _, _) = evaluate(p)
                return (p, f, iteration)
            }
        }
        return nil
    }
}

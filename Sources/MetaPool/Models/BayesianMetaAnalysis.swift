// The Bayesian normal–normal random-effects model computed by deterministic numerical integration
// over τ (the DIRECT approach of Röver & Friede 2017, as R's bayesmeta does; Röver 2020).

import RealModule

/// A Bayesian random-effects meta-analysis: yᵢ ~ N(θᵢ, vᵢ), θᵢ ~ N(μ, τ²), with a prior on τ
/// (``TauPrior``) and a normal or flat prior on μ (``EffectPrior``), as R's `bayesmeta`
/// (Röver 2020, J Stat Softw 93(6)).
///
/// Conditional on τ, μ is normal with mean μ̂(τ) = Σwᵢyᵢ/Σwᵢ and variance σ²(τ) = 1/Σwᵢ,
/// wᵢ = 1/(vᵢ + τ²), the normal prior N(m, s²) entering as one more observation m with variance s²
/// (Röver 2020, eqs. 10–11). With μ integrated out analytically, the marginal posterior of τ is
/// p(τ|y) ∝ p(τ)·p(y|τ), p(y|τ) = (2π)^(−(n−1)/2)·Πᵢ wᵢ^½·(Σwᵢ)^(−½)·exp(−½Σwᵢ(yᵢ − μ̂)²) over
/// the n terms (k studies, plus the prior's pseudo-observation) (Röver 2020, §2; Gelman et al. 2013, BDA3 §5.4).
///
/// The integral over τ is computed once, by adaptive Gauss–Legendre quadrature (15 points on
/// each half of every subinterval, a subinterval split while its whole-interval and two-half
/// estimates differ) on [0, ∞) cut at the posterior mode and at the points where the log
/// density has fallen by ½, 2, 8, 20 and 45, the part beyond mapped to [0, 1) by
/// τ = b + c·u/(1 − u), until the estimated error of ∫p(τ|y), E[τ], E[τ²], E[μ] and E[μ²] is below
/// ``relativeTolerance`` of each (or, where larger, 64 ulp of the size of the log density's terms at the
/// mode: its rounding error bounds any quadrature of its exponential). The nodes and their posterior weights are kept, so every
/// marginal of μ, of a new study's θ and of the θᵢ is a sum over them: a mixture of normals
/// (Röver 2020, §2; the DIRECT algorithm of Röver & Friede 2017 with exact quadrature weights).
public struct BayesianMetaAnalysis: Sendable {
    /// The relative accuracy the quadrature over τ is refined to.
    public static let relativeTolerance = 1e-12

    /// The effects and sampling variances.
    public let yi: [Double], vi: [Double]
    public let tauPrior: TauPrior
    public let muPrior: EffectPrior

    /// The quadrature nodes τⱼ with their normalised posterior weights Wⱼ (Σ Wⱼ = 1), and μ̂(τⱼ), σ²(τⱼ).
    let nodeTau: [Double], nodeWeight: [Double], nodeMean: [Double], nodeVariance: [Double]
    /// The subintervals of the final rule, in increasing τ, with the posterior mass before each.
    let leaves: [Leaf]
    let segments: [Segment]
    /// log of the unnormalised posterior at the mode (the shift) and of its integral after the shift.
    let logShift: Double, logIntegral: Double
    /// log Γ-constant of the half-t prior, computed once.
    let studentConstant: Double

    /// The exponent a of the posterior tail p(τ|y) ~ τ^(−a) (∞ for faster decay).
    let tailExponent: Double

    /// A part of [0, ∞) in its own variable u: τ = start + u (finite), or τ = start + scale·u/(1 − u), u ∈ [0, 1) (tail).
    struct Segment: Sendable {
        var start: Double, scale: Double, isTail: Bool
        @inline(__always) func tau(_ u: Double) -> Double {
            isTail ? start + scale * u / (1 - u) : start + u
        }
        @inline(__always) func jacobian(_ u: Double) -> Double {
            isTail ? scale / ((1 - u) * (1 - u)) : 1
        }
        /// The u of a τ in this segment.
        @inline(__always) func variable(_ tau: Double) -> Double {
            if !isTail { return tau - start }
            let d = tau - start
            return d.isFinite ? d / (scale + d) : 1
        }
    }

    /// A subinterval [lower, upper] of segment `segment`'s variable.
    struct Leaf: Sendable {
        var segment: Int, lower: Double, upper: Double
        var estimate = Sums(), error = Sums()
        /// The normalised posterior mass of the leaf and before it.
        var mass = 0.0, cumulative = 0.0
    }

    /// The integrals refined together: ∫g, ∫τg, ∫τ²g, ∫μ̂g, ∫|μ̂|g, ∫(σ² + μ̂²)g.
    struct Sums: Sendable {
        var g = 0.0, tg = 0.0, t2g = 0.0, mg = 0.0, absMg = 0.0, m2g = 0.0
        static func + (a: Sums, b: Sums) -> Sums {
            Sums(g: a.g + b.g, tg: a.tg + b.tg, t2g: a.t2g + b.t2g, mg: a.mg + b.mg, absMg: a.absMg + b.absMg, m2g: a.m2g + b.m2g)
        }
        func distance(_ b: Sums) -> Sums {
            Sums(g: abs(g - b.g), tg: abs(tg - b.tg), t2g: abs(t2g - b.t2g), mg: abs(mg - b.mg), absMg: 0, m2g: abs(m2g - b.m2g))
        }
    }

    /// - Parameters:
    ///   - yi: the effects (finite), at least one.
    ///   - vi: their sampling variances (finite, > 0).
    /// - Throws: ``MetaPoolError`` for no studies, arrays of different lengths, a non-finite effect or
    ///   non-positive variance, invalid prior parameters, a posterior that is improper (its integral
    ///   over τ diverges: the tail p(τ)·p(y|τ) ~ τ^(−a) with a ≤ 1, e.g. flat priors on both μ and τ
    ///   with fewer than 3 studies), or a quadrature that does not converge.
    public init(yi: [Double], vi: [Double], tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        guard yi.count == vi.count else {
            throw MetaPoolError(.invalidArgument, "yi has \(yi.count) values but vi has \(vi.count); give one sampling variance per effect")
        }
        guard !yi.isEmpty else {
            throw MetaPoolError(.insufficientData, "the Bayesian meta-analysis needs at least 1 study; there are none")
        }
        for i in yi.indices where !(yi[i].isFinite && vi[i].isFinite && vi[i] >= EffectSizes.smallestVariance) {
            throw MetaPoolError(.invalidValue, "study \(i + 1): yi = \(yi[i]), vi = \(vi[i]); every effect must be finite and every sampling variance finite and greater than 0",
                                at: InputLocation(row: i + 1))
        }
        try tauPrior.validate()
        try muPrior.validate()
        // As τ → ∞, p(y|τ) ~ τ^(−(k−1)) with a flat prior on μ (Πwᵢ^½ ~ τ^(−k), (Σwᵢ)^(−½) ~ τ) and
        // ~ τ^(−k) with a normal one (Σwᵢ → 1/s²); with p(τ) ~ τ^(−b) the posterior is proper iff
        // a = b + (k − 1 or k) > 1 (Gelman 2006, Bayesian Anal. 1:515, for the flat–flat case: k ≥ 3).
        // Near τ = 0 everything is bounded.
        let k = Double(yi.count)
        let likelihoodExponent: Double
        if case .flat = muPrior { likelihoodExponent = k - 1 } else { likelihoodExponent = k }
        let a = tauPrior.tailExponent + likelihoodExponent
        guard a > 1 else {
            let muText: String
            if case .flat = muPrior { muText = "a flat prior on mu" } else { muText = "a normal prior on mu" }
            throw MetaPoolError(.insufficientData, "the posterior is improper: with \(yi.count) stud\(yi.count == 1 ? "y" : "ies"), \(muText) and this tau prior, p(tau | y) falls like tau^-\(Self.format(a)) and does not integrate; use a proper tau prior (half-normal, half-Cauchy, ...) or a normal prior on mu, or more studies")
        }
        self.yi = yi
        self.vi = vi
        self.tauPrior = tauPrior
        self.muPrior = muPrior
        self.tailExponent = a
        var constant = 0.0
        if case .halfStudentT(_, let nu) = tauPrior { constant = TauPrior.studentLogConstant(nu) }
        studentConstant = constant
        let built = try Self.build(Evaluator(yi: yi, vi: vi, tauPrior: tauPrior, muPrior: muPrior, studentConstant: constant),
                                   tailExponent: a, flatMu: likelihoodExponent == k - 1)
        nodeTau = built.tau
        nodeWeight = built.weight
        nodeMean = built.mean
        nodeVariance = built.variance
        leaves = built.leaves
        segments = built.segments
        logShift = built.logShift
        logIntegral = built.logIntegral
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)"
    }

    /// The number of studies k.
    public var count: Int { yi.count }

    // MARK: The posterior of τ

    /// Evaluates the unnormalised log posterior of τ, log p(τ) + log p(y|τ), with μ̂(τ) and σ²(τ).
    struct Evaluator {
        let yi: [Double], vi: [Double]
        let tauPrior: TauPrior
        let studentConstant: Double
        /// The pseudo-observation of a normal prior for μ: weight 1/s² (0 for a flat prior), value m, log s².
        let w0: Double, m0: Double, logV0: Double
        /// The number of normal terms integrated over μ (k, or k + 1 with a normal prior).
        let terms: Double
        let jeffreys: Bool

        init(yi: [Double], vi: [Double], tauPrior: TauPrior, muPrior: EffectPrior, studentConstant: Double) {
            self.yi = yi
            self.vi = vi
            self.tauPrior = tauPrior
            self.studentConstant = studentConstant
            switch muPrior {
            case .flat:
                w0 = 0; m0 = 0; logV0 = 0; terms = Double(yi.count)
            case .normal(let m, let s):
                w0 = 1 / (s * s); m0 = m; logV0 = 2 * Double.log(s); terms = Double(yi.count + 1)
            }
            jeffreys = tauPrior == .jeffreys
        }

        /// (log p(τ) + log p(y|τ), μ̂(τ), σ²(τ)); −∞ outside the prior's support or where the sums
        /// leave the floating-point range. Two passes over the studies, no allocation.
        @inline(__always)
        func callAsFunction(_ tau: Double) -> (log: Double, mean: Double, variance: Double) {
            let e = evaluate(tau)
            return (e.log, e.mean, e.variance)
        }

        /// As `callAsFunction`, with the sum of the magnitudes of the terms of the log density: its
        /// rounding error is about 1e-16 of that, which bounds the relative accuracy any quadrature
        /// of exp(log density) can reach.
        @inline(__always)
        func evaluate(_ tau: Double) -> (log: Double, mean: Double, variance: Double, magnitude: Double) {
            let t2 = tau * tau
            guard tau >= 0, t2.isFinite, tau <= tauPrior.upperBound else { return (-.infinity, .nan, .nan, .nan) }
            var sw = w0, swy = w0 * m0, sLogV = logV0, sJ = 0.0
            yi.withUnsafeBufferPointer { y in
                vi.withUnsafeBufferPointer { v in
                    for i in 0..<y.count {
                        let variance = v[i] + t2
                        let w = 1 / variance
                        sw += w
                        swy += w * y[i]
                        sLogV += Double.log(variance)
                        if jeffreys {
                            let r = tau * w
                            sJ += r * r
                        }
                    }
                }
            }
            guard sw > 0, sw.isFinite else { return (-.infinity, .nan, .nan, .nan) }
            let mean = swy / sw
            var q = w0 * (m0 - mean) * (m0 - mean)
            yi.withUnsafeBufferPointer { y in
                vi.withUnsafeBufferPointer { v in
                    for i in 0..<y.count {
                        let d = y[i] - mean
                        q += d * d / (v[i] + t2)
                    }
                }
            }
            // Gelman et al. 2013, BDA3 §5.4, with μ integrated out against the flat or normal prior.
            let logLikelihood = -0.5 * ((terms - 1) * Double.log(2 * Double.pi) + sLogV + Double.log(sw) + q)
            // The Jeffreys prior √(Σ(τwᵢ)²) (Röver 2020, §2.4), unnormalised.
            let logPrior = jeffreys ? 0.5 * Double.log(sJ) : tauPrior.logDensity(tau, studentConstant: studentConstant)
            let value = logLikelihood + logPrior
            guard !value.isNaN, value < .infinity else { return (-.infinity, .nan, .nan, .nan) }
            let magnitude = (terms - 1) * Double.log(2 * Double.pi) + abs(sLogV) + abs(Double.log(sw)) + q + abs(logPrior)
            return (value, mean, 1 / sw, magnitude)
        }
    }

    struct Built {
        var tau: [Double], weight: [Double], mean: [Double], variance: [Double]
        var leaves: [Leaf], segments: [Segment]
        var logShift: Double, logIntegral: Double
    }

    static let maximumLeaves = 1000

    /// The adaptive rule over τ (see the type's documentation).
    static func build(_ f: Evaluator, tailExponent a: Double, flatMu: Bool) throws(MetaPoolError) -> Built {
        let upper = f.tauPrior.upperBound
        // A typical scale: √ of the typical within-study variance (or of the smallest variance).
        var scale = SafeguardedRoot.typicalScale(f.vi).squareRoot()
        if !(scale > 0 && scale.isFinite) { scale = 1 }
        // The mode: the best of τ = 0 and a geometric grid, refined by golden-section search.
        var bestTau = 0.0, best = f(0).log
        var grid: [Double] = [0]
        for j in -60...60 {
            let t = scale * Double.pow(2, Double(j))
            if t < upper && t.isFinite { grid.append(t) }
        }
        if upper.isFinite { grid.append(upper) }
        var bestIndex = 0
        for (index, t) in grid.enumerated() {
            let value = f(t).log
            if value > best { best = value; bestTau = t; bestIndex = index }
        }
        guard best > -.infinity else {
            throw MetaPoolError(.noConvergence, "the posterior density of tau is zero or not finite everywhere it was evaluated")
        }
        do {
            var lo = grid[max(0, bestIndex - 1)], hi = grid[min(grid.count - 1, bestIndex + 1)]
            let ratio = (5.0.squareRoot() - 1) / 2
            for _ in 0..<80 where hi - lo > 1e-10 * max(hi, scale) {
                let x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo)
                if f(x1).log >= f(x2).log { hi = x2 } else { lo = x1 }
            }
            let candidate = 0.5 * (lo + hi)
            let value = f(candidate).log
            if value > best { best = value; bestTau = candidate }
        }
        // Breakpoints where the log density has fallen by d on either side of the mode.
        var points: [Double] = [0, bestTau]
        for d in [0.5, 2, 8, 20, 45] {
            let target = best - d
            if f(0).log < target && bestTau > 0 {
                var lo = 0.0, hi = bestTau
                for _ in 0..<60 {
                    let mid = 0.5 * (lo + hi)
                    if f(mid).log < target { lo = mid } else { hi = mid }
                }
                points.append(0.5 * (lo + hi))
            }
            // Right: double the step until below the target (or past the support), then bisect.
            var step = max(bestTau, scale) * 0.25
            var inside = bestTau, outside = Double.nan
            for _ in 0..<2100 {
                let t = bestTau + step
                if t >= upper { break }
                if !t.isFinite { break }
                if f(t).log < target { outside = t; break }
                inside = t
                step *= 2
            }
            if outside.isFinite {
                for _ in 0..<60 {
                    let mid = 0.5 * (inside + outside)
                    if f(mid).log < target { outside = mid } else { inside = mid }
                }
                points.append(0.5 * (inside + outside))
            }
        }
        if upper.isFinite { points.append(upper) }
        points.sort()
        var cuts: [Double] = []
        for p in points where p <= upper && (cuts.isEmpty || p > cuts[cuts.count - 1] * (1 + 1e-12) + 1e-300) {
            cuts.append(p)
        }
        var segments: [Segment] = []
        for i in 0..<(cuts.count - 1) {
            segments.append(Segment(start: cuts[i], scale: 0, isTail: false))
        }
        var leaves: [Leaf] = []
        for (i, s) in segments.enumerated() {
            leaves.append(Leaf(segment: i, lower: 0, upper: cuts[i + 1] - s.start))
        }
        if !upper.isFinite {
            let last = cuts[cuts.count - 1]
            let tailScale = last - bestTau > 0 ? last - bestTau : max(last, scale)
            segments.append(Segment(start: last, scale: tailScale, isTail: true))
            for j in 0..<4 {
                leaves.append(Leaf(segment: segments.count - 1, lower: Double(j) / 4, upper: Double(j + 1) / 4))
            }
        }

        let rule = GaussLegendreRule.fifteen
        // GL15 over [lo, hi] of segment s: the six integrals.
        func integrate(_ s: Segment, _ lo: Double, _ hi: Double) -> Sums {
            let half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo)
            var out = Sums()
            for i in 0..<rule.nodes.count {
                let u = mid + half * rule.nodes[i]
                let tau = s.tau(u)
                let e = f(tau)
                guard e.log > -.infinity else { continue }
                let g = Double.exp(e.log - best) * s.jacobian(u) * rule.weights[i] * half
                guard g.isFinite, g > 0 else { continue }
                out.g += g
                out.tg += tau * g
                out.t2g += tau * tau * g
                out.mg += e.mean * g
                out.absMg += abs(e.mean) * g
                out.m2g += (e.variance + e.mean * e.mean) * g
            }
            return out
        }
        func evaluateLeaf(_ leaf: inout Leaf) {
            let s = segments[leaf.segment]
            let whole = integrate(s, leaf.lower, leaf.upper)
            let mid = 0.5 * (leaf.lower + leaf.upper)
            let halves = integrate(s, leaf.lower, mid) + integrate(s, mid, leaf.upper)
            leaf.estimate = halves
            leaf.error = whole.distance(halves)
        }
        for i in leaves.indices { evaluateLeaf(&leaves[i]) }
        // Which moments exist: E[τ] needs a > 2, E[τ²] (and E[μ²] with a flat μ prior) a > 3.
        let checkTau = a > 2, checkTau2 = a > 3, checkMu2 = !flatMu || a > 3
        // The tolerance, unless the log density's own rounding error (with terms of size 1e6 when the
        // effects are far apart on the scale of their standard errors) is larger.
        let tol = max(relativeTolerance, 64 * Double.ulpOfOne * f.evaluate(bestTau).magnitude)
        var converged = false
        while true {
            var total = Sums(), error = Sums()
            for leaf in leaves {
                total = total + leaf.estimate
                error = error + leaf.error
            }
            func ratio(_ e: Sums, _ t: Sums) -> Double {
                var r = e.g / (tol * t.g)
                if checkTau { r = max(r, e.tg / (tol * t.tg)) }
                if checkTau2 { r = max(r, e.t2g / (tol * t.t2g)) }
                r = max(r, e.mg / (tol * max(t.absMg, 1e-300 * t.g)))
                if checkMu2 { r = max(r, e.m2g / (tol * t.m2g)) }
                return r.isNaN ? .infinity : r
            }
            if ratio(error, total) <= 1 { converged = true; break }
            if leaves.count >= maximumLeaves { break }
            // Split the leaf contributing most to the worst error.
            var worst = 0, worstValue = -1.0
            for (i, leaf) in leaves.enumerated() {
                let r = ratio(leaf.error, total)
                if r > worstValue { worstValue = r; worst = i }
            }
            let leaf = leaves[worst]
            let mid = 0.5 * (leaf.lower + leaf.upper)
            guard mid > leaf.lower, mid < leaf.upper else { break }
            var left = Leaf(segment: leaf.segment, lower: leaf.lower, upper: mid)
            var right = Leaf(segment: leaf.segment, lower: mid, upper: leaf.upper)
            evaluateLeaf(&left)
            evaluateLeaf(&right)
            leaves[worst] = left
            leaves.append(right)
        }
        var total = Sums()
        for leaf in leaves { total = total + leaf.estimate }
        guard total.g > 0, total.g.isFinite else {
            throw MetaPoolError(.noConvergence, "the integral of the posterior density of tau is zero or not finite")
        }
        // Not converged: a posterior spread over hundreds of orders of magnitude of τ (sampling variances
        // of 1e250 with a half-Cauchy prior) whose moments the rule cannot resolve; no estimate is given.
        guard converged else {
            throw MetaPoolError(.noConvergence, "the quadrature over tau did not reach relative accuracy \(tol) in \(maximumLeaves) subintervals: the posterior of tau spreads over too many orders of magnitude")
        }
        leaves.sort { ($0.segment, $0.lower) < ($1.segment, $1.lower) }
        // The final nodes: 15 on each half of every leaf, with normalised weights.
        let z = total.g
        var tau: [Double] = [], weight: [Double] = [], mean: [Double] = [], variance: [Double] = []
        let capacity = leaves.count * 2 * rule.nodes.count
        tau.reserveCapacity(capacity); weight.reserveCapacity(capacity); mean.reserveCapacity(capacity); variance.reserveCapacity(capacity)
        var cumulative = 0.0
        for index in leaves.indices {
            let leaf = leaves[index]
            let s = segments[leaf.segment]
            let mid = 0.5 * (leaf.lower + leaf.upper)
            var mass = 0.0
            for part in 0..<2 {
                let lo = part == 0 ? leaf.lower : mid, hi = part == 0 ? mid : leaf.upper
                let half = 0.5 * (hi - lo), centre = 0.5 * (hi + lo)
                for i in 0..<rule.nodes.count {
                    let u = centre + half * rule.nodes[i]
                    let t = s.tau(u)
                    let e = f(t)
                    guard e.log > -.infinity else { continue }
                    let w = Double.exp(e.log - best) * s.jacobian(u) * rule.weights[i] * half / z
                    guard w.isFinite, w > 0 else { continue }
                    tau.append(t); weight.append(w); mean.append(e.mean); variance.append(e.variance)
                    mass += w
                }
            }
            leaves[index].mass = mass
            leaves[index].cumulative = cumulative
            cumulative += mass
        }
        return Built(tau: tau, weight: weight, mean: mean, variance: variance, leaves: leaves, segments: segments,
                     logShift: best, logIntegral: Double.log(z))
    }

    var evaluator: Evaluator {
        Evaluator(yi: yi, vi: vi, tauPrior: tauPrior, muPrior: muPrior, studentConstant: studentConstant)
    }

    /// The posterior density p(τ|y).
    public func tauDensity(_ tau: Double) -> Double {
        guard !tau.isNaN else { return .nan }
        let e = evaluator(tau)
        guard e.log > -.infinity else { return 0 }
        return Double.exp(e.log - logShift - logIntegral)
    }

    /// ∫ from the start of `leaf` to u of p(τ|y) dτ, by 15-point Gauss–Legendre on each half.
    private func partialMass(_ leaf: Leaf, to u: Double, _ f: Evaluator) -> Double {
        let s = segments[leaf.segment]
        let rule = GaussLegendreRule.fifteen
        let mid = 0.5 * (leaf.lower + u)
        var sum = 0.0
        for part in 0..<2 {
            let lo = part == 0 ? leaf.lower : mid, hi = part == 0 ? mid : u
            let half = 0.5 * (hi - lo), centre = 0.5 * (hi + lo)
            for i in 0..<rule.nodes.count {
                let v = centre + half * rule.nodes[i]
                let e = f(s.tau(v))
                guard e.log > -.infinity else { continue }
                let w = Double.exp(e.log - logShift - logIntegral) * s.jacobian(v) * rule.weights[i] * half
                if w.isFinite { sum += w }
            }
        }
        return sum
    }

    /// The leaf holding τ (the last one for τ beyond every leaf).
    private func leafIndex(containing tau: Double) -> Int {
        var lo = 0, hi = leaves.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            let leaf = leaves[mid]
            if segments[leaf.segment].tau(leaf.upper) < tau { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The posterior CDF P(τ ≤ x | y).
    public func tauCDF(_ x: Double) -> Double {
        guard !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        if x >= tauPrior.upperBound { return 1 }
        if x == .infinity { return 1 }
        let index = leafIndex(containing: x)
        let leaf = leaves[index]
        let s = segments[leaf.segment]
        let u = min(max(s.variable(x), leaf.lower), leaf.upper)
        return min(1, max(0, leaf.cumulative + partialMass(leaf, to: u, evaluator)))
    }

    /// The posterior quantile of τ: the x with P(τ ≤ x | y) = p.
    public func tauQuantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return tauPrior.upperBound }
        // The leaf where the cumulative mass crosses p.
        var index = leaves.count - 1
        for (i, leaf) in leaves.enumerated() where leaf.cumulative + leaf.mass >= p {
            index = i
            break
        }
        let leaf = leaves[index]
        let s = segments[leaf.segment]
        let f = evaluator
        let target = p - leaf.cumulative
        // Newton in the leaf's variable, kept inside a bisection bracket.
        var lo = leaf.lower, hi = leaf.upper
        var u = 0.5 * (lo + hi)
        for _ in 0..<200 {
            let value = partialMass(leaf, to: u, f) - target
            if value == 0 { break }
            if value < 0 { lo = u } else { hi = u }
            let e = f(s.tau(u))
            let slope = e.log > -.infinity ? Double.exp(e.log - logShift - logIntegral) * s.jacobian(u) : 0
            var next = slope > 0 ? u - value / slope : .nan
            if !(next > lo && next < hi) { next = 0.5 * (lo + hi) }
            let done = abs(next - u) <= 1e-15 * max(abs(u), abs(leaf.upper - leaf.lower)) || hi - lo <= 1e-15 * max(abs(u), 1e-300)
            u = next
            if done { break }
        }
        return s.tau(u)
    }

    // MARK: Mixtures of normals over the τ nodes

    /// Σⱼ Wⱼ P(X ≤ x) (or P(X > x) with `upper`) for the mixture whose component j is N(mean, sd²).
    @inline(__always)
    func mixtureCDF(_ x: Double, upper: Bool, _ component: (Int) -> (mean: Double, sd: Double)) -> Double {
        var s = 0.0
        for j in 0..<nodeWeight.count {
            let c = component(j)
            let z = (x - c.mean) / c.sd
            s += nodeWeight[j] * Normal.standardSurvival(upper ? z : -z)
        }
        return min(1, max(0, s))
    }

    @inline(__always)
    func mixtureDensity(_ x: Double, _ component: (Int) -> (mean: Double, sd: Double)) -> Double {
        var s = 0.0
        for j in 0..<nodeWeight.count {
            let c = component(j)
            let z = (x - c.mean) / c.sd
            s += nodeWeight[j] * Double.exp(-0.5 * z * z) / (c.sd * Normal.sqrtTwoPi)
        }
        return s
    }

    /// The mixture's mean and standard deviation (law of total variance).
    func mixtureMoments(_ component: (Int) -> (mean: Double, sd: Double)) -> (mean: Double, sd: Double) {
        var m = 0.0
        for j in 0..<nodeWeight.count { m += nodeWeight[j] * component(j).mean }
        var v = 0.0
        for j in 0..<nodeWeight.count {
            let c = component(j)
            v += nodeWeight[j] * (c.sd * c.sd + (c.mean - m) * (c.mean - m))
        }
        return (m, v.squareRoot())
    }

    /// The x with mixture CDF p: Newton steps on the lower (p ≤ ½) or upper tail probability,
    /// inside a bracket found by stepping out from the normal approximation.
    func mixtureQuantile(_ p: Double, _ component: (Int) -> (mean: Double, sd: Double)) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        let upper = p > 0.5
        let target = upper ? 1 - p : p
        // g(x) = F(x) − p, or (1 − p) − S(x) in the upper half: increasing in x, with slope the density.
        func g(_ x: Double) -> Double {
            upper ? target - mixtureCDF(x, upper: true, component) : mixtureCDF(x, upper: false, component) - target
        }
        let (m, sd0) = mixtureMoments(component)
        let sd = sd0.isFinite && sd0 > 0 ? sd0 : max(1, abs(m))
        var x = m + sd * Normal.standardQuantile(p)
        if !x.isFinite { x = m }
        var lo = -Double.infinity, hi = Double.infinity
        var step = sd
        var gx = g(x)
        // Bracket.
        for _ in 0..<2000 {
            if gx < 0 { lo = x } else { hi = x }
            if lo.isFinite && hi.isFinite { break }
            x = gx < 0 ? x + step : x - step
            step *= 2
            gx = g(x)
            if !x.isFinite { return x }
        }
        guard lo.isFinite, hi.isFinite else { return .nan }
        x = gx < 0 ? lo : hi
        for _ in 0..<300 {
            let value = g(x)
            if value == 0 { return x }
            if value < 0 { lo = x } else { hi = x }
            let d = mixtureDensity(x, component)
            var next = d > 0 ? x - value / d : .nan
            if !(next > lo && next < hi) { next = 0.5 * (lo + hi) }
            if abs(next - x) <= 2e-16 * max(abs(x), sd) || hi - lo <= 2e-16 * max(abs(x), sd) { return next }
            x = next
        }
        return x
    }

    @inline(__always) func muComponent(_ j: Int) -> (mean: Double, sd: Double) {
        (nodeMean[j], nodeVariance[j].squareRoot())
    }
    @inline(__always) func predictiveComponent(_ j: Int) -> (mean: Double, sd: Double) {
        (nodeMean[j], (nodeVariance[j] + nodeTau[j] * nodeTau[j]).squareRoot())
    }
    /// θᵢ | τ, y ~ N((1 − Bᵢ)yᵢ + Bᵢμ̂, τ²vᵢ/(vᵢ + τ²) + Bᵢ²σ²), Bᵢ = vᵢ/(vᵢ + τ²)
    /// (Gelman et al. 2013, BDA3 §5.4, with the uncertainty of μ̂ added).
    @inline(__always) func studyComponent(_ i: Int, _ j: Int) -> (mean: Double, sd: Double) {
        let t2 = nodeTau[j] * nodeTau[j]
        let b = vi[i] / (vi[i] + t2)
        return ((1 - b) * yi[i] + b * nodeMean[j], (t2 * b + b * b * nodeVariance[j]).squareRoot())
    }

    /// The posterior density, CDF and quantile of μ.
    public func muDensity(_ x: Double) -> Double { mixtureDensity(x, muComponent) }
    public func muCDF(_ x: Double) -> Double { x.isNaN ? .nan : mixtureCDF(x, upper: false, muComponent) }
    public func muQuantile(_ p: Double) -> Double { mixtureQuantile(p, muComponent) }
    /// The posterior predictive density, CDF and quantile of a new study's θ (Röver 2020, §2).
    public func predictiveDensity(_ x: Double) -> Double { mixtureDensity(x, predictiveComponent) }
    public func predictiveCDF(_ x: Double) -> Double { x.isNaN ? .nan : mixtureCDF(x, upper: false, predictiveComponent) }
    public func predictiveQuantile(_ p: Double) -> Double { mixtureQuantile(p, predictiveComponent) }

    /// The shortest interval of probability `level` for a unimodal density: [q(p), q(p + level)]
    /// with f(q(p)) = f(q(p + level)), p found by bisection (or p at an end of [0, 1 − level]
    /// where the density is monotone across the interval) until its bracket is below `tolerance`.
    /// Shared by the Bayesian models (``BinomialBayesianMetaAnalysis`` bisects to 1e-15, the
    /// noise of its tabulated quantiles).
    static func shortestInterval(level: Double, tolerance: Double = 1e-17, quantile: (Double) -> Double,
                                 density: (Double) -> Double) -> Interval {
        func h(_ p: Double) -> Double { density(quantile(p)) - density(quantile(min(1, p + level))) }
        var lo = 0.0, hi = 1 - level
        if h(lo) >= 0 { return Interval(quantile(0), quantile(level)) }
        if h(hi) <= 0 { return Interval(quantile(hi), quantile(1)) }
        for _ in 0..<60 {
            let mid = 0.5 * (lo + hi)
            if h(mid) < 0 { lo = mid } else { hi = mid }
            if hi - lo <= tolerance { break }
        }
        let p = 0.5 * (lo + hi)
        return Interval(quantile(p), quantile(min(1, p + level)))
    }

    // MARK: Summaries

    /// The arguments every Bayesian model's `summary(level:threshold:)` takes: a level in (0, 1) and
    /// a finite threshold.
    static func checkSummaryArguments(level: Double, threshold: Double) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        guard threshold.isFinite else {
            throw MetaPoolError(.invalidArgument, "the threshold must be a finite number; got \(threshold)")
        }
    }

    /// Posterior summaries at credibility `level`; `threshold` c for P(μ > c) and P(θ_new > c).
    /// - Throws: ``MetaPoolError`` for a level outside (0, 1) or a non-finite threshold.
    public func summary(level: Double = 0.95, threshold: Double = 0) throws(MetaPoolError) -> BayesianMetaAnalysisSummary {
        try Self.checkSummaryArguments(level: level, threshold: threshold)
        let alpha = (1 - level) / 2
        let a = tailExponent
        let flatMu = muPrior == .flat
        // τ
        var tauMean = 0.0
        for j in nodeWeight.indices { tauMean += nodeWeight[j] * nodeTau[j] }
        var tauVariance = 0.0
        for j in nodeWeight.indices { tauVariance += nodeWeight[j] * (nodeTau[j] - tauMean) * (nodeTau[j] - tauMean) }
        let tauSummary = PosteriorSummary(
            mean: a > 2 ? tauMean : .infinity,
            standardDeviation: a > 3 ? tauVariance.squareRoot() : .infinity,
            median: tauQuantile(0.5),
            central: Interval(tauQuantile(alpha), tauQuantile(1 - alpha)),
            shortest: Self.shortestInterval(level: level, quantile: tauQuantile, density: tauDensity))
        // μ: E|μ| needs E[σ(τ)] (a > 2 with a flat prior on μ), Var μ needs E[σ²(τ)] (a > 3).
        let mu = mixtureMoments(muComponent)
        let muSummary = PosteriorSummary(
            mean: !flatMu || a > 2 ? mu.mean : .nan,
            standardDeviation: !flatMu || a > 3 ? mu.sd : .infinity,
            median: muQuantile(0.5),
            central: Interval(muQuantile(alpha), muQuantile(1 - alpha)),
            shortest: Self.shortestInterval(level: level, quantile: muQuantile, density: muDensity))
        // θ_new: its variance σ² + τ² needs E[τ²] whatever the prior on μ.
        let prediction = mixtureMoments(predictiveComponent)
        let predictionSummary = PosteriorSummary(
            mean: a > 2 ? prediction.mean : .nan,
            standardDeviation: a > 3 ? prediction.sd : .infinity,
            median: predictiveQuantile(0.5),
            central: Interval(predictiveQuantile(alpha), predictiveQuantile(1 - alpha)),
            shortest: Self.shortestInterval(level: level, quantile: predictiveQuantile, density: predictiveDensity))
        var studies: [StudyPosterior] = []
        studies.reserveCapacity(count)
        for i in 0..<count {
            let component = { (j: Int) in self.studyComponent(i, j) }
            let m = mixtureMoments(component)
            studies.append(StudyPosterior(mean: m.mean, standardDeviation: m.sd, median: mixtureQuantile(0.5, component),
                                          central: Interval(mixtureQuantile(alpha, component), mixtureQuantile(1 - alpha, component))))
        }
        // The marginal likelihood p(y) = ∫p(τ)p(y|τ)dτ with both priors proper.
        let logMarginal: Double? = tauPrior.isProper && !flatMu ? logShift + logIntegral : nil
        // Savage–Dickey density ratios (Dickey 1971): p(τ = 0|y)/p(τ = 0), p(μ = 0|y)/p(μ = 0).
        var bfTau: Double?
        if let p0 = tauPrior.densityAtZero { bfTau = tauDensity(0) / p0 }
        var bfMu: Double?
        if case .normal(let m, let s) = muPrior {
            bfMu = muDensity(0) / Normal(mean: m, standardDeviation: s).density(0)
        }
        return BayesianMetaAnalysisSummary(
            level: level, threshold: threshold, tau: tauSummary, mu: muSummary, prediction: predictionSummary,
            probabilityMuAbove: mixtureCDF(threshold, upper: true, muComponent),
            probabilityPredictionAbove: mixtureCDF(threshold, upper: true, predictiveComponent),
            studies: studies, logMarginalLikelihood: logMarginal, bayesFactorTauZero: bfTau, bayesFactorMuZero: bfMu,
            nodeCount: nodeWeight.count)
    }
}

/// Posterior summaries of one quantity (τ, μ or a new study's θ).
public struct PosteriorSummary: Sendable, Hashable {
    /// The posterior mean: +∞ for τ, NaN for μ and θ_new, when it does not exist (a heavy-tailed posterior).
    public let mean: Double
    /// The posterior standard deviation; +∞ when the second moment diverges.
    public let standardDeviation: Double
    public let median: Double
    /// The equal-tailed interval [q(α/2), q(1 − α/2)].
    public let central: Interval
    /// The shortest interval of the same probability (bayesmeta's default `interval.type = "shortest"`).
    public let shortest: Interval
}

/// The posterior of a study's true effect θᵢ (the shrinkage estimate).
public struct StudyPosterior: Sendable, Hashable {
    public let mean: Double, standardDeviation: Double, median: Double
    /// The equal-tailed interval.
    public let central: Interval
}

/// What ``BayesianMetaAnalysis/summary(level:threshold:)`` returns.
public struct BayesianMetaAnalysisSummary: Sendable {
    public let level: Double, threshold: Double
    /// The heterogeneity τ, the effect μ and a new study's θ (the posterior predictive distribution).
    public let tau: PosteriorSummary, mu: PosteriorSummary, prediction: PosteriorSummary
    /// P(μ > c | y) and P(θ_new > c | y).
    public let probabilityMuAbove: Double, probabilityPredictionAbove: Double
    /// The shrinkage estimates, one per study in input order.
    public let studies: [StudyPosterior]
    /// log p(y), with proper priors on both τ and μ; `nil` otherwise.
    public let logMarginalLikelihood: Double?
    /// Savage–Dickey Bayes factors for τ = 0 (a τ prior with finite positive density at 0) and for
    /// μ = 0 (a normal prior on μ): values above 1 favour the point hypothesis.
    public let bayesFactorTauZero: Double?, bayesFactorMuZero: Double?
    /// The number of quadrature nodes over τ.
    public let nodeCount: Int
}

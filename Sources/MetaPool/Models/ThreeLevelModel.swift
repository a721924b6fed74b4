// The three-level random-effects model: effects within cohorts within clusters (several cohorts
// of one trial), fitted by ML or REML in O(k) per evaluation through the block structure.

import RealModule

/// A three-level random-effects meta-analysis (Konstantopoulos 2011, eq. 4; metafor's
/// `rma.mv(yi, vi, random = ~ 1 | cluster/cohort)`): yᵢⱼ = μ + uᵢ + wᵢⱼ + eᵢⱼ for cohort j of
/// cluster i, with uᵢ ~ N(0, σ²₁) between clusters, wᵢⱼ ~ N(0, σ²₂) between cohorts of one cluster,
/// and eᵢⱼ ~ N(0, vᵢⱼ) the sampling error.
///
/// The marginal covariance of cluster i is Vᵢ = Aᵢ⁻¹ + σ²₁·11ᵀ with Aᵢ = diag(aᵢⱼ),
/// aᵢⱼ = 1/(vᵢⱼ + σ²₂), so by Sherman and Morrison (1950) Vᵢ⁻¹ = Aᵢ − σ²₁·Aᵢ11ᵀAᵢ/dᵢ and
/// log|Vᵢ| = Σⱼ log(vᵢⱼ + σ²₂) + log dᵢ, with Sᵢ = Σⱼ aᵢⱼ and dᵢ = 1 + σ²₁Sᵢ. Every sum the
/// likelihood, its gradient and the pooled estimate need is then a sum over studies: no k × k matrix.
public struct ThreeLevelModel: Sendable {
    /// The effects, variances and cluster of each study, reordered so that each cluster's studies are together.
    let y: [Double], v: [Double]
    /// The first study of each cluster in `y` and `v`, and `y.count` at the end.
    let starts: [Int]

    /// - Parameters:
    ///   - cluster: the cluster of each study (any integers; equal values are one cluster).
    /// - Throws: ``MetaPoolError`` for arrays of different lengths, fewer than 2 studies, a
    ///   non-finite effect or non-positive variance, or one study in every cluster (the two
    ///   variances cannot be told apart).
    public init(yi: [Double], vi: [Double], cluster: [Int]) throws(MetaPoolError) {
        guard yi.count == vi.count, yi.count == cluster.count else {
            throw MetaPoolError(.invalidArgument, "yi, vi and cluster have \(yi.count), \(vi.count) and \(cluster.count) values; give one of each per study")
        }
        try RestrictedMaximumLikelihood.validate(y: yi, v: vi)
        // Stable grouping by cluster, clusters in order of first appearance.
        var firstSeen: [Int: Int] = [:]
        var order: [Int] = []
        for c in cluster where firstSeen[c] == nil {
            firstSeen[c] = order.count
            order.append(c)
        }
        var counts = [Int](repeating: 0, count: order.count)
        for c in cluster { counts[firstSeen[c]!] += 1 }
        var starts = [0]
        starts.reserveCapacity(order.count + 1)
        for n in counts { starts.append(starts.last! + n) }
        var next = Array(starts.dropLast())
        var y = [Double](repeating: 0, count: yi.count), v = [Double](repeating: 0, count: yi.count)
        for i in yi.indices {
            let g = firstSeen[cluster[i]]!
            y[next[g]] = yi[i]
            v[next[g]] = vi[i]
            next[g] += 1
        }
        // With one study in every cluster, σ²₁ and σ²₂ enter the likelihood only as their sum.
        guard counts.contains(where: { $0 > 1 }) else { throw Self.reducesToTwoLevels }
        self.y = y
        self.v = v
        self.starts = starts
    }

    /// One study in every cluster: σ²₁ and σ²₂ are not identified (shared with ``ThreeLevelRegression``).
    static let reducesToTwoLevels = MetaPoolError(.insufficientData, "every cluster holds a single study, so the between-cluster and within-cluster variances cannot be told apart: the model reduces to the two-level one; fit that instead (no cluster column)")

    /// The number of studies k.
    public var count: Int { y.count }
    /// The number of clusters.
    public var clusterCount: Int { starts.count - 1 }

    /// The sums over studies at (σ²₁, σ²₂): two passes (the pooled estimate, then the residuals about it).
    struct Sums {
        /// μ̂ = Σᵢ(Tᵢ/dᵢ) / Σᵢ(Sᵢ/dᵢ), Tᵢ = Σⱼ aᵢⱼyᵢⱼ, and W = Σᵢ Sᵢ/dᵢ = 1ᵀV⁻¹1 (1/W is Var μ̂).
        var mean = 0.0, w = 0.0
        /// log|V| = Σᵢ log|Vᵢ|, and rᵀV⁻¹r with r = y − μ̂.
        var logDeterminant = 0.0, quadratic = 0.0
        /// The halves of the score: Σᵢ Sᵢ/dᵢ (tr V⁻¹J), Σᵢ (Rᵢ/dᵢ)² (rᵀV⁻¹JV⁻¹r), tr V⁻¹ and rᵀV⁻²r,
        /// with Rᵢ = Σⱼ aᵢⱼrᵢⱼ; for REML also Σᵢ (Sᵢ/dᵢ)² and Σᵢ A2ᵢ/dᵢ² (A2ᵢ = Σⱼ aᵢⱼ²).
        var traceJ = 0.0, quadraticJ = 0.0, traceI = 0.0, quadraticI = 0.0
        var correctionJ = 0.0, correctionI = 0.0
    }

    func sums(_ s1: Double, _ s2: Double) -> Sums {
        var out = Sums()
        var numerator = 0.0
        y.withUnsafeBufferPointer { y in
            v.withUnsafeBufferPointer { v in
                for g in 0..<(starts.count - 1) {
                    var s = 0.0, t = 0.0
                    for j in starts[g]..<starts[g + 1] {
                        let a = 1 / (v[j] + s2)
                        s += a
                        t += a * y[j]
                    }
                    let d = 1 + s1 * s
                    out.w += s / d
                    numerator += t / d
                }
                out.mean = numerator / out.w
                let mu = out.mean
                for g in 0..<(starts.count - 1) {
                    var s = 0.0, r = 0.0, ar2 = 0.0, a2 = 0.0, logV = 0.0
                    for j in starts[g]..<starts[g + 1] {
                        let a = 1 / (v[j] + s2)
                        let res = y[j] - mu
                        s += a
                        r += a * res
                        ar2 += a * res * res
                        a2 += a * a
                        logV += Double.log(v[j] + s2)
                    }
                    let d = 1 + s1 * s
                    out.logDeterminant += logV + Double.log(d)
                    out.quadratic += ar2 - s1 * r * r / d
                    out.traceJ += s / d
                    out.quadraticJ += (r / d) * (r / d)
                    out.traceI += s - s1 * a2 / d
                    out.correctionJ += (s / d) * (s / d)
                    out.correctionI += a2 / (d * d)
                    // rᵀV⁻²r = Σⱼ aᵢⱼ²(rᵢⱼ − cᵢ)², cᵢ = σ²₁Rᵢ/dᵢ: a third pass over the cluster.
                    let c = s1 * r / d
                    var q = 0.0
                    for j in starts[g]..<starts[g + 1] {
                        let a = 1 / (v[j] + s2)
                        let e = a * ((y[j] - mu) - c)
                        q += e * e
                    }
                    out.quadraticI += q
                }
            }
        }
        return out
    }

    /// The log-likelihood at (σ²₁, σ²₂) (full for ML, restricted for REML, as metafor's `logLik`),
    /// the pooled estimate profiled out. The restricted one includes ½·log|XᵀX| = ½·log k, as
    /// metafor's does (Harville 1974's form).
    func logLikelihood(_ s: Sums, restricted: Bool) -> Double {
        let k = Double(count)
        if restricted {
            return -0.5 * ((k - 1) * Double.log(2 * Double.pi) - Double.log(k) + s.logDeterminant + Double.log(s.w) + s.quadratic)
        }
        return -0.5 * (k * Double.log(2 * Double.pi) + s.logDeterminant + s.quadratic)
    }

    /// The gradient of ``logLikelihood(_:restricted:)`` with respect to (σ²₁, σ²₂):
    /// ½[rᵀV⁻¹ZZᵀV⁻¹r − tr(P ZZᵀ)] for ZZᵀ = J (block of ones) and I, P = V⁻¹ for ML and
    /// V⁻¹ − V⁻¹11ᵀV⁻¹/W for REML (Harville 1977, eqs. 4.4 and 4.7).
    func gradient(_ s: Sums, restricted: Bool) -> (Double, Double) {
        var trJ = s.traceJ, trI = s.traceI
        if restricted {
            trJ -= s.correctionJ / s.w
            trI -= s.correctionI / s.w
        }
        return (0.5 * (s.quadraticJ - trJ), 0.5 * (s.quadraticI - trI))
    }
}

/// A fitted three-level model (``ThreeLevelModel/fit(method:tDistribution:level:)``).
public struct ThreeLevelFit: Sendable {
    /// `.maximumLikelihood` or `.restrictedMaximumLikelihood`.
    public let method: TauSquaredMethod
    /// σ̂²₁, the variance of the true effects between clusters.
    public let clusterVariance: Double
    /// σ̂²₂, the variance of the true effects between cohorts of one cluster.
    public let cohortVariance: Double
    /// μ̂ with its standard error 1/√(1ᵀV̂⁻¹1), z or t test (t on k − 1 df, metafor's `test = "t"`) and interval.
    public let pooled: EstimateInference
    /// The (restricted) log-likelihood at the estimates, as metafor's `logLik()`.
    public let logLikelihood: Double
    /// The number of studies and of clusters.
    public let count: Int, clusterCount: Int
    /// The typical within-study variance (k − 1)/tr P with W = diag(1/vᵢ) (Higgins & Thompson 2002, eq. 9).
    public let typicalVariance: Double
    /// The two-level model with the same method (σ²₁ = 0): its τ̂² and log-likelihood, for the likelihood-ratio test.
    public let twoLevelTauSquared: Double, twoLevelLogLikelihood: Double
    /// Iterations of the optimiser.
    public let iterations: Int
    /// The cluster-robust (sandwich) inference for μ̂ as metafor's `robust(fit, cluster)` gives it:
    /// Var = n/(n − 1)·Σᵢ(1ᵀV̂ᵢ⁻¹eᵢ)²/(1ᵀV̂⁻¹1)² over the n clusters (the CR1 small-sample factor;
    /// Hedges, Tipton & Johnson 2010, eq. 6), with t on n − 1 df; `nil` with a single cluster.
    public let clusterRobust: EstimateInference?

    /// I² at each level (Cheung 2014, eqs. 12–13): the share of the total variance σ²₁ + σ²₂ + ṽ
    /// that is between clusters and between cohorts within clusters, in percent.
    public var iSquaredCluster: Double { 100 * clusterVariance / (clusterVariance + cohortVariance + typicalVariance) }
    public var iSquaredCohort: Double { 100 * cohortVariance / (clusterVariance + cohortVariance + typicalVariance) }

    /// The likelihood-ratio statistic against the two-level model, 2(ℓ₃ − ℓ₂), and its p-value on 1 df (metafor's `anova()`).
    public var likelihoodRatio: Double { max(0, 2 * (logLikelihood - twoLevelLogLikelihood)) }
    public var likelihoodRatioPValue: Double { ChiSquared(degreesOfFreedom: 1).survival(likelihoodRatio) }

    /// The prediction interval for the true effect of a new cohort in a new cluster,
    /// μ̂ ± c·√(SE² + σ̂²₁ + σ̂²₂), c from the normal or from t on k − 1 df as the test (metafor's `predict()`).
    public var predictionInterval: Interval {
        let c = EstimateInference.criticalValue(level: pooled.level, degreesOfFreedom: pooled.degreesOfFreedom)
        let half = c * (pooled.standardError * pooled.standardError + clusterVariance + cohortVariance).squareRoot()
        return Interval(pooled.estimate - half, pooled.estimate + half)
    }
}

extension ThreeLevelModel {
    /// Fits σ²₁ and σ²₂ ≥ 0 by maximising the (restricted) log-likelihood: Newton steps on the
    /// analytic score with the Hessian from its central differences, halved until the likelihood
    /// rises, and a component held at 0 while the score pushes it below (the boundary optimum).
    /// - Throws: ``MetaPoolError`` for a method other than ML or REML, an invalid level, or no convergence.
    public func fit(method: TauSquaredMethod = .restrictedMaximumLikelihood, tDistribution: Bool = false,
                    level: Double = 0.95) throws(MetaPoolError) -> ThreeLevelFit {
        try EstimateInference.checkLevel(level)
        guard method == .restrictedMaximumLikelihood || method == .maximumLikelihood else {
            throw MetaPoolError(.invalidArgument, "the three-level model is fitted by ML or REML, not \(method.rawValue)", remedy: .methods(["REML", "ML"]))
        }
        let restricted = method == .restrictedMaximumLikelihood
        let scale = SafeguardedRoot.typicalScale(v)
        // The two-level model (σ²₁ = 0) with the same method: the start and the likelihood-ratio test.
        let twoLevel = restricted ? try RestrictedMaximumLikelihood.tauSquared(y: y, v: v) : try MaximumLikelihood.tauSquared(y: y, v: v)
        let twoLevelLogLikelihood = logLikelihood(sums(0, twoLevel), restricted: restricted)
        let start = (max(0.5 * twoLevel, 0.01 * scale), max(0.5 * twoLevel, 0.01 * scale))
        guard let optimum = maximize(from: start, holding: (false, false), restricted: restricted, scale: scale) else {
            throw MetaPoolError(.noConvergence, "the three-level \(method.rawValue) fit did not converge")
        }
        let (theta, current, ll, iterations) = optimum
        let se = (1 / current.w).squareRoot()
        let pooled = EstimateInference(estimate: current.mean, standardError: se, level: level,
                                       degreesOfFreedom: tDistribution ? count - 1 : nil)
        var sw = 0.0, sw2 = 0.0
        for vi in v { sw += 1 / vi; sw2 += 1 / (vi * vi) }
        // 1ᵀV̂ᵢ⁻¹eᵢ = Rᵢ/dᵢ, whose squares the score's sums already hold (quadraticJ).
        let n = Double(clusterCount)
        let robust: EstimateInference? = clusterCount > 1
            ? EstimateInference(estimate: current.mean, standardError: (n / (n - 1) * current.quadraticJ).squareRoot() / current.w,
                                level: level, degreesOfFreedom: clusterCount - 1)
            : nil
        return ThreeLevelFit(method: method, clusterVariance: theta.0, cohortVariance: theta.1, pooled: pooled,
                             logLikelihood: ll, count: count, clusterCount: clusterCount,
                             typicalVariance: Double(count - 1) / (sw - sw2 / sw),
                             twoLevelTauSquared: twoLevel, twoLevelLogLikelihood: twoLevelLogLikelihood, iterations: iterations,
                             clusterRobust: robust)
    }

    /// Maximises the (restricted) log-likelihood over σ²₁, σ²₂ ≥ 0 from `start`, keeping a
    /// component at its start where `holding` says so (the profile likelihood): Newton steps on the
    /// analytic score with the Hessian from its central differences, halved until the likelihood
    /// does not fall, and a component held at 0 while the score pushes it below (a boundary optimum).
    /// `nil` when it does not converge in 500 iterations.
    func maximize(from start: (Double, Double), holding: (Bool, Bool), restricted: Bool, scale: Double)
        -> (theta: (Double, Double), sums: Sums, logLikelihood: Double, iterations: Int)? {
        var theta = start
        var current = sums(theta.0, theta.1)
        var ll = logLikelihood(current, restricted: restricted)
        var iterations = 0
        while iterations < 500 {
            iterations += 1
            let g = gradient(current, restricted: restricted)
            let free = (!holding.0 && !(theta.0 == 0 && g.0 <= 0), !holding.1 && !(theta.1 == 0 && g.1 <= 0))
            if !free.0 && !free.1 { return ll.isFinite ? (theta, current, ll, iterations) : nil }
            let h = hessian(theta, scale: scale, restricted: restricted)
            // A Newton step where the Hessian is negative definite, else a step along the score.
            func oneStep(_ gm: Double, _ hm: Double) -> Double { hm < 0 ? -gm / hm : gm / max(abs(hm), 1e-300) }
            var step: (Double, Double)
            if free.0 && free.1 {
                let det = h.0 * h.2 - h.1 * h.1
                step = h.0 < 0 && det > 0 ? ((-h.2 * g.0 + h.1 * g.1) / det, (h.1 * g.0 - h.0 * g.1) / det)
                                          : (oneStep(g.0, h.0), oneStep(g.1, h.2))
            } else if free.0 {
                step = (oneStep(g.0, h.0), 0)
            } else {
                step = (0, oneStep(g.1, h.2))
            }
            var t = 1.0
            var next = theta, nextSums = current, nextLL = ll
            while true {
                next = (max(0, theta.0 + t * step.0), max(0, theta.1 + t * step.1))
                nextSums = sums(next.0, next.1)
                nextLL = logLikelihood(nextSums, restricted: restricted)
                if nextLL >= ll - 1e-15 * abs(ll) || t < 1e-12 { break }
                t *= 0.5
            }
            let moved = max(abs(next.0 - theta.0) / max(theta.0, scale), abs(next.1 - theta.1) / max(theta.1, scale))
            theta = next
            current = nextSums
            ll = nextLL
            if moved <= 1e-12 { return ll.isFinite ? (theta, current, ll, iterations) : nil }
        }
        return nil
    }

    /// The Hessian (∂²ℓ/∂σ²₁², ∂²ℓ/∂σ²₁∂σ²₂, ∂²ℓ/∂σ²₂²) by central differences of the analytic score
    /// (forward differences where σ² − h would be negative).
    func hessian(_ theta: (Double, Double), scale: Double, restricted: Bool) -> (Double, Double, Double) {
        func g(_ a: Double, _ b: Double) -> (Double, Double) { gradient(sums(a, b), restricted: restricted) }
        let h0 = 1e-5 * max(theta.0, scale), h1 = 1e-5 * max(theta.1, scale)
        let lo0 = max(0, theta.0 - h0), hi0 = lo0 + 2 * h0
        let lo1 = max(0, theta.1 - h1), hi1 = lo1 + 2 * h1
        let a = g(hi0, theta.1), b = g(lo0, theta.1)
        let c = g(theta.0, hi1), d = g(theta.0, lo1)
        let h00 = (a.0 - b.0) / (hi0 - lo0), h11 = (c.1 - d.1) / (hi1 - lo1)
        let h01 = 0.5 * ((a.1 - b.1) / (hi0 - lo0) + (c.0 - d.0) / (hi1 - lo1))
        return (h00, h01, h11)
    }
}

extension ThreeLevelModel {
    /// The profile-likelihood confidence interval of σ²₁ (`cluster: true`) or σ²₂: the values
    /// where the log-likelihood maximised over the other component falls χ²₁,₁₋α/2 below its
    /// maximum (metafor's `confint()` on `rma.mv`; Hardy & Thompson 1996 for one variance). A bound
    /// is 0 when the profile stays above that level down to 0.
    /// - Throws: ``MetaPoolError`` when the profile does not fall that far within 2¹⁰⁰ times the scale, or an inner fit fails.
    public func varianceInterval(_ fit: ThreeLevelFit, cluster: Bool, level: Double = 0.95) throws(MetaPoolError) -> Interval {
        try EstimateInference.checkLevel(level)
        let restricted = fit.method == .restrictedMaximumLikelihood
        let scale = SafeguardedRoot.typicalScale(v)
        let target = fit.logLikelihood - 0.5 * ChiSquared(degreesOfFreedom: 1).quantile(level)
        let estimate = cluster ? fit.clusterVariance : fit.cohortVariance
        let other = cluster ? fit.cohortVariance : fit.clusterVariance
        func excess(_ x: Double) throws(MetaPoolError) -> Double {
            let start = cluster ? (x, other) : (other, x)
            guard let m = maximize(from: start, holding: (cluster, !cluster), restricted: restricted, scale: scale) else {
                throw MetaPoolError(.noConvergence, "the profile likelihood of \(cluster ? "sigma^2 (cluster)" : "sigma^2 (cohort)") did not converge at \(x)")
            }
            return m.logLikelihood - target
        }
        let name = cluster ? "sigma^2 (cluster)" : "sigma^2 (cohort)"
        let first = max(2 * estimate, scale)
        return try ProfileLikelihoodInterval.bounds(estimate: estimate, top: try excess(estimate), firstUpper: first,
                                                    ceiling: first * 0x1p100, floor: scale, name: name, excess: excess)
    }
}

/// A cluster-robust test of the pooled estimate with (possibly fractional) Satterthwaite degrees of freedom.
public struct RobustInference: Sendable, Hashable {
    public let estimate: Double
    public let standardError: Double
    /// ν, the Satterthwaite degrees of freedom of the t reference distribution.
    public let degreesOfFreedom: Double
    /// t = estimate/SE and its two-sided p-value on ν df.
    public let statistic: Double
    public let pValue: Double
    /// estimate ± t₁₋α/₂,ν·SE.
    public let confidenceInterval: Interval

    init(estimate: Double, standardError: Double, degreesOfFreedom: Double, level: Double) {
        self.estimate = estimate
        self.standardError = standardError
        self.degreesOfFreedom = degreesOfFreedom
        statistic = estimate / standardError
        let t = StudentT(degreesOfFreedom: degreesOfFreedom)
        pValue = 2 * t.survival(abs(statistic))
        let c = t.survivalQuantile((1 - level) / 2)
        confidenceInterval = Interval(estimate - c * standardError, estimate + c * standardError)
    }
}

extension ThreeLevelModel {
    /// The CR2 cluster-robust inference for μ̂ with Satterthwaite degrees of freedom (Pustejovsky &
    /// Tipton 2018; clubSandwich's `coef_test(fit, vcov = "CR2")`) at the fit's level; `nil` with a
    /// single cluster. Computed on request: O(Σ mᵢ³) for clusters of mᵢ studies.
    public func clusterRobustCR2(_ fit: ThreeLevelFit) -> RobustInference? {
        guard clusterCount > 1 else { return nil }
        let s = sums(fit.clusterVariance, fit.cohortVariance)
        return cr2((fit.clusterVariance, fit.cohortVariance), mean: s.mean, w: s.w, level: fit.pooled.level)
    }

    /// CR2 for μ̂ with the fitted model as the working model Φ = V̂ and weights W = V̂⁻¹ (Bell &
    /// McCaffrey 2002; Pustejovsky & Tipton 2018, eqs. 7–8, with Φᵢ = DᵢᵀDᵢ):
    /// Var = Σᵢ(gᵢᵀeᵢ)², gᵢ = AᵢΦᵢ⁻¹1/W, Aᵢ = DᵢᵀBᵢ^(−1/2)Dᵢ, Bᵢ = Dᵢ(Φᵢ − 11ᵀ/W)Dᵢᵀ, where
    /// Φᵢ − 11ᵀ/W is (I − H)ᵢΦ(I − H)ᵢᵀ for the intercept-only model (H = 1(1ᵀW1)⁻¹1ᵀW).
    /// The Satterthwaite df (their eq. 11) with pᵢ = (I − H)ᵢᵀgᵢ: pᵢᵀΦpⱼ = δᵢⱼaᵢ − Wγᵢγⱼ with
    /// aᵢ = gᵢᵀΦᵢgᵢ and γᵢ = 1ᵀgᵢ/W, so ν = (Σaᵢ − WΣγᵢ²)²/(Σaᵢ² − 2WΣaᵢγᵢ² + W²(Σγᵢ²)²): O(Σ mᵢ³)
    /// for clusters of mᵢ studies, the Bᵢ^(−1/2) by Jacobi eigendecomposition. `nil` if a factor fails.
    func cr2(_ theta: (Double, Double), mean: Double, w: Double, level: Double) -> RobustInference? {
        var largest = 0
        for g in 0..<clusterCount { largest = max(largest, starts[g + 1] - starts[g]) }
        let size = largest * largest
        var phi = [Double](repeating: 0, count: size), d = phi, b = phi, vectors = phi, a = phi, tmp = phi
        var z = [Double](repeating: 0, count: largest), gv = z
        var variance = 0.0, sumA = 0.0, sumA2 = 0.0, sumGamma2 = 0.0, sumAGamma2 = 0.0
        for g in 0..<clusterCount {
            let lo = starts[g], m = starts[g + 1] - lo
            // Φᵢ = diag(vᵢⱼ + σ²₂) + σ²₁·11ᵀ, and its Cholesky factor D (DᵀD = Φᵢ).
            for i in 0..<m { for j in 0..<m { phi[i * m + j] = theta.0 + (i == j ? v[lo + i] + theta.1 : 0) } }
            guard let lower = SymmetricMatrix.cholesky(phi, n: m) else { return nil }
            for i in 0..<m { for j in 0..<m { d[i * m + j] = lower[j * m + i] } }  // D = Lᵀ
            // B = D(Φᵢ − 11ᵀ/W)Dᵀ, symmetric.
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m { s += (phi[i * m + k] - 1 / w) * d[j * m + k] }
                    tmp[i * m + j] = s  // (Φᵢ − 11ᵀ/W)Dᵀ
                }
            }
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m { s += d[i * m + k] * tmp[k * m + j] }
                    b[i * m + j] = s
                }
            }
            for i in 0..<m { for j in 0..<i { let x = 0.5 * (b[i * m + j] + b[j * m + i]); b[i * m + j] = x; b[j * m + i] = x } }
            SymmetricMatrix.jacobiEigen(&b, m, vectors: &vectors)
            // B^(−1/2) = U diag(λ^(−1/2)) Uᵀ, into tmp.
            for j in 0..<m { guard b[j * m + j] > 0 else { return nil } }
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m { s += vectors[i * m + k] * vectors[j * m + k] / b[k * m + k].squareRoot() }
                    tmp[i * m + j] = s
                }
            }
            // A = Dᵀ B^(−1/2) D.
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m { s += tmp[i * m + k] * d[k * m + j] }
                    b[i * m + j] = s  // B^(−1/2) D
                }
            }
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m { s += d[k * m + i] * b[k * m + j] }
                    a[i * m + j] = s
                }
            }
            // z = Φᵢ⁻¹1 = aⱼ/dᵢ (Sherman–Morrison), g = Az/W.
            var sum = 0.0
            for j in 0..<m { sum += 1 / (v[lo + j] + theta.1) }
            let scale = 1 + theta.0 * sum
            for j in 0..<m { z[j] = 1 / ((v[lo + j] + theta.1) * scale) }
            var te = 0.0, gOne = 0.0
            for i in 0..<m {
                var s = 0.0
                for k in 0..<m { s += a[i * m + k] * z[k] }
                gv[i] = s / w
                te += gv[i] * (y[lo + i] - mean)
                gOne += gv[i]
            }
            var quad = 0.0
            for i in 0..<m { for j in 0..<m { quad += gv[i] * phi[i * m + j] * gv[j] } }
            let gamma = gOne / w
            variance += te * te
            sumA += quad
            sumA2 += quad * quad
            sumGamma2 += gamma * gamma
            sumAGamma2 += quad * gamma * gamma
        }
        let numerator = sumA - w * sumGamma2
        let df = numerator * numerator / (sumA2 - 2 * w * sumAGamma2 + w * w * sumGamma2 * sumGamma2)
        guard variance > 0, variance.isFinite, df > 0, df.isFinite else { return nil }
        return RobustInference(estimate: mean, standardError: variance.squareRoot(), degreesOfFreedom: df, level: level)
    }
}

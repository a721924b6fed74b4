// The three-level binomial–normal model for proportions (cohorts within clusters, random intercepts
// on the logit scale), fitted by maximising the Laplace approximation as lme4's
// glmer(cbind(x, n − x) ~ 1 + (1 | cluster/cohort), family = binomial, nAGQ = 1) does.

import RealModule

/// A three-level random-effects meta-analysis of proportions by a generalized linear mixed model:
/// xᵢⱼ ~ Binomial(nᵢⱼ, expit(μ + uᵢ + wᵢⱼ)) for cohort j of cluster i, uᵢ ~ N(0, σ²₁) between
/// clusters (trials) and wᵢⱼ ~ N(0, σ²₂) between cohorts of one cluster — the binomial–normal model
/// (Stijnen, Hamza & Özdemir 2010, Stat Med 29:3046, eq. 5) with the nesting of Konstantopoulos
/// (2011, Res Synth Methods 2:61, eq. 4) and the exact binomial within-study likelihood.
///
/// The marginal likelihood is approximated per cluster by the Laplace approximation in lme4's
/// spherical random effects uᵢ = θ₁aᵢ, wᵢⱼ = θ₂bᵢⱼ (Bates et al. 2015, JSS 67(1), §5.4; see
/// ``ThreeLevelBinomialLaplace``); (μ, θ₁, θ₂) are estimated jointly, as glmer with nAGQ = 1 does,
/// and σ̂²ₗ = θ̂ₗ². Each evaluation is O(k): each cluster's conditional modes solve a
/// (1 + mᵢ)-dimensional problem whose Hessian is an arrow matrix, handled by its Schur complement.
public struct ThreeLevelBinomialModel: Sendable {
    /// Events and totals reordered so that each cluster's studies are together (stable, clusters in
    /// order of first appearance).
    let events: [Double], totals: [Double]
    /// The first study of each cluster in `events` and `totals`, and `events.count` at the end.
    let starts: [Int]
    /// The escalc PLO effects in the input order (½ added to studies with 0 or nᵢ events), for ṽ.
    let effects: EffectSizes

    /// - Parameters:
    ///   - events: the numbers of events xᵢⱼ, one per study (cohort).
    ///   - totals: the study totals nᵢⱼ.
    ///   - cluster: the cluster of each study (any integers; equal values are one cluster).
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for arrays of different lengths;
    ///   `.invalidValue` for counts that are not whole numbers with 0 ≤ xᵢⱼ ≤ nᵢⱼ, nᵢⱼ > 0;
    ///   `.insufficientData` for fewer than 2 studies, no events (or no non-events) at all, or one
    ///   study in every cluster (the two variances cannot be told apart); `.noConvergence` when
    ///   every study has 0 or nᵢⱼ events (no finite maximum).
    public init(events: [Double], totals: [Double], cluster: [Int]) throws(MetaPoolError) {
        guard events.count == totals.count, events.count == cluster.count else {
            throw MetaPoolError(.invalidArgument, "events, totals and cluster have \(events.count), \(totals.count) and \(cluster.count) values; give one of each per study")
        }
        // Validates the counts (whole, 0 ≤ x ≤ n, n > 0) and gives the PLO variances for I².
        let effects = try EffectSizes.proportions(events: events, totals: totals, measure: .logitProportion)
        guard events.count >= 2 else {
            throw MetaPoolError(.insufficientData, "a random-effects model needs at least 2 studies; there is \(events.count)")
        }
        try GeneralizedLinearMixedModel.requireFiniteMaximum(events: events, totals: totals, logOdds: "the pooled log odds is")
        // Stable grouping by cluster, clusters in order of first appearance.
        var firstSeen: [Int: Int] = [:]
        var counts: [Int] = []
        for c in cluster where firstSeen[c] == nil {
            firstSeen[c] = counts.count
            counts.append(0)
        }
        for c in cluster { counts[firstSeen[c]!] += 1 }
        // With one study in every cluster, σ²₁ and σ²₂ enter the likelihood only as their sum.
        guard counts.contains(where: { $0 > 1 }) else {
            throw ThreeLevelModel.reducesToTwoLevels
        }
        var starts = [0]
        starts.reserveCapacity(counts.count + 1)
        for m in counts { starts.append(starts.last! + m) }
        var next = Array(starts.dropLast())
        var x = [Double](repeating: 0, count: events.count), n = x
        for i in events.indices {
            let g = firstSeen[cluster[i]]!
            x[next[g]] = events[i]
            n[next[g]] = totals[i]
            next[g] += 1
        }
        self.events = x
        self.totals = n
        self.starts = starts
        self.effects = effects
    }

    /// The number of studies (cohorts) k.
    public var count: Int { events.count }
    /// The number of clusters.
    public var clusterCount: Int { starts.count - 1 }

    /// Fits μ, σ²₁ and σ²₂ by maximising the Laplace approximation of the marginal likelihood
    /// (lme4's glmer, nAGQ = 1), and the two-level model (σ²₁ = 0) for the likelihood-ratio test.
    /// - Parameters:
    ///   - tDistribution: test μ̂ and bound it (and the prediction interval) on Student's t with
    ///     k − 1 df, as the two-level GLMM's `withTTest()` (metafor's `test = "t"`); else z.
    ///   - level: the confidence level, in (0, 1).
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad level; `.noConvergence` when the
    ///   maximisation fails, leaves |μ|, σ ≤ 100, or ends where the observed information is not
    ///   positive definite.
    public func fit(tDistribution: Bool = false, level: Double = 0.95) throws(MetaPoolError) -> ThreeLevelBinomialFit {
        try EstimateInference.checkLevel(level)
        var laplace = ThreeLevelBinomialLaplace(events: events, totals: totals, starts: starts)
        // Starts: DerSimonian–Laird (1986) on the escalc logits, τ² split between the levels
        // (never θ = 0 exactly, a stationary point of the even likelihood).
        let (muDL, tau2DL) = derSimonianLairdStart(effects)
        let spread = max(tau2DL, 0.04)
        let all = [true, true, true]
        // The two-level model: θ₁ held at 0, where the cluster effects drop out (â = 0, S = 1).
        guard let two = laplace.maximize(from: SIMD3(muDL, 0, spread.squareRoot()), free: [true, false, true]) else {
            throw MetaPoolError(.noConvergence, "the two-level GLMM (Laplace) fit did not converge")
        }
        var best = laplace.maximize(from: SIMD3(muDL, (spread / 2).squareRoot(), (spread / 2).squareRoot()), free: all)
        // Also from the two-level optimum with a cluster component added: the better maximum wins.
        if best == nil || best!.value < two.value + 1e-9 * (1 + abs(two.value)) {
            let other = laplace.maximize(from: SIMD3(two.point[0], max(0.1, 0.5 * two.point[2]), two.point[2]), free: all)
            if let o = other, best == nil || o.value > best!.value { best = o }
        }
        guard let three = best else {
            throw MetaPoolError(.noConvergence, "the three-level GLMM (Laplace) fit did not converge")
        }
        var optimum = three.point
        var logLikelihood = three.value
        var iterations = three.iterations
        // ℓ's rounding error: a few ulps of the magnitude of its terms.
        let slack = 1e-14 * laplace.evaluate(optimum).magnitude + 1e-12 * (1 + abs(logLikelihood))
        if two.value >= logLikelihood - slack && abs(optimum[1]) < 1e-6 || two.value > logLikelihood {
            // σ̂²₁ = 0: the two-level optimum is the three-level one.
            optimum = two.point
            logLikelihood = two.value
            iterations += two.iterations
        }
        if optimum[2] != 0 && abs(optimum[2]) < 1e-6 {
            // σ̂²₂ at the boundary: Newton approaches θ₂ = 0 (a maximum of the even ℓ) without reaching it.
            var atZero = optimum
            atZero[2] = 0
            let value = laplace.evaluate(atZero).value
            if value >= logLikelihood - slack {
                optimum = atZero
                logLikelihood = value
            }
        }
        let se = try Self.standardError(&laplace, at: optimum)
        let twoSE = (try? Self.standardError(&laplace, at: two.point)) ?? .nan
        let k = count
        let pooled = EstimateInference(estimate: optimum[0], standardError: se, level: level,
                                       degreesOfFreedom: tDistribution ? k - 1 : nil)
        let twoPooled = EstimateInference(estimate: two.point[0], standardError: twoSE, level: level,
                                          degreesOfFreedom: tDistribution ? k - 1 : nil)
        return ThreeLevelBinomialFit(
            pooled: pooled, clusterVariance: optimum[1] * optimum[1], cohortVariance: optimum[2] * optimum[2],
            logLikelihood: logLikelihood, conditionalLogLikelihood: laplace.conditionalLogLikelihood(optimum),
            count: k, clusterCount: clusterCount,
            typicalVariance: Heterogeneity.typicalVariance(y: effects.yi, v: effects.vi),
            twoLevel: twoPooled, twoLevelTauSquared: two.point[2] * two.point[2], twoLevelLogLikelihood: two.value,
            iterations: iterations)
    }

    /// √[(−H)⁻¹]_μμ with H the Hessian of ℓ in (μ, θ₁, θ₂) at the optimum: the inverse of the full
    /// observed information, as lme4's `vcov(use.hessian = TRUE)` (the default for a GLMM in lme4
    /// 1.1-31: the β block of 2·(deviance Hessian)⁻¹). The β block of the inverse does not depend on
    /// how θ is parametrised at a stationary point. A θ̂ at 0 is left out: ℓ being even in θ, its
    /// cross terms vanish there and [(−H)⁻¹]_μμ is the same without it (lme4 keeps it; the
    /// boundary fixtures check the two agree). Should the information still not be positive
    /// definite, a θ̂ below 1e-6 (whose curvature may vanish) is left out as well.
    static func standardError(_ laplace: inout ThreeLevelBinomialLaplace, at p: SIMD3<Double>) throws(MetaPoolError) -> Double {
        for free in [[true, p[1] != 0, p[2] != 0], [true, abs(p[1]) > 1e-6, abs(p[2]) > 1e-6]] {
            let h = laplace.hessian(p, free: free, accurate: true)
            if let column = ThreeLevelBinomialLaplace.solvePositiveDefinite(h.map { -$0 }, SIMD3(1, 0, 0)),
               column[0] > 0, column[0].isFinite {
                return column[0].squareRoot()
            }
        }
        throw MetaPoolError(.noConvergence, "the three-level GLMM fit did not reach a maximum of the likelihood (the observed information is not positive definite)")
    }
}

/// A fitted three-level binomial GLMM (``ThreeLevelBinomialModel/fit(tDistribution:level:)``).
public struct ThreeLevelBinomialFit: Sendable {
    /// μ̂, the pooled log odds (the logit of the rate of a cohort with median random effects), with
    /// its standard error from the full observed information (lme4's `vcov()`, use.hessian = TRUE),
    /// z or t (k − 1 df) test and interval.
    public let pooled: EstimateInference
    /// σ̂²₁, the variance of the logits between clusters.
    public let clusterVariance: Double
    /// σ̂²₂, the variance of the logits between cohorts of one cluster.
    public let cohortVariance: Double
    /// The maximised Laplace log-likelihood, with the binomial coefficients: lme4's `logLik()`.
    public let logLikelihood: Double
    /// The binomial log-likelihood at the conditional modes of the random effects,
    /// Σ log Binom(xᵢⱼ | nᵢⱼ, expit(μ̂ + ûᵢ + ŵᵢⱼ)): what metafor's `logLik()` reports for a GLMM
    /// (the two-level GLMM's `logLikelihood`), beside lme4's Laplace value.
    public let conditionalLogLikelihood: Double
    /// The number of studies (cohorts) and of clusters.
    public let count: Int, clusterCount: Int
    /// ṽ, the typical within-study variance (Higgins & Thompson 2002, eq. 9) of the escalc PLO
    /// variances (½ added to the counts of studies with 0 or nᵢⱼ events), as the two-level GLMM uses.
    public let typicalVariance: Double
    /// The two-level GLMM with Laplace (σ²₁ = 0; glmer(… ~ 1 + (1 | cohort), nAGQ = 1)): μ̂ with
    /// its standard error (same conventions), τ̂² and the log-likelihood, for the likelihood-ratio test.
    public let twoLevel: EstimateInference
    public let twoLevelTauSquared: Double, twoLevelLogLikelihood: Double
    /// Newton iterations of the optimiser (three-level fit).
    public let iterations: Int

    /// I² at each level and in total (Cheung 2014, Psychol Methods 19:211, eqs. 12–13, with the
    /// GLMM's ṽ): the shares of σ²₁ + σ²₂ + ṽ between clusters, between cohorts, and both, in percent.
    public var iSquaredCluster: Double { 100 * clusterVariance / (clusterVariance + cohortVariance + typicalVariance) }
    public var iSquaredCohort: Double { 100 * cohortVariance / (clusterVariance + cohortVariance + typicalVariance) }
    public var iSquaredTotal: Double {
        100 * (clusterVariance + cohortVariance) / (clusterVariance + cohortVariance + typicalVariance)
    }

    /// The likelihood-ratio statistic against the two-level model, 2(ℓ₃ − ℓ₂), and its p-value on
    /// 1 df, not halved (lme4's `anova()`).
    public var likelihoodRatio: Double { max(0, 2 * (logLikelihood - twoLevelLogLikelihood)) }
    public var likelihoodRatioPValue: Double { ChiSquared(degreesOfFreedom: 1).survival(likelihoodRatio) }

    /// The prediction interval for the logit of a new cohort in a new cluster,
    /// μ̂ ± c·√(SE² + σ̂²₁ + σ̂²₂), c from the normal or from t on k − 1 df as the test.
    public var predictionInterval: Interval {
        let c = EstimateInference.criticalValue(level: pooled.level, degreesOfFreedom: pooled.degreesOfFreedom)
        let half = c * (pooled.standardError * pooled.standardError + clusterVariance + cohortVariance).squareRoot()
        return Interval(pooled.estimate - half, pooled.estimate + half)
    }

    /// The population-averaged proportion ∫ expit(μ̂ + s·z) φ(z) dz with s² = σ̂²₁ + σ̂²₂ (uᵢ + wᵢⱼ ~
    /// N(0, s²); Stijnen et al. 2010, §2.1), with the same integral at the bounds of μ̂'s interval
    /// (σ² held at its estimate), as ``GeneralizedLinearMixedModel/populationAveragedRate``.
    public var populationAveragedRate: (estimate: Double, lower: Double, upper: Double) {
        let s2 = clusterVariance + cohortVariance
        let ci = pooled.confidenceInterval
        return (GeneralizedLinearMixedModel.marginalProportion(logitMean: pooled.estimate, tauSquared: s2),
                GeneralizedLinearMixedModel.marginalProportion(logitMean: ci.lower, tauSquared: s2),
                GeneralizedLinearMixedModel.marginalProportion(logitMean: ci.upper, tauSquared: s2))
    }
}

extension ThreeLevelBinomialModel {
    /// The profile-likelihood confidence interval of σ²₁ (`cluster: true`) or σ²₂: the values where the
    /// Laplace log-likelihood maximised over μ and the other component falls χ²₁,₁₋α/2 below its
    /// maximum (the likelihood-ratio interval, as lme4's `confint(method = "profile")` and metafor's
    /// `confint()` on `rma.mv` define it; Hardy & Thompson 1996 for one variance). A bound is 0 when the
    /// profile stays above that level down to 0.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad level; `.noConvergence` when a profile
    ///   maximisation fails or the profile does not fall that far below σ² = 10⁴.
    public func varianceInterval(_ fit: ThreeLevelBinomialFit, cluster: Bool, level: Double = 0.95) throws(MetaPoolError) -> Interval {
        try EstimateInference.checkLevel(level)
        var laplace = ThreeLevelBinomialLaplace(events: events, totals: totals, starts: starts)
        let held = cluster ? 1 : 2, other = cluster ? 2 : 1
        let target = fit.logLikelihood - 0.5 * ChiSquared(degreesOfFreedom: 1).quantile(level)
        let estimate = cluster ? fit.clusterVariance : fit.cohortVariance
        let otherSD = (cluster ? fit.cohortVariance : fit.clusterVariance).squareRoot()
        var free = [true, true, true]
        free[held] = false
        let name = cluster ? "sigma^2 (cluster)" : "sigma^2 (cohort)"
        // The profile at σ² = x; the other θ starts away from 0, a stationary point of the even ℓ.
        var last = SIMD3<Double>(fit.pooled.estimate, 0, 0)
        last[other] = max(otherSD, 0.1)
        func excess(_ x: Double) throws(MetaPoolError) -> Double {
            var start = last
            start[held] = x.squareRoot()
            start[other] = max(abs(start[other]), 0.1)
            guard let m = laplace.maximize(from: start, free: free) else {
                throw MetaPoolError(.noConvergence, "the profile likelihood of \(name) did not converge at \(x)")
            }
            last = m.point
            return m.value - target
        }
        // At the estimate the profile is the maximum, above the target by χ²/2 > 0.
        return try ProfileLikelihoodInterval.bounds(estimate: estimate, top: fit.logLikelihood - target,
                                                    firstUpper: max(2 * estimate, 0.05), ceiling: 1e4, floor: 1e-6,
                                                    name: name, excess: excess)
    }
}

extension ThreeLevelBinomialModel {
    /// The profile-likelihood confidence interval of μ: the values where the Laplace log-likelihood
    /// maximised over σ₁ and σ₂ falls χ²₁,level/2 below its maximum (the likelihood-ratio interval,
    /// Cox & Hinkley 1974, §9.3; what lme4's `confint(method = "profile")` interpolates for the
    /// fixed effect, and the two-level GLMM's ``GeneralizedLinearMixedModel/profileLikelihoodIntervals(level:)``).
    /// Each profile point takes the best of three maximisations over (θ₁, θ₂): both free from
    /// starts away from 0 (ℓ is even in each θ, so θ = 0 is a stationary point) and each held at 0 (a
    /// boundary maximum, where a Newton search from inside only approaches it).
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a bad level; `.noConvergence` when a profile
    ///   maximisation fails or a bound lies beyond |μ| = 100 (no finite bound).
    public func meanInterval(_ fit: ThreeLevelBinomialFit, level: Double = 0.95) throws(MetaPoolError) -> Interval {
        try EstimateInference.checkLevel(level)
        var laplace = ThreeLevelBinomialLaplace(events: events, totals: totals, starts: starts)
        let target = fit.logLikelihood - 0.5 * ChiSquared(degreesOfFreedom: 1).quantile(level)
        var theta = SIMD2(max(fit.clusterVariance.squareRoot(), 0.1), max(fit.cohortVariance.squareRoot(), 0.1))
        func excess(_ m: Double) throws(MetaPoolError) -> Double {
            var best = -Double.infinity
            let starts: [(SIMD3<Double>, [Bool])] = [
                (SIMD3(m, theta[0], theta[1]), [false, true, true]),
                (SIMD3(m, 0, theta[1]), [false, false, true]),
                (SIMD3(m, theta[0], 0), [false, true, false]),
            ]
            for (start, free) in starts {
                guard let r = laplace.maximize(from: start, free: free), r.value > best else { continue }
                best = r.value
                if free[1] && free[2] { theta = SIMD2(max(r.point[1], 0.1), max(r.point[2], 0.1)) }
            }
            guard best.isFinite else {
                throw MetaPoolError(.noConvergence, "the profile likelihood of mu did not converge at \(m)")
            }
            return best - target
        }
        let step = fit.pooled.standardError.isFinite && fit.pooled.standardError > 0 ? fit.pooled.standardError : 0.1
        return try ProfileLikelihoodInterval.meanBounds(estimate: fit.pooled.estimate, top: fit.logLikelihood - target, step: step,
                                                        bound: ThreeLevelBinomialLaplace.parameterBound, name: "mu", excess: excess)
    }
}

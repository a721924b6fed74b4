// Profile-likelihood confidence intervals for μ and τ of the GLMM for proportions, on the AGHQ
// marginal likelihood the fit maximises.

/// Profile-likelihood intervals of the binomial–normal GLMM: for μ, {μ : 2(ℓ̂ − max_τ ℓ(μ, τ)) ≤
/// χ²₁,level} and for τ, {τ ≥ 0 : 2(ℓ̂ − max_μ ℓ(μ, τ)) ≤ χ²₁,level} (the likelihood-ratio test
/// inverted, Cox & Hinkley 1974, §9.3; Bates et al. 2015, JSS 67(1), §5.1, the profile lme4's
/// `confint(method = "profile")` computes). τ is profiled on the standard-deviation scale, as lme4
/// profiles σ, with 0 as the lower bound when the profile at τ = 0 is inside the cut-off; the
/// interval for τ² squares it.
public struct ProfileLikelihoodIntervals: Sendable, Hashable {
    /// The confidence level.
    public let level: Double
    /// The interval for μ (logit scale).
    public let mu: Interval
    /// The interval for τ.
    public let tau: Interval
    /// The interval for τ², τ's bounds squared.
    public var tauSquared: Interval { Interval(tau.lower * tau.lower, tau.upper * tau.upper) }
}

extension GeneralizedLinearMixedModel {
    /// The profile-likelihood intervals for μ and τ at the model's level (or `level`).
    ///
    /// Each profile point maximises the AGHQ log-likelihood ℓ over the other parameter by golden-
    /// section search (ℓ is unimodal in μ for fixed τ and in τ ≥ 0 for fixed μ); each bound is the
    /// root of 2(ℓ̂ − ℓ_p) − χ²₁,level found by the Illinois method after bracketing outward from
    /// the estimate in steps that double. Agrees with solving the same equations on lme4's nAGQ deviance to
    /// ~1e-7 (the reference), and with lme4's spline-interpolated `confint()` to ~1e-4.
    /// - Throws: ``MetaPoolError`` `.invalidArgument` for a level outside (0, 1); `.noConvergence`
    ///   when a bound lies beyond |μ| = 100 or τ = 100 (the likelihood is flat there: no finite bound).
    public func profileLikelihoodIntervals(level: Double? = nil) throws(MetaPoolError) -> ProfileLikelihoodIntervals {
        let level = level ?? self.level
        try EstimateInference.checkLevel(level)
        let rule = try GaussHermiteRule(points: quadraturePoints)
        let likelihood = BinomialNormalLikelihood(events: events, totals: totals, rule: rule)
        let muHat = pooled.estimate, tauHat = tau
        let cut = ChiSquared(degreesOfFreedom: 1).quantile(level)
        let bound = 100.0

        /// The maximum of a unimodal f on [a, b] by golden-section search, to the resolution of doubles.
        func maximum(_ a0: Double, _ b0: Double, _ f: (Double) -> Double) -> (x: Double, value: Double) {
            let r = 0.6180339887498949
            var a = a0, b = b0
            var c = b - r * (b - a), d = a + r * (b - a)
            var fc = f(c), fd = f(d)
            // To 1e-9 in the argument: the maximum's value is then exact to ~1e-18 × the curvature.
            for _ in 0..<200 where b - a > 1e-9 * max(1, abs(a) + abs(b)) {
                if fc >= fd { b = d; d = c; fd = fc; c = b - r * (b - a); fc = f(c) }
                else { a = c; c = d; fc = fd; d = a + r * (b - a); fd = f(d) }
            }
            let candidates = [(a, f(a)), (b, f(b)), (c, fc), (d, fd)]
            let best = candidates.max { $0.1 < $1.1 }!
            return (best.0, best.1)
        }
        // The joint maximum, refined from the fit's (the profiles are measured from it).
        var top = likelihood.logLikelihood(mu: muHat, tau: tauHat)
        func profileMu(_ mu: Double) -> Double {
            let m = maximum(0, max(8, 4 * tauHat)) { likelihood.logLikelihood(mu: mu, tau: $0) }
            return m.value
        }
        func profileTau(_ t: Double) -> Double {
            maximum(muHat - 12, muHat + 12) { likelihood.logLikelihood(mu: $0, tau: t) }.value
        }
        top = max(top, profileMu(muHat), profileTau(tauHat))
        /// 2(ℓ̂ − ℓ_p) − cut: negative inside the interval.
        func excess(_ profile: (Double) -> Double, _ x: Double) -> Double {
            let v = profile(x)
            return v.isFinite ? 2 * (top - v) - cut : .infinity
        }
        /// The bound on the side of `direction` from `start` (inside), bracketing then bisecting.
        func root(_ profile: (Double) -> Double, from start: Double, step: Double, direction: Double, floor: Double?) throws(MetaPoolError) -> Double {
            var inside = start, outside = start
            var h = step
            while true {
                var x = start + direction * h
                if let floor, x <= floor {
                    x = floor
                    if excess(profile, x) <= 0 { return floor }
                    outside = x
                    break
                }
                if abs(x) > bound {
                    throw MetaPoolError(.noConvergence, "the profile likelihood stays within the cut-off beyond |\(abs(x))|: no finite profile-likelihood bound")
                }
                if excess(profile, x) > 0 { outside = x; break }
                inside = x
                h *= 2
            }
            // The Illinois variant of regula falsi (Dowell & Jarratt 1971, BIT 11:168): superlinear,
            // and the bracket [inside, outside] is kept, so it cannot leave the root's side.
            var fIn = excess(profile, inside), fOut = excess(profile, outside)
            if !fOut.isFinite { fOut = 1e3 }
            var lastSide = 0
            for _ in 0..<200 where abs(outside - inside) > 1e-11 * max(1, abs(inside)) {
                var x = (fOut * inside - fIn * outside) / (fOut - fIn)
                if !(x.isFinite && min(inside, outside) < x && x < max(inside, outside)) { x = 0.5 * (inside + outside) }
                var fx = excess(profile, x)
                if !fx.isFinite { fx = 1e3 }
                if fx > 0 {
                    outside = x; fOut = fx
                    if lastSide == 1 { fIn *= 0.5 }
                    lastSide = 1
                } else {
                    inside = x; fIn = fx
                    if lastSide == -1 { fOut *= 0.5 }
                    lastSide = -1
                }
                if fx == 0 { return x }
            }
            return 0.5 * (inside + outside)
        }
        let muStep = max(pooled.standardError, 1e-3)
        let muLower = try root(profileMu, from: muHat, step: muStep, direction: -1, floor: nil)
        let muUpper = try root(profileMu, from: muHat, step: muStep, direction: 1, floor: nil)
        let tauStep = max(0.5 * tauHat, 0.05)
        let tauLower = tauHat == 0 ? 0 : try root(profileTau, from: tauHat, step: tauStep, direction: -1, floor: 0)
        let tauUpper = try root(profileTau, from: tauHat, step: tauStep, direction: 1, floor: nil)
        return ProfileLikelihoodIntervals(level: level, mu: Interval(muLower, muUpper), tau: Interval(tauLower, tauUpper))
    }
}

/// The profile-likelihood intervals as the GLMM's JSON reports them (`profile_likelihood`): the
/// bounds for μ (`ci_lower`, `ci_upper`), τ and τ², or `error` saying why there are none.
public struct ProfileLikelihoodSummary: Codable, Sendable, Equatable {
    public var level: Double
    public var ciLower: Double?
    public var ciUpper: Double?
    public var tauCILower: Double?
    public var tauCIUpper: Double?
    public var tau2CILower: Double?
    public var tau2CIUpper: Double?
    /// Why the intervals could not be computed; absent when they were.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case level, ciLower = "ci_lower", ciUpper = "ci_upper", tauCILower = "tau_ci_lower", tauCIUpper = "tau_ci_upper"
        case tau2CILower = "tau2_ci_lower", tau2CIUpper = "tau2_ci_upper", error
    }
}

extension GeneralizedLinearMixedModel {
    /// The largest k for which the summaries include the profile-likelihood intervals: each of the
    /// ~10⁴ likelihood evaluations of the profiles costs O(k·Q) (``profileLikelihoodIntervals(level:)``
    /// itself has no limit).
    public static let profileStudyLimit = 2_000

    /// ``profileLikelihoodIntervals(level:)`` at the model's level as the JSON reports it.
    public var profileLikelihoodSummary: ProfileLikelihoodSummary {
        guard count <= Self.profileStudyLimit else {
            return ProfileLikelihoodSummary(level: level, error: "not computed for more than \(Self.profileStudyLimit) studies (call profileLikelihoodIntervals() in the library)")
        }
        do {
            let p = try profileLikelihoodIntervals()
            return ProfileLikelihoodSummary(level: level, ciLower: p.mu.lower, ciUpper: p.mu.upper, tauCILower: p.tau.lower,
                                            tauCIUpper: p.tau.upper, tau2CILower: p.tauSquared.lower, tau2CIUpper: p.tauSquared.upper)
        } catch {
            return ProfileLikelihoodSummary(level: level, error: error.reason)
        }
    }
}

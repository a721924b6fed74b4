// Q-profile confidence interval for τ², and the I² and H² intervals that follow from it.

/// Confidence intervals for the heterogeneity parameters.
public struct HeterogeneityIntervals: Sendable, Hashable {
    /// The Q-profile confidence interval for τ² (analysis scale squared).
    public var tauSquared: Interval
    /// The interval for τ, the square roots of the τ² bounds.
    public var tau: Interval
    /// The interval for I², in percent.
    public var iSquared: Interval
    /// The interval for H².
    public var hSquared: Interval
    /// Whether both bounds for τ² fall below 0 (Q(0) is below the lower χ² quantile α/2): the
    /// interval is the empty set, as metafor's `confint()` says ("The upper and lower CI bounds
    /// for tau^2 both fall below 0. The CIs are therefore equal to the null/empty set."), and the
    /// bounds hold 0 as metafor's do. Identical effects give it.
    public var isEmpty: Bool = false
}

extension MetaAnalysis {
    /// The Q-profile interval for τ² (Viechtbauer 2007, eq. 6): the τ² values at which the
    /// generalized Q statistic Σwᵢ(yᵢ−μ̂)² equals the χ²_{k−1} quantiles 1−α/2 (lower bound)
    /// and α/2 (upper bound); a bound is 0 where Q(0) is already below its quantile. I² and H²
    /// bounds are the same transformation of the τ² bounds as the estimates (metafor `confint()`).
    /// `nil` for the fixed-effect model.
    public func heterogeneityIntervals() throws(MetaPoolError) -> HeterogeneityIntervals? {
        guard isRandomEffects else { return nil }
        let y = effects.yi, v = effects.vi
        let df = Double(count - 1)
        let chi2 = ChiSquared(degreesOfFreedom: df)
        let alpha = 1 - level
        let q0 = q
        let lowerTarget = chi2.survivalQuantile(alpha / 2)
        let upperTarget = chi2.quantile(alpha / 2)
        func bound(_ target: Double) throws(MetaPoolError) -> Double {
            if q0 <= target { return 0 }
            var model = InterceptModel(y: y, v: v)
            do {
                return try PauleMandel.generalizedQRoot(&model, method: .pauleMandel, target: target, start: tauSquaredEstimate)
            } catch {
                throw MetaPoolError(.noConvergence, "the Q-profile confidence interval for tau^2 did not converge")
            }
        }
        let lower = try bound(lowerTarget)
        let upper = try bound(upperTarget)
        // Each positive bound must solve its equation and the bounds must be ordered; on extreme
        // data (effects and variances near 1e45, found by fuzzing) the root finder stopped early
        // and gave a lower bound above the upper one. No interval rather than a wrong one.
        func solves(_ tau2: Double, _ target: Double) -> Bool {
            tau2 == 0 || abs(WeightedSums(y: y, v: v, tau2: tau2).q - target) <= 1e-6 * target
        }
        guard lower <= upper, solves(lower, lowerTarget), solves(upper, upperTarget) else {
            throw MetaPoolError(.noConvergence, "the Q-profile confidence interval for tau^2 did not converge")
        }
        let vt = typicalVariance
        return HeterogeneityIntervals(
            tauSquared: Interval(lower, upper),
            tau: Interval(lower.squareRoot(), upper.squareRoot()),
            iSquared: Interval(Heterogeneity.iSquared(tauSquared: lower, typicalVariance: vt), Heterogeneity.iSquared(tauSquared: upper, typicalVariance: vt)),
            hSquared: Interval(Heterogeneity.hSquared(tauSquared: lower, typicalVariance: vt), Heterogeneity.hSquared(tauSquared: upper, typicalVariance: vt)),
            isEmpty: q0 < upperTarget)
    }
}

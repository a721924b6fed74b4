// Confidence intervals for one study's proportion (events out of total), as printed beside each
// study in R's meta (metaprop's method.ci) and in trial publications.

import RealModule

/// How a single study's proportion x/n gets its confidence interval.
///
/// These intervals describe the study alone; the pooled estimate keeps the model's interval.
/// Definitions follow Newcombe (1998, Stat Med 17:857–872, methods 1, 3, 4 and 5) and
/// Brown, Cai & DasGupta (2001, Stat Sci 16:101–133, §4.1) with z = Φ⁻¹(1 − α/2).
public enum ProportionIntervalMethod: String, CaseIterable, Sendable, Hashable {
    /// Clopper & Pearson (1934): the exact interval from beta quantiles,
    /// [B(α/2; x, n − x + 1), B(1 − α/2; x + 1, n − x)], 0 when x = 0 and 1 when x = n
    /// (Newcombe 1998, method 5). R's `binom.test`; meta's default.
    case clopperPearson = "cp"
    /// Wilson (1927) score interval, (2x + z² ± z√(z² + 4x(n − x)/n)) / (2(n + z²))
    /// (Newcombe 1998, method 3). R's `prop.test(correct = FALSE)`.
    case wilson
    /// Wilson's interval with continuity correction (Newcombe 1998, method 4).
    /// R's `prop.test(correct = TRUE)`.
    case wilsonContinuityCorrected = "wilson-cc"
    /// Agresti & Coull (1998): the Wald interval around p̃ = (x + z²/2)/(n + z²) with n + z²
    /// trials (Brown et al. 2001, eq. 6), clipped to [0, 1].
    case agrestiCoull = "agresti-coull"
    /// Jeffreys: the equal-tailed interval of the Beta(x + ½, n − x + ½) posterior, 0 when x = 0
    /// and 1 when x = n (Brown et al. 2001, §4.1.2).
    case jeffreys
    /// Wald: p̂ ± z√(p̂(1 − p̂)/n), clipped to [0, 1] (Newcombe 1998, method 1).
    case wald

    /// The method's name as printed in tables and plot legends.
    public var displayName: String {
        switch self {
        case .clopperPearson: "Clopper-Pearson"
        case .wilson: "Wilson"
        case .wilsonContinuityCorrected: "Wilson with continuity correction"
        case .agrestiCoull: "Agresti-Coull"
        case .jeffreys: "Jeffreys"
        case .wald: "Wald"
        }
    }

    /// The interval for `events` out of `total` at confidence `level`.
    ///
    /// - Throws: ``MetaPoolError`` (`invalidValue`) when the counts are not whole numbers with
    ///   0 ≤ events ≤ total and total > 0; (`invalidArgument`) when the level is not in (0, 1).
    public func interval(events: Double, total: Double, level: Double) throws -> (lower: Double, upper: Double) {
        guard level > 0, level < 1 else {
            throw MetaPoolError(.invalidArgument, "the confidence level must be between 0 and 1 (got \(level))")
        }
        guard events.isFinite, total.isFinite, total > 0, events >= 0, events <= total,
              events.rounded() == events, total.rounded() == total else {
            throw MetaPoolError(.invalidValue, "a study interval needs whole counts with 0 <= events <= total and total > 0 (got \(events) of \(total))")
        }
        let x = events, n = total
        let alpha = 1 - level
        let z = Normal.standard.survivalQuantile(alpha / 2)
        let z2 = z * z
        let p = x / n
        let q = (n - x) / n
        switch self {
        case .clopperPearson:
            let lower = x == 0 ? 0 : BetaDistribution(alpha: x, beta: n - x + 1).quantile(alpha / 2)
            let upper = x == n ? 1 : BetaDistribution(alpha: x + 1, beta: n - x).survivalQuantile(alpha / 2)
            return (lower, upper)
        case .jeffreys:
            let posterior = BetaDistribution(alpha: x + 0.5, beta: n - x + 0.5)
            return (x == 0 ? 0 : posterior.quantile(alpha / 2), x == n ? 1 : posterior.survivalQuantile(alpha / 2))
        case .wilson:
            let centre = 2 * x + z2
            let half = z * (z2 + 4 * x * q).squareRoot()
            let denominator = 2 * (n + z2)
            // centre² − half² = 4x(x + z²p): the lower bound without cancellation when x ≪ n.
            let lower = 4 * x * (x + z2 * p) / (denominator * (centre + half))
            return (max(0, lower), min(1, (centre + half) / denominator))
        case .wilsonContinuityCorrected:
            // Newcombe (1998) eq. for method 4, with np̂ = x and nq̂ = n − x.
            let denominator = 2 * (n + z2)
            let lower = x == 0 ? 0
                : (2 * x + z2 - 1 - z * (z2 - 2 - 1 / n + 4 * p * (n * q + 1)).squareRoot()) / denominator
            let upper = x == n ? 1
                : (2 * x + z2 + 1 + z * (z2 + 2 - 1 / n + 4 * p * (n * q - 1)).squareRoot()) / denominator
            return (max(0, lower), min(1, upper))
        case .agrestiCoull:
            let nTilde = n + z2
            let pTilde = (x + z2 / 2) / nTilde
            let half = z * (pTilde * (1 - pTilde) / nTilde).squareRoot()
            return (max(0, pTilde - half), min(1, pTilde + half))
        case .wald:
            let half = z * (p * q / n).squareRoot()
            return (max(0, p - half), min(1, p + half))
        }
    }
}

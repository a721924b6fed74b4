// Hedges' unweighted method-of-moments τ² estimator.

/// Hedges (1983); Hedges & Olkin (1985): τ̂² = max(0, Σ(yᵢ−ȳ)²/(k−1) − Σvᵢ/k),
/// the unweighted sample variance of the effects minus the mean sampling variance.
public enum Hedges: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let s = UnweightedSums(y: y, v: v)
        return max(0, s.sumSquares / Double(y.count - 1) - s.meanVariance)
    }
}

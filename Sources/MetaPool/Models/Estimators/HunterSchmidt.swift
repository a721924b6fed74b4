// Hunter–Schmidt τ² estimator.

/// Hunter & Schmidt (2004); Viechtbauer (2005, eq. 8): τ̂² = max(0, (Q − k)/Σwᵢ), wᵢ = 1/vᵢ.
public enum HunterSchmidt: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let s = WeightedSums(y: y, v: v, tau2: 0)
        return max(0, (s.q - Double(y.count)) / s.sumW)
    }
}

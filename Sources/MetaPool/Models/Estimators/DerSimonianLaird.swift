// DerSimonian–Laird method-of-moments τ² estimator.

/// DerSimonian & Laird (1986, eq. 9): τ̂² = max(0, (Q − (k−1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)), wᵢ = 1/vᵢ.
public enum DerSimonianLaird: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let s = WeightedSums(y: y, v: v, tau2: 0)
        return max(0, (s.q - Double(y.count - 1)) / s.traceP)
    }
}

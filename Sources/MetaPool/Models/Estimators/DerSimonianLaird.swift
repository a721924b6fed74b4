// DerSimonian–Laird method-of-moments τ² estimator.

/// DerSimonian & Laird (1986, eq. 9); with moderators Raudenbush (2009, eq. 16.42):
/// τ̂² = max(0, (Q_E − (k − p)) / tr P₀), wᵢ = 1/vᵢ (for p = 1, tr P₀ = Σwᵢ − Σwᵢ²/Σwᵢ).
public enum DerSimonianLaird: TauSquaredEstimator {
    /// The DerSimonian–Laird estimate of τ² from effects `y` and sampling variances `v` (metafor's `DL`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        let s = try model.sums(tau2: 0, traces: true)
        return max(0, (s.q - model.residualDegreesOfFreedom) / s.traceP)
    }
}

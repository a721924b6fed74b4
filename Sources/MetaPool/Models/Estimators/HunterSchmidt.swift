// Hunter–Schmidt τ² estimator.

/// Hunter & Schmidt (2004); Viechtbauer (2005, eq. 8): τ̂² = max(0, (Q − k)/Σwᵢ), wᵢ = 1/vᵢ
/// (with moderators Q is the residual Q_E, as metafor computes it).
public enum HunterSchmidt: TauSquaredEstimator {
    /// The Hunter–Schmidt estimate of τ² from effects `y` and sampling variances `v` (metafor's `HS`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        let s = try model.sums(tau2: 0, traces: false)
        return max(0, (s.q - Double(model.studyCount)) / s.sumW)
    }
}

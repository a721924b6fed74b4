// Hedges' unweighted method-of-moments τ² estimator.

/// Hedges (1983); Hedges & Olkin (1985): τ̂² = max(0, Σ(yᵢ−ȳ)²/(k−1) − Σvᵢ/k), the unweighted
/// sample variance of the effects minus the mean sampling variance; with moderators
/// (RSS_OLS − tr(P_OLS·V))/(k − p) (Raudenbush 2009, eq. 16.43).
public enum Hedges: TauSquaredEstimator {
    /// The Hedges estimate of τ² from effects `y` and sampling variances `v` (metafor's `HE`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        max(0, try model.hedgesNumerator() / model.residualDegreesOfFreedom)
    }
}

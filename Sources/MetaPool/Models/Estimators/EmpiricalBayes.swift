// Morris' empirical Bayes τ² estimator.

/// Empirical Bayes (Morris 1983; Berkey et al. 1995, eq. 4): τ² solves
/// k/(k − p)·Q(τ²) = k with Q = yᵀPy, wᵢ = 1/(vᵢ+τ²), i.e. Q(τ²) = k − p. This is the
/// Paule–Mandel equation (Viechtbauer et al. 2015 note that the two coincide), solved the same way.
public enum EmpiricalBayes: TauSquaredEstimator {
    /// The empirical Bayes estimate of τ² from effects `y` and sampling variances `v` (metafor's `EB`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        try PauleMandel.generalizedQRoot(&model, method: .empiricalBayes)
    }
}

// Maximum-likelihood τ² estimator.

/// Maximum likelihood (Hardy & Thompson 1996; Viechtbauer 2005, eq. 10), solved by Fisher
/// scoring from the Hedges estimate: the step is (yᵀPPy − Σwᵢ)/Σwᵢ², wᵢ = 1/(vᵢ+τ²), kept in a
/// bisection bracket (`SafeguardedRoot`).
public enum MaximumLikelihood: TauSquaredEstimator {
    /// The maximum-likelihood estimate of τ² from effects `y` and sampling variances `v` (metafor's `ML`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        let start = try Hedges.estimate(&model)
        let root = try model.solve(.maximumLikelihood, start: start, fisherScoring: true) { m, tau2 throws(MetaPoolError) in
            let s = try m.sums(tau2: tau2, traces: false)
            let score = s.sumW2Residual2 - s.sumW
            return (score, score / s.sumW2)
        }
        return try model.higherOfRootAndBoundary(root, restricted: false)
    }
}

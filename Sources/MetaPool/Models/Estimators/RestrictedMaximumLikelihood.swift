// Restricted maximum-likelihood τ² estimator.

/// REML (Viechtbauer 2005, eq. 12), solved by Fisher scoring from the Hedges estimate: the step
/// is (yᵀPPy − tr P)/tr(PP) with P = W − WX(XᵀWX)⁻¹XᵀW (for p = 1, yᵀPPy = Σwᵢ²(yᵢ−μ̂)²,
/// tr P = Σw − Σw²/Σw, tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)²: O(k), no k×k matrix).
public enum RestrictedMaximumLikelihood: TauSquaredEstimator {
    /// The REML estimate of τ² from effects `y` and sampling variances `v` (metafor's `REML`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try tauSquaredCountingIterations(y: y, v: v).tauSquared
    }

    /// The estimate and the number of Fisher-scoring iterations (score evaluations, each one or
    /// two passes over the studies), for benchmarks that compare an iteration with a plain pass.
    public static func tauSquaredCountingIterations(y: [Double], v: [Double]) throws(MetaPoolError) -> (tauSquared: Double, iterations: Int) {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        let root = try estimate(&model)
        return (root, model.evaluations)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        let start = try Hedges.estimate(&model)
        let root = try model.solve(.restrictedMaximumLikelihood, start: start, fisherScoring: true) { m, tau2 throws(MetaPoolError) in
            let s = try m.sums(tau2: tau2, traces: true)
            let score = s.sumW2Residual2 - s.traceP
            return (score, score / s.tracePP)
        }
        return try model.higherOfRootAndBoundary(root, restricted: true)
    }
}

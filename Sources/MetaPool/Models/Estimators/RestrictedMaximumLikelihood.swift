// Restricted maximum-likelihood τ² estimator.

/// REML (Viechtbauer 2005, eq. 12), solved by Fisher scoring from the Hedges estimate:
/// the step is (yᵀPPy − tr P) / tr(PP) with P = W − wwᵀ/Σw, so yᵀPPy = Σwᵢ²(yᵢ−μ̂)²,
/// tr P = Σw − Σw²/Σw and tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)² — all O(k), no k×k matrix.
public enum RestrictedMaximumLikelihood: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try tauSquaredCountingIterations(y: y, v: v).tauSquared
    }

    /// The estimate and the number of Fisher-scoring iterations (score evaluations, each two
    /// passes over the studies), for benchmarks that compare an iteration with a plain pass.
    public static func tauSquaredCountingIterations(y: [Double], v: [Double]) throws(MetaPoolError) -> (tauSquared: Double, iterations: Int) {
        try validate(y: y, v: v)
        let start = try Hedges.tauSquared(y: y, v: v)
        let solver = SafeguardedRoot(scale: SafeguardedRoot.typicalScale(v))
        var iterations = 0
        var center: Double?
        let root = solver.solve(start: start) { tau2 in
            iterations += 1
            let s = WeightedSums(y: y, v: v, tau2: tau2, center: center)
            center = s.mean
            let score = s.sumW2Residual2 - s.traceP
            return (score, score / s.tracePP)
        }
        guard let root else { throw notConverged("REML") }
        return (root, iterations)
    }
}

// Restricted maximum-likelihood τ² estimator.

/// REML (Viechtbauer 2005, eq. 12), solved by Fisher scoring from the Hedges estimate:
/// the step is (yᵀPPy − tr P) / tr(PP) with P = W − wwᵀ/Σw, so yᵀPPy = Σwᵢ²(yᵢ−μ̂)²,
/// tr P = Σw − Σw²/Σw and tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)² — all O(k), no k×k matrix.
public enum RestrictedMaximumLikelihood: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        let start = try Hedges.tauSquared(y: y, v: v)
        let solver = SafeguardedRoot(scale: UnweightedSums(y: y, v: v).meanVariance)
        let root = solver.solve(start: start) { tau2 in
            let s = WeightedSums(y: y, v: v, tau2: tau2)
            let score = s.sumW2Residual2 - s.traceP
            return (score, score / s.tracePP)
        }
        guard let root else { throw notConverged("REML") }
        return root
    }
}

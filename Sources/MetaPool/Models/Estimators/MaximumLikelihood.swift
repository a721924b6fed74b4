// Maximum-likelihood τ² estimator.

/// Maximum likelihood (Hardy & Thompson 1996; Viechtbauer 2005, eq. 10), solved by Fisher
/// scoring from the Hedges estimate: the step is
/// (Σwᵢ²(yᵢ−μ̂)² − Σwᵢ) / Σwᵢ², wᵢ = 1/(vᵢ+τ²), kept in a bisection bracket (``SafeguardedRoot``).
public enum MaximumLikelihood: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let start = try Hedges.tauSquared(y: y, v: v)
        let solver = SafeguardedRoot(scale: SafeguardedRoot.typicalScale(v))
        var center: Double?
        let root = solver.solve(start: start) { tau2 in
            let s = WeightedSums(y: y, v: v, tau2: tau2, center: center)
            center = s.mean
            let score = s.sumW2Residual2 - s.sumW
            return (score, score / s.sumW2)
        }
        guard let root else { throw notConverged("ML") }
        return root
    }
}

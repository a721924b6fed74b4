// Morris' empirical Bayes τ² estimator.

/// Empirical Bayes (Morris 1983; Berkey et al. 1995, eq. 4): τ² solves
/// Σwᵢ[k/(k−1)·(yᵢ−μ̂)² − vᵢ − τ²] = 0, wᵢ = 1/(vᵢ+τ²), i.e. k/(k−1)·Q(τ²) = k.
/// This is the Paule–Mandel equation (Viechtbauer et al. 2015 note the two coincide for
/// the random-effects model without moderators); solved with the same safeguarded Newton method.
public enum EmpiricalBayes: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let k = Double(y.count)
        guard let root = GeneralizedQ.solve(y: y, v: v, target: k * (k - 1) / k, start: try DerSimonianLaird.tauSquared(y: y, v: v)) else {
            throw notConverged("EB")
        }
        return root
    }
}

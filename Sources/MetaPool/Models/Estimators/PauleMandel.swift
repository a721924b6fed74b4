// Paule–Mandel generalized-Q τ² estimator.

/// Paule & Mandel (1982); DerSimonian & Kacker (2007, eq. 6): the τ² at which the generalized
/// Q statistic Σwᵢ(yᵢ − μ̂)², wᵢ = 1/(vᵢ+τ²), equals its expectation k − 1; 0 when Q(0) < k − 1.
/// Solved by Newton's method (dQ/dτ² = −Σwᵢ²(yᵢ−μ̂)²) inside a bisection bracket.
public enum PauleMandel: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        guard let root = GeneralizedQ.solve(y: y, v: v, target: Double(y.count - 1), start: try DerSimonianLaird.tauSquared(y: y, v: v)) else {
            throw notConverged("PM")
        }
        return root
    }
}

/// Solves Q(τ²) = target for the generalized Q statistic, which decreases in τ².
enum GeneralizedQ {
    static func solve(y: [Double], v: [Double], target: Double, start: Double) -> Double? {
        let solver = SafeguardedRoot(scale: SafeguardedRoot.typicalScale(v))
        var center: Double?
        return solver.solve(start: start) { tau2 in
            let s = WeightedSums(y: y, v: v, tau2: tau2, center: center)
            center = s.mean
            let f = s.q - target
            return (f, s.sumW2Residual2 > 0 ? f / s.sumW2Residual2 : 0)
        }
    }
}

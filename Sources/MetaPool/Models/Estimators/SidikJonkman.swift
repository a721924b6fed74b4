// Sidik–Jonkman τ² estimator.

/// Sidik & Jonkman (2005, eqs. 3–4): with the crude start τ̂₀² = Σ(yᵢ−ȳ)²/k,
/// τ̂² = τ̂₀² · Σwᵢ(yᵢ − μ̂)² / (k − 1), wᵢ = 1/(vᵢ + τ̂₀²). Always positive unless all yᵢ are equal.
public enum SidikJonkman: TauSquaredEstimator {
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        let u = UnweightedSums(y: y, v: v)
        let tau0 = u.sumSquares / Double(y.count)
        let s = WeightedSums(y: y, v: v, tau2: tau0)
        return tau0 * s.q / Double(y.count - 1)
    }
}

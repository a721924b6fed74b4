// Sidik–Jonkman τ² estimator.

/// Sidik & Jonkman (2005, eqs. 3–4): with the crude start τ̂₀² = Σ(yᵢ−ȳ)²/k,
/// τ̂² = τ̂₀² · Q(τ̂₀²)/(k − p), Q the generalized (residual) Q statistic with wᵢ = 1/(vᵢ + τ̂₀²).
/// Always positive unless all yᵢ are equal.
public enum SidikJonkman: TauSquaredEstimator {
    /// The Sidik–Jonkman estimate of τ² from effects `y` and sampling variances `v` (metafor's `SJ`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        let tau0 = model.unweightedSpread().sumSquares / Double(model.studyCount)
        let s = try model.sums(tau2: tau0, traces: false)
        return tau0 * s.q / model.residualDegreesOfFreedom
    }
}

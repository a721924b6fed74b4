// Paule–Mandel generalized-Q τ² estimator.

/// Paule & Mandel (1982); DerSimonian & Kacker (2007, eq. 6): the τ² at which the generalized
/// Q statistic yᵀPy = Σwᵢrᵢ², wᵢ = 1/(vᵢ+τ²), equals its expectation k − p; 0 when Q(0) < k − p.
/// Solved by Newton's method (dQ/dτ² = −yᵀPPy) inside a bisection bracket, from the DL estimate.
public enum PauleMandel: TauSquaredEstimator {
    /// The Paule–Mandel estimate of τ² from effects `y` and sampling variances `v` (metafor's `PM`).
    public static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double {
        try validate(y: y, v: v)
        var model = InterceptModel(y: y, v: v)
        return try estimate(&model)
    }

    static func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        try generalizedQRoot(&model, method: .pauleMandel)
    }

    /// The root of Q(τ²) = k − p from the DL estimate, shared with the empirical Bayes estimator.
    static func generalizedQRoot<Model: TauSquaredModel>(_ model: inout Model, method: TauSquaredMethod) throws(MetaPoolError) -> Double {
        let start = try DerSimonianLaird.estimate(&model)
        return try generalizedQRoot(&model, method: method, target: model.residualDegreesOfFreedom, start: start)
    }

    /// The root of Q(τ²) = `target` (Q decreases in τ²): also the bounds of the Q-profile interval.
    static func generalizedQRoot<Model: TauSquaredModel>(_ model: inout Model, method: TauSquaredMethod, target: Double,
                                                        start: Double) throws(MetaPoolError) -> Double {
        try model.solve(method, start: start) { m, tau2 throws(MetaPoolError) in
            let s = try m.sums(tau2: tau2, traces: false)
            let f = s.q - target
            return (f, s.sumW2Residual2 > 0 ? f / s.sumW2Residual2 : 0)
        }
    }
}

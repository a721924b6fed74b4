// The beta distribution, for exact (Clopper–Pearson) and Jeffreys intervals of a proportion.

/// The beta distribution with shape parameters a > 0 and b > 0.
///
/// P(X ≤ x) = Iₓ(a, b), the regularized incomplete beta function (DLMF 8.17.1). Quantiles
/// come from the F distribution: if X ~ Beta(a, b) then bX/(a(1 − X)) ~ F(2a, 2b)
/// (Johnson, Kotz & Balakrishnan 1995, ch. 25 §2), so x = a·f/(b + a·f) at the F quantile f,
/// with 1 − x = b/(b + a·f) formed directly for the upper tail.
public struct BetaDistribution: ContinuousDistribution, Hashable {
    /// The first shape parameter a.
    public let alpha: Double
    /// The second shape parameter b.
    public let beta: Double

    /// A beta distribution; non-positive, infinite or NaN shapes give a distribution whose
    /// functions all return NaN.
    public init(alpha: Double, beta: Double) {
        self.alpha = alpha
        self.beta = beta
    }

    private var isValid: Bool { alpha > 0 && beta > 0 && alpha.isFinite && beta.isFinite }

    /// P(X ≤ x): 0 below 0, 1 above 1.
    public func cdf(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        return SpecialFunctions.regularizedBeta(x, alpha, beta)
    }

    /// P(X > x), the upper tail computed directly.
    public func survival(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        if x >= 1 { return 0 }
        return SpecialFunctions.regularizedBetaComplement(x, alpha, beta)
    }

    /// The x with P(X ≤ x) = p: 0 for p = 0, 1 for p = 1.
    public func quantile(_ p: Double) -> Double {
        guard isValid, p >= 0, p <= 1 else { return .nan }
        return fromF(FisherF(numeratorDegreesOfFreedom: 2 * alpha, denominatorDegreesOfFreedom: 2 * beta).quantile(p))
    }

    /// The x with P(X > x) = q.
    public func survivalQuantile(_ q: Double) -> Double {
        guard isValid, q >= 0, q <= 1 else { return .nan }
        return fromF(FisherF(numeratorDegreesOfFreedom: 2 * alpha, denominatorDegreesOfFreedom: 2 * beta).survivalQuantile(q))
    }

    /// x = a·f/(b + a·f), written as 1 − b/(b + a·f) when x is above 1/2 (no cancellation either way).
    private func fromF(_ f: Double) -> Double {
        if f.isNaN { return .nan }
        if f == .infinity { return 1 }
        let af = alpha * f
        return af <= beta ? af / (beta + af) : 1 - beta / (beta + af)
    }
}

// The chi-squared distribution.

import RealModule

/// The chi-squared distribution with k > 0 degrees of freedom.
///
/// P(X ≤ x) = P(k/2, x/2), the regularized incomplete gamma function (Abramowitz & Stegun
/// 26.4.19), with both tails computed directly; quantiles by safeguarded Newton iteration
/// on the log tail probability (remembered per (k, p) in ``QuantileCache``), started from the Wilson–Hilferty approximation (A&S 26.4.17).
public struct ChiSquared: ContinuousDistribution, Hashable {
    /// The degrees of freedom k.
    public let degreesOfFreedom: Double

    /// A chi-squared distribution; k ≤ 0, infinite or NaN gives a distribution whose
    /// functions all return NaN.
    public init(degreesOfFreedom: Double) {
        self.degreesOfFreedom = degreesOfFreedom
    }

    private var isValid: Bool { degreesOfFreedom > 0 && degreesOfFreedom.isFinite }

    /// P(X ≤ x), the regularized lower incomplete gamma function P(k/2, x/2); 0 for x ≤ 0.
    public func cdf(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        return incompleteGamma(degreesOfFreedom / 2, x / 2).lower
    }

    /// P(X > x), the regularized upper incomplete gamma function Q(k/2, x/2); 1 for x ≤ 0.
    public func survival(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        return incompleteGamma(degreesOfFreedom / 2, x / 2).upper
    }

    /// The x with P(X ≤ x) = p: 0 for p = 0, +∞ for p = 1.
    public func quantile(_ p: Double) -> Double {
        guard isValid, p >= 0, p <= 1 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        return QuantileCache.shared.value(.chiSquaredQuantile, degreesOfFreedom: degreesOfFreedom, probability: p) {
            p <= 0.5 ? solve(lowerTail: p) : solve(upperTail: 1 - p)
        }
    }

    /// The x with P(X > x) = q (the χ² critical value for q = α), solved on the upper tail for small q.
    public func survivalQuantile(_ q: Double) -> Double {
        guard isValid, q >= 0, q <= 1 else { return .nan }
        if q == 0 { return .infinity }
        if q == 1 { return 0 }
        return QuantileCache.shared.value(.chiSquaredSurvivalQuantile, degreesOfFreedom: degreesOfFreedom, probability: q) {
            q <= 0.5 ? solve(upperTail: q) : solve(lowerTail: 1 - q)
        }
    }

    // MARK: Inversion

    /// Wilson & Hilferty (1931): (X/k)^{1/3} is close to N(1 − 2/(9k), 2/(9k)).
    private func wilsonHilferty(_ z: Double) -> Double {
        let k = degreesOfFreedom
        let c = 2 / (9 * k)
        let r = 1 - c + z * c.squareRoot()
        return r > 0 ? k * r * r * r : 0
    }

    private func solve(lowerTail p: Double) -> Double {
        let a = degreesOfFreedom / 2
        // P(a, y) ≤ yᵃ/Γ(a + 1), so y = (p Γ(a + 1))^{1/a} is a lower bound for the root.
        let lowerBound = 2 * Double.exp((Double.log(p) + Double.logGamma(a + 1)) / a)
        let start = max(wilsonHilferty(-Normal.positiveQuantile(upperTail: p)), lowerBound)
        return solvePositive(target: p, start: start, increasing: true) { x in
            let pair = incompleteGamma(a, x / 2)
            return (Double.log(pair.lower), Double.exp(logGammaPrefactor(a, x / 2) - Double.log(pair.lower)))
        }
    }

    private func solve(upperTail q: Double) -> Double {
        let a = degreesOfFreedom / 2
        var start = wilsonHilferty(Normal.positiveQuantile(upperTail: q))
        if !(start > 0) { start = degreesOfFreedom }
        return solvePositive(target: q, start: start, increasing: false) { x in
            let pair = incompleteGamma(a, x / 2)
            return (Double.log(pair.upper), -Double.exp(logGammaPrefactor(a, x / 2) - Double.log(pair.upper)))
        }
    }
}

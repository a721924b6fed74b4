// The normal distribution.

import RealModule

/// The normal distribution N(μ, σ²).
///
/// CDF and survival from the complementary error function, Φ(x) = ½ erfc(−x/√2)
/// (Abramowitz & Stegun 26.2.29), which keeps relative accuracy in both tails down to
/// about 1e-300; quantiles by safeguarded Newton iteration on log Φ (see `solvePositive`),
/// with the central region solved on ½ erf(x/√2) so that p near ½ loses no digits.
public struct Normal: ContinuousDistribution, Hashable {
    /// The mean μ.
    public let mean: Double
    /// The standard deviation σ > 0.
    public let standardDeviation: Double

    /// The standard normal distribution N(0, 1).
    public static let standard = Normal(mean: 0, standardDeviation: 1)

    /// A normal distribution; a non-positive or non-finite σ gives a distribution whose
    /// functions all return NaN.
    public init(mean: Double = 0, standardDeviation: Double = 1) {
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    private var isValid: Bool { mean.isFinite && standardDeviation > 0 && standardDeviation.isFinite }

    /// The normal CDF Φ((x − μ)/σ), from erfc so that the lower tail keeps its relative accuracy.
    public func cdf(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        return Self.standardSurvival(-(x - mean) / standardDeviation)
    }

    /// P(X > x) = Φ(−(x − μ)/σ), computed directly from erfc.
    public func survival(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        return Self.standardSurvival((x - mean) / standardDeviation)
    }

    /// The quantile μ + σΦ⁻¹(p): −∞ for p = 0, +∞ for p = 1.
    public func quantile(_ p: Double) -> Double {
        guard isValid, p >= 0, p <= 1 else { return .nan }
        return mean + standardDeviation * Self.standardQuantile(p)
    }

    /// The upper quantile μ − σΦ⁻¹(q), e.g. the critical value z₁₋α/₂ for q = α/2.
    public func survivalQuantile(_ q: Double) -> Double {
        guard isValid, q >= 0, q <= 1 else { return .nan }
        return mean - standardDeviation * Self.standardQuantile(q)
    }

    /// The density of N(μ, σ²) at x, φ(z)/σ with z = (x − μ)/σ and φ(z) = exp(−z²/2)/√(2π).
    public func density(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        let z = (x - mean) / standardDeviation
        return Double.exp(-0.5 * z * z) / (standardDeviation * Self.sqrtTwoPi)
    }

    // MARK: Standard normal kernels

    static let sqrtTwoPi = 2.506_628_274_631_000_502_415_765_284_811
    static let sqrtHalf = 0.707_106_781_186_547_524_400_844_362_104_85

    /// P(Z > z).
    static func standardSurvival(_ z: Double) -> Double {
        0.5 * Double.erfc(z * sqrtHalf)
    }

    /// P(0 < Z < s) = ½ erf(s/√2), accurate for small s.
    static func centralProbability(_ s: Double) -> Double {
        0.5 * Double.erf(s * sqrtHalf)
    }

    /// Φ⁻¹(p).
    static func standardQuantile(_ p: Double) -> Double {
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        // Upper-tail probability q = min(p, 1 − p) ≤ ½; 1 − p is exact for p ≥ ½ (Sterbenz).
        let q = p < 0.5 ? p : 1 - p
        let sign: Double = p < 0.5 ? -1 : 1
        return sign * positiveQuantile(upperTail: q)
    }

    /// The s > 0 with P(Z > s) = q, for 0 < q < ½.
    static func positiveQuantile(upperTail q: Double) -> Double {
        // Starting value: the rational approximation of Abramowitz & Stegun 26.2.23 (error < 4.5e-4).
        let t = (-2 * Double.log(q)).squareRoot()
        var start = t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
        if !(start > 0) { start = 1e-3 }
        if q > 0.25 {
            // Central region: solve ½ erf(s/√2) = ½ − q, where ½ − q is exact.
            let c = 0.5 - q
            return solvePositive(target: c, start: min(start, 1), increasing: true) { s in
                let value = centralProbability(s)
                let logDensity = -0.5 * s * s - Double.log(sqrtTwoPi)
                return (Double.log(value), Double.exp(Double.log(s) + logDensity) / value)
            }
        }
        return solvePositive(target: q, start: start, increasing: false) { s in
            let value = standardSurvival(s)
            let logDensity = -0.5 * s * s - Double.log(sqrtTwoPi)
            return (Double.log(value), -Double.exp(Double.log(s) + logDensity - Double.log(value)))
        }
    }
}

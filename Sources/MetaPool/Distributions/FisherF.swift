// The F distribution.

import RealModule

/// Fisher's F distribution with d₁ > 0 and d₂ > 0 degrees of freedom.
///
/// P(X ≤ x) = I_u(d₁/2, d₂/2) with u = d₁x/(d₁x + d₂) (Abramowitz & Stegun 26.6.2), and
/// 1 − u = d₂/(d₁x + d₂) formed directly so that the upper tail keeps its relative accuracy;
/// d₂ = ∞ gives χ²(d₁)/d₁. Quantiles by safeguarded Newton iteration on the log tail probability.
public struct FisherF: ContinuousDistribution, Hashable {
    /// The numerator degrees of freedom d₁.
    public let numeratorDegreesOfFreedom: Double
    /// The denominator degrees of freedom d₂.
    public let denominatorDegreesOfFreedom: Double

    /// An F distribution; non-positive or NaN degrees of freedom (or d₁ = ∞) give a
    /// distribution whose functions all return NaN.
    public init(numeratorDegreesOfFreedom: Double, denominatorDegreesOfFreedom: Double) {
        self.numeratorDegreesOfFreedom = numeratorDegreesOfFreedom
        self.denominatorDegreesOfFreedom = denominatorDegreesOfFreedom
    }

    private var isValid: Bool {
        numeratorDegreesOfFreedom > 0 && numeratorDegreesOfFreedom.isFinite && denominatorDegreesOfFreedom > 0
    }

    /// P(X ≤ x) = I_u(d₁/2, d₂/2) with u = d₁x/(d₁x + d₂); 0 for x ≤ 0.
    public func cdf(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        return kernel(x).lower
    }

    /// P(X > x), the upper tail of the incomplete beta function computed directly; 1 for x ≤ 0.
    public func survival(_ x: Double) -> Double {
        guard isValid, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        return kernel(x).upper
    }

    /// The x with P(X ≤ x) = p: 0 for p = 0, +∞ for p = 1.
    public func quantile(_ p: Double) -> Double {
        guard isValid, p >= 0, p <= 1 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        return p <= 0.5 ? solve(lowerTail: p) : solve(upperTail: 1 - p)
    }

    /// The x with P(X > x) = q (the F critical value for q = α), solved on the upper tail for small q.
    public func survivalQuantile(_ q: Double) -> Double {
        guard isValid, q >= 0, q <= 1 else { return .nan }
        if q == 0 { return .infinity }
        if q == 1 { return 0 }
        return q <= 0.5 ? solve(upperTail: q) : solve(lowerTail: 1 - q)
    }

    // MARK: Kernels

    /// Both tails at x > 0 and log[x f(x)] (= log of the beta prefactor uᵃ(1−u)ᵇ/B(a, b),
    /// since du/dx = u(1 − u)/x).
    private func kernel(_ x: Double) -> (lower: Double, upper: Double, logSlope: Double) {
        let d1 = numeratorDegreesOfFreedom
        let d2 = denominatorDegreesOfFreedom
        if d2 == .infinity {
            let a = d1 / 2
            let pair = incompleteGamma(a, a * x)
            return (pair.lower, pair.upper, logGammaPrefactor(a, a * x))
        }
        if x == .infinity { return (1, 0, -.infinity) }
        let a = d1 / 2
        let b = d2 / 2
        let u: Double, v: Double, logU: Double, logV: Double
        let r = d1 * x / d2
        if r < 1e300 {
            u = r / (1 + r)
            v = 1 / (1 + r)
            let l = Double.log(onePlus: r)
            logU = Double.log(r) - l
            logV = -l
        } else {
            logV = Double.log(d2) - Double.log(d1) - Double.log(x)
            v = Double.exp(logV)
            u = 1 - v
            logU = -v
        }
        let pair = incompleteBeta(a, b, x: u, y: v, logX: logU, logY: logV)
        return (pair.lower, pair.upper, logBetaPrefactor(a, b, x: u, y: v, logX: logU, logY: logV))
    }

    /// A starting value from χ²(d₁)/d₁, raised to the power-law tail bound
    /// P(X > x) ≈ vᵇ/(b B(a, b)) when d₂ is small and the tail heavy.
    private func start(upperTail q: Double?, lowerTail p: Double?) -> Double {
        let d1 = numeratorDegreesOfFreedom
        let d2 = denominatorDegreesOfFreedom
        let chi = ChiSquared(degreesOfFreedom: d1)
        var s = (q.map { chi.survivalQuantile($0) } ?? chi.quantile(p!)) / d1
        if let q, d2.isFinite {
            let a = d1 / 2
            let b = d2 / 2
            let logBeta = Double.logGamma(a) + Double.logGamma(b) - Double.logGamma(a + b)
            let logV = (Double.log(q) + Double.log(b) + logBeta) / b
            if logV < 0 {
                let tail = d2 / d1 * (Double.exp(-logV) - 1)
                if tail.isFinite && tail > s { s = tail }
            }
        }
        return s > 0 && s.isFinite ? s : 1
    }

    private func solve(lowerTail p: Double) -> Double {
        solvePositive(target: p, start: start(upperTail: nil, lowerTail: p), increasing: true) { x in
            let k = kernel(x)
            return (Double.log(k.lower), Double.exp(k.logSlope - Double.log(k.lower)))
        }
    }

    private func solve(upperTail q: Double) -> Double {
        solvePositive(target: q, start: start(upperTail: q, lowerTail: nil), increasing: false) { x in
            let k = kernel(x)
            return (Double.log(k.upper), -Double.exp(k.logSlope - Double.log(k.upper)))
        }
    }
}

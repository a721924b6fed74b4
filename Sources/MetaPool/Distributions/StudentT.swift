// Student's t distribution.

import RealModule

/// Student's t distribution with ν > 0 degrees of freedom.
///
/// With x = ν/(ν + t²), P(T > t) = ½ I_x(ν/2, ½) for t > 0 (Abramowitz & Stegun 26.7.1);
/// the incomplete beta function is evaluated with both x and 1 − x formed from t directly,
/// so that neither tail loses digits. Quantiles by safeguarded Newton iteration on the log
/// tail probability, remembered per (ν, p) in ``QuantileCache``. ν = ∞ gives the standard normal.
public struct StudentT: ContinuousDistribution, Hashable {
    /// The degrees of freedom ν.
    public let degreesOfFreedom: Double

    /// A t distribution; ν ≤ 0 or NaN gives a distribution whose functions all return NaN.
    public init(degreesOfFreedom: Double) {
        self.degreesOfFreedom = degreesOfFreedom
    }

    private var isValid: Bool { degreesOfFreedom > 0 }

    /// P(T ≤ t), from the incomplete beta function with both tails formed directly.
    public func cdf(_ t: Double) -> Double {
        guard isValid, !t.isNaN else { return .nan }
        return t <= 0 ? tails(-t).upper : tails(t).lower
    }

    /// P(T > t), computed directly so that small upper tails keep their relative accuracy.
    public func survival(_ t: Double) -> Double {
        guard isValid, !t.isNaN else { return .nan }
        return t >= 0 ? tails(t).upper : tails(-t).lower
    }

    /// The t with P(T ≤ t) = p: −∞ for p = 0, +∞ for p = 1.
    public func quantile(_ p: Double) -> Double {
        guard isValid, p >= 0, p <= 1 else { return .nan }
        if p == 0.5 { return 0 }
        return QuantileCache.shared.value(.studentTQuantile, degreesOfFreedom: degreesOfFreedom, probability: p) {
            p < 0.5 ? -positiveQuantile(upperTail: p) : positiveQuantile(upperTail: 1 - p)
        }
    }

    /// The t with P(T > t) = q, e.g. the critical value t₁₋α/₂,ν for q = α/2.
    public func survivalQuantile(_ q: Double) -> Double {
        guard isValid, q >= 0, q <= 1 else { return .nan }
        if q == 0.5 { return 0 }
        return QuantileCache.shared.value(.studentTSurvivalQuantile, degreesOfFreedom: degreesOfFreedom, probability: q) {
            q < 0.5 ? positiveQuantile(upperTail: q) : -positiveQuantile(upperTail: 1 - q)
        }
    }

    // MARK: Kernels

    /// For s ≥ 0: lower = P(T ≤ s), upper = P(T > s), central = P(0 < T < s), and
    /// log[x^{ν/2} y^{½} / B(ν/2, ½)], which equals log[s·f(s)] since dx/ds = −2xy/s
    /// (the slope the quantile iteration needs).
    private func kernel(_ s: Double) -> (lower: Double, upper: Double, central: Double, logSlope: Double) {
        let nu = degreesOfFreedom
        if nu == .infinity {
            let upper = Normal.standardSurvival(s)
            let logSlope = Double.log(s) - 0.5 * s * s - Double.log(Normal.sqrtTwoPi)
            return (1 - upper, upper, Normal.centralProbability(s), logSlope)
        }
        if s == 0 { return (0.5, 0.5, 0, -.infinity) }
        if s == .infinity { return (1, 0, 0.5, -.infinity) }
        let a = nu / 2
        let b = 0.5
        // x = ν/(ν + s²), y = s²/(ν + s²), formed without overflow for huge s.
        let x: Double, y: Double, logX: Double, logY: Double
        if s < 1e100 {
            let w = s * s / nu
            x = 1 / (1 + w)
            y = w / (1 + w)
            let l = Double.log(onePlus: w)
            logX = -l
            logY = Double.log(w) - l
        } else {
            logX = Double.log(nu) - 2 * Double.log(s)
            x = Double.exp(logX)
            y = 1 - x
            logY = -x
        }
        // Upper tail is ½ I_x(a, b); central probability P(0 < T < s) = ½ I_y(b, a).
        let pair = incompleteBeta(a, b, x: x, y: y, logX: logX, logY: logY)
        let upper = 0.5 * pair.lower
        let central = 0.5 * pair.upper
        let logSlope = logBetaPrefactor(a, b, x: x, y: y, logX: logX, logY: logY)
        return (0.5 + central, upper, central, logSlope)
    }

    private func tails(_ s: Double) -> (lower: Double, upper: Double) {
        let k = kernel(s)
        return (k.lower, k.upper)
    }

    /// The s > 0 with P(T > s) = q, 0 < q < ½.
    private func positiveQuantile(upperTail q: Double) -> Double {
        if q == 0 { return .infinity }
        let nu = degreesOfFreedom
        // Start from the normal quantile widened for small ν, or from the power-law tail
        // P(T > s) ≈ C s^{−ν} when that is larger (Abramowitz & Stegun 26.7.5 and 26.7.3).
        let z = Normal.positiveQuantile(upperTail: q)
        var start = z + (z * z * z + z) / (4 * nu)
        let logC = Double.logGamma((nu + 1) / 2) - Double.logGamma(nu / 2)
            - 0.5 * Double.log(nu * Double.pi) + (nu - 1) / 2 * Double.log(nu)
        // C s^{−ν} bounds P(T > s) from above, so its inverse bounds the quantile from above.
        let tailStart = Double.exp((logC - Double.log(q)) / nu)
        if tailStart.isFinite && (nu < 4 || tailStart < start) { start = tailStart }
        if !(start > 0) || !start.isFinite { start = 1 }
        if q > 0.25 {
            let c = 0.5 - q
            return solvePositive(target: c, start: start, increasing: true) { s in
                let k = kernel(s)
                // d log C / d log s = s f(s) / C(s), and s f(s) is the beta prefactor.
                return (Double.log(k.central), Double.exp(k.logSlope - Double.log(k.central)))
            }
        }
        return solvePositive(target: q, start: start, increasing: false) { s in
            let k = kernel(s)
            return (Double.log(k.upper), -Double.exp(k.logSlope - Double.log(k.upper)))
        }
    }
}

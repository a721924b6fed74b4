// The distribution protocol and the root finder that inverts every CDF in this folder.

import RealModule

/// A continuous probability distribution on the real line.
///
/// Every member returns NaN, never traps, for arguments outside its domain and for
/// distributions built with invalid parameters.
public protocol ContinuousDistribution: Sendable {
    /// P(X ≤ x).
    func cdf(_ x: Double) -> Double
    /// P(X > x), computed directly so that small upper tails keep their relative accuracy.
    func survival(_ x: Double) -> Double
    /// The x with P(X ≤ x) = p, for p in [0, 1].
    func quantile(_ p: Double) -> Double
    /// The x with P(X > x) = q, for q in [0, 1]; accurate for q down to 1e-300.
    func survivalQuantile(_ q: Double) -> Double
}

/// Solves log G(s) = log target for s > 0, where G is a probability that is monotone in s.
///
/// Newton's method in z = log s on log G, which is close to linear in both the body and
/// power-law or Gaussian tails, safeguarded by a bracket that every evaluation tightens and
/// bisection when a step leaves it. `evaluate(s)` returns log G(s) and d log G / d log s.
/// `increasing` says whether G grows with s.
func solvePositive(target: Double, start: Double, increasing: Bool,
                   evaluate: (Double) -> (logValue: Double, slope: Double)) -> Double {
    guard target > 0, start > 0, start.isFinite else { return .nan }
    let logTarget = Double.log(target)
    let sign: Double = increasing ? 1 : -1
    var z = Double.log(start)
    var low = -Double.infinity
    var high = Double.infinity
    for _ in 0 ..< 400 {
        let (logValue, slope) = evaluate(Double.exp(z))
        // g(z) is increasing in z after the sign flip.
        let g = sign * (logValue - logTarget)
        if g == 0 || logValue.isNaN && slope.isNaN { return Double.exp(z) }
        if g < 0 { low = z } else { high = z }
        var step = -g / (sign * slope)
        if !step.isFinite || step.isNaN { step = g < 0 ? 4 : -4 }
        // Converged: the Newton correction is below rounding of z. Quadratic convergence
        // means the previous step's error was already of this size.
        if abs(step) <= 4e-16 * max(1, abs(z)) { return Double.exp(z + step) }
        // Limit a single step to a factor e⁸ in s; tails can be reached in a few steps anyway.
        step = max(-8, min(8, step))
        var next = z + step
        if next <= low || next >= high {
            if low.isFinite && high.isFinite {
                next = 0.5 * (low + high)
            } else {
                next = g < 0 ? z + 8 : z - 8
            }
        }
        if (high - low) <= 4e-16 * max(1, abs(z)) { return Double.exp(next) }
        z = next
        if z > 709.7 { return .infinity }
    }
    return Double.exp(z)
}

// The conditional likelihood of the log odds ratio of a 2×2 table given its total events: Fisher's
// noncentral hypergeometric distribution (Van Houwelingen, Zwinderman & Stijnen 1993, Stat Med 12:2273).

import RealModule

/// P(a | m, θ) = C(n₁, a)C(n₂, m − a)e^(θa) / Σ_u C(n₁, u)C(n₂, m − u)e^(θu), u from max(0, m − n₂) to
/// min(n₁, m), for a events of n₁ in the treatment group, c of n₂ in control, m = a + c: an exponential
/// family in θ with K(θ) = log Σ_u w_u e^(θu). The log weights log w_u = log C(n₁, u) + log C(n₂, m − u)
/// are computed once; they are concave in u (the sequence is a Pólya frequency sequence: the
/// coefficients of t^m in (1 + zt)^n₁(1 + t)^n₂), so for each θ the terms are unimodal and the sum runs
/// out from the largest term until the terms are below e^(−50) of it (the rest is below (D + 1)e^(−50)).
/// Successive terms are formed by their ratios w_u/w_(u−1)·e^θ = (n₁ − u + 1)(m − u + 1)/(u(n₂ − m + u))·e^θ,
/// so a call costs one exponential however many terms it sums.
struct HypergeometricCounts: StudyCountLikelihood {
    /// a − a_min, 0, a_max − a_min (u shifted by a_min: f is unchanged).
    let observed: Double, lowest: Double = 0, highest: Double
    let logConstant: Double
    let startEstimate: (value: Double, information: Double)
    /// log w_u for u = 0 ... D (shifted), the increments log w_u − log w_(u−1) (decreasing) and the
    /// ratios w_u/w_(u−1) (index 0 unused).
    let logWeights: [Double], increments: [Double], ratios: [Double]

    init(treatEvents a: Double, treatTotal n1: Double, controlEvents c: Double, controlTotal n2: Double) {
        let m = a + c
        let low = max(0, m - n2), high = min(n1, m)
        func logChoose(_ n: Double, _ k: Double) -> Double {
            Double.logGamma(n + 1) - Double.logGamma(k + 1) - Double.logGamma(n - k + 1)
        }
        let d = Int(high - low)
        var w = [Double](repeating: 0, count: d + 1)
        for u in 0...d { w[u] = logChoose(n1, low + Double(u)) + logChoose(n2, m - low - Double(u)) }
        logWeights = w
        increments = [0] + (0..<d).map { w[$0 + 1] - w[$0] }
        // w_U/w_(U−1) for the unshifted U = low + u: C(n₁, U)/C(n₁, U − 1)·C(n₂, m − U)/C(n₂, m − U + 1).
        ratios = [1] + (1...max(1, d)).prefix(d).map { u in
            let big = low + Double(u)
            return (n1 - big + 1) * (m - big + 1) / (big * (n2 - m + big))
        }
        observed = a - low
        highest = high - low
        logConstant = w[Int(a - low)]
        // The empirical log odds ratio with ½ added to every cell, and its inverse variance.
        let b = n1 - a, dd = n2 - c
        let v = 1 / (a + 0.5) + 1 / (b + 0.5) + 1 / (c + 0.5) + 1 / (dd + 0.5)
        startEstimate = (Double.log((a + 0.5) * (dd + 0.5) / ((b + 0.5) * (c + 0.5))), 1 / v)
    }

    @inline(__always)
    func moments(_ theta: Double) -> (cumulant: Double, residual: Double, mean: Double, variance: Double) {
        let d = logWeights.count - 1
        // e^θ, without libm's overflow path far out (there the largest term is an end and the sum is that term).
        let e = theta > 700 ? Double.infinity : (theta < -700 ? 0 : Double.exp(theta))
        let cut = 1.9287498479639178e-22  // e^(−50)
        // Through buffer pointers: no reference counting per access in unoptimised builds, which the tests run.
        let (top, s0, s1, s2) = increments.withUnsafeBufferPointer { increments in
            ratios.withUnsafeBufferPointer { ratios in
                // The largest term: the last u with log w_u − log w_(u−1) + θ ≥ 0 (binary search).
                var lo = 0, hi = d
                while lo < hi {
                    let mid = (lo + hi + 1) / 2
                    if increments[mid] + theta >= 0 { lo = mid } else { hi = mid - 1 }
                }
                let top = lo
                // Down from the peak: t_(u−1) = t_u / (r_u e^θ); up: t_(u+1) = t_u · r_(u+1) e^θ.
                var s0 = 1.0, s1 = 0.0, s2 = 0.0
                var t = 1.0, u = top
                while u > 0 {
                    t /= ratios[u] * e
                    if t < cut { break }
                    u -= 1
                    let du = Double(u - top)
                    s0 += t; s1 += t * du; s2 += t * du * du
                }
                t = 1; u = top
                while u < d {
                    u += 1
                    t *= ratios[u] * e
                    if t < cut { break }
                    let du = Double(u - top)
                    s0 += t; s1 += t * du; s2 += t * du * du
                }
                return (top, s0, s1, s2)
            }
        }
        let peak = logWeights[top] + theta * Double(top)
        let shift = s1 / s0
        let mean = Double(top) + shift
        return (peak + Double.log(s0), (observed - Double(top)) - shift, mean, max(0, s2 / s0 - shift * shift))
    }

    func plateau(mu: Double, tau: Double) -> BinomialStudyIntegral.Result? { nil }
}

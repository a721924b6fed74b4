// The sums over studies that every estimator and test needs at a given τ², in O(k) and without allocating.

/// Sums over studies with random-effects weights wᵢ = 1/(vᵢ + τ²).
///
/// Two passes over the arrays: the first for the weighted mean μ̂ = Σwᵢyᵢ/Σwᵢ, the second
/// for the residual sums around it (two passes keep Σwᵢ(yᵢ−μ̂)² accurate when the effects
/// are large relative to their spread) — or one, when the iterative estimators pass the
/// previous iterate's mean as a center and nothing would cancel (see ``init(y:v:tau2:center:)``).
struct WeightedSums {
    /// k, the number of studies.
    var count = 0
    /// Σwᵢ
    var sumW = 0.0
    /// Σwᵢ²
    var sumW2 = 0.0
    /// Σwᵢ³
    var sumW3 = 0.0
    /// μ̂ = Σwᵢyᵢ / Σwᵢ
    var mean = 0.0
    /// The generalized Q statistic Σwᵢ(yᵢ − μ̂)² (DerSimonian & Kacker 2007, eq. 6).
    var q = 0.0
    /// Σwᵢ²(yᵢ − μ̂)², the derivative of Q with respect to τ² up to sign.
    var sumW2Residual2 = 0.0

    /// tr(P) for the intercept-only model, P = W − wwᵀ/Σw: Σw − Σw²/Σw.
    var traceP = 0.0
    /// tr(PP) = Σw² − 2Σw³/Σw + (Σw²/Σw)².
    var tracePP = 0.0

    init(y: [Double], v: [Double], tau2: Double) {
        self.init(y: y, v: v, tau2: tau2, center: nil)
    }

    /// Σyᵢ/k, a centre for the one-pass sums when no weighted mean is known yet; `nil` when it
    /// is not finite (effects near the largest Double) or there are no effects.
    static func plainMean(_ y: [Double]) -> Double? {
        // Four partial sums: one chain of additions waits on each add's latency (a tenth of DL's time at k = 10⁴).
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        y.withUnsafeBufferPointer { y in
            let quads = y.count / 4
            for j in 0..<quads {
                s0 += y[4 * j]; s1 += y[4 * j + 1]; s2 += y[4 * j + 2]; s3 += y[4 * j + 3]
            }
            for i in (4 * quads)..<y.count { s0 += y[i] }
        }
        let mean = ((s0 + s1) + (s2 + s3)) / Double(y.count)
        return mean.isFinite ? mean : nil
    }

    /// With a `center` c near μ̂ (the previous iterate's mean), one pass suffices: with
    /// dᵢ = yᵢ − c and δ = μ̂ − c = Σwᵢdᵢ/Σwᵢ, Q = Σwᵢdᵢ² − δ·Σwᵢdᵢ and
    /// Σwᵢ²(yᵢ−μ̂)² = Σwᵢ²dᵢ² − 2δΣwᵢ²dᵢ + δ²Σwᵢ² (the shifted one-pass formulas of Chan, Golub
    /// & LeVeque 1983), and the traces in closed form. When a subtraction would lose more than
    /// about three digits (δ not small against the spread), or one weight is more than half of
    /// Σw (the closed-form traces cancel), the second pass is made as without a center.
    init(y: [Double], v: [Double], tau2: Double, center: Double?) {
        count = y.count
        y.withUnsafeBufferPointer { y in
            v.withUnsafeBufferPointer { v in
                let c = center ?? 0
                // Two studies at a time in two lanes (even-indexed studies in lane 0, odd in lane 1,
                // each lane summed in order, the lanes added at the end): Swift does not reorder
                // floating-point sums, so a scalar loop is one dependent chain of additions per sum, and
                // the nine chains of this loop made an iteration of REML 2.9 plain summing passes at
                // k = 10⁶. No branches in the loop body.
                var lanes = OnePassLanes()
                let pairs = y.count / 2
                for j in 0..<pairs {
                    let i = 2 * j
                    lanes.add(y0: y[i], y1: y[i + 1], v0: v[i], v1: v[i + 1], tau2: tau2, center: c)
                }
                if y.count % 2 == 1 {
                    // The last study alone, in lane 0 (lane 1 adds zeros and keeps its maximum).
                    let last = y.count - 1
                    var single = OnePassLanes()
                    single.add(y0: y[last], y1: c, v0: v[last], v1: .infinity, tau2: tau2, center: c)
                    lanes.merge(single)
                }
                let sw = lanes.sw.total, sw2 = lanes.sw2.total, sw3 = lanes.sw3.total, swy = lanes.swy.total
                let swd = lanes.swd.total, swd2 = lanes.swd2.total, sw2d = lanes.sw2d.total, sw2d2 = lanes.sw2d2.total
                // max wᵢ = 1/(min vᵢ + τ²) to the bit: rounding is monotone, so the largest rounded weight is
                // the one of the smallest variance (the minimum is taken branch-free on the variances).
                let wMax = 1 / (lanes.vMin.smallest + tau2)
                let delta = swd / sw
                let oneQ = swd2 - delta * swd
                let oneS2 = sw2d2 - 2 * delta * sw2d + delta * delta * sw2
                // Each result keeps all but at most three digits: the terms subtracted are at
                // most 10³ times the result; with no weight above half of Σw the closed-form
                // traces lose at most about one digit.
                if center != nil, oneQ.isFinite, oneS2.isFinite, swd2 <= 1e3 * oneQ,
                   sw2d2 + 2 * abs(delta * sw2d) + delta * delta * sw2 <= 1e3 * oneS2, wMax <= 0.5 * sw {
                    // The mean as Σwy/Σw where that is finite, as the two-pass branch reports it (c + δ
                    // drifted by 2e-17 on a million studies whose mean is −3.6e-9).
                    let direct = swy / sw
                    sumW = sw; sumW2 = sw2; sumW3 = sw3; mean = direct.isFinite ? direct : c + delta; q = oneQ; sumW2Residual2 = oneS2
                    let ratio = sw2 / sw
                    traceP = sw - ratio
                    tracePP = sw2 - 2 * sw3 / sw + ratio * ratio
                    return
                }
                // The second pass centres on the effect of the study with the largest weight,
                // c = y_L, with the weights scaled by it (uᵢ = wᵢ/w_L ≤ 1, so that Σw², tr PP and the
                // mean's numerator cannot overflow on the way to a representable result):
                // δ = μ̂ − c = Σᵢ≠L uᵢ(yᵢ − c)/Σu holds no term of the dominant study, so it keeps
                // its relative precision however small it is, and the residuals are rᵢ = (yᵢ − c) − δ.
                // Centring on Σwy/Σw itself loses everything when weights span more than ~1e32:
                // μ̂ then carries an error of one ulp of y, and w_L·ulp² swamps Q (y = 0.1, 0.2, 0.3,
                // 0.5 with v = 1e-200, 1e200, 1, 1e-100 gave Q = 1.9e166 for the exact 1.6e99).
                // Q(μ) = Q(μ̂) + Σw·(μ − μ̂)², so the rounding of δ enters Q only to second order and
                // every term of Q is then accurate to a few ulps of Q (Chan, Golub & LeVeque 1983 on
                // shifted sums; Higham 2002, §1.9).
                var largest = 0
                while largest < y.count - 1 && 1 / (v[largest] + tau2) != wMax { largest += 1 }
                let pivotEffect = y.isEmpty ? 0 : y[largest]
                // The traces as sums of non-negative terms, tr P = Σwᵢ(S − wᵢ)/S and
                // tr PP = Σwᵢ²[(S − wᵢ)² + (A − wᵢ²)]/S² (S = Σw, A = Σw²), with S − wᵢ and A − wᵢ²
                // of the largest weight summed over the other studies: the closed forms
                // cancel catastrophically when one weight dominates (vᵢ = 1e-10 among vᵢ ≈ 0.1 gave
                // tr PP = 1e20 − 2e20 + 1e20 and a REML τ² of 0 where metafor finds 0.0047).
                var su = 0.0, su2 = 0.0, su3 = 0.0, sud = 0.0
                for i in 0..<y.count {
                    let u = (1 / (v[i] + tau2)) / wMax
                    su += u
                    su2 += u * u
                    su3 += u * u * u
                    sud += u * (y[i] - pivotEffect)
                }
                let shifted = y.isEmpty ? 0 : sud / su
                let direct = swy / sw
                // Effects near ±1e308 overflow yᵢ − y_L; centre on Σwy/Σw itself then (weights
                // that large apart cannot come with effects that large and still give a finite Q).
                let (pivot, shift) = shifted.isFinite ? (pivotEffect, shifted) : (direct, 0.0)
                var qq = 0.0, s2r = 0.0, otherU = 0.0, otherU2 = 0.0, tp = 0.0, tpp = 0.0
                for i in 0..<y.count {
                    let w = 1 / (v[i] + tau2)
                    let r = (y[i] - pivot) - shift
                    let wr = w * r
                    qq += wr * r
                    s2r += wr * wr
                    if i != largest {
                        let u = w / wMax
                        otherU += u
                        otherU2 += u * u
                        let rest = su - u, rest2 = su2 - u * u
                        tp += u * rest
                        tpp += u * u * (rest * rest + rest2)
                    }
                }
                if !y.isEmpty {
                    tp += otherU
                    tpp += otherU * otherU + otherU2
                }
                // The plain sums of the first loop where they are finite (so both passes give the
                // same Σw and Σw²), the scaled ones where those overflowed on the way.
                sumW = sw.isFinite ? sw : wMax * su
                sumW2 = sw2.isFinite ? sw2 : wMax * (wMax * su2)
                sumW3 = sw3.isFinite ? sw3 : wMax * (wMax * (wMax * su3))
                // The reported mean stays Σwy/Σw where that is finite: on a million studies whose mean
                // is near 0 the shifted sum drifts (its partial sums grow with the pivot's offset) and
                // loses digits Σwy/Σw keeps; the residuals above need only the centre's first-order
                // accuracy, which either gives.
                mean = sw.isFinite && swy.isFinite && direct.isFinite ? direct : pivot + shift
                q = qq
                sumW2Residual2 = s2r
                traceP = wMax * (tp / su)
                tracePP = wMax * (wMax * (tpp / (su * su)))
            }
        }
    }
}

// The two lanes of the one-pass sums. Optimised builds use SIMD2 (REML at k = 10⁶: 1.8 plain
// passes per iteration, against 2.6 with two scalar lanes, which the compiler does not vectorise);
// debug builds use two plain Doubles, because unoptimised SIMD2 arithmetic goes through generic
// calls and made a pass 20 times slower (a 20,000-study leave-one-out took 130 s). The sums are
// written once, on `Lanes`, and both lane types do the same operations lane by lane, so they give
// the same bits (outputs compared byte for byte on a batch of 200,000 analyses, the 10⁶-row JSON
// and that leave-one-out).
#if DEBUG
/// Two plain Double lanes with SIMD2's element-wise arithmetic: even-indexed studies in `even`,
/// odd-indexed in `odd`.
struct Lanes {
    var even = 0.0, odd = 0.0

    init() {}
    init(_ even: Double, _ odd: Double) { self.even = even; self.odd = odd }
    init(repeating x: Double) { self.init(x, x) }

    static func + (a: Lanes, b: Lanes) -> Lanes { Lanes(a.even + b.even, a.odd + b.odd) }
    static func - (a: Lanes, b: Lanes) -> Lanes { Lanes(a.even - b.even, a.odd - b.odd) }
    static func * (a: Lanes, b: Lanes) -> Lanes { Lanes(a.even * b.even, a.odd * b.odd) }
    static func / (a: Double, b: Lanes) -> Lanes { Lanes(a / b.even, a / b.odd) }
    static func += (a: inout Lanes, b: Lanes) { a = a + b }

    /// even + odd, as SIMD2's `sum()` adds its lanes.
    var total: Double { even + odd }
    /// The smaller lane.
    var smallest: Double { Swift.min(even, odd) }
    /// Each lane replaced by `other`'s where that is smaller.
    mutating func lower(to other: Lanes) {
        if other.even < even { even = other.even }
        if other.odd < odd { odd = other.odd }
    }
}
#else
/// Two lanes in one SIMD2.
typealias Lanes = SIMD2<Double>

extension SIMD2<Double> {
    /// lane 0 + lane 1.
    var total: Double { sum() }
    /// The smaller lane.
    var smallest: Double { min() }
    /// Each lane replaced by `other`'s where that is smaller.
    mutating func lower(to other: Self) { replace(with: other, where: other .< self) }
}
#endif

/// The partial sums of the one-pass loop of ``WeightedSums``, two lanes wide.
struct OnePassLanes {
    var sw = Lanes(), sw2 = Lanes(), sw3 = Lanes(), swy = Lanes()
    var swd = Lanes(), swd2 = Lanes(), sw2d = Lanes(), sw2d2 = Lanes()
    var vMin = Lanes(repeating: .infinity)

    /// Adds two studies, one per lane: wᵢ = 1/(vᵢ + τ²), dᵢ = yᵢ − c (v = ∞ adds w = 0, a study that
    /// is not there), and keeps the smallest vᵢ per lane.
    @inline(__always)
    mutating func add(y0: Double, y1: Double, v0: Double, v1: Double, tau2: Double, center: Double) {
        let y = Lanes(y0, y1), v = Lanes(v0, v1)
        let w = 1 / (v + Lanes(repeating: tau2))
        let w2 = w * w
        let d = y - Lanes(repeating: center)
        let wd = w * d
        sw += w
        sw2 += w2
        sw3 += w2 * w
        swy += w * y
        swd += wd
        swd2 += wd * d
        sw2d += w * wd
        sw2d2 += w * wd * d
        vMin.lower(to: v)
    }

    /// Adds another set of lanes' sums, lane by lane.
    mutating func merge(_ other: OnePassLanes) {
        sw += other.sw; sw2 += other.sw2; sw3 += other.sw3; swy += other.swy
        swd += other.swd; swd2 += other.swd2; sw2d += other.sw2d; sw2d2 += other.sw2d2
        vMin.lower(to: other.vMin)
    }
}

/// Unweighted summaries: mean and sum of squared deviations of the effects, mean variance.
struct UnweightedSums {
    var mean = 0.0
    /// Σ(yᵢ − ȳ)²
    var sumSquares = 0.0
    /// Σvᵢ / k
    var meanVariance = 0.0

    init(y: [Double], v: [Double]) {
        let k = Double(y.count)
        var sy = 0.0, sv = 0.0
        for i in 0..<y.count { sy += y[i]; sv += v[i] }
        mean = sy / k
        meanVariance = sv / k
        var ss = 0.0
        for value in y { let d = value - mean; ss += d * d }
        sumSquares = ss
    }
}

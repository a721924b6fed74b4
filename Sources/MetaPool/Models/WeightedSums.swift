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
                var sw = 0.0, sw2 = 0.0, sw3 = 0.0, swy = 0.0, swd = 0.0, swd2 = 0.0, sw2d = 0.0, sw2d2 = 0.0
                var wMax = -Double.infinity
                // No branches in this loop, so that it vectorizes.
                for i in 0..<y.count {
                    let w = 1 / (v[i] + tau2)
                    let w2 = w * w
                    let d = y[i] - c
                    let wd = w * d
                    sw += w
                    sw2 += w2
                    sw3 += w2 * w
                    swy += w * y[i]
                    swd += wd
                    swd2 += wd * d
                    sw2d += w * wd
                    sw2d2 += w * wd * d
                    wMax = max(wMax, w)
                }
                let delta = swd / sw
                let oneQ = swd2 - delta * swd
                let oneS2 = sw2d2 - 2 * delta * sw2d + delta * delta * sw2
                // Each result keeps all but at most three digits: the terms subtracted are at
                // most 10³ times the result; with no weight above half of Σw the closed-form
                // traces lose at most about one digit.
                if center != nil, oneQ.isFinite, oneS2.isFinite, swd2 <= 1e3 * oneQ,
                   sw2d2 + 2 * abs(delta * sw2d) + delta * delta * sw2 <= 1e3 * oneS2, wMax <= 0.5 * sw {
                    sumW = sw; sumW2 = sw2; sumW3 = sw3; mean = c + delta; q = oneQ; sumW2Residual2 = oneS2
                    let ratio = sw2 / sw
                    traceP = sw - ratio
                    tracePP = sw2 - 2 * sw3 / sw + ratio * ratio
                    return
                }
                // The second pass centres on Σwy/Σw itself (c + δ would carry the shift's rounding).
                let mu = swy / sw
                // The traces as sums of non-negative terms, tr P = Σwᵢ(S − wᵢ)/S and
                // tr PP = Σwᵢ²[(S − wᵢ)² + (A − wᵢ²)]/S² (S = Σw, A = Σw²), with S − wᵢ and A − wᵢ²
                // of the largest weight summed over the other studies: the closed forms
                // cancel catastrophically when one weight dominates (vᵢ = 1e-10 among vᵢ ≈ 0.1 gave
                // tr PP = 1e20 − 2e20 + 1e20 and a REML τ² of 0 where metafor finds 0.0047).
                var largest = 0
                while largest < y.count - 1 && 1 / (v[largest] + tau2) != wMax { largest += 1 }
                var qq = 0.0, s2r = 0.0, otherW = 0.0, otherW2 = 0.0, tp = 0.0, tpp = 0.0
                for i in 0..<y.count {
                    let w = 1 / (v[i] + tau2)
                    let r = y[i] - mu
                    let wr2 = w * r * r
                    qq += wr2
                    s2r += w * wr2
                    if i != largest {
                        otherW += w
                        otherW2 += w * w
                        let rest = sw - w, rest2 = sw2 - w * w
                        tp += w * rest
                        tpp += w * w * (rest * rest + rest2)
                    }
                }
                if !y.isEmpty {
                    tp += wMax * otherW
                    tpp += wMax * wMax * (otherW * otherW + otherW2)
                }
                sumW = sw; sumW2 = sw2; sumW3 = sw3; mean = mu; q = qq; sumW2Residual2 = s2r
                traceP = tp / sw
                tracePP = tpp / (sw * sw)
            }
        }
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

// The Mantel–Haenszel equal-effects meta-analysis of 2×2 tables (OR, RR, RD), as metafor's
// `rma.mh()` computes it with its defaults, with the Cochran–Mantel–Haenszel test and Tarone's
// test for heterogeneity of odds ratios.

import RealModule

/// A χ² test: its statistic, degrees of freedom and upper-tail p-value.
public struct ChiSquaredTest: Sendable, Hashable {
    /// The test statistic.
    public let statistic: Double
    /// The degrees of freedom of the reference χ² distribution.
    public let degreesOfFreedom: Int
    /// P(χ²_df ≥ statistic), or `nil` when there are no degrees of freedom (metafor reports `NA`).
    public let pValue: Double?

    init(statistic: Double, degreesOfFreedom: Int) {
        self.statistic = statistic
        self.degreesOfFreedom = degreesOfFreedom
        pValue = degreesOfFreedom >= 1 ? ChiSquared(degreesOfFreedom: Double(degreesOfFreedom)).survival(statistic) : nil
    }
}

/// A Mantel–Haenszel (1959) equal-effects meta-analysis of two-group binary data, with the
/// values metafor 3.8's `rma.mh(ai, n1i = , ci, n2i = , measure)` reports with its defaults.
///
/// The pooled estimate uses the counts as they are (no continuity correction; a study with no
/// events, or only events, in both groups adds nothing to it), with the variances
/// - OR: ψ = ΣRᵢ/ΣSᵢ, Rᵢ = aᵢdᵢ/nᵢ, Sᵢ = bᵢcᵢ/nᵢ, and Var(log ψ) = ΣPᵢRᵢ/(2(ΣR)²) +
///   Σ(PᵢSᵢ + QᵢRᵢ)/(2ΣRΣS) + ΣQᵢSᵢ/(2(ΣS)²), Pᵢ = (aᵢ + dᵢ)/nᵢ, Qᵢ = (bᵢ + cᵢ)/nᵢ
///   (Robins, Breslow & Greenland 1986);
/// - RR: ψ = Σ(aᵢn₂ᵢ/nᵢ)/Σ(cᵢn₁ᵢ/nᵢ), Var(log ψ) = Σ(n₁ᵢn₂ᵢmᵢ − aᵢcᵢnᵢ)/nᵢ² /
///   (Σaᵢn₂ᵢ/nᵢ · Σcᵢn₁ᵢ/nᵢ), mᵢ = aᵢ + cᵢ (Greenland & Robins 1985);
/// - RD: δ = Σ(aᵢn₂ᵢ − cᵢn₁ᵢ)/nᵢ / ΣWᵢ, Wᵢ = n₁ᵢn₂ᵢ/nᵢ (Greenland & Robins 1985), with the
///   variance metafor uses, (δΣPᵢ + ΣQᵢ)/(ΣW)², Pᵢ = (n₁ᵢ²cᵢ − n₂ᵢ²aᵢ + n₁ᵢn₂ᵢ(n₂ᵢ − n₁ᵢ)/2)/nᵢ²,
///   Qᵢ = (aᵢ(n₂ᵢ − cᵢ) + cᵢ(n₁ᵢ − aᵢ))/(2nᵢ) (Sato, Greenland & Robins 1989).
///
/// Heterogeneity, as metafor: Q = Σ(yᵢ − θ̂_MH)²/vᵢ over the studies' escalc() effects
/// (½ added to every cell of a table with a zero cell; double-zero studies dropped, `drop00`),
/// on k′ − 1 df, k′ the studies kept; I² = max(0, (Q − df)/Q)·100 and H² = Q/df (0 and 1 when
/// k′ ≤ 1, where Q = 0 and its p-value is 1).
public struct MantelHaenszel: Sendable {
    /// The 2×2 tables analysed.
    public let counts: TwoGroupCounts
    /// `.oddsRatio`, `.riskRatio` or `.riskDifference`.
    public let measure: EffectMeasure
    /// Confidence level in (0, 1), e.g. 0.95.
    public let level: Double

    /// The pooled estimate on the analysis scale (log ψ_MH for OR and RR, δ_MH for RD) with its standard error, interval and test (stored once; estimate, SE,
    /// interval, statistic and p-value are read from it through ``PooledResult``).
    public let pooled: EstimateInference

    /// Cochran's Q around the MH estimate, Σ(yᵢ − θ̂_MH)²/vᵢ over the non-double-zero studies (metafor's `QE`).
    public let q: Double
    /// Its degrees of freedom, max(k′ − 1, 0).
    public let qDegreesOfFreedom: Int
    /// Its p-value (1 when there are no degrees of freedom).
    public let qPValue: Double
    /// I² = max(0, (Q − df)/Q)·100 (Higgins & Thompson 2002), 0 when df = 0.
    public let iSquared: Double
    /// H² = Q/df (Higgins & Thompson 2002), 1 when df = 0.
    public let hSquared: Double
    /// k′, the number of studies whose effect size enters Q: those not double-zero (metafor's `k.yi`).
    public let heterogeneityCount: Int

    /// For OR: the Cochran–Mantel–Haenszel test of ψ = 1 with continuity correction, as
    /// metafor's `MH`: (|Σaᵢ − ΣE(aᵢ)| − ½)²/ΣVar(aᵢ), E(aᵢ) = n₁ᵢmᵢ/nᵢ,
    /// Var(aᵢ) = n₁ᵢn₂ᵢmᵢ(nᵢ − mᵢ)/(nᵢ²(nᵢ − 1)), on 1 df (Cochran 1954; Mantel & Haenszel 1959).
    /// metafor subtracts ½ even when |Σaᵢ − ΣE(aᵢ)| < ½, and so does MetaPool. `nil` for RR and RD.
    public let cochranMantelHaenszel: ChiSquaredTest?
    /// For OR: Tarone's (1985) test for heterogeneity, metafor's `TA`: the Breslow–Day statistic
    /// Σ(aᵢ − ãᵢ)²/Var(ãᵢ) less (Σaᵢ − Σãᵢ)²/ΣVar(ãᵢ), with ãᵢ the expected count under ψ_MH
    /// (the root of ã(n₂ − m + ã) = ψ(n₁ − ã)(m − ã) within the table's bounds) and
    /// Var(ãᵢ) = 1/(1/ã + 1/(n₁ − ã) + 1/(m − ã) + 1/(n₂ − m + ã)), over the tables with
    /// 0 < mᵢ < nᵢ, on (their number − 1) df. `nil` for RR and RD.
    public let tarone: ChiSquaredTest?
    /// The escalc effect sizes of the studies that are not double-zero (½ added to the cells of
    /// a study with a zero cell), for the plots and the study intervals; the pooled estimate uses
    /// the counts themselves.
    public let studyEffects: EffectSizes

    /// The number of studies k, double-zero studies included (metafor's `k`).
    public var count: Int { counts.count }

    /// The transformation to the natural scale: exp for OR and RR, identity for RD.
    public var backTransform: BackTransform { measure.backTransform }

    /// The pooled odds ratio, risk ratio or risk difference on the natural scale.
    public var backTransformedEstimate: Double { backTransform.apply(estimate) }

    /// The confidence interval on the natural scale.
    public var backTransformedConfidenceInterval: Interval {
        Interval(backTransform.apply(confidenceInterval.lower), backTransform.apply(confidenceInterval.upper))
    }

    /// Fits the model.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a measure other than OR, RR, RD or a
    ///   level outside (0, 1); `.insufficientData` when every study is double-zero or the
    ///   estimate is undefined (OR: no study with aᵢdᵢ > 0, or none with bᵢcᵢ > 0; RR: no events in
    ///   one of the groups in any study).
    public init(_ counts: TwoGroupCounts, measure: EffectMeasure = .oddsRatio, level: Double = 0.95) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        guard [.oddsRatio, .riskRatio, .riskDifference].contains(measure) else {
            throw MetaPoolError(.invalidArgument, "the Mantel-Haenszel method pools OR, RR or RD, not \(measure.rawValue)")
        }
        let input = InputLocation(file: counts.locations.first?.file)
        guard let heterogeneity = try counts.effectSizesDroppingDoubleZero(measure) else {
            throw MetaPoolError(.insufficientData, Self.allDoubleZeroReason(counts.count, method: "Mantel-Haenszel"), at: input)
        }
        self.counts = counts
        self.measure = measure
        self.level = level

        let a = counts.treatEvents, n1 = counts.treatTotals, c = counts.controlEvents, n2 = counts.controlTotals
        let k = counts.count
        var estimate = 0.0, variance = 0.0, oddsRatio = 1.0
        switch measure {
        case .oddsRatio:
            // Robins, Breslow & Greenland (1986): sums of R, S and their P/Q-weighted forms.
            var sR = 0.0, sS = 0.0, sPR = 0.0, sPSQR = 0.0, sQS = 0.0
            for i in 0..<k {
                let b = n1[i] - a[i], d = n2[i] - c[i], n = n1[i] + n2[i]
                let r = a[i] * d / n, s = b * c[i] / n
                let p = (a[i] + d) / n, q = (b + c[i]) / n
                sR += r; sS += s
                sPR += p * r; sPSQR += p * s + q * r; sQS += q * s
            }
            guard sR > 0, sS > 0 else {
                throw MetaPoolError(.insufficientData, sR > 0
                    ? "the Mantel-Haenszel odds ratio is undefined (infinite): no study has both non-events in the treatment group and events in the control group"
                    : "the Mantel-Haenszel odds ratio is undefined (zero): no study has both events in the treatment group and non-events in the control group", at: input)
            }
            oddsRatio = sR / sS
            estimate = Double.log(oddsRatio)
            variance = sPR / (2 * sR * sR) + sPSQR / (2 * sR * sS) + sQS / (2 * sS * sS)
        case .riskRatio:
            // Greenland & Robins (1985): ψ = ΣR/ΣS with R = a·n₂/n, S = c·n₁/n.
            var sR = 0.0, sS = 0.0, sV = 0.0
            for i in 0..<k {
                let n = n1[i] + n2[i], m = a[i] + c[i]
                sR += a[i] * n2[i] / n
                sS += c[i] * n1[i] / n
                sV += (n1[i] * n2[i] * m - a[i] * c[i] * n) / (n * n)
            }
            guard sR > 0, sS > 0 else {
                throw MetaPoolError(.insufficientData, sR > 0
                    ? "the Mantel-Haenszel risk ratio is undefined (infinite): no study has events in the control group"
                    : "the Mantel-Haenszel risk ratio is undefined (zero): no study has events in the treatment group", at: input)
            }
            estimate = Double.log(sR / sS)
            variance = sV / (sR * sS)
        default:
            // Greenland & Robins (1985) estimate; Sato, Greenland & Robins (1989) variance.
            var sW = 0.0, sD = 0.0, sP = 0.0, sQ = 0.0
            for i in 0..<k {
                let n = n1[i] + n2[i]
                sW += n1[i] * n2[i] / n
                sD += (a[i] * n2[i] - c[i] * n1[i]) / n
                sP += (n1[i] * n1[i] * c[i] - n2[i] * n2[i] * a[i] + n1[i] * n2[i] * (n2[i] - n1[i]) / 2) / (n * n)
                sQ += (a[i] * (n2[i] - c[i]) + c[i] * (n1[i] - a[i])) / (2 * n)
            }
            estimate = sD / sW
            variance = (estimate * sP + sQ) / (sW * sW)
        }
        guard variance > 0, variance.isFinite, estimate.isFinite else {
            throw MetaPoolError(.insufficientData, "the estimated variance of the Mantel-Haenszel \(measure.naturalScaleName) is \(variance), so it has no standard error, test or confidence interval (the tables are too sparse or too extreme)", at: input)
        }
        pooled = EstimateInference(estimate: estimate, standardError: variance.squareRoot(), level: level, degreesOfFreedom: nil)
        studyEffects = heterogeneity

        let het = Heterogeneity(effects: heterogeneity, around: estimate)
        heterogeneityCount = het.count
        q = het.q
        qDegreesOfFreedom = het.degreesOfFreedom
        qPValue = het.pValue
        iSquared = het.iSquared
        hSquared = het.hSquared

        if measure == .oddsRatio {
            cochranMantelHaenszel = Self.cochranMantelHaenszelTest(counts)
            tarone = Self.taroneTest(counts, oddsRatio: oddsRatio)
        } else {
            cochranMantelHaenszel = nil
            tarone = nil
        }
        let results = [statistic, pValue, confidenceInterval.lower, confidenceInterval.upper, q, qPValue,
                       cochranMantelHaenszel?.statistic ?? 0, tarone?.statistic ?? 0]
        guard results.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the counts are too extreme to pool in double precision", at: input)
        }
    }

    /// Percentage Mantel–Haenszel weights of the studies in ``studyEffects``, as RevMan and
    /// metafor's `weights()` give them: bᵢcᵢ/nᵢ (OR), cᵢn₁ᵢ/nᵢ (RR), n₁ᵢn₂ᵢ/nᵢ (RD)
    /// (Greenland & Robins 1985).
    /// Percentages of the total over all k studies: under RD a double-zero study keeps its weight
    /// in the estimate (it has no row in ``studyEffects``).
    public var weights: [Double] {
        var w: [Double] = []
        var total = 0.0
        for i in 0..<counts.count {
            let a = counts.treatEvents[i], n1 = counts.treatTotals[i], c = counts.controlEvents[i], n2 = counts.controlTotals[i]
            let n = n1 + n2
            let wi: Double = switch measure {
            case .riskRatio: c * n1 / n
            case .riskDifference: n1 * n2 / n
            default: (n1 - a) * c / n
            }
            total += wi
            if !counts.doubleZero(i) { w.append(wi) }
        }
        return w.map { total > 0 ? 100 * $0 / total : 0 }
    }

    static func allDoubleZeroReason(_ k: Int, method: String) -> String {
        let every = k == 1 ? "the only study has" : "all \(k) studies have"
        return "\(every) no events in either group (or only events in both): the tables carry no information on the effect and the \(method) estimate is undefined"
    }

    /// (|Σa − ΣE(a)| − ½)²/ΣVar(a) on 1 df (Mantel & Haenszel 1959, with their continuity correction).
    static func cochranMantelHaenszelTest(_ counts: TwoGroupCounts) -> ChiSquaredTest {
        let a = counts.treatEvents, n1 = counts.treatTotals, c = counts.controlEvents, n2 = counts.controlTotals
        var difference = 0.0, variance = 0.0
        for i in 0..<counts.count {
            let n = n1[i] + n2[i], m = a[i] + c[i]
            difference += a[i] - n1[i] * m / n
            variance += n1[i] * n2[i] * m * (n - m) / (n * n * (n - 1))
        }
        let corrected = abs(difference) - 0.5
        return ChiSquaredTest(statistic: corrected * corrected / variance, degreesOfFreedom: 1)
    }

    /// Tarone's (1985) corrected Breslow–Day statistic over the tables with 0 < m < n.
    static func taroneTest(_ counts: TwoGroupCounts, oddsRatio psi: Double) -> ChiSquaredTest {
        let a = counts.treatEvents, n1 = counts.treatTotals, c = counts.controlEvents, n2 = counts.controlTotals
        var breslowDay = 0.0, sumDifference = 0.0, sumVariance = 0.0
        var informative = 0
        for i in 0..<counts.count {
            let m = a[i] + c[i], n = n1[i] + n2[i]
            guard m > 0, m < n else { continue }
            let expected = expectedCount(n1: n1[i], n2: n2[i], m: m, oddsRatio: psi)
            let v = 1 / (1 / expected + 1 / (n1[i] - expected) + 1 / (m - expected) + 1 / (n2[i] - m + expected))
            guard v > 0, v.isFinite else { continue }
            let diff = a[i] - expected
            breslowDay += diff * diff / v
            sumDifference += diff
            sumVariance += v
            informative += 1
        }
        let statistic = informative > 0 ? breslowDay - sumDifference * sumDifference / sumVariance : 0
        return ChiSquaredTest(statistic: statistic, degreesOfFreedom: max(informative - 1, 0))
    }

    /// The count ã in [max(0, m − n₂), min(n₁, m)] whose table has odds ratio ψ:
    /// ã(n₂ − m + ã) = ψ(n₁ − ã)(m − ã), i.e. (1 − ψ)ã² + (n₂ − m + ψ(n₁ + m))ã − ψn₁m = 0
    /// (Breslow & Day 1980), solved with the cancellation-free form of the quadratic formula,
    /// falling back to bisection (the left side minus the right is increasing on the interval).
    static func expectedCount(n1: Double, n2: Double, m: Double, oddsRatio psi: Double) -> Double {
        let lower = max(0, m - n2), upper = min(n1, m)
        let qa = 1 - psi, qb = n2 - m + psi * (n1 + m), qc = -psi * n1 * m
        let root = max(0, qb * qb - 4 * qa * qc).squareRoot()
        let t = -0.5 * (qb + (qb < 0 ? -root : root))
        let tolerance = 1e-9 * max(1, upper)
        let inBounds = { (x: Double) in x.isFinite && x >= lower - tolerance && x <= upper + tolerance }
        let first = t / qa, second = qc / t
        if inBounds(first) { return min(max(first, lower), upper) }
        if inBounds(second) { return min(max(second, lower), upper) }
        var lo = lower, hi = upper
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid * (n2 - m + mid) - psi * (n1 - mid) * (m - mid) < 0 { lo = mid } else { hi = mid }
            if hi - lo <= 1e-15 * max(1, hi) { break }
        }
        return 0.5 * (lo + hi)
    }

    /// The JSON object for `--method MH`: snake_case keys named as metafor names the quantities;
    /// `cmh*` and `tarone*` only for OR.
    public func summary() -> CountModelSummary {
        CountModelSummary(
            measure: measure.rawValue, method: "MH", level: level, k: count,
            estimate: estimate, se: standardError, statistic: statistic, pValue: pValue,
            ciLower: confidenceInterval.lower, ciUpper: confidenceInterval.upper,
            q: q, qDF: qDegreesOfFreedom, qPValue: qPValue, i2: iSquared, h2: hSquared,
            cmh: cochranMantelHaenszel?.statistic, cmhPValue: cochranMantelHaenszel.map { $0.pValue ?? .nan },
            tarone: tarone?.statistic, taroneDF: tarone?.degreesOfFreedom, taronePValue: tarone.map { $0.pValue ?? .nan },
            backTransformed: PoolSummary.BackTransformed(self))
    }
}

extension MantelHaenszel: CommonEffectCountModel {
    /// "Common-effect model (Mantel-Haenszel)".
    public var modelName: String { "Common-effect model (Mantel-Haenszel)" }
    /// Maps a log ratio to the ratio (exp) for OR and RR; the identity for RD.
    public func backTransform(_ x: Double) -> Double { measure.backTransform.apply(x) }
}

/// The common-effect methods that pool two-group counts directly (``MantelHaenszel``, ``Peto``):
/// no τ² and no prediction interval; Q over the studies that are not double-zero, with the
/// Q-based I² and H² (metafor's `rma.mh()` and `rma.peto()`).
public protocol CommonEffectCountModel: FittedModel {
    /// Cochran's Q and k′, the studies it is computed over.
    var q: Double { get }
    /// k′, the number of studies Q is computed over (metafor's `k.yi`).
    var heterogeneityCount: Int { get }
    /// The escalc effects of the studies that are not double-zero, and their percentage weights.
    var studyEffects: EffectSizes { get }
    /// Percentage weights of the studies in `studyEffects`.
    var weights: [Double] { get }
    /// The model's typed summary.
    func summary() -> CountModelSummary
}

extension CommonEffectCountModel {
    /// The JSON object of `summary()`, with metafor's names in snake_case.
    public func jsonSummary() throws(MetaPoolError) -> JSONValue { try MetaPoolError.encodedSummary(summary()) }
    /// Q over the k′ studies that are not double-zero, with the Q-based I² and H²; no τ².
    public var heterogeneity: Heterogeneity { Heterogeneity(q: q, count: heterogeneityCount) }
    /// `nil`: a common-effect model has no prediction interval.
    public var predictionInterval: Interval? { nil }
    /// The escalc effects of the studies that are not double-zero, with their percentage weights.
    public var studies: FittedStudies { FittedStudies(effects: studyEffects, weights: weights, rows: nil) }
}

extension Heterogeneity {
    /// Q = Σ(yᵢ − θ)²/vᵢ around a given estimate θ (Cochran 1954).
    init(effects: EffectSizes, around theta: Double) {
        var q = 0.0
        for i in 0..<effects.count {
            let r = effects.yi[i] - theta
            q += r * r / effects.vi[i]
        }
        self.init(q: q, count: effects.count)
    }
}

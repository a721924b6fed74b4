// Peto's one-step pooled log odds ratio of 2×2 tables, as metafor's `rma.peto()` computes it.

/// Peto's one-step equal-effects meta-analysis of log odds ratios (Yusuf, Peto, Lewis, Collins
/// & Sleight 1985), with the values metafor 3.8's `rma.peto(ai, n1i = , ci, n2i = )` reports
/// with its defaults.
///
/// For each study Oᵢ − Eᵢ = aᵢ − n₁ᵢmᵢ/nᵢ (observed minus expected events in the treatment
/// group, mᵢ = aᵢ + cᵢ) and its hypergeometric variance Vᵢ = n₁ᵢn₂ᵢmᵢ(nᵢ − mᵢ)/(nᵢ²(nᵢ − 1));
/// log ψ̂ = Σ(Oᵢ − Eᵢ)/ΣVᵢ with SE 1/√ΣVᵢ. The counts are used as they are: a study with no
/// events, or only events, in both groups has Vᵢ = 0 and adds nothing.
///
/// Heterogeneity, as metafor: Q = Σ(Oᵢ − Eᵢ)²/Vᵢ − (Σ(Oᵢ − Eᵢ))²/ΣVᵢ (Yusuf et al. 1985) over the
/// studies with Vᵢ > 0 (no continuity correction), on k′ − 1 df, k′ their number; I² and H²
/// as for ``MantelHaenszel``.
public struct Peto: Sendable {
    /// The 2×2 tables analysed.
    public let counts: TwoGroupCounts
    /// Confidence level in (0, 1), e.g. 0.95.
    public let level: Double

    /// Oᵢ − Eᵢ for each study.
    public let observedMinusExpected: [Double]
    /// Vᵢ for each study (0 for double-zero studies).
    public let variances: [Double]

    /// The pooled log odds ratio Σ(O − E)/ΣV with SE 1/√ΣV, with its standard error, interval and test (stored once; estimate, SE,
    /// interval, statistic and p-value are read from it through ``PooledResult``).
    public let pooled: EstimateInference

    /// Q = Σ(Oᵢ − Eᵢ)²/Vᵢ − (Σ(Oᵢ − Eᵢ))²/ΣVᵢ (metafor's `QE`).
    public let q: Double
    /// Its degrees of freedom, max(k′ − 1, 0).
    public let qDegreesOfFreedom: Int
    /// Its p-value (1 when there are no degrees of freedom).
    public let qPValue: Double
    /// I² = max(0, (Q − df)/Q)·100, 0 when df = 0.
    public let iSquared: Double
    /// H² = Q/df, 1 when df = 0.
    public let hSquared: Double
    /// k′, the studies with Vᵢ > 0 (those not double-zero; metafor's `k.yi`).
    public let heterogeneityCount: Int

    /// The Peto log odds ratios yᵢ = (Oᵢ − Eᵢ)/Vᵢ with variances 1/Vᵢ of the studies with Vᵢ > 0
    /// (metafor's `escalc(measure = "PETO")`), for the plots and the study intervals.
    public let studyEffects: EffectSizes

    /// The number of studies k, double-zero studies included (metafor's `k`).
    public var count: Int { counts.count }

    /// The pooled odds ratio exp(estimate).
    public var backTransformedEstimate: Double { BackTransform.exponential.apply(estimate) }

    /// The confidence interval of the odds ratio.
    public var backTransformedConfidenceInterval: Interval {
        Interval(BackTransform.exponential.apply(confidenceInterval.lower), BackTransform.exponential.apply(confidenceInterval.upper))
    }

    /// Fits the model.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for a level outside (0, 1);
    ///   `.insufficientData` when every study is double-zero (ΣV = 0).
    public init(_ counts: TwoGroupCounts, level: Double = 0.95) throws(MetaPoolError) {
        try EstimateInference.checkLevel(level)
        let input = InputLocation(file: counts.locations.first?.file)
        let a = counts.treatEvents, n1 = counts.treatTotals, c = counts.controlEvents, n2 = counts.controlTotals
        let k = counts.count
        var oe = [Double](repeating: 0, count: k)
        var v = [Double](repeating: 0, count: k)
        var sumOE = 0.0, sumV = 0.0
        var informative = 0
        for i in 0..<k {
            let n = n1[i] + n2[i], m = a[i] + c[i]
            oe[i] = a[i] - n1[i] * m / n
            v[i] = n1[i] * n2[i] * m * (n - m) / (n * n * (n - 1))
            sumOE += oe[i]
            sumV += v[i]
            if v[i] > 0 { informative += 1 }
        }
        guard sumV > 0, sumV.isFinite else {
            throw MetaPoolError(.insufficientData, MantelHaenszel.allDoubleZeroReason(k, method: "Peto"), at: input)
        }
        self.counts = counts
        self.level = level
        observedMinusExpected = oe
        variances = v
        let pooled = EstimateInference(estimate: sumOE / sumV, standardError: 1 / sumV.squareRoot(), level: level, degreesOfFreedom: nil)
        self.pooled = pooled

        // Σ(O−E)²/V − (Σ(O−E))²/ΣV written as ΣVᵢ(yᵢ − θ̂)², yᵢ = (Oᵢ − Eᵢ)/Vᵢ: the same sum
        // without the cancellation of the difference form.
        var q = 0.0
        for i in 0..<k where v[i] > 0 {
            let r = oe[i] - pooled.estimate * v[i]
            q += r * r / v[i]
        }
        let het = Heterogeneity(q: q, count: informative)
        heterogeneityCount = het.count
        self.q = het.q
        qDegreesOfFreedom = het.degreesOfFreedom
        qPValue = het.pValue
        iSquared = het.iSquared
        hSquared = het.hSquared
        guard [pooled.estimate, pooled.standardError, pooled.statistic, pooled.pValue, self.q].allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the counts are too extreme to pool in double precision", at: input)
        }
        let kept = v.indices.filter { v[$0] > 0 }
        studyEffects = try EffectSizes(measure: .oddsRatio, yi: kept.map { oe[$0] / v[$0] }, vi: kept.map { 1 / v[$0] },
                                       labels: kept.map { counts.labels[$0] }, totals: nil, locations: counts.locations.subset(kept))
    }

    /// Percentage weights Vᵢ/ΣV of the studies with Vᵢ > 0 (Yusuf et al. 1985).
    public var weights: [Double] {
        let total = variances.reduce(0, +)
        return variances.filter { $0 > 0 }.map { 100 * $0 / total }
    }

    /// The JSON object for `--method PETO`: measure `OR` (metafor labels it `PETO`), method `PETO`.
    public func summary() -> CountModelSummary {
        CountModelSummary(
            measure: EffectMeasure.oddsRatio.rawValue, method: "PETO", level: level, k: count,
            estimate: estimate, se: standardError, statistic: statistic, pValue: pValue,
            ciLower: confidenceInterval.lower, ciUpper: confidenceInterval.upper,
            q: q, qDF: qDegreesOfFreedom, qPValue: qPValue, i2: iSquared, h2: hSquared,
            backTransformed: PoolSummary.BackTransformed(self))
    }
}

extension Peto: CommonEffectCountModel {
    /// "Common-effect model (Peto)".
    public var modelName: String { "Common-effect model (Peto)" }
    /// `.oddsRatio`: Peto's method pools log odds ratios.
    public var measure: EffectMeasure { .oddsRatio }
    /// The odds ratio eˣ of a log odds ratio x.
    public func backTransform(_ x: Double) -> Double { BackTransform.exponential.apply(x) }
}

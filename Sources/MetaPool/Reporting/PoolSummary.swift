// The flat, serialisable summary of a meta-analysis: the JSON object documented in Documentation.docc/JSONOutput.md, with metafor's names.

/// A summary of a fitted meta-analysis whose JSON encoding is the `--format json` output of
/// `metapool pool`: snake_case keys named as metafor names the quantities. Values are on the
/// analysis scale; `back_transformed` holds them on the natural scale. Keys that do not apply
/// (τ², its interval and the prediction interval for the fixed-effect model, whose I² and H² are
/// the Q-based ones) are absent.
public struct PoolSummary: Codable, Sendable, Equatable {
    /// The estimate and its intervals on the natural scale (`back_transformed`).
    public struct BackTransformed: Codable, Sendable, Equatable {
        /// The pooled estimate on the natural scale.
        public var estimate: Double
        /// The lower confidence bound (`ci_lower`).
        public var ciLower: Double
        /// The upper confidence bound (`ci_upper`).
        public var ciUpper: Double
        /// The lower prediction bound (`pi_lower`); absent for the fixed-effect model.
        public var piLower: Double?
        /// The upper prediction bound (`pi_upper`); absent for the fixed-effect model.
        public var piUpper: Double?
        /// Why values above are `null`: they overflow a Double on the natural scale
        /// (``BackTransform/overflowReason(_:)``); absent when every value is finite.
        public var overflow: String?

        public init(estimate: Double, ciLower: Double, ciUpper: Double, piLower: Double?, piUpper: Double?) {
            self.estimate = estimate
            self.ciLower = ciLower
            self.ciUpper = ciUpper
            self.piLower = piLower
            self.piUpper = piUpper
            overflow = BackTransform.overflowReason([estimate, ciLower, ciUpper, piLower, piUpper])
        }

        enum CodingKeys: String, CodingKey {
            case estimate, ciLower = "ci_lower", ciUpper = "ci_upper", piLower = "pi_lower", piUpper = "pi_upper", overflow
        }
    }

    /// One study's row in `studies`.
    public struct Study: Codable, Sendable, Equatable {
        /// The study label.
        public var study: String
        /// The effect yᵢ on the analysis scale.
        public var yi: Double
        /// The sampling variance vᵢ.
        public var vi: Double
        /// The lower bound of the study's interval yᵢ − z·√vᵢ (`ci_lower`, analysis scale).
        public var ciLower: Double
        /// The upper bound of the study's interval yᵢ + z·√vᵢ (`ci_upper`, analysis scale).
        public var ciUpper: Double
        /// Percentage weight in the pooled estimate.
        public var weight: Double

        enum CodingKeys: String, CodingKey {
            case study, yi, vi, ciLower = "ci_lower", ciUpper = "ci_upper", weight
        }
    }

    /// The effect measure's code (metafor's `measure`, e.g. `PLO`, `OR`).
    public var measure: String
    /// The τ² method code (metafor's `method`, e.g. `REML`, `FE`).
    public var method: String
    /// The interval method (`ci_method`: `wald`, `t`, `hksj` or `hksj-adhoc`).
    public var ciMethod: String
    /// The confidence level in (0, 1).
    public var level: Double
    /// The number of studies k.
    public var k: Int
    /// The pooled estimate μ̂ (analysis scale).
    public var estimate: Double
    /// Its standard error (`se`).
    public var se: Double
    /// The lower confidence bound of μ̂ (`ci_lower`, metafor's `ci.lb`).
    public var ciLower: Double
    /// The upper confidence bound of μ̂ (`ci_upper`, metafor's `ci.ub`).
    public var ciUpper: Double
    /// The z or t statistic μ̂/SE (metafor's `zval` or `tval`).
    public var statistic: Double
    /// Its two-sided p-value (`p_value`, metafor's `pval`).
    public var pValue: Double
    /// Degrees of freedom of the t test, absent for the z test.
    public var df: Int?
    /// The lower prediction bound (`pi_lower`, metafor's `pi.lb`); absent for `FE`.
    public var piLower: Double?
    /// The upper prediction bound (`pi_upper`, metafor's `pi.ub`); absent for `FE`.
    public var piUpper: Double?
    /// The prediction interval's method (`pi_method`: `z`, `t` or `riley`); absent for `FE`.
    public var piMethod: String? = nil
    /// The df of its t distribution (`pi_df`); absent for z and for `FE`.
    public var piDF: Int? = nil
    /// τ̂² (`tau2`); absent for `FE`.
    public var tau2: Double?
    /// The lower Q-profile bound for τ² (`tau2_ci_lower`); absent for `FE`.
    public var tau2CILower: Double?
    /// The upper Q-profile bound for τ² (`tau2_ci_upper`); absent for `FE`.
    public var tau2CIUpper: Double?
    /// Present only when the Q-profile interval is the empty set (``HeterogeneityIntervals/isEmpty``,
    /// e.g. identical effects): both bounds fall below 0, so the τ², I² and H² bounds hold 0 (1 for
    /// H²) as metafor's `confint()` values do, and this says that they bound nothing (`tau2_ci_note`).
    public var tau2CINote: String? = nil
    /// τ̂ = √τ̂² (`tau`); absent for `FE`.
    public var tau: Double?
    /// I² in percent (`i2`; Q-based for `FE`).
    public var i2: Double?
    /// The lower bound for I² in percent (`i2_ci_lower`); absent for `FE`.
    public var i2CILower: Double?
    /// The upper bound for I² in percent (`i2_ci_upper`); absent for `FE`.
    public var i2CIUpper: Double?
    /// H² (`h2`; Q/df for `FE`).
    public var h2: Double?
    /// The lower bound for H² (`h2_ci_lower`); absent for `FE`.
    public var h2CILower: Double?
    /// The upper bound for H² (`h2_ci_upper`); absent for `FE`.
    public var h2CIUpper: Double?
    /// Cochran's Q (`q`, metafor's QE).
    public var q: Double
    /// The degrees of freedom of Q, k − 1 (`q_df`).
    public var qDF: Int
    /// The p-value of Q (`q_p_value`, metafor's QEp).
    public var qPValue: Double
    /// The estimate and intervals on the natural scale (`back_transformed`).
    public var backTransformed: BackTransformed
    /// The studies with their effects, intervals and weights (`studies`).
    public var studies: [Study]

    enum CodingKeys: String, CodingKey {
        case measure, method, ciMethod = "ci_method", level, k, estimate, se, ciLower = "ci_lower", ciUpper = "ci_upper"
        case statistic, pValue = "p_value", df, piLower = "pi_lower", piUpper = "pi_upper"
        case piMethod = "pi_method", piDF = "pi_df"
        case tau2, tau2CILower = "tau2_ci_lower", tau2CIUpper = "tau2_ci_upper", tau2CINote = "tau2_ci_note", tau
        case i2, i2CILower = "i2_ci_lower", i2CIUpper = "i2_ci_upper"
        case h2, h2CILower = "h2_ci_lower", h2CIUpper = "h2_ci_upper"
        case q, qDF = "q_df", qPValue = "q_p_value", backTransformed = "back_transformed", studies
    }
}

extension MetaAnalysis {
    /// The summary `metapool pool --format json` prints.
    public func summary() throws(MetaPoolError) -> PoolSummary {
        try summary(includingStudies: true)
    }

    /// ``summary()``, with its `studies` empty unless `includingStudies`: a caller that lists the
    /// studies its own way does not have 10⁶ of them made here.
    public func summary(includingStudies: Bool) throws(MetaPoolError) -> PoolSummary {
        let intervals = try heterogeneityIntervals()
        let pi = predictionInterval
        var studies: [PoolSummary.Study] = []
        if includingStudies {
            let studyCIs = studyConfidenceIntervals
            studies.reserveCapacity(count)
            for i in 0..<count {
                studies.append(.init(study: effects.labels[i], yi: effects.yi[i], vi: effects.vi[i],
                                     ciLower: studyCIs[i].lower, ciUpper: studyCIs[i].upper, weight: weights[i]))
            }
        }
        // An empty interval keeps metafor's bounds (0, 0; its confint() values) with the reason beside them.
        let empty = intervals?.isEmpty == true
        var summary = PoolSummary(
            measure: effects.measure.rawValue, method: method.rawValue, ciMethod: ciMethod.rawValue, level: level, k: count,
            estimate: estimate, se: standardError, ciLower: confidenceInterval.lower, ciUpper: confidenceInterval.upper,
            statistic: statistic, pValue: pValue, df: degreesOfFreedom,
            piLower: pi?.lower, piUpper: pi?.upper,
            tau2: tauSquared, tau2CILower: intervals?.tauSquared.lower, tau2CIUpper: intervals?.tauSquared.upper,
            tau: tauSquared?.squareRoot(),
            i2: iSquared, i2CILower: intervals?.iSquared.lower, i2CIUpper: intervals?.iSquared.upper,
            h2: hSquared, h2CILower: intervals?.hSquared.lower, h2CIUpper: intervals?.hSquared.upper,
            q: q, qDF: qDegreesOfFreedom, qPValue: qPValue,
            backTransformed: .init(estimate: backTransform(estimate),
                                   ciLower: backTransform(confidenceInterval.lower), ciUpper: backTransform(confidenceInterval.upper),
                                   piLower: pi.map { backTransform($0.lower) }, piUpper: pi.map { backTransform($0.upper) }),
            studies: studies)
        if empty { summary.tau2CINote = HeterogeneityIntervals.emptyNote }
        if let prediction = newStudyPrediction {
            summary.piMethod = prediction.method.rawValue
            summary.piDF = prediction.degreesOfFreedom
        }
        return summary
    }
}

extension HeterogeneityIntervals {
    /// The reason an empty Q-profile interval has no bounds (`tau2_ci_note`).
    public static let emptyNote = "both bounds of the Q-profile interval for tau^2 fall below 0 (Q at tau^2 = 0 is below the lower chi-squared quantile): the interval is the empty set, as metafor's confint() reports"
}

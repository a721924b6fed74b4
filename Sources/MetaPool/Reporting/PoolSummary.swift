// The flat, serialisable summary of a meta-analysis: the JSON object documented in Documentation.docc/JSONOutput.md, with metafor's names.

/// A summary of a fitted meta-analysis whose JSON encoding is the `--format json` output of
/// `metapool pool`: snake_case keys named as metafor names the quantities. Values are on the
/// analysis scale; `back_transformed` holds them on the natural scale. Keys that do not apply
/// (τ², prediction interval, I², H² for the fixed-effect model) are absent.
public struct PoolSummary: Codable, Sendable, Equatable {
    public struct BackTransformed: Codable, Sendable, Equatable {
        public var estimate: Double
        public var ciLower: Double
        public var ciUpper: Double
        public var piLower: Double?
        public var piUpper: Double?

        enum CodingKeys: String, CodingKey {
            case estimate, ciLower = "ci_lower", ciUpper = "ci_upper", piLower = "pi_lower", piUpper = "pi_upper"
        }
    }

    public struct Study: Codable, Sendable, Equatable {
        public var study: String
        public var yi: Double
        public var vi: Double
        public var ciLower: Double
        public var ciUpper: Double
        /// Percentage weight in the pooled estimate.
        public var weight: Double

        enum CodingKeys: String, CodingKey {
            case study, yi, vi, ciLower = "ci_lower", ciUpper = "ci_upper", weight
        }
    }

    public var measure: String
    public var method: String
    public var ciMethod: String
    public var level: Double
    public var k: Int
    public var estimate: Double
    public var se: Double
    public var ciLower: Double
    public var ciUpper: Double
    public var statistic: Double
    public var pValue: Double
    /// Degrees of freedom of the t test, absent for the z test.
    public var df: Int?
    public var piLower: Double?
    public var piUpper: Double?
    public var tau2: Double?
    public var tau2CILower: Double?
    public var tau2CIUpper: Double?
    public var tau: Double?
    public var i2: Double?
    public var i2CILower: Double?
    public var i2CIUpper: Double?
    public var h2: Double?
    public var h2CILower: Double?
    public var h2CIUpper: Double?
    public var q: Double
    public var qDF: Int
    public var qPValue: Double
    public var backTransformed: BackTransformed
    public var studies: [Study]

    enum CodingKeys: String, CodingKey {
        case measure, method, ciMethod = "ci_method", level, k, estimate, se, ciLower = "ci_lower", ciUpper = "ci_upper"
        case statistic, pValue = "p_value", df, piLower = "pi_lower", piUpper = "pi_upper"
        case tau2, tau2CILower = "tau2_ci_lower", tau2CIUpper = "tau2_ci_upper", tau
        case i2, i2CILower = "i2_ci_lower", i2CIUpper = "i2_ci_upper"
        case h2, h2CILower = "h2_ci_lower", h2CIUpper = "h2_ci_upper"
        case q, qDF = "q_df", qPValue = "q_p_value", backTransformed = "back_transformed", studies
    }
}

extension MetaAnalysis {
    /// The summary `metapool pool --format json` prints.
    public func summary() throws(MetaPoolError) -> PoolSummary {
        let intervals = try heterogeneityIntervals()
        let pi = predictionInterval
        let studyCIs = studyConfidenceIntervals
        var studies: [PoolSummary.Study] = []
        studies.reserveCapacity(count)
        for i in 0..<count {
            studies.append(.init(study: effects.labels[i], yi: effects.yi[i], vi: effects.vi[i],
                                 ciLower: studyCIs[i].lower, ciUpper: studyCIs[i].upper, weight: weights[i]))
        }
        return PoolSummary(
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
    }
}

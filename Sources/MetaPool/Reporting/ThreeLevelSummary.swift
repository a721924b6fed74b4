// The summary of a three-level fit as `metapool pool --cluster COLUMN --format json` prints it:
// snake_case keys named as metafor names the quantities of rma.mv, both levels named.

/// The summary of a ``ThreeLevelAnalysis`` (metafor's `rma.mv(random = ~ 1 | cluster/cohort)`).
public struct ThreeLevelSummary: Codable, Sendable, Equatable {
    /// A cluster-robust test of the pooled estimate (metafor's `robust()`, clubSandwich's `coef_test()`).
    public struct Robust: Codable, Sendable, Equatable {
        /// `CR2` (Satterthwaite df) or `CR1` (n − 1 df).
        public var type: String
        public var clusters: Int
        public var estimate: Double
        public var se: Double
        public var statistic: Double
        public var df: Double
        public var pValue: Double
        public var ciLower: Double
        public var ciUpper: Double
        enum CodingKeys: String, CodingKey {
            case type, clusters, estimate, se, statistic, df, pValue = "p_value", ciLower = "ci_lower", ciUpper = "ci_upper"
        }
    }

    /// The likelihood-ratio test against the two-level model (σ²₁ = 0), with that model's τ̂² and log-likelihood.
    public struct LikelihoodRatio: Codable, Sendable, Equatable {
        public var statistic: Double
        public var df: Int
        public var pValue: Double
        public var twoLevelTau2: Double
        public var twoLevelLogLikelihood: Double
        enum CodingKeys: String, CodingKey {
            case statistic, df, pValue = "p_value", twoLevelTau2 = "two_level_tau2", twoLevelLogLikelihood = "two_level_log_likelihood"
        }
    }

    /// A cluster's pooled cohorts (``ThreeLevelAnalysis/clusterEstimates``).
    public struct Cluster: Codable, Sendable, Equatable {
        public var cluster: String
        public var k: Int
        public var estimate: Double
        public var se: Double
    }

    /// A study with its cluster, effect, variance, interval and weight (metafor's `weights()` in percent).
    public struct Study: Codable, Sendable, Equatable {
        public var study: String
        public var cluster: String
        public var yi: Double
        public var vi: Double
        public var ciLower: Double
        public var ciUpper: Double
        public var weight: Double
        enum CodingKeys: String, CodingKey {
            case study, cluster, yi, vi, ciLower = "ci_lower", ciUpper = "ci_upper", weight
        }
    }

    public var measure: String
    public var method: String
    /// `three-level`, and the column whose values are the clusters.
    public var model: String
    public var clusterColumn: String
    public var ciMethod: String
    public var level: Double
    /// k studies (cohorts) in `clusters` clusters.
    public var k: Int
    public var clusters: Int
    public var estimate: Double
    public var se: Double
    public var ciLower: Double
    public var ciUpper: Double
    public var statistic: Double
    public var pValue: Double
    public var df: Int?
    public var piLower: Double?
    public var piUpper: Double?
    public var piMethod: String?
    public var piDF: Int?
    /// σ̂²₁ between clusters and σ̂²₂ between cohorts of a cluster, with profile-likelihood intervals.
    public var sigma2Cluster: Double
    public var sigma2ClusterCILower: Double?
    public var sigma2ClusterCIUpper: Double?
    public var sigma2Cohort: Double
    public var sigma2CohortCILower: Double?
    public var sigma2CohortCIUpper: Double?
    public var sigma2CINote: String?
    /// I² in percent: total, between clusters, between cohorts (Cheung 2014), and ṽ.
    public var i2: Double
    public var i2Cluster: Double
    public var i2Cohort: Double
    public var typicalVariance: Double
    /// Cochran's Q of the equal-effects model (metafor's QE).
    public var q: Double
    public var qDF: Int
    public var qPValue: Double
    /// The (restricted) log-likelihood, as metafor's `logLik()`.
    public var logLikelihood: Double
    public var lrtTwoLevel: LikelihoodRatio
    public var robust: Robust?
    public var backTransformed: PoolSummary.BackTransformed
    public var clusterEstimates: [Cluster]
    public var studies: [Study]

    enum CodingKeys: String, CodingKey {
        case measure, method, model, clusterColumn = "cluster_column", ciMethod = "ci_method", level, k, clusters
        case estimate, se, ciLower = "ci_lower", ciUpper = "ci_upper", statistic, pValue = "p_value", df
        case piLower = "pi_lower", piUpper = "pi_upper", piMethod = "pi_method", piDF = "pi_df"
        case sigma2Cluster = "sigma2_cluster", sigma2ClusterCILower = "sigma2_cluster_ci_lower", sigma2ClusterCIUpper = "sigma2_cluster_ci_upper"
        case sigma2Cohort = "sigma2_cohort", sigma2CohortCILower = "sigma2_cohort_ci_lower", sigma2CohortCIUpper = "sigma2_cohort_ci_upper"
        case sigma2CINote = "sigma2_ci_note"
        case i2, i2Cluster = "i2_cluster", i2Cohort = "i2_cohort", typicalVariance = "typical_variance"
        case q, qDF = "q_df", qPValue = "q_p_value", logLikelihood = "log_likelihood", lrtTwoLevel = "lrt_two_level"
        case robust, backTransformed = "back_transformed", clusterEstimates = "cluster_estimates", studies
    }
}

extension ThreeLevelAnalysis {
    /// The typed summary, with metafor's names in snake_case when encoded.
    public func summary() -> ThreeLevelSummary {
        let p = pooled, f = fit
        let intervals = studies.confidenceIntervals(level: p.level)
        let prediction = newStudyPrediction
        return ThreeLevelSummary(
            measure: measure.rawValue, method: f.method.rawValue, model: "three-level", clusterColumn: clusters.column,
            ciMethod: p.degreesOfFreedom == nil ? "wald" : "t", level: p.level, k: effects.count, clusters: f.clusterCount,
            estimate: p.estimate, se: p.standardError, ciLower: p.confidenceInterval.lower, ciUpper: p.confidenceInterval.upper,
            statistic: p.statistic, pValue: p.pValue, df: p.degreesOfFreedom,
            piLower: prediction?.interval.lower, piUpper: prediction?.interval.upper,
            piMethod: prediction?.method.rawValue, piDF: prediction?.degreesOfFreedom,
            sigma2Cluster: f.clusterVariance, sigma2ClusterCILower: clusterVarianceInterval?.lower,
            sigma2ClusterCIUpper: clusterVarianceInterval?.upper,
            sigma2Cohort: f.cohortVariance, sigma2CohortCILower: cohortVarianceInterval?.lower,
            sigma2CohortCIUpper: cohortVarianceInterval?.upper, sigma2CINote: varianceIntervalError,
            i2: heterogeneity.iSquared, i2Cluster: f.iSquaredCluster, i2Cohort: f.iSquaredCohort, typicalVariance: f.typicalVariance,
            q: q, qDF: effects.count - 1, qPValue: qPValue, logLikelihood: f.logLikelihood,
            lrtTwoLevel: .init(statistic: f.likelihoodRatio, df: 1, pValue: f.likelihoodRatioPValue,
                               twoLevelTau2: f.twoLevelTauSquared, twoLevelLogLikelihood: f.twoLevelLogLikelihood),
            robust: robust.map { r in
                .init(type: (robustType ?? .cr2).rawValue, clusters: f.clusterCount, estimate: r.estimate, se: r.standardError,
                      statistic: r.statistic, df: r.degreesOfFreedom, pValue: r.pValue,
                      ciLower: r.confidenceInterval.lower, ciUpper: r.confidenceInterval.upper)
            },
            backTransformed: PoolSummary.BackTransformed(self),
            clusterEstimates: clusterEstimates.map { .init(cluster: $0.label, k: $0.studies.count, estimate: $0.estimate, se: $0.standardError) },
            studies: effects.labels.indices.map { i in
                .init(study: effects.labels[i], cluster: clusters.names[clusters.ids[i]], yi: effects.yi[i], vi: effects.vi[i],
                      ciLower: intervals[i].lower, ciUpper: intervals[i].upper, weight: weights[i])
            })
    }
}

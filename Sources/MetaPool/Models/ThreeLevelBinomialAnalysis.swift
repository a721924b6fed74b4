// The three-level binomial GLMM as a fitted analysis of a table: events and totals of each cohort,
// the cluster (trial) of each, the Laplace fit and its profile intervals, in the shape every later
// stage (summaries, forest plot, report, baselines, batches) takes.

/// A three-level random-effects meta-analysis of proportions by the binomial GLMM
/// (``ThreeLevelBinomialModel``; lme4's `glmer(cbind(x, n − x) ~ 1 + (1 | cluster/cohort),
/// family = binomial)` with the Laplace approximation), fitted to a table's `events` and `total`.
/// The heterogeneity test is the two-level GLMM's Wald-type test of the equal-effects model
/// (metafor's `QE.Wld`), which does not depend on the random-effects structure.
public struct ThreeLevelBinomialAnalysis: Sendable {
    /// The escalc PLO effects of the studies (½ added to studies with 0 or nᵢ events), for the
    /// plots, I² and the cluster diamonds; the model itself uses the exact binomial likelihood.
    public let effects: EffectSizes
    /// The events and totals.
    public let events: [Double], totals: [Double]
    public let clusters: StudyClusters
    public let fit: ThreeLevelBinomialFit
    public let clusterVarianceInterval: Interval?, cohortVarianceInterval: Interval?
    public let varianceIntervalError: String?
    /// The profile-likelihood interval of μ (``ThreeLevelBinomialModel/meanInterval(_:level:)``), or
    /// `nil` with the reason in ``meanIntervalError``.
    public let meanInterval: Interval?, meanIntervalError: String?
    /// The Wald-type test for heterogeneity on k − 1 df (metafor's `QE.Wld`).
    public let waldTest: GeneralizedLinearMixedModel.HeterogeneityTest
    /// The likelihood-ratio test for heterogeneity on k − 1 df, one proportion against one per
    /// study (metafor's `QE.LRT`), as the two-level GLMM reports it.
    public let likelihoodRatioTest: GeneralizedLinearMixedModel.HeterogeneityTest
    /// Which prediction interval the fit reports (t on k − 1 df for proportions unless set).
    public var predictionIntervalSetting: PredictionIntervalSetting = .metafor

    /// Fits the model to the table's `events` and `total` columns, cohorts within `clusters`.
    /// - Throws: ``MetaPoolError`` for missing columns, invalid counts, one study in every cluster,
    ///   or a fit that does not converge.
    public init(table: DataTable, clusters: StudyClusters, tDistribution: Bool = false, level: Double = 0.95) throws(MetaPoolError) {
        for name in ["events", "total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "the three-level GLMM for proportions needs the columns `events` and `total`; the column is missing",
                                at: InputLocation(file: table.source, column: name))
        }
        let reader = ColumnReader(table: table)
        let events = try reader.numbers("events"), totals = try reader.numbers("total")
        let effects = try EffectSizes.proportions(events: events, totals: totals, measure: .logitProportion,
                                                  labels: reader.labels(), locations: StudyLocations(table: table))
        guard clusters.ids.count == events.count else {
            throw MetaPoolError(.invalidArgument, "\(events.count) studies but \(clusters.ids.count) cluster values; give one per study")
        }
        let model: ThreeLevelBinomialModel
        do {
            model = try ThreeLevelBinomialModel(events: events, totals: totals, cluster: clusters.ids)
        } catch {
            var e = error
            if e.kind == .insufficientData, e.reason == ThreeLevelModel.reducesToTwoLevels.reason {
                e.location = InputLocation(file: table.source, column: clusters.column)
            }
            if e.location.file == nil { e.location.file = table.source }
            throw e
        }
        let fit = try model.fit(tDistribution: tDistribution, level: level)
        self.init(effects: effects, events: events, totals: totals, clusters: clusters, model: model, fit: fit, intervals: true)
    }

    init(effects: EffectSizes, events: [Double], totals: [Double], clusters: StudyClusters, model: ThreeLevelBinomialModel,
         fit: ThreeLevelBinomialFit, intervals: Bool) {
        self.effects = effects
        self.events = events
        self.totals = totals
        self.clusters = clusters
        self.fit = fit
        let level = fit.pooled.level
        let bounds = intervals ? Self.varianceIntervals({ () throws(MetaPoolError) in try model.varianceInterval(fit, cluster: true, level: level) },
                                                        { () throws(MetaPoolError) in try model.varianceInterval(fit, cluster: false, level: level) })
                               : (nil, nil, nil)
        (clusterVarianceInterval, cohortVarianceInterval, varianceIntervalError) = bounds
        if intervals {
            do {
                meanInterval = try model.meanInterval(fit, level: level)
                meanIntervalError = nil
            } catch {
                meanInterval = nil
                meanIntervalError = error.reason
            }
        } else {
            (meanInterval, meanIntervalError) = (nil, "not computed")
        }
        let wald = GeneralizedLinearMixedModel.waldStatistic(events: events, totals: totals)
        let df = events.count - 1
        let chi = ChiSquared(degreesOfFreedom: Double(df))
        waldTest = .init(statistic: wald, degreesOfFreedom: df, pValue: chi.survival(wald))
        let lrt = GeneralizedLinearMixedModel.likelihoodRatioStatistic(events: events, totals: totals)
        likelihoodRatioTest = .init(statistic: lrt, degreesOfFreedom: df, pValue: chi.survival(lrt))
    }
}

extension ThreeLevelBinomialAnalysis: ThreeLevelFitted {
    public var pooled: EstimateInference { fit.pooled }
    /// "Three-level random-effects model (GLMM, Laplace)".
    public var modelName: String { "Three-level random-effects model (GLMM, Laplace)" }
    public var measure: EffectMeasure { .logitProportion }
    /// The Wald-type Q, with τ² the total σ̂²₁ + σ̂²₂ and the ṽ-based total I².
    public var heterogeneity: Heterogeneity {
        Heterogeneity(tauSquared: fit.clusterVariance + fit.cohortVariance, typicalVariance: fit.typicalVariance, q: waldTest.statistic,
                      count: effects.count, degreesOfFreedom: waldTest.degreesOfFreedom, pValue: waldTest.pValue)
    }
    public var predictionInterval: Interval? { newStudyPrediction?.interval }
    /// A new cohort of a new cluster: μ̂ ± c·√(SE² + σ̂²₁ + σ̂²₂) on the logit scale.
    public var newStudyPrediction: Prediction? {
        let method = predictionIntervalSetting.method(modelDegreesOfFreedom: pooled.degreesOfFreedom)
        return pooled.prediction(tauSquared: fit.clusterVariance + fit.cohortVariance, studies: effects.count, method: method)
    }
    /// The escalc effects, without weights (a GLMM gives no fixed per-study share).
    public var studies: FittedStudies { FittedStudies(effects: effects, weights: nil, rows: nil) }
    public func backTransform(_ x: Double) -> Double { EffectMeasure.logitProportion.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal) }
    public func jsonSummary() throws(MetaPoolError) -> JSONValue { try MetaPoolError.encodedSummary(summary()) }

    public var estimates: any ThreeLevelEstimates { fit }
    /// No sandwich estimator for the GLMM here: `nil`.
    public var robust: RobustInference? { nil }
    public var robustType: ClusterRobustType? { nil }
}

/// The summary of a ``ThreeLevelBinomialAnalysis`` as `pool --cluster COLUMN --method GLMM --format json` prints it.
public struct ThreeLevelGLMMSummary: Codable, Sendable, Equatable {
    /// The two-level GLMM with Laplace (σ²₁ = 0) and the likelihood-ratio test against it.
    public struct LikelihoodRatio: Codable, Sendable, Equatable {
        public var statistic: Double
        public var df: Int
        public var pValue: Double
        public var twoLevelEstimate: Double
        public var twoLevelSE: Double
        public var twoLevelTau2: Double
        public var twoLevelLogLikelihood: Double
        enum CodingKeys: String, CodingKey {
            case statistic, df, pValue = "p_value", twoLevelEstimate = "two_level_estimate", twoLevelSE = "two_level_se"
            case twoLevelTau2 = "two_level_tau2", twoLevelLogLikelihood = "two_level_log_likelihood"
        }
    }
    /// The population-averaged proportion and the same integral at the bounds of μ's CI.
    public struct Rate: Codable, Sendable, Equatable {
        public var estimate: Double
        public var ciLower: Double
        public var ciUpper: Double
        enum CodingKeys: String, CodingKey { case estimate, ciLower = "ci_lower", ciUpper = "ci_upper" }
    }

    public var measure: String
    public var method: String
    public var model: String
    public var approximation: String
    public var clusterColumn: String
    public var ciMethod: String
    public var level: Double
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
    public var sigma2Cluster: Double
    public var sigma2ClusterCILower: Double?
    public var sigma2ClusterCIUpper: Double?
    public var sigma2Cohort: Double
    public var sigma2CohortCILower: Double?
    public var sigma2CohortCIUpper: Double?
    public var sigma2CINote: String?
    public var i2: Double
    public var i2Cluster: Double
    public var i2Cohort: Double
    public var typicalVariance: Double
    public var qeWald: Double
    public var qeWaldDF: Int
    public var qeWaldPValue: Double
    public var qeLRT: Double
    public var qeLRTDF: Int
    public var qeLRTPValue: Double
    public var logLikelihood: Double
    public var conditionalLogLikelihood: Double
    public var profileLikelihood: ProfileLikelihoodSummary
    public var lrtTwoLevel: LikelihoodRatio
    public var backTransformed: PoolSummary.BackTransformed
    public var populationAveraged: Rate
    public var clusterEstimates: [ThreeLevelSummary.Cluster]

    enum CodingKeys: String, CodingKey {
        case measure, method, model, approximation, clusterColumn = "cluster_column", ciMethod = "ci_method", level, k, clusters
        case estimate, se, ciLower = "ci_lower", ciUpper = "ci_upper", statistic, pValue = "p_value", df
        case piLower = "pi_lower", piUpper = "pi_upper", piMethod = "pi_method", piDF = "pi_df"
        case sigma2Cluster = "sigma2_cluster", sigma2ClusterCILower = "sigma2_cluster_ci_lower", sigma2ClusterCIUpper = "sigma2_cluster_ci_upper"
        case sigma2Cohort = "sigma2_cohort", sigma2CohortCILower = "sigma2_cohort_ci_lower", sigma2CohortCIUpper = "sigma2_cohort_ci_upper"
        case sigma2CINote = "sigma2_ci_note"
        case i2, i2Cluster = "i2_cluster", i2Cohort = "i2_cohort", typicalVariance = "typical_variance"
        case qeWald = "qe_wald", qeWaldDF = "qe_wald_df", qeWaldPValue = "qe_wald_p_value"
        case qeLRT = "qe_lrt", qeLRTDF = "qe_lrt_df", qeLRTPValue = "qe_lrt_p_value", logLikelihood = "log_likelihood"
        case conditionalLogLikelihood = "conditional_log_likelihood", profileLikelihood = "profile_likelihood"
        case lrtTwoLevel = "lrt_two_level", backTransformed = "back_transformed", populationAveraged = "population_averaged"
        case clusterEstimates = "cluster_estimates"
    }
}

extension ThreeLevelBinomialAnalysis {
    /// The typed summary, with snake_case keys when encoded.
    public func summary() -> ThreeLevelGLMMSummary {
        let p = pooled, f = fit, prediction = newStudyPrediction, rate = f.populationAveragedRate
        return ThreeLevelGLMMSummary(
            measure: "PLO", method: "GLMM", model: "three-level", approximation: "Laplace", clusterColumn: clusters.column,
            ciMethod: p.degreesOfFreedom == nil ? "wald" : "t", level: p.level, k: effects.count, clusters: f.clusterCount,
            estimate: p.estimate, se: p.standardError, ciLower: p.confidenceInterval.lower, ciUpper: p.confidenceInterval.upper,
            statistic: p.statistic, pValue: p.pValue, df: p.degreesOfFreedom,
            piLower: prediction?.interval.lower, piUpper: prediction?.interval.upper,
            piMethod: prediction?.method.rawValue, piDF: prediction?.degreesOfFreedom,
            sigma2Cluster: f.clusterVariance, sigma2ClusterCILower: clusterVarianceInterval?.lower, sigma2ClusterCIUpper: clusterVarianceInterval?.upper,
            sigma2Cohort: f.cohortVariance, sigma2CohortCILower: cohortVarianceInterval?.lower, sigma2CohortCIUpper: cohortVarianceInterval?.upper,
            sigma2CINote: varianceIntervalError,
            i2: f.iSquaredTotal, i2Cluster: f.iSquaredCluster, i2Cohort: f.iSquaredCohort, typicalVariance: f.typicalVariance,
            qeWald: waldTest.statistic, qeWaldDF: waldTest.degreesOfFreedom, qeWaldPValue: waldTest.pValue,
            qeLRT: likelihoodRatioTest.statistic, qeLRTDF: likelihoodRatioTest.degreesOfFreedom, qeLRTPValue: likelihoodRatioTest.pValue,
            logLikelihood: f.logLikelihood, conditionalLogLikelihood: f.conditionalLogLikelihood,
            profileLikelihood: ProfileLikelihoodSummary(level: p.level, ciLower: meanInterval?.lower, ciUpper: meanInterval?.upper,
                                                        error: meanIntervalError),
            lrtTwoLevel: .init(statistic: f.likelihoodRatio, df: 1, pValue: f.likelihoodRatioPValue,
                               twoLevelEstimate: f.twoLevel.estimate, twoLevelSE: f.twoLevel.standardError,
                               twoLevelTau2: f.twoLevelTauSquared, twoLevelLogLikelihood: f.twoLevelLogLikelihood),
            backTransformed: PoolSummary.BackTransformed(self),
            populationAveraged: .init(estimate: rate.estimate, ciLower: rate.lower, ciUpper: rate.upper),
            clusterEstimates: clusterEstimates.map { .init(cluster: $0.label, k: $0.studies.count, estimate: $0.estimate, se: $0.standardError) })
    }
}

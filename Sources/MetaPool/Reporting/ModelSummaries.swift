// Typed summaries of the count-based models, serialised like PoolSummary: Codable structs whose
// keys are metafor's names in snake_case, encoded in declaration order by OrderedJSONEncoder
// (absent optionals omitted, non-finite numbers written as null). Documentation.docc/JSONOutput.md
// lists every key.

/// The summary of a Mantel–Haenszel or Peto fit, as `metapool pool --method MH|PETO --format json`
/// prints it (metafor's `rma.mh()` and `rma.peto()`).
public struct CountModelSummary: Codable, Sendable, Equatable {
    /// The measure (`OR`, `RR`, `RD`) and the method (`MH` or `PETO`).
    public var measure: String
    public var method: String
    /// The confidence level and k, the number of studies (double-zero studies included).
    public var level: Double
    public var k: Int
    /// The pooled estimate on the analysis scale, its SE, z statistic, p-value and interval.
    public var estimate: Double
    public var se: Double
    public var statistic: Double
    public var pValue: Double
    public var ciLower: Double
    public var ciUpper: Double
    /// Cochran's Q (metafor's `QE`) on k′ − 1 df, its p-value, and the Q-based I² (%) and H².
    public var q: Double
    public var qDF: Int
    public var qPValue: Double
    public var i2: Double
    public var h2: Double
    /// The Cochran–Mantel–Haenszel test (MH odds ratio only); its p-value is null without df.
    public var cmh: Double?
    public var cmhPValue: Double?
    /// Tarone's test for heterogeneity (MH odds ratio only); its p-value is null without df.
    public var tarone: Double?
    public var taroneDF: Int?
    public var taronePValue: Double?
    /// The estimate and interval on the natural scale.
    public var backTransformed: PoolSummary.BackTransformed

    enum CodingKeys: String, CodingKey {
        case measure, method, level, k, estimate, se, statistic, pValue = "p_value", ciLower = "ci_lower", ciUpper = "ci_upper"
        case q, qDF = "q_df", qPValue = "q_p_value", i2, h2, cmh, cmhPValue = "cmh_p_value"
        case tarone, taroneDF = "tarone_df", taronePValue = "tarone_p_value", backTransformed = "back_transformed"
    }
}

/// The summary of a binomial GLMM fit, as `metapool pool --method GLMM --format json` prints it
/// (metafor's `rma.glmm()`).
public struct MixedModelSummary: Codable, Sendable, Equatable {
    /// The measure (`PLO` or `OR`), the method (`GLMM`) and, for odds ratios, metafor's model code `UM.FS`.
    public var measure: String
    public var method: String
    public var model: String?
    /// The number of adaptive Gauss–Hermite quadrature points (1 = Laplace).
    public var quadraturePoints: Int
    /// The confidence level and k, the number of studies in the model.
    public var level: Double
    public var k: Int
    /// Studies left out (no events, or only events, in both groups); odds ratios only.
    public var excludedStudies: [String]?
    /// The pooled estimate on the analysis scale, its SE, z statistic, p-value and interval.
    public var estimate: Double
    public var se: Double
    public var statistic: Double
    /// The t test's degrees of freedom, k − 1 (`--ci t`, metafor's `ddf`); absent for the z test.
    public var df: Int? = nil
    public var pValue: Double
    public var ciLower: Double
    public var ciUpper: Double
    /// The prediction interval (analysis scale), its method (`z`, `t`, `riley`) and t df (absent for z).
    public var piLower: Double? = nil
    public var piUpper: Double? = nil
    public var piMethod: String? = nil
    public var piDF: Int? = nil
    /// τ̂², τ̂, I² (%) and H² through the typical within-study variance.
    public var tau2: Double
    public var tau: Double
    public var i2: Double
    public var h2: Double
    /// The Wald-type and likelihood-ratio tests for heterogeneity (metafor's `QE.Wld`, `QE.LRT`).
    public var qeWald: Double
    public var qeWaldDF: Int
    public var qeWaldPValue: Double
    public var qeLRT: Double
    public var qeLRTDF: Int
    public var qeLRTPValue: Double
    /// The conditional log-likelihood metafor prints and the maximised marginal one.
    public var logLikelihood: Double
    public var marginalLogLikelihood: Double
    /// The estimate and interval on the natural scale.
    public var backTransformed: PoolSummary.BackTransformed
    /// The population-averaged proportion and its interval (proportions only; absent for odds ratios).
    public var populationAveraged: PopulationAveragedSummary? = nil
    /// Profile-likelihood intervals for μ, τ and τ² (proportions only; absent for odds ratios).
    public var profileLikelihood: ProfileLikelihoodSummary? = nil

    enum CodingKeys: String, CodingKey {
        case measure, method, model, quadraturePoints = "quadrature_points", level, k, excludedStudies = "excluded_studies"
        case estimate, se, statistic, df, pValue = "p_value", ciLower = "ci_lower", ciUpper = "ci_upper"
        case piLower = "pi_lower", piUpper = "pi_upper", piMethod = "pi_method", piDF = "pi_df"
        case tau2, tau, i2, h2, qeWald = "qe_wald", qeWaldDF = "qe_wald_df", qeWaldPValue = "qe_wald_p_value"
        case qeLRT = "qe_lrt", qeLRTDF = "qe_lrt_df", qeLRTPValue = "qe_lrt_p_value"
        case logLikelihood = "log_likelihood", marginalLogLikelihood = "marginal_log_likelihood"
        case backTransformed = "back_transformed", populationAveraged = "population_averaged"
        case profileLikelihood = "profile_likelihood"
    }
}

extension MetaPoolError {
    /// Encodes a typed summary as an ordered JSON tree.
    static func encodedSummary<T: Encodable>(_ summary: T) throws(MetaPoolError) -> JSONValue {
        do {
            return try OrderedJSONEncoder.encode(summary)
        } catch {
            throw MetaPoolError(.invalidArgument, "could not encode the summary: \(error)")
        }
    }
}

extension PoolSummary.BackTransformed {
    /// The estimate and intervals of a fit on the natural scale (the prediction interval where the fit has one).
    init(_ fit: some FittedModel) {
        let p = fit.pooled, pi = fit.predictionInterval
        self.init(estimate: fit.backTransform(p.estimate), ciLower: fit.backTransform(p.confidenceInterval.lower),
                  ciUpper: fit.backTransform(p.confidenceInterval.upper),
                  piLower: pi.map { fit.backTransform($0.lower) }, piUpper: pi.map { fit.backTransform($0.upper) })
    }
}

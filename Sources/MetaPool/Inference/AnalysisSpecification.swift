// What to fit: the measure, the model and the inference settings, and the choice of model type
// they imply. The CLI parses options into this; library users build it directly.

/// How studies are pooled: an inverse-variance model (fixed effect or a τ² estimator), or a
/// method that pools the counts themselves (Mantel–Haenszel, Peto, the binomial GLMM).
public enum PoolingMethod: Sendable, Hashable {
    /// An inverse-variance model: fixed effect (`FE`) or random effects with this τ² estimator.
    case inverseVariance(TauSquaredMethod)
    /// Mantel–Haenszel (OR, RR, RD from two-group counts).
    case mantelHaenszel
    /// Peto's one-step odds ratio.
    case peto
    /// The binomial–normal GLMM (PLO, events/total) or the fixed-study-effects odds-ratio GLMM
    /// (OR, two-group counts), with this many adaptive Gauss–Hermite points (1 = Laplace).
    case glmm(quadraturePoints: Int)

    /// Parses metafor's `method` codes (FE DL REML … case-insensitively) and MH, PETO, GLMM.
    public init?(code: String, quadraturePoints: Int = 7) {
        switch code.uppercased() {
        case "MH": self = .mantelHaenszel
        case "PETO": self = .peto
        case "GLMM": self = .glmm(quadraturePoints: quadraturePoints)
        default:
            guard let m = TauSquaredMethod(code: code) else { return nil }
            self = .inverseVariance(m)
        }
    }

    /// metafor's name: FE, DL, REML, …, MH, PETO, GLMM.
    public var code: String {
        switch self {
        case .inverseVariance(let m): m.rawValue
        case .mantelHaenszel: "MH"
        case .peto: "PETO"
        case .glmm: "GLMM"
        }
    }

    /// Whether the model is fitted to the counts themselves (MH, PETO, GLMM).
    public var isCountBased: Bool {
        if case .inverseVariance = self { return false }
        return true
    }
}

/// A complete description of one analysis: enough to fit it to a table, whole or by subgroup.
///
/// ```swift
/// let spec = AnalysisSpecification(pooling: .mantelHaenszel, measure: .riskRatio)
/// let fit = try spec.fit(table)            // any FittedModel
/// let plot = try ForestPlot(fit, table: table)
/// ```
public struct AnalysisSpecification: Sendable, Hashable {
    /// How the studies are pooled (metafor's `method` code: FE, DL, REML, …, MH, PETO, GLMM).
    public var pooling: PoolingMethod
    /// The effect measure, or `nil` to infer it from the columns.
    public var measure: EffectMeasure?
    /// The confidence-interval and test method of the pooled estimate (metafor's `test`; Wald for MH, PETO, GLMM).
    public var ciMethod: ConfidenceIntervalMethod
    /// The confidence level in (0, 1), e.g. 0.95.
    public var level: Double
    /// How effect sizes are derived from the table (continuity correction, hazard-ratio level,
    /// rows with empty cells); the inverse-variance models use them, and the count-based ones
    /// leave out the rows they exclude.
    public var effectSizeOptions = EffectSizeOptions()
    /// The prediction interval the fit reports, or `nil` for the measure's default
    /// (``PredictionIntervalSetting/default(for:)``: t on k − 1 df for proportions and hazard
    /// ratios, metafor's otherwise).
    public var predictionInterval: PredictionIntervalSetting? = nil
    /// The column whose values are the clusters (trials) of the studies (cohorts), for the
    /// three-level model (``ThreeLevelAnalysis``), or `nil` for the two-level models.
    public var cluster: String? = nil
    /// With ``cluster``: the cluster-robust estimator to report beside the model-based test, or `nil`.
    public var robust: ClusterRobustType? = nil

    /// A specification; by default REML with Wald (z) intervals at the 95% level, the measure inferred from the columns.
    public init(pooling: PoolingMethod = .inverseVariance(.restrictedMaximumLikelihood), measure: EffectMeasure? = nil,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95) {
        self.pooling = pooling
        self.measure = measure
        self.ciMethod = ciMethod
        self.level = level
    }

    /// Checks that the settings fit together, before any data is read.
    /// - Throws: ``MetaPoolError`` `.invalidArgument` naming the conflicting settings.
    public func validate() throws(MetaPoolError) {
        if cluster == nil, robust != nil {
            throw MetaPoolError(.invalidArgument, "the cluster-robust variance needs the cluster of each study; name the cluster column (the trial of each cohort)")
        }
        if cluster != nil, robust != nil, case .glmm = pooling {
            throw MetaPoolError(.invalidArgument, "the cluster-robust variance is for the inverse-variance three-level model (REML or ML); the three-level GLMM has none here")
        }
        if cluster != nil {
            let threeLevel: Bool = switch pooling {
            case .inverseVariance(let m): m == .restrictedMaximumLikelihood || m == .maximumLikelihood
            case .glmm: measure == nil || measure == .logitProportion
            default: false
            }
            switch threeLevel {
            case true:
                if ciMethod != .wald && ciMethod != .t {
                    throw MetaPoolError(.invalidArgument, "the three-level model's interval is wald (z) or t (on k - 1 df, as metafor's test = \"t\"); \(ciMethod.rawValue) has no three-level form",
                                        remedy: .intervals(["wald", "t"]))
                }
            default:
                throw MetaPoolError(.invalidArgument, "the three-level model (cohorts within clusters) is fitted by REML or ML, or by the GLMM for proportions (PLO); \(pooling.code)\(measure.map { " with \($0.rawValue)" } ?? "") has no three-level form", remedy: .methods(["REML", "ML", "GLMM"]))
            }
        }
        try EstimateInference.checkLevel(level)
        guard pooling.isCountBased else { return }
        // The GLMM also takes metafor's test = "t" (rma.glmm): t on k − p df.
        guard ciMethod == .wald || (ciMethod == .t && pooling.code == "GLMM") else {
            throw MetaPoolError(.invalidArgument, "the \(pooling.code) method uses z tests and Wald intervals, as metafor's rma.\(pooling == .peto ? "peto" : pooling.code == "GLMM" ? "glmm" : "mh") does; the \(ciMethod.rawValue) interval is not available with it")
        }
        switch pooling {
        case .glmm(let points):
            if let measure, measure != .logitProportion, measure != .oddsRatio {
                throw MetaPoolError(.invalidArgument, "the GLMM fits logit proportions (PLO, events/total) or odds ratios (OR, two-group counts); \(measure.rawValue) is neither")
            }
            guard (1...100).contains(points) else {
                throw MetaPoolError(.invalidArgument, "the number of quadrature points must be between 1 and 100; got \(points)")
            }
        case .peto:
            if let measure, measure != .oddsRatio {
                throw MetaPoolError(.invalidArgument, "Peto's method pools odds ratios, not \(measure.rawValue)")
            }
        case .mantelHaenszel:
            if let measure, ![.oddsRatio, .riskRatio, .riskDifference].contains(measure) {
                throw MetaPoolError(.invalidArgument, "the Mantel-Haenszel method pools OR, RR or RD from two-group counts, not \(measure.rawValue)")
            }
        case .inverseVariance:
            break
        }
    }

    /// Fits the specified model to a table.
    /// - Throws: ``MetaPoolError`` for invalid settings or data, or a model that cannot be fitted.
    public func fit(_ table: DataTable) throws(MetaPoolError) -> any FittedModel {
        let fit = try fitModel(table)
        let setting = predictionInterval ?? .default(for: fit.measure)
        switch fit {
        case var m as MetaAnalysis: m.predictionIntervalSetting = setting; return m
        case var g as GeneralizedLinearMixedModel: g.predictionIntervalSetting = setting; return g
        case var o as OddsRatioMixedModel: o.predictionIntervalSetting = setting; return o
        case var t as ThreeLevelAnalysis: t.predictionIntervalSetting = setting; return t
        case var b as ThreeLevelBinomialAnalysis: b.predictionIntervalSetting = setting; return b
        default: return fit
        }
    }

    /// The model of ``fit(_:)`` with metafor's prediction interval.
    private func fitModel(_ table: DataTable) throws(MetaPoolError) -> any FittedModel {
        try validate()
        let table = try table.excludingStudies(measure: measure, options: effectSizeOptions).table
        switch pooling {
        case .inverseVariance(let method):
            if let cluster {
                let clusters = try table.clusters(column: cluster)
                return try ThreeLevelAnalysis(EffectSizes(table: table, measure: measure, options: effectSizeOptions), clusters: clusters,
                                              method: method, ciMethod: ciMethod, level: level, robust: robust)
            }
            return try MetaAnalysis(EffectSizes(table: table, measure: measure, options: effectSizeOptions), method: method, ciMethod: ciMethod, level: level)
        case .mantelHaenszel:
            return try MantelHaenszel(TwoGroupCounts(table: table), measure: measure ?? .oddsRatio, level: level)
        case .peto:
            return try Peto(TwoGroupCounts(table: table), level: level)
        case .glmm(let points):
            let isTwoGroup = measure == .oddsRatio || (measure == nil && table.columnIndex("treat_events") != nil)
            if let cluster {
                guard !isTwoGroup else {
                    throw MetaPoolError(.invalidArgument, "the three-level GLMM is for proportions (events, total); two-group counts have no three-level GLMM here (use an inverse-variance method with the cluster column)",
                                        remedy: .methods(["REML", "ML"]))
                }
                // Laplace, as lme4 fits nested random effects (its nAGQ > 1 needs a single grouping factor).
                return try ThreeLevelBinomialAnalysis(table: table, clusters: table.clusters(column: cluster),
                                                      tDistribution: ciMethod == .t, level: level)
            }
            if isTwoGroup {
                let model = try OddsRatioMixedModel(table: table, quadraturePoints: points, level: level)
                return ciMethod == .t ? model.withTTest() : model
            }
            let model = try GeneralizedLinearMixedModel(table: table, quadraturePoints: points, level: level)
            return ciMethod == .t ? model.withTTest() : model
        }
    }
}

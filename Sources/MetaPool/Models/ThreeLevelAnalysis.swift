// The three-level model as a fitted analysis of a table: the studies' effect sizes, the cluster
// (trial) of each, the fit, its profile intervals and cluster-robust inference, in the shape
// every later stage (summaries, forest plot, report, baselines) takes.

/// The cluster-robust variance estimator of ``ThreeLevelAnalysis``.
public enum ClusterRobustType: String, Sendable, Hashable, CaseIterable {
    /// CR2 with Satterthwaite degrees of freedom (Bell & McCaffrey 2002; Pustejovsky & Tipton
    /// 2018), as clubSandwich's `coef_test(fit, vcov = "CR2")`.
    case cr2 = "CR2"
    /// CR1 with t on n − 1 df over n clusters (Hedges, Tipton & Johnson 2010), as metafor's `robust(fit, cluster)`.
    case cr1 = "CR1"

    /// Reads `CR1` or `CR2` (case ignored).
    public init?(code: String) {
        switch code.trimmingSpaces().uppercased() {
        case "CR2": self = .cr2
        case "CR1": self = .cr1
        default: return nil
        }
    }
}

/// A three-level random-effects meta-analysis of a table's studies, cohorts (rows) within
/// clusters (the values of a cluster column, such as the trial): ``ThreeLevelModel`` fitted by
/// ML or REML, with what metafor's `rma.mv(yi, vi, random = ~ 1 | cluster/cohort)`, `confint()`,
/// `predict()`, `weights()`, `anova()` against the two-level model and `robust()` report.
///
/// ```swift
/// let analysis = try ThreeLevelAnalysis(EffectSizes(table: table), clusters: table.clusters(column: "trial"))
/// print(analysis.fit.clusterVariance, analysis.fit.cohortVariance)
/// ```
public struct ThreeLevelAnalysis: Sendable {
    /// The studies' effect sizes.
    public let effects: EffectSizes
    /// The cluster column, and each study's cluster.
    public let clusters: StudyClusters
    /// The model fitted.
    public let fit: ThreeLevelFit
    /// The profile-likelihood intervals of σ²₁ (between clusters) and σ²₂ (between cohorts),
    /// or why they could not be found.
    public let clusterVarianceInterval: Interval?, cohortVarianceInterval: Interval?
    public let varianceIntervalError: String?
    /// The cluster-robust inference for μ̂ when asked for, with its estimator.
    public let robust: RobustInference?, robustType: ClusterRobustType?
    /// Cochran's Q of the equal-effects model on k − 1 df and its p-value (metafor's QE, QEp).
    public let q: Double, qPValue: Double
    /// Each study's weight in percent: the diagonal of V̂⁻¹, as metafor's `weights()` on `rma.mv`.
    public let weights: [Double]
    /// Which prediction interval the fit reports (metafor's `predict()` by default).
    public var predictionIntervalSetting: PredictionIntervalSetting = .metafor
    /// The model, for refits and per-cluster summaries.
    let model: ThreeLevelModel

    /// Fits the three-level model to `effects`, cohorts within `clusters`.
    /// - Parameters:
    ///   - method: `.restrictedMaximumLikelihood` or `.maximumLikelihood`.
    ///   - ciMethod: `.wald` (z) or `.t` (t on k − 1 df, metafor's `test = "t"`).
    ///   - robust: the cluster-robust estimator to add, or `nil`.
    /// - Throws: ``MetaPoolError`` for another method or interval, mismatched clusters, one study
    ///   in every cluster, or a fit that does not converge.
    public init(_ effects: EffectSizes, clusters: StudyClusters, method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95, robust: ClusterRobustType? = nil) throws(MetaPoolError) {
        guard ciMethod == .wald || ciMethod == .t else {
            throw MetaPoolError(.invalidArgument, "the three-level model's interval is wald (z) or t (on k - 1 df, as metafor's test = \"t\"); \(ciMethod.rawValue) has no three-level form",
                                remedy: .intervals(["wald", "t"]))
        }
        guard clusters.ids.count == effects.count else {
            throw MetaPoolError(.invalidArgument, "\(effects.count) studies but \(clusters.ids.count) cluster values; give one per study")
        }
        let model: ThreeLevelModel
        do {
            model = try ThreeLevelModel(yi: effects.yi, vi: effects.vi, cluster: clusters.ids)
        } catch {
            var e = error
            if e.kind == .insufficientData, e.location.column == nil {
                e.location = InputLocation(file: effects.locations.firstFile, column: clusters.column)
            }
            throw e
        }
        let fit = try model.fit(method: method, tDistribution: ciMethod == .t, level: level)
        try self.init(effects, clusters: clusters, model: model, fit: fit, robust: robust)
    }

    /// The analysis of a fit already made (the leave-one-cluster-out refits).
    init(_ effects: EffectSizes, clusters: StudyClusters, model: ThreeLevelModel, fit: ThreeLevelFit,
         robust: ClusterRobustType?, intervals: Bool = true) throws(MetaPoolError) {
        self.effects = effects
        self.clusters = clusters
        self.model = model
        self.fit = fit
        let level = fit.pooled.level
        let bounds = intervals ? Self.varianceIntervals({ () throws(MetaPoolError) in try model.varianceInterval(fit, cluster: true, level: level) },
                                                        { () throws(MetaPoolError) in try model.varianceInterval(fit, cluster: false, level: level) })
                               : (nil, nil, nil)
        (clusterVarianceInterval, cohortVarianceInterval, varianceIntervalError) = bounds
        robustType = robust
        switch robust {
        case .cr2?:
            guard let r = model.clusterRobustCR2(fit) else {
                throw MetaPoolError(.insufficientData, "the CR2 cluster-robust variance needs at least 2 clusters with a positive-definite adjustment; use CR1 or drop --robust",
                                    at: InputLocation(file: effects.locations.firstFile, column: clusters.column))
            }
            self.robust = r
        case .cr1?:
            guard let r = fit.clusterRobust else {
                throw MetaPoolError(.insufficientData, "the cluster-robust variance needs at least 2 clusters",
                                    at: InputLocation(file: effects.locations.firstFile, column: clusters.column))
            }
            self.robust = RobustInference(estimate: r.estimate, standardError: r.standardError,
                                          degreesOfFreedom: Double(r.degreesOfFreedom ?? (fit.clusterCount - 1)), level: r.level)
        case nil:
            self.robust = nil
        }
        // Q about the equal-effects mean, Σwᵢ(yᵢ − ȳ_w)² with wᵢ = 1/vᵢ (Cochran 1954).
        let fixed = WeightedSums(y: effects.yi, v: effects.vi, tau2: 0, center: WeightedSums.plainMean(effects.yi))
        q = max(0, fixed.q)
        qPValue = ChiSquared(degreesOfFreedom: Double(effects.count - 1)).survival(q)
        weights = Self.diagonalWeights(v: effects.vi, clusters: clusters.ids, clusterVariance: fit.clusterVariance,
                                       cohortVariance: fit.cohortVariance)
    }

    /// The diagonal of V⁻¹ in percent of its sum: by Sherman and Morrison, study j of cluster i has
    /// aᵢⱼ − σ²₁aᵢⱼ²/dᵢ with aᵢⱼ = 1/(vᵢⱼ + σ²₂), dᵢ = 1 + σ²₁Σⱼaᵢⱼ (metafor's `weights.rma.mv`, type "diagonal").
    static func diagonalWeights(v: [Double], clusters: [Int], clusterVariance s1: Double, cohortVariance s2: Double) -> [Double] {
        var sums: [Int: Double] = [:]
        for (vi, c) in zip(v, clusters) { sums[c, default: 0] += 1 / (vi + s2) }
        var w = [Double](repeating: 0, count: v.count)
        var total = 0.0
        for i in v.indices {
            let a = 1 / (v[i] + s2)
            w[i] = a - s1 * a * a / (1 + s1 * sums[clusters[i]]!)
            total += w[i]
        }
        for i in w.indices { w[i] = 100 * w[i] / total }
        return w
    }

}

/// A cluster's studies and the pooled estimate of its cohorts (``ThreeLevelFitted/clusterEstimates``).
public struct ClusterEstimate: Sendable {
    public let label: String
    public internal(set) var studies: [Int]
    public internal(set) var estimate: Double, standardError: Double
}

/// What the three-level fits (``ThreeLevelAnalysis``, ``ThreeLevelBinomialAnalysis``) answer beyond
/// ``FittedModel``: both variance components with their intervals, the test against two levels,
/// the clusters, and the cluster-robust test where asked for.
public protocol ThreeLevelFitted: FittedModel {
    /// The cluster column and each study's cluster.
    var clusters: StudyClusters { get }
    /// The fitted variance components, log-likelihoods and I² per level.
    var estimates: any ThreeLevelEstimates { get }
    /// Profile-likelihood intervals of σ²₁ and σ²₂, or why they could not be found.
    var clusterVarianceInterval: Interval? { get }
    var cohortVarianceInterval: Interval? { get }
    var varianceIntervalError: String? { get }
    /// The cluster-robust test of the pooled estimate, when asked for, and its estimator.
    var robust: RobustInference? { get }
    var robustType: ClusterRobustType? { get }
}

/// What every three-level fit estimates (``ThreeLevelFit``, ``ThreeLevelBinomialFit``).
public protocol ThreeLevelEstimates: Sendable {
    /// σ̂²₁ between clusters and σ̂²₂ between cohorts of a cluster, and the number of clusters.
    var clusterVariance: Double { get }
    var cohortVariance: Double { get }
    var clusterCount: Int { get }
    /// I² between clusters and within clusters (Cheung 2014), in percent.
    var iSquaredCluster: Double { get }
    var iSquaredCohort: Double { get }
    /// The (restricted or Laplace) log-likelihood, and the likelihood-ratio test against the two-level model.
    var logLikelihood: Double { get }
    var likelihoodRatio: Double { get }
    var likelihoodRatioPValue: Double { get }
    var twoLevelTauSquared: Double { get }
}

extension ThreeLevelFit: ThreeLevelEstimates {}
extension ThreeLevelBinomialFit: ThreeLevelEstimates {}

extension ThreeLevelFitted {
    public var clusterVariance: Double { estimates.clusterVariance }
    public var cohortVariance: Double { estimates.cohortVariance }
    public var clusterCount: Int { estimates.clusterCount }
    public var iSquaredCluster: Double { estimates.iSquaredCluster }
    public var iSquaredCohort: Double { estimates.iSquaredCohort }
    public var logLikelihood: Double { estimates.logLikelihood }
    public var likelihoodRatio: Double { estimates.likelihoodRatio }
    public var likelihoodRatioPValue: Double { estimates.likelihoodRatioPValue }
    public var twoLevelTauSquared: Double { estimates.twoLevelTauSquared }

    /// The profile-likelihood intervals of both components, or (nil, nil, why) when one cannot be found.
    static func varianceIntervals(_ cluster: () throws(MetaPoolError) -> Interval,
                                  _ cohort: () throws(MetaPoolError) -> Interval) -> (Interval?, Interval?, String?) {
        do {
            return (try cluster(), try cohort(), nil)
        } catch {
            return (nil, nil, error.reason)
        }
    }
}

extension ThreeLevelFitted {
    /// Per cluster, in order of first appearance: its studies (indices into ``effects``) and the
    /// pooled estimate of its cohorts at the fitted cohort variance, weights 1/(vᵢⱼ + σ̂²₂) and
    /// SE 1/√Σⱼ(1/(vᵢⱼ + σ̂²₂)) (the conditional estimate of μ + uᵢ from that cluster alone; the
    /// forest plot's diamond per trial).
    public var clusterEstimates: [ClusterEstimate] {
        let effects = studies.effects
        var position: [Int: Int] = [:]
        var out: [ClusterEstimate] = []
        var sw: [Double] = [], swy: [Double] = []
        for i in 0..<effects.count {
            let c = clusters.ids[i]
            let p: Int
            if let q = position[c] { p = q } else {
                p = out.count
                position[c] = p
                out.append(ClusterEstimate(label: clusters.names[c], studies: [], estimate: 0, standardError: 0))
                sw.append(0)
                swy.append(0)
            }
            let w = 1 / (effects.vi[i] + cohortVariance)
            out[p].studies.append(i)
            sw[p] += w
            swy[p] += w * effects.yi[i]
        }
        for p in out.indices {
            out[p].estimate = swy[p] / sw[p]
            out[p].standardError = (1 / sw[p]).squareRoot()
        }
        return out
    }

}

extension ThreeLevelAnalysis: ThreeLevelFitted {
    public var estimates: any ThreeLevelEstimates { fit }
}

/// The cluster of each study: a column's values, numbered in order of first appearance.
public struct StudyClusters: Sendable, Hashable {
    /// The cluster column's name as the input spells it.
    public let column: String
    /// Each study's cluster, an index into `names`.
    public let ids: [Int]
    /// The clusters' values, as first spelled in the input.
    public let names: [String]

    public init(column: String, ids: [Int], names: [String]) {
        self.column = column
        self.ids = ids
        self.names = names
    }

    /// The clusters of the studies at `indices`, renumbered in order of first appearance.
    func subset(_ indices: [Int]) -> StudyClusters {
        var renumber: [Int: Int] = [:]
        var names: [String] = []
        var ids: [Int] = []
        ids.reserveCapacity(indices.count)
        for i in indices {
            let c = self.ids[i]
            if let n = renumber[c] { ids.append(n) } else {
                renumber[c] = names.count
                ids.append(names.count)
                names.append(self.names[c])
            }
        }
        return StudyClusters(column: column, ids: ids, names: names)
    }
}

extension DataTable {
    /// The cluster of every row from `column`, values compared with spaces trimmed and case ignored.
    /// - Throws: ``MetaPoolError`` `.missingColumn` when there is no such column, `.invalidValue`
    ///   (naming the row) for an empty cell.
    public func clusters(column: String) throws(MetaPoolError) -> StudyClusters {
        guard let index = columnIndex(column) else {
            throw MetaPoolError(.missingColumn, "names column \"\(column)\", which the input does not have (columns: \(columns.joined(separator: ", ")))",
                                at: InputLocation(file: source, column: column), setting: .cluster)
        }
        var names: [String] = []
        var position: [String: Int] = [:]
        var ids: [Int] = []
        ids.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            guard let cell = cell(row: row, column: index)?.trimmingSpaces(), !cell.isEmpty, cell.uppercased() != "NA" else {
                throw MetaPoolError(.invalidValue, "the cluster cell is empty; every row needs a value in the cluster column (the trial its cohort belongs to)",
                                    at: location(row: row, column: columns[index]))
            }
            let key = cell.lowercased()
            if let p = position[key] { ids.append(p) } else {
                position[key] = names.count
                ids.append(names.count)
                names.append(cell)
            }
        }
        return StudyClusters(column: columns[index].trimmingSpaces(), ids: ids, names: names)
    }
}

extension ThreeLevelAnalysis: FittedModel {
    /// The pooled estimate with its model-based test (the robust one is ``robust``).
    public var pooled: EstimateInference { fit.pooled }
    /// "Three-level random-effects model (REML)".
    public var modelName: String { "Three-level random-effects model (\(fit.method.rawValue))" }
    public var measure: EffectMeasure { effects.measure }
    /// Q of the equal-effects model, with τ² the total σ̂²₁ + σ̂²₂, so that I² is the total
    /// 100(σ̂²₁ + σ̂²₂)/(σ̂²₁ + σ̂²₂ + ṽ) (Cheung 2014, eq. 14); the levels' shares are ``ThreeLevelFit/iSquaredCluster`` and `iSquaredCohort`.
    public var heterogeneity: Heterogeneity {
        Heterogeneity(tauSquared: fit.clusterVariance + fit.cohortVariance, typicalVariance: fit.typicalVariance, q: q,
                      count: effects.count, degreesOfFreedom: effects.count - 1, pValue: qPValue)
    }
    public var predictionInterval: Interval? { newStudyPrediction?.interval }
    /// A new cohort of a new cluster: μ̂ ± c·√(SE² + σ̂²₁ + σ̂²₂) (metafor's `predict()` on `rma.mv`).
    public var newStudyPrediction: Prediction? {
        let method = predictionIntervalSetting.method(modelDegreesOfFreedom: pooled.degreesOfFreedom)
        return pooled.prediction(tauSquared: fit.clusterVariance + fit.cohortVariance, studies: effects.count, method: method)
    }
    public var studies: FittedStudies { FittedStudies(effects: effects, weights: weights, rows: nil) }
    public func backTransform(_ x: Double) -> Double {
        effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal)
    }
    public func jsonSummary() throws(MetaPoolError) -> JSONValue { try MetaPoolError.encodedSummary(summary()) }
}

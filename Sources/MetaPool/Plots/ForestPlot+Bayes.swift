// The forest plot of a Bayesian random-effects fit: each study's observed effect with its interval
// and, beside it, its shrinkage estimate (the posterior median of θᵢ with its central credible
// interval); the overall diamond is μ's posterior, the prediction row the posterior predictive
// interval, and the footer names the priors and gives τ's posterior.

extension ForestPlot {
    /// What a Bayesian fit adds to the plot; values on the natural scale unless named otherwise.
    public struct Bayesian: Sendable {
        /// A study's shrinkage estimate on the natural scale.
        public struct Shrinkage: Sendable {
            /// The back-transformed posterior median of θᵢ and its central credible interval.
            public let median: Double, lower: Double, upper: Double
            /// The posterior of θᵢ on the analysis scale, as the model's summary gives it.
            public let posterior: StudyPosterior
        }

        /// One per study, in the order of the overall fit's studies (`nil` for a study of a subgroup
        /// that could not be fitted).
        public let shrinkage: [Shrinkage?]
        /// The priors.
        public let tauPrior: TauPrior, muPrior: EffectPrior
        /// The posteriors of τ, μ and a new study's θ (analysis scale).
        public let tau: PosteriorSummary, mu: PosteriorSummary, prediction: PosteriorSummary
        /// The model's likelihood ("normal-normal").
        public let likelihoodName: String

        /// The `bayes` member of ``ForestPlot/summary()``: `model`, `tau_prior`, `mu_prior`, `tau`
        /// (`median`, `ci_lower`, `ci_upper`, analysis scale) and `shrinkage`, one object per study in
        /// study order (`median`, `ci_lower`, `ci_upper` on the natural scale).
        public var summary: JSONValue {
            func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
            return .object([
                ("model", .string(likelihoodName)), ("tau_prior", .string(tauPrior.notation)), ("mu_prior", .string(muPrior.notation)),
                ("tau", .object([("median", number(tau.median)), ("ci_lower", number(tau.central.lower)), ("ci_upper", number(tau.central.upper))])),
                ("shrinkage", .array(shrinkage.map { s in
                    s.map { .object([("median", number($0.median)), ("ci_lower", number($0.lower)), ("ci_upper", number($0.upper))]) } ?? .null
                })),
            ])
        }

        /// The values the axis must show besides the studies and diamonds.
        var axisValues: [Double] { shrinkage.flatMap { s in s.map { [$0.median, $0.lower, $0.upper] } ?? [] } }
    }

    /// The plot of a Bayesian random-effects fit of `effects` (the studies `posterior` was fitted
    /// to, in the same order): observed effects with their intervals, shrinkage estimates
    /// (posterior medians of θᵢ with `level` central credible intervals; Röver 2020, §2), μ's
    /// posterior median and central interval as the diamond, the central posterior predictive
    /// interval, and τ's posterior with the priors in the footer. No study weights: the model
    /// has no fixed share per study.
    /// - Throws: ``MetaPoolError`` for a level outside (0, 1), `effects` of another size than the
    ///   fit's, or a value that cannot be drawn.
    public init(_ posterior: any BayesianPosterior, effects: EffectSizes, table: DataTable? = nil, level: Double = 0.95) throws(MetaPoolError) {
        guard effects.count == posterior.count else {
            throw MetaPoolError(.invalidArgument, "the Bayesian fit has \(posterior.count) studies but the effect sizes \(effects.count); give the effects the model was fitted to")
        }
        let summary = try posterior.summary(level: level, threshold: 0)
        let fit = BayesianForestFit(effects: effects, summary: summary, name: "Bayesian random-effects model (\(posterior.likelihoodName))")
        try self.init(fit: fit, table: table, blocks: nil, test: nil, commonTauSquared: false)
        let back = fit.backTransform
        let shrinkage = summary.studies.map { p in
            Bayesian.Shrinkage(median: back(p.median), lower: back(p.central.lower), upper: back(p.central.upper), posterior: p)
        }
        try finishBayesian(summary: summary, shrinkage: shrinkage, posterior: posterior, back: back)
    }

    /// The plot of Bayesian subgroups: a block per subgroup whose diamond is its posterior of μ
    /// (median and central interval) and whose studies carry their shrinkage estimates within the
    /// subgroup's model; the overall diamond, predictive interval and footer from the fit of every
    /// row. A subgroup that could not be fitted shows its studies' observed effects only. No test
    /// for subgroup differences.
    public init(_ groups: BayesianSubgroups, table: DataTable? = nil, level: Double = 0.95) throws(MetaPoolError) {
        let effects = groups.overall.effects
        let summary = try groups.overall.posterior.summary(level: level, threshold: 0)
        let fit = BayesianForestFit(effects: effects, summary: summary, name: "Bayesian random-effects model (\(groups.overall.posterior.likelihoodName))")
        let back = fit.backTransform
        // Each study of the overall fit by its input row, for the subgroups' studies.
        var indexOfRow: [Int: Int] = [:]
        for i in effects.locations.indices { if let r = effects.locations.rowNumber(i) { indexOfRow[r] = i } }
        var shrinkage = [Bayesian.Shrinkage?](repeating: nil, count: effects.count)
        var blocks: [Block] = []
        for g in groups.groups {
            guard let own = g.effects else {
                throw MetaPoolError(.invalidArgument, "the subgroup \"\(g.label)\" has no effect sizes, so its studies cannot be placed in the plot")
            }
            guard case .success(let f) = g.outcome else {
                blocks.append(Block(label: g.label, effects: own, estimate: .none))
                continue
            }
            let s = try f.posterior.summary(level: level, threshold: 0)
            for j in 0..<own.count {
                guard let row = own.locations.rowNumber(j), let i = indexOfRow[row] else { continue }
                let p = s.studies[j]
                shrinkage[i] = Bayesian.Shrinkage(median: back(p.median), lower: back(p.central.lower), upper: back(p.central.upper), posterior: p)
            }
            blocks.append(Block(label: g.label, effects: own, estimate: .coefficient(estimate: s.mu.median, interval: s.mu.central,
                                                                                 tauSquared: nil, backTransform: back)))
        }
        try self.init(fit: fit, table: table, blocks: blocks, test: nil, commonTauSquared: false)
        try finishBayesian(summary: summary, shrinkage: shrinkage, posterior: groups.overall.posterior, back: back)
    }

    /// Replaces the overall diamond by μ's posterior, names the predictive interval, keeps the
    /// Bayesian members and chooses the axis again with the shrinkage intervals.
    private mutating func finishBayesian(summary: BayesianMetaAnalysisSummary, shrinkage: [Bayesian.Shrinkage?],
                                         posterior: any BayesianPosterior, back: (Double) -> Double) throws(MetaPoolError) {
        let mu = summary.mu
        overall = Diamond(label: modelName, k: overall.k, estimate: back(mu.median), ciLower: back(mu.central.lower),
                          ciUpper: back(mu.central.upper), weight: nil, tauSquared: nil, iSquared: nil, q: nil,
                          qDegreesOfFreedom: nil, qPValue: nil)
        predictionIntervalMethod = "posterior predictive"
        bayesian = Bayesian(shrinkage: shrinkage, tauPrior: posterior.tauPrior, muPrior: posterior.muPrior, tau: summary.tau, mu: mu,
                            prediction: summary.prediction, likelihoodName: posterior.likelihoodName)
        let values = [overall.estimate, overall.ciLower, overall.ciUpper] + (bayesian?.axisValues ?? [])
        if values.contains(where: { !$0.isFinite || (measure.backTransform == .exponential && $0 == 0) }) {
            throw MetaPoolError(.insufficientData, "a posterior value overflows on the \(measure.naturalScaleName) scale, so the forest plot cannot place it; check the effect values")
        }
        axis = try Self.axis(studies: rows.studies, indices: rows.studyIndices, rows: rows, overall: overall,
                             predictionInterval: predictionInterval, measure: measure, source: axisSource,
                             also: bayesian?.axisValues ?? [])
    }

    /// The footer's lines of a Bayesian plot: τ's posterior, then the priors.
    var bayesianFooter: [String]? {
        guard let b = bayesian else { return nil }
        let percent = level * 100
        let lvl = (percent == percent.rounded() ? String(Int(percent)) : SVG.tick(percent)) + "%"
        let which = rows.layout == nil ? "" : " (all studies)"
        return ["Heterogeneity\(which): τ posterior median \(SVG.fixed(b.tau.median, digits: 4)) [\(lvl) CrI \(SVG.fixed(b.tau.central.lower, digits: 4)), \(SVG.fixed(b.tau.central.upper, digits: 4))]",
                "Priors: τ ~ \(b.tauPrior.notation), μ ~ \(b.muPrior.notation) (\(b.likelihoodName) model, posterior by numerical integration)"]
    }
}

/// The posterior seen as a fitted model, for the parts of the plot and the report that are
/// drawn alike for every model (study rows, labels, input columns, the funnel): the estimate is
/// μ's posterior median with its posterior standard deviation, the prediction interval the
/// central posterior predictive interval. No Q, I² or test: they are not part of the model.
struct BayesianForestFit: FittedModel {
    let effects: EffectSizes
    let summary: BayesianMetaAnalysisSummary
    let name: String

    var modelName: String { name }
    var measure: EffectMeasure { effects.measure }
    var pooled: EstimateInference {
        EstimateInference(estimate: summary.mu.median, standardError: summary.mu.standardDeviation.isFinite
                          ? summary.mu.standardDeviation : (summary.mu.central.upper - summary.mu.central.lower) / 4,
                          level: summary.level, degreesOfFreedom: nil)
    }
    var heterogeneity: Heterogeneity { Heterogeneity(q: 0, count: effects.count) }
    var predictionInterval: Interval? { summary.prediction.central }
    var newStudyPrediction: Prediction? { nil }
    var studies: FittedStudies { FittedStudies(effects: effects, weights: nil) }
    func backTransform(_ x: Double) -> Double { effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal) }
    func jsonSummary() throws(MetaPoolError) -> JSONValue {
        throw MetaPoolError(.invalidArgument, "the Bayesian fit's JSON is written by pool --bayes")
    }
}

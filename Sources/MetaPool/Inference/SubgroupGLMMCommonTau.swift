// `pool --by G --common-tau2 --method GLMM`: the GLMM for proportions with the subgroup as a
// factor, as metafor's rma.glmm(measure = "PLO", mods = ~ factor(g), method = "ML").

/// Subgroups of proportions under one common τ², from the binomial–normal GLMM with the subgroup
/// as a factor (``GeneralizedLinearMixedRegression`` with an intercept and G − 1 level dummies).
/// Each subgroup's estimate is its cell mean cᵀβ̂ (the intercept, or intercept + its contrast),
/// with SE √(cᵀ Cov(β̂) c): the ML fit and the inverse-information covariance are invariant to the
/// reparametrisation, so these are the coefficients of `mods = ~ factor(g) - 1`. The test for
/// subgroup differences is the Wald test QM of the G − 1 contrasts (χ², G − 1 df), as for the
/// inverse-variance models under a common τ² (``SubgroupAnalysis``); each subgroup's prediction
/// interval is cᵀβ̂ ± z·√(SE² + τ̂²) (metafor's `predict()` for rma.glmm).
public struct SubgroupGLMMCommonTau: Sendable {
    /// One level of the grouping column and its cell mean.
    public struct Subgroup: Sendable {
        /// The level, as first written.
        public let label: String
        /// The subgroup's escalc PLO effects (for plots and listings).
        public let effects: EffectSizes
        /// The subgroup's estimate on the logit scale, with SE, z test and CI.
        public let pooled: EstimateInference
        /// The prediction interval on the logit scale.
        public let predictionInterval: Interval
        /// The number of studies.
        public var count: Int { effects.count }
        /// The input rows (1-based).
        public var rows: [Int] { effects.locations.compactMap(\.row) }
    }

    /// The grouping column, as the table names it.
    public let column: String
    /// The subgroups, in order of first appearance (the first is the reference level of the model).
    public let subgroups: [Subgroup]
    /// The GLMM with the subgroup as a factor.
    public let model: GeneralizedLinearMixedRegression
    /// The intercept-only GLMM of every row.
    public let overall: GeneralizedLinearMixedModel
    /// QM, its df G − 1 and p-value.
    public let qBetween: Double
    public let qBetweenDegreesOfFreedom: Int
    public let qBetweenPValue: Double

    /// Fits the factor model and the overall model to events/total.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` for two-group counts, `.missingColumn`,
    ///   `.invalidValue` for an empty subgroup cell,
    ///   `.insufficientData` for one subgroup or no more studies than subgroups, and whatever the
    ///   GLMM throws (e.g. a subgroup whose studies all have 0 events separates the data).
    public init(table: DataTable, by column: String, quadraturePoints: Int = 7, level: Double = 0.95) throws(MetaPoolError) {
        let levels = try SubgroupAnalysis.levels(table: table, column: column)
        self.column = levels.column
        let at = InputLocation(file: table.source, column: levels.column)
        let g = levels.labels.count, k = table.rowCount
        guard g >= 2 else {
            throw MetaPoolError(.insufficientData, "needs at least 2 subgroups; the column has 1 level (\(levels.labels.first ?? ""))", at: at, setting: .commonTauSquared)
        }
        guard k > g else {
            throw MetaPoolError(.insufficientData, "fits one coefficient per subgroup and needs more studies (\(k)) than subgroups (\(g))", at: at, setting: .commonTauSquared)
        }
        // Two-group counts: the odds-ratio GLMM has no factor form here (a choice of model, not bad data).
        if table.columnIndex("events") == nil, table.columnIndex("treat_events") != nil || table.columnIndex("control_events") != nil {
            throw MetaPoolError(.invalidArgument, "with the GLMM fits the subgroup as a factor to proportions (events/total, PLO); two-group counts (the odds-ratio GLMM) are fitted subgroup by subgroup without a common tau^2",
                                at: InputLocation(file: table.source), setting: .commonTauSquared)
        }
        for name in ["events", "total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "with the GLMM fits the subgroup as a factor to proportions (events/total, PLO) and needs the columns `events` and `total`; the column is missing (two-group counts are fitted subgroup by subgroup without a common tau^2)",
                                at: InputLocation(file: table.source, column: name), setting: .commonTauSquared)
        }
        let reader = ColumnReader(table: table)
        let events = try reader.numbers("events"), totals = try reader.numbers("total")
        let labels = reader.labels()
        let locations = StudyLocations(table: table)
        var levelIndex = [Int](repeating: 0, count: k)
        for (index, rows) in levels.rows.enumerated() { for r in rows { levelIndex[r] = index } }
        var design = [Double](repeating: 0, count: k * g)
        for i in 0..<k {
            design[i * g] = 1
            if levelIndex[i] > 0 { design[i * g + levelIndex[i]] = 1 }
        }
        let predictors = ["intrcpt"] + levels.labels.dropFirst().map { levels.column + $0 }
        do {
            model = try GeneralizedLinearMixedRegression(events: events, totals: totals, design: design, predictors: predictors, labels: labels,
                                                         locations: locations, quadraturePoints: quadraturePoints, level: level)
        } catch {
            var e = error
            e.reason = "the GLMM with the subgroup as a factor: \(e.reason)"
            if e.location.file == nil { e.location.file = table.source }
            throw e
        }
        overall = try GeneralizedLinearMixedModel(events: events, totals: totals, labels: labels, locations: locations,
                                                  quadraturePoints: quadraturePoints, level: level)
        let cov = model.covariance
        var groups: [Subgroup] = []
        for (index, rows) in levels.rows.enumerated() {
            var estimate = model.coefficients[0].estimate, variance = cov[0]
            if index > 0 {
                estimate += model.coefficients[index].estimate
                variance += cov[index * g + index] + 2 * cov[index]
            }
            let pooled = EstimateInference(estimate: estimate, standardError: variance.squareRoot(), level: level, degreesOfFreedom: nil)
            let effects = try EffectSizes.proportions(events: rows.map { events[$0] }, totals: rows.map { totals[$0] }, measure: .logitProportion,
                                                      labels: rows.map { labels[$0] }, locations: locations.subset(rows))
            groups.append(Subgroup(label: levels.labels[index], effects: effects, pooled: pooled,
                                   predictionInterval: pooled.predictionInterval(tauSquared: model.tauSquared)))
        }
        subgroups = groups
        guard let test = model.moderatorTest else {
            throw MetaPoolError(.insufficientData, "needs at least 2 subgroups", at: at, setting: .commonTauSquared)
        }
        qBetween = test.statistic
        qBetweenDegreesOfFreedom = test.degreesOfFreedom
        qBetweenPValue = test.pValue
    }

    /// The JSON object `pool --by --common-tau2 --method GLMM` prints, in the shape of the
    /// inverse-variance common-τ² subgroups (``SubgroupAnalysis/summary()``), with the GLMM's
    /// two tests for residual heterogeneity in `common_tau2`.
    public func summary() throws(MetaPoolError) -> JSONValue {
        func back(_ x: Double) -> Double { BackTransform.inverseLogit.apply(x) }
        let groups: [JSONValue] = subgroups.map { s in
            let e = s.pooled, pi = s.predictionInterval
            return .object([
                ("subgroup", .string(s.label)), ("model", .string("common tau^2 (GLMM)")), ("k", .integer(s.count)),
                ("estimate", .number(e.estimate)), ("se", .number(e.standardError)),
                ("ci_lower", .number(e.confidenceInterval.lower)), ("ci_upper", .number(e.confidenceInterval.upper)),
                ("statistic", .number(e.statistic)), ("p_value", .number(e.pValue)),
                ("pi_lower", .number(pi.lower)), ("pi_upper", .number(pi.upper)), ("tau2", .number(model.tauSquared)),
                ("back_transformed", .backTransformed([
                    ("estimate", back(e.estimate)), ("ci_lower", back(e.confidenceInterval.lower)), ("ci_upper", back(e.confidenceInterval.upper)),
                    ("pi_lower", back(pi.lower)), ("pi_upper", back(pi.upper)),
                ])),
            ])
        }
        let test: JSONValue = .object([
            ("test", .string("QM")), ("q", .number(qBetween)), ("df", .integer(qBetweenDegreesOfFreedom)), ("df2", .null),
            ("distribution", .string("chi2")), ("p_value", .number(qBetweenPValue)),
        ])
        let common: JSONValue = .object([
            ("tau2", .number(model.tauSquared)), ("tau", .number(model.tau)), ("i2", .number(model.iSquared)), ("h2", .number(model.hSquared)),
            ("qe_df", .integer(model.waldTest.degreesOfFreedom)),
            ("qe_wald", .number(model.waldTest.statistic)), ("qe_wald_p_value", .number(model.waldTest.pValue)),
            ("qe_lrt", .number(model.likelihoodRatioTest.statistic)), ("qe_lrt_p_value", .number(model.likelihoodRatioTest.pValue)),
            ("quadrature_points", .integer(model.quadraturePoints)), ("log_likelihood", .number(model.logLikelihood)),
        ])
        return .object([
            ("by", .string(column)),
            ("measure", .string(EffectMeasure.logitProportion.rawValue)),
            ("method", .string("GLMM")),
            ("ci_method", .string(ConfidenceIntervalMethod.wald.rawValue)),
            ("level", .number(model.level)),
            ("subgroups", .array(groups)),
            ("overall", try overall.jsonSummary()),
            ("test_subgroup_differences", test),
            ("common_tau2", common),
        ])
    }
}

extension ForestPlot {
    /// The plot of subgroups under a common τ² from the GLMM with the subgroup as a factor.
    public init(_ groups: SubgroupGLMMCommonTau, table: DataTable? = nil) throws(MetaPoolError) {
        let tau2 = groups.model.tauSquared
        let blocks = groups.subgroups.map {
            Block(label: $0.label, effects: $0.effects,
                  estimate: .coefficient(estimate: $0.pooled.estimate, interval: $0.pooled.confidenceInterval, tauSquared: tau2,
                                         backTransform: { BackTransform.inverseLogit.apply($0) }))
        }
        let test = SubgroupTest(name: "QM", statistic: groups.qBetween, degreesOfFreedom: groups.qBetweenDegreesOfFreedom,
                                denominatorDegreesOfFreedom: nil, pValue: groups.qBetweenPValue)
        try self.init(fit: groups.overall, table: table, blocks: blocks, test: test, commonTauSquared: true)
    }
}

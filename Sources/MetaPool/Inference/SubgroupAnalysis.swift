// Subgroup analysis (`--by COLUMN`): one model per subgroup and a test for subgroup differences.

/// Separate meta-analyses of the levels of one column, with the test for subgroup differences.
///
/// Each subgroup gets its own model and its own τ² (the default of R's meta, `subgroup =`).
/// The test for subgroup differences pools the G subgroup estimates θ̂_g with their standard
/// errors as fitted in a fixed-effect model: Q_between = Σ w_g (θ̂_g − θ̄)², w_g = 1/SE_g²,
/// θ̄ = Σ w_g θ̂_g / Σ w_g, referred to χ² with G − 1 df (Borenstein et al. 2009, ch. 19,
/// eq. 19.7; Schwarzer et al. 2015, §2.4.2). A subgroup of one study is reported as that study
/// (fixed effect, Wald), since no τ² or t interval exists for k = 1.
///
/// With `commonTauSquared`, one τ² is estimated from the mixed-effects model with the subgroup
/// as a factor (metafor's `rma(yi, vi, mods = ~ factor(g))`, any estimator), each subgroup's
/// estimate is its coefficient in the cell-means form of that model (`mods = ~ factor(g) - 1`,
/// weights 1/(vᵢ + τ̂²)), and the test for subgroup differences is the omnibus test QM of the
/// G − 1 contrasts (χ², or F on (G − 1, k − G) df for the t-based methods).
public struct SubgroupAnalysis: Sendable {
    /// One level of the grouping column and its estimate.
    public struct Subgroup: Sendable {
        /// The level, as first written in the input (levels differing only in case or
        /// surrounding spaces are one level).
        public let label: String
        /// The subgroup's effect sizes.
        public let effects: EffectSizes
        /// The subgroup's own model (separate τ²); `nil` under a common τ².
        public let analysis: MetaAnalysis?
        /// The subgroup's pooled estimate on the analysis scale (its coefficient under a common τ²).
        public let estimate: Double
        /// Its standard error.
        public let standardError: Double
        /// Its confidence interval on the analysis scale.
        public let confidenceInterval: Interval
        /// z or t statistic and its two-sided p-value.
        public let statistic: Double
        /// The two-sided p-value of `statistic`.
        public let pValue: Double
        /// The subgroup's τ̂² (separate), the common τ̂², or `nil` for a fixed-effect model.
        public let tauSquared: Double?
        /// I² of the subgroup's own model; `nil` under a common τ² or fixed effect.
        public let iSquared: Double?
        /// The prediction interval on the analysis scale, or `nil` for a fixed-effect model.
        public let predictionInterval: Interval?
        /// The prediction behind it (its method and df), or `nil` for a fixed-effect model.
        public let prediction: Prediction?

        /// The number of studies.
        public var count: Int { effects.count }

        /// The input rows of the subgroup (1-based row numbers, as errors name them), in study order.
        public var rows: [Int] { effects.locations.compactMap(\.row) }

        /// The subgroup's own fit, as any model (`nil` under a common τ²).
        public var fit: (any FittedModel)? { analysis }

        /// Whether the subgroup is reported as its one study (fixed effect, Wald interval) while
        /// the others are fitted with the chosen model: no τ² or t interval exists for k = 1.
        public var isSingleStudy: Bool { analysis != nil && effects.count == 1 }

        /// The model the subgroup's estimate comes from, as the JSON's `model` names it:
        /// `single study`, `random-effects (REML)` (any estimator), `common-effect (FE)`, or under a
        /// common τ² `common tau^2 (REML)` (`common-effect (FE)` for FE).
        public var modelDescription: String {
            if isSingleStudy { return "single study" }
            if let analysis {
                return analysis.isRandomEffects ? "random-effects (\(analysis.method.rawValue))" : "common-effect (FE)"
            }
            return tauSquared == nil ? "common-effect (FE)" : "common tau^2 (\(commonMethod ?? ""))"
        }

        /// The estimator of the common τ² (common-τ² subgroups only).
        let commonMethod: String?

        /// Maps a value on the analysis scale to the natural scale, with this subgroup's totals (PFT).
        public func backTransform(_ x: Double) -> Double {
            effects.measure.backTransform.apply(x, harmonicMeanTotal: effects.harmonicMeanTotal)
        }

        init(label: String, analysis a: MetaAnalysis) {
            self.label = label
            effects = a.effects
            analysis = a
            estimate = a.estimate
            standardError = a.standardError
            confidenceInterval = a.confidenceInterval
            statistic = a.statistic
            pValue = a.pValue
            tauSquared = a.tauSquared
            iSquared = a.iSquared
            predictionInterval = a.predictionInterval
            prediction = a.newStudyPrediction
            commonMethod = nil
        }

        init(label: String, effects: EffectSizes, coefficient j: Int, of fit: MetaRegression,
             predictionInterval setting: PredictionIntervalSetting = .metafor) {
            self.label = label
            self.effects = effects
            analysis = nil
            estimate = fit.coefficients[j]
            standardError = fit.standardErrors[j]
            confidenceInterval = fit.confidenceIntervals[j]
            statistic = fit.statistics[j]
            pValue = fit.pValues[j]
            tauSquared = fit.tauSquared
            iSquared = nil
            // β̂ⱼ ± c·√(SEⱼ² + τ̂²), c on the normal or t on k − p (− 1 for riley) df, as metafor's
            // predict(pi.type = ...) for the cell-means model.
            if let tau2 = fit.tauSquared, let test = fit.coefficient(j) {
                prediction = test.prediction(tauSquared: tau2, studies: fit.count, coefficients: fit.coefficients.count,
                                             method: setting.method(modelDegreesOfFreedom: test.degreesOfFreedom))
            } else {
                prediction = nil
            }
            predictionInterval = prediction?.interval
            commonMethod = fit.method.rawValue
        }
    }

    /// The name of the test for subgroup differences: Q (separate τ²), QM (χ², common τ²) or F.
    public var testName: String {
        commonModel == nil ? "Q" : (qBetweenDenominatorDegreesOfFreedom == nil ? "QM" : "F")
    }

    /// The grouping column.
    public let column: String
    /// The subgroups, in order of first appearance.
    public let subgroups: [Subgroup]
    /// The model of all rows together.
    public let overall: MetaAnalysis
    /// The test for subgroup differences: Q_between (separate τ²) or QM (common τ²; an F
    /// statistic when `qBetweenDenominatorDegreesOfFreedom` is set), its df G − 1 and p-value.
    public let qBetween: Double
    /// Its degrees of freedom, G − 1 (the numerator df of an F test).
    public let qBetweenDegreesOfFreedom: Int
    /// The denominator df k − G of the F test, or `nil` for a χ² test.
    public let qBetweenDenominatorDegreesOfFreedom: Int?
    /// The p-value of the test (NaN for a single subgroup under separate τ²).
    public let qBetweenPValue: Double
    /// The mixed-effects model with the subgroup as a factor (intercept and G − 1 contrasts),
    /// when one τ² is common to all subgroups; `nil` otherwise.
    public let commonModel: MetaRegression?

    /// Fits every subgroup and the overall model, with the prediction interval `setting` asks for
    /// (`nil`: the measure's default, ``PredictionIntervalSetting/default(for:)``).
    /// - Throws: ``MetaPoolError``: `.missingColumn` when the table lacks `column`, `.invalidValue`
    ///   for a row with no value in it, and whatever effect sizes or a model throw.
    public init(table: DataTable, by column: String, measure: EffectMeasure? = nil,
                method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95,
                commonTauSquared: Bool = false, effectSizeOptions: EffectSizeOptions = EffectSizeOptions(),
                predictionInterval setting: PredictionIntervalSetting? = .metafor) throws(MetaPoolError) {
        // Rows left out by the effect-size options go before the levels are found.
        let table = try table.excludingStudies(measure: measure, options: effectSizeOptions).table
        let levels = try Self.levels(table: table, column: column)
        guard let index = table.columnIndex(column) else {
            throw MetaPoolError(.missingColumn, "no column \"\(column)\"", at: InputLocation(file: table.source, column: column))
        }
        // Effect sizes of every row first, so a bad row is reported whatever its subgroup.
        let allEffects = try EffectSizes(table: table, measure: measure, options: effectSizeOptions)
        let labels = levels.labels
        let keys = labels.map { $0.lowercased() }
        self.column = levels.column
        // The prediction interval asked for, or (nil) the measure's default.
        let predictionInterval = setting ?? .default(for: allEffects.measure)
        var overall = try MetaAnalysis(allEffects, method: method, ciMethod: ciMethod, level: level)
        overall.predictionIntervalSetting = predictionInterval
        self.overall = overall
        // Each subgroup's effects are the overall effects of its rows: no second reading, no
        // matching of strings.
        let groupEffects = try levels.rows.map { rows throws(MetaPoolError) in try allEffects.subset(rows) }
        if commonTauSquared {
            let model: MetaRegression
            (subgroups, model) = try Self.commonFit(allEffects, table: table, column: index, keys: keys, labels: labels,
                                                    groupEffects: groupEffects, method: method, ciMethod: ciMethod, level: level,
                                                    predictionInterval: predictionInterval)
            commonModel = model
            guard let test = model.moderatorTest else {
                throw MetaPoolError(.insufficientData, "needs at least 2 subgroups", at: InputLocation(file: table.source, column: column), setting: .commonTauSquared)
            }
            // As for separate τ²: extreme but valid effects can overflow the mixed-effects fit (fuzzing).
            var numbers: [Double] = [test.statistic, test.pValue, model.tauSquared ?? 0, model.iSquared ?? 0, model.residualQ, model.residualQPValue]
            for g in subgroups {
                numbers += [g.estimate, g.standardError, g.confidenceInterval.lower, g.confidenceInterval.upper, g.tauSquared ?? 0, g.iSquared ?? 0]
            }
            guard numbers.allSatisfy(\.isFinite) else {
                throw MetaPoolError(.insufficientData, "the subgroup estimates are too extreme to compare in double precision (the common-tau^2 model overflows); check the effect sizes or rescale them",
                                    at: InputLocation(file: table.source, column: self.column))
            }
            qBetween = test.statistic
            qBetweenDegreesOfFreedom = test.degreesOfFreedom
            qBetweenDenominatorDegreesOfFreedom = test.denominatorDegreesOfFreedom
            qBetweenPValue = test.pValue
            return
        }
        var subgroups: [Subgroup] = []
        for (label, effects) in zip(labels, groupEffects) {
            let single = effects.count == 1
            var analysis = try MetaAnalysis(effects, method: single ? .fixedEffect : method,
                                            ciMethod: single ? .wald : ciMethod, level: level)
            analysis.predictionIntervalSetting = predictionInterval
            subgroups.append(Subgroup(label: label, analysis: analysis))
        }
        self.subgroups = subgroups
        commonModel = nil
        var sumW = 0.0, sumWY = 0.0
        for s in subgroups {
            let w = 1 / (s.standardError * s.standardError)
            sumW += w
            sumWY += w * s.estimate
        }
        let mean = sumWY / sumW
        var q = 0.0
        for s in subgroups {
            let d = s.estimate - mean
            q += d * d / (s.standardError * s.standardError)
        }
        // Finite subgroup estimates can still overflow Q_between (estimates near 1e260 with SEs near
        // 1e128, found by fuzzing): no test rather than Q = inf.
        guard q.isFinite else {
            throw MetaPoolError(.insufficientData, "the subgroup estimates are too extreme to compare in double precision (the test for subgroup differences overflows); check the effect sizes or rescale them",
                                at: InputLocation(file: table.source, column: self.column))
        }
        let df = subgroups.count - 1
        qBetween = q
        qBetweenDegreesOfFreedom = df
        qBetweenDenominatorDegreesOfFreedom = nil
        qBetweenPValue = df > 0 ? ChiSquared(degreesOfFreedom: Double(df)).survival(q) : .nan
    }

    /// The common-τ² fit: the factor model for τ² and QM, its cell-means form for the estimates.
    private static func commonFit(_ all: EffectSizes, table: DataTable, column index: Int, keys: [String], labels: [String],
                                  groupEffects: [EffectSizes], method: TauSquaredMethod, ciMethod: ConfidenceIntervalMethod,
                                  level: Double, predictionInterval: PredictionIntervalSetting) throws(MetaPoolError) -> ([Subgroup], MetaRegression) {
        let k = all.count, g = keys.count
        let at = InputLocation(file: table.source, column: table.columns[index])
        guard g >= 2 else {
            throw MetaPoolError(.insufficientData, "needs at least 2 subgroups; the column has 1 level (\(labels[0]))", at: at, setting: .commonTauSquared)
        }
        guard k > g else {
            throw MetaPoolError(.insufficientData, "fits one coefficient per subgroup and needs more studies (\(k)) than subgroups (\(g))", at: at, setting: .commonTauSquared)
        }
        // Rows map to their level: the order of `all` is the table's row order.
        var group = [Int](repeating: 0, count: k)
        for row in 0..<k {
            let key = (table.cell(row: row, column: index) ?? "").trimmingSpaces().lowercased()
            group[row] = keys.firstIndex(of: key) ?? 0
        }
        var factorDesign = [Double](repeating: 0, count: k * g)
        var cellMeans = [Double](repeating: 0, count: k * g)
        for row in 0..<k {
            factorDesign[row * g] = 1
            if group[row] > 0 { factorDesign[row * g + group[row]] = 1 }
            cellMeans[row * g + group[row]] = 1
        }
        func located(_ body: () throws(MetaPoolError) -> MetaRegression) throws(MetaPoolError) -> MetaRegression {
            do { return try body() } catch {
                var e = error
                if e.location.file == nil { e.location = at }
                throw e
            }
        }
        let names = labels.map { "\(table.columns[index])=\($0)" }
        let model = try located { () throws(MetaPoolError) in
            try MetaRegression(y: all.yi, v: all.vi, design: factorDesign, predictors: ["intrcpt"] + names.dropFirst(),
                               method: method, ciMethod: ciMethod, level: level)
        }
        let means = try located { () throws(MetaPoolError) in
            try MetaRegression(y: all.yi, v: all.vi, design: cellMeans, predictors: names, testing: [],
                               method: method, ciMethod: ciMethod, level: level, tauSquared: model.tauSquaredEstimate)
        }
        let subgroups = labels.indices.map { Subgroup(label: labels[$0], effects: groupEffects[$0], coefficient: $0, of: means,
                                                              predictionInterval: predictionInterval) }
        return (subgroups, model)
    }

    /// The JSON object `pool --by` prints: the options, every subgroup's summary (with its
    /// `subgroup` label first), the overall summary and the test for subgroup differences.
    public func summary() throws(MetaPoolError) -> JSONValue {
        func encode(_ fit: MetaAnalysis) throws(MetaPoolError) -> [(String, JSONValue)] {
            let summary = try fit.summary()
            guard let value = try? OrderedJSONEncoder.encode(summary), case .object(let members) = value else {
                throw MetaPoolError(.invalidArgument, "could not encode the summary")
            }
            return members
        }
        func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        var groups: [JSONValue] = []
        for s in subgroups {
            if let analysis = s.analysis {
                groups.append(.object([("subgroup", .string(s.label)), ("model", .string(s.modelDescription))] + (try encode(analysis))))
                continue
            }
            // Common τ²: the subgroup's coefficient in the cell-means model.
            var members: [(String, JSONValue)] = [
                ("subgroup", .string(s.label)), ("model", .string(s.modelDescription)), ("k", .integer(s.count)),
                ("estimate", .number(s.estimate)), ("se", .number(s.standardError)),
                ("ci_lower", .number(s.confidenceInterval.lower)), ("ci_upper", .number(s.confidenceInterval.upper)),
                ("statistic", .number(s.statistic)), ("p_value", .number(s.pValue)),
            ]
            if let df = commonModel?.degreesOfFreedom { members.append(("df", .integer(df))) }
            if let pi = s.prediction {
                members += [("pi_lower", .number(pi.interval.lower)), ("pi_upper", .number(pi.interval.upper)),
                            ("pi_method", .string(pi.method.rawValue))]
                if let df = pi.degreesOfFreedom { members.append(("pi_df", .integer(df))) }
            }
            if let tau2 = s.tauSquared { members.append(("tau2", .number(tau2))) }
            var back: [(String, Double)] = [
                ("estimate", s.backTransform(s.estimate)),
                ("ci_lower", s.backTransform(s.confidenceInterval.lower)),
                ("ci_upper", s.backTransform(s.confidenceInterval.upper)),
            ]
            if let pi = s.predictionInterval {
                back += [("pi_lower", s.backTransform(pi.lower)), ("pi_upper", s.backTransform(pi.upper))]
            }
            members.append(("back_transformed", .backTransformed(back)))
            groups.append(.object(members))
        }
        var testMembers: [(String, JSONValue)] = [
            ("test", .string(commonModel == nil ? "Q_between" : "QM")),
            ("q", .number(qBetween)),
            ("df", .integer(qBetweenDegreesOfFreedom)),
        ]
        if commonModel != nil {
            testMembers.append(("df2", qBetweenDenominatorDegreesOfFreedom.map { .integer($0) } ?? .null))
            testMembers.append(("distribution", .string(qBetweenDenominatorDegreesOfFreedom == nil ? "chi2" : "F")))
        }
        testMembers.append(("p_value", qBetweenPValue.isNaN ? .null : .number(qBetweenPValue)))
        let test: JSONValue = .object(testMembers)
        var common: [(String, JSONValue)] = []
        if let m = commonModel {
            var model: [(String, JSONValue)] = []
            if let tau2 = m.tauSquared { model.append(("tau2", .number(tau2))); model.append(("tau", .number(tau2.squareRoot()))) }
            if let i2 = m.iSquared { model.append(("i2", .number(i2))) }
            if let h2 = m.hSquared { model.append(("h2", .number(h2))) }
            model += [("qe", .number(m.residualQ)), ("qe_df", .integer(m.residualQDegreesOfFreedom)),
                      ("qe_p_value", .number(m.residualQPValue))]
            common = [("common_tau2", .object(model))]
        }
        return .object([
            ("by", .string(column)),
            ("measure", .string(overall.effects.measure.rawValue)),
            ("method", .string(overall.method.rawValue)),
            ("ci_method", .string(overall.ciMethod.rawValue)),
            ("level", .number(overall.level)),
            ("subgroups", .array(groups)),
            ("overall", .object(try encode(overall))),
            ("test_subgroup_differences", test),
        ] + common)
    }
}

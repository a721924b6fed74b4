// The analysis `pool --format json` records and `check` re-runs: input (path, SHA-256) and options.

import MetaPool

/// Everything needed to repeat an analysis: where the data came from and every option.
struct RecordedAnalysis {
    var file: String
    var measure: EffectMeasure?
    var pooling: PoolingMethod
    var ciMethod: ConfidenceIntervalMethod
    var level: Double
    var conditions: [RowCondition]
    var by: String?
    var commonTauSquared = false
    var quadraturePoints = 7
    /// Pool rows whose endpoint, outcome or measure column differs (`--allow-mixed-endpoints`).
    var allowMixedEndpoints = false
    /// `--hr-level`, `--add`, `--to`, `--drop00`, `--drop-missing`; recorded only where not the defaults.
    var effectSizeOptions = EffectSizeOptions()
    /// `--delimiter`, when given.
    var delimiter: CSVDelimiter? = nil
    /// `--label`, when given.
    var label: String? = nil
    /// `--study-ci`, when given (recorded as `study_ci`).
    var studyInterval: StudyIntervalMethod? = nil
    /// `--pi`, when given (nil: the measure's default).
    var predictionInterval: PredictionIntervalSetting? = nil
    /// `--threshold`, when given.
    var threshold: Double? = nil
    /// `--cluster` and the `--robust` estimator, when given.
    var cluster: String? = nil
    var robust: ClusterRobustType? = nil
    /// `--bayes` with its priors (`nil` for τ: the measure's default, resolved and recorded by the run).
    var bayes: BayesChoice? = nil

    /// The lowercase hex SHA-256 of the input bytes (FIPS 180-4, the library's ``SHA256``).
    static func sha256(_ bytes: [UInt8]) -> String { SHA256.hexDigest(bytes) }

    /// Runs the analysis on `bytes` and returns the JSON `pool --format json` prints, with
    /// `metapool_version`, `input` and `options` appended so that `check` can repeat it.
    func run(bytes: [UInt8], noting note: (_ column: String, _ values: [(value: String, count: Int)]) -> Void = { _, _ in },
             notingExcluded noteExcluded: ([ExcludedRow]) -> Void = { _ in },
             notingInput inputNote: (String) -> Void = { _ in },
             warningInapplicable warnInapplicable: (String) -> Void = { _ in }) throws(MetaPoolError) -> JSONValue {
        try document(bytes: bytes, noting: note, notingExcluded: noteExcluded, notingInput: inputNote,
                     warningInapplicable: warnInapplicable).tree
    }

    /// ``run(bytes:noting:notingExcluded:notingInput:warningInapplicable:)``'s JSON as a document
    /// whose per-study arrays (`studies` of one fit, the forest's `rows`) are made entry by entry
    /// as they are written: `pool --format json` on 10⁶ studies holds no tree of them.
    func document(bytes: [UInt8], noting note: (_ column: String, _ values: [(value: String, count: Int)]) -> Void = { _, _ in },
                  notingExcluded noteExcluded: ([ExcludedRow]) -> Void = { _ in },
                  notingInput inputNote: (String) -> Void = { _ in },
                  warningInapplicable warnInapplicable: (String) -> Void = { _ in }) throws(MetaPoolError) -> JSONDocument {
        let selected = try ModelOptions.read(bytes: bytes, file: file, delimiter: delimiter, label: label, conditions: conditions,
                                             noting: inputNote)
        // The mixed-endpoint guard, as for the table output (ModelOptions.checkOutcomes).
        let exempt = conditions.map(\.column) + (by.map { [$0] } ?? [])
        if !allowMixedEndpoints { try selected.requireSingleOutcome(exempting: exempt) }
        let mixed = allowMixedEndpoints ? selected.mixedOutcomes(exempting: exempt) : []
        for (column, values) in mixed { note(column, values) }
        // --drop-missing and --drop00: the rows left out, listed as `excluded` (absent without those options).
        let (table, excluded) = try selected.excludingStudies(measure: measure, options: effectSizeOptions)
        noteExcluded(excluded)
        if let bayes { return try bayesDocument(table, priors: bayes, bytes: bytes) }
        var pooling = self.pooling
        if case .glmm = pooling { pooling = .glmm(quadraturePoints: quadraturePoints) }
        var specification = AnalysisSpecification(pooling: pooling, measure: measure, ciMethod: ciMethod, level: level)
        specification.effectSizeOptions = effectSizeOptions
        specification.predictionInterval = predictionInterval
        (specification.cluster, specification.robust) = (cluster, robust)
        var summary: JSONValue
        var forest: ForestPlot
        /// The inverse-variance fit whose `studies` are written entry by entry (``studyEntry(_:of:)``).
        var streamed: MetaAnalysis?
        if let by, commonTauSquared, case .glmm(let points) = pooling {
            let groups = try SubgroupGLMMCommonTau(table: table, by: by, quadraturePoints: points, level: level)
            summary = try groups.summary()
            forest = try ForestPlot(groups, table: table)
        } else if let by, pooling.isCountBased || cluster != nil {
            let groups = try SubgroupFits(table: table, by: by, specification: specification)
            summary = try groups.summary()
            forest = try ForestPlot(groups, table: table)
        } else if let by, case .inverseVariance(let method) = pooling {
            let analysis = try SubgroupAnalysis(table: table, by: by, measure: measure, method: method,
                                                ciMethod: ciMethod, level: level, commonTauSquared: commonTauSquared,
                                                effectSizeOptions: effectSizeOptions, predictionInterval: predictionInterval)
            summary = try analysis.summary()
            forest = try ForestPlot(analysis, table: table)
        } else {
            // One fit: the summary and the plot data both come from it.
            let fit = try specification.fit(table)
            if let analysis = fit as? MetaAnalysis {
                // The summary without its studies; they are written from the fit (studyEntry).
                var pool = try analysis.summary()
                pool.studies = []
                do { summary = try OrderedJSONEncoder.encode(pool) } catch {
                    throw MetaPoolError(.invalidArgument, "could not encode the summary: \(error)")
                }
                streamed = analysis
            } else {
                summary = try fit.jsonSummary()
            }
            forest = try ForestPlot(fit, table: table)
            if let threshold, case .object(let members) = summary {
                summary = .object(members + (try ThresholdProbabilities(fit, threshold: threshold)).jsonMembers)
            }
        }
        // --study-ci: the study intervals shown (Clopper-Pearson for proportions by default).
        if let method = studyInterval {
            if method.applies(to: forest.measure) {
                forest = try forest.withStudyIntervals(method)
            } else if let warning = StudyIntervalArguments.inapplicable(method, measure: forest.measure, explicit: measure != nil) {
                warnInapplicable(warning)
            }
        }
        guard case .object(var members) = summary else { return JSONDocument(summary) }
        members = Self.addingStudyIntervals(members, forest: forest)
        // Everything needed to draw the forest plot, for users who draw it their own way.
        // What --allow-mixed-endpoints let through, named in the output (absent when nothing was mixed).
        let mixedMember: [(String, JSONValue)] = mixed.isEmpty ? [] : [("mixed_outcomes", .array(mixed.map { column, values in
            .object([("column", .string(column)),
                     ("values", .array(values.map { .object([("value", .string($0.value)), ("rows", .integer($0.count))]) }))])
        }))]
        let excludedMember: [(String, JSONValue)] = effectSizeOptions.dropMissing || effectSizeOptions.continuityCorrection.dropDoubleZero
            ? [("excluded", .array(excluded.map(\.json)))] : []
        // The column the study labels came from (null: none, the studies are numbered).
        let labelMember: [(String, JSONValue)] = [("label_column", selected.labelColumn.map { .string($0) } ?? .null)]
        var documentMembers: [(String, JSONDocument.Member)] = members.map { ($0.0, .value($0.1)) }
        if let analysis = streamed, let i = documentMembers.firstIndex(where: { $0.0 == "studies" }) {
            // With the shown interval of each study, as addingStudyIntervals adds it to a whole array.
            let plotted = forest.rows.indices.filter { if case .study = forest.rows[$0] { true } else { false } }
            let withIntervals = forest.subgroupTest == nil && plotted.count == analysis.count
            let intervals = analysis.studyConfidenceIntervals
            documentMembers[i].1 = .entries(count: analysis.count, entry: { [forest] k in
                var entry = Self.studyEntry(k, of: analysis, intervals: intervals)
                if withIntervals, case .study(let s) = forest.rows[plotted[k]], case .object(let fields) = entry {
                    entry = .object(fields + forest.studyIntervalMembers(s))
                }
                return entry
            }, write: { [forest] k, depth, out in
                // The same members, written without a JSONValue of the entry (StreamedOutputTests).
                func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
                let e = analysis.effects
                var object = JSONDocument.ObjectWriter(depth: depth)
                object.member("study", .string(e.labels[k]), into: &out)
                object.member("yi", number(e.yi[k]), into: &out)
                object.member("vi", number(e.vi[k]), into: &out)
                object.member("ci_lower", number(intervals[k].lower), into: &out)
                object.member("ci_upper", number(intervals[k].upper), into: &out)
                object.member("weight", number(analysis.weights[k]), into: &out)
                if withIntervals, case .study(let s) = forest.rows[plotted[k]] {
                    Self.studyIntervalMembers(s, into: &object, out: &out)
                }
                object.end(into: &out)
            })
        }
        // The forest's rows, entry by entry, in the place summary() puts them.
        let forestMembers: [(String, JSONDocument.Member)] = forest.summaryMembers(rows: .array([])).map { key, value in
            guard key == "rows" else { return (key, .value(value)) }
            return (key, .entries(count: forest.rows.count, entry: { [forest] in forest.rowSummary(forest.rows[$0]) },
                                  write: { [forest] k, depth, out in
                guard case .study(let s) = forest.rows[k] else {
                    forest.rowSummary(forest.rows[k]).serialize(into: &out, indent: JSONDocument.indent, depth: depth)
                    return
                }
                // ForestPlot.rowSummary of a study, written without a JSONValue of it (StreamedOutputTests).
                func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
                var object = JSONDocument.ObjectWriter(depth: depth)
                object.member("type", .string("study"), into: &out)
                object.member("label", .string(s.label), into: &out)
                object.member("inputs", .object(s.inputs.map { ($0.0, .string($0.1)) }), into: &out)
                object.member("estimate", number(s.estimate), into: &out)
                object.member("ci_lower", number(s.ciLower), into: &out)
                object.member("ci_upper", number(s.ciUpper), into: &out)
                object.member("weight", number(s.weight), into: &out)
                object.member("yi", number(s.yi), into: &out)
                object.member("vi", number(s.vi), into: &out)
                Self.studyIntervalMembers(s, into: &object, out: &out)
                object.end(into: &out)
            }))
        }
        let rest = mixedMember + excludedMember + labelMember
        return JSONDocument(documentMembers + rest.map { ($0.0, .value($0.1)) } + [("forest", .object(forestMembers))]
                            + recorded(bytes).map { ($0.0, .value($0.1)) })
    }

    /// ForestPlot.studyIntervalMembers, written member by member.
    static func studyIntervalMembers(_ s: ForestPlot.Study, into object: inout JSONDocument.ObjectWriter, out: inout [UInt8]) {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        object.member("study_ci_lower", number(s.shownLower), into: &out)
        object.member("study_ci_upper", number(s.shownUpper), into: &out)
        object.member("study_ci", .string((s.interval?.source ?? .analysisScale).code), into: &out)
    }

    /// Study `i` of `analysis` as the `studies` of its ``PoolSummary`` encode it (PoolSummary.Study:
    /// study, yi, vi, ci_lower, ci_upper, weight; a non-finite number as null).
    static func studyEntry(_ i: Int, of analysis: MetaAnalysis, intervals: [Interval]) -> JSONValue {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        let e = analysis.effects
        return .object([("study", .string(e.labels[i])), ("yi", number(e.yi[i])), ("vi", number(e.vi[i])),
                        ("ci_lower", number(intervals[i].lower)), ("ci_upper", number(intervals[i].upper)),
                        ("weight", number(analysis.weights[i]))])
    }

    /// The `metapool_version`, `input` and `options` members that let `check` repeat the analysis
    /// (and say which version recorded it).
    func recorded(_ bytes: [UInt8]) -> [(String, JSONValue)] {
        [("metapool_version", .string(MetaPoolVersion.current)),
         ("input", .object([("path", .string(file)), ("sha256", .string(Self.sha256(bytes)))])),
         ("options", .object([
            ("measure", measure.map { .string($0.rawValue) } ?? .null),
            ("method", .string(pooling.code)),
            ("ci", .string(ciMethod.rawValue)),
            ("level", .number(level)),
            ("where", .array(conditions.map { .string($0.description) })),
            ("by", by.map { .string($0) } ?? .null),
            ("common_tau2", .bool(commonTauSquared)),
         ] + (pooling.isGLMM ? [("quadrature_points", .integer(quadraturePoints))] : [])
           + (allowMixedEndpoints ? [("allow_mixed_endpoints", .bool(true))] : [])
           + (delimiter.map { [("delimiter", .string($0.name))] } ?? [])
           + (label.map { [("label", .string($0))] } ?? [])
           + (studyInterval.map { [("study_ci", .string($0.code))] } ?? [])
           + (predictionInterval.map { [("pi", .string($0.rawValue))] } ?? [])
           + (threshold.map { [("threshold", .number($0))] } ?? [])
           + (cluster.map { [("cluster", .string($0))] } ?? [])
           + (robust.map { [("robust", .string($0.rawValue))] } ?? [])
           + bayesOptions
           + recordedEffectSizeOptions))]
    }

    /// `--bayes` and its priors as `check` reads them back (the τ prior as resolved for the measure).
    var bayesOptions: [(String, JSONValue)] {
        guard let bayes, let tau = bayes.tau else { return [] }
        return [("bayes", .bool(true)), ("tau_prior", .string(PriorText.describe(tau))), ("mu_prior", .string(PriorText.describe(bayes.mu)))]
            + (bayes.likelihood == .normal ? [] : [("likelihood", .string(bayes.likelihood.rawValue))])
    }

    /// `pool --bayes --format json`: the posterior summaries (``PoolCommand/bayesJSON``), then
    /// `metapool_version`, `input` and `options`, so that `check` can repeat the integration.
    func bayesDocument(_ table: DataTable, priors: BayesChoice, bytes: [UInt8]) throws(MetaPoolError) -> JSONDocument {
        if let by { return try bayesSubgroupDocument(table, by: by, priors: priors, bytes: bytes) }
        let fit = try BayesFit(table: table, measure: measure, options: effectSizeOptions, priors: priors)
        guard case .object(let members) = try fit.json(level: level, threshold: threshold) else {
            throw MetaPoolError(.invalidArgument, "could not encode the posterior summary")
        }
        var resolved = self
        resolved.bayes = BayesChoice(tau: fit.tauPrior, mu: fit.muPrior, likelihood: fit.likelihood)
        return JSONDocument((members + resolved.recorded(bytes)).map { ($0.0, .value($0.1)) })
    }

    /// The effect-size options that differ from the defaults, as `check` reads them back.
    var recordedEffectSizeOptions: [(String, JSONValue)] {
        let o = effectSizeOptions, c = o.continuityCorrection
        var members: [(String, JSONValue)] = []
        if o.hazardRatioLevel != 0.95 { members.append(("hr_level", .number(o.hazardRatioLevel))) }
        if let add = c.add { members.append(("add", .number(add))) }
        if c.to != .onlyZero { members.append(("to", .string(c.to.rawValue))) }
        if c.dropDoubleZero { members.append(("drop00", .bool(true))) }
        if o.dropMissing { members.append(("drop_missing", .bool(true))) }
        return members
    }
}

extension ModelOptions {
    func specification(by: String?, commonTauSquared: Bool = false) -> RecordedAnalysis {
        RecordedAnalysis(file: file, measure: measure, pooling: pooling, ciMethod: ciMethod, level: level,
                              conditions: rowConditions, by: by, commonTauSquared: commonTauSquared,
                              quadraturePoints: quadraturePoints, allowMixedEndpoints: allowMixedEndpoints,
                              effectSizeOptions: effectSizeOptions, delimiter: delimiter, label: label,
                              cluster: cluster, robust: robustChoice)
    }
}

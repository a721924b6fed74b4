// `metapool pool`: fixed- and random-effects pooling.

import ArgumentParser
import MetaPool

struct PoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        // Read by ArgumentParser only when `pool` is the root of a parse, which is the shortcut of
        // MetaPoolCommand.parseCommand(): there it skips the two trial parses that look for
        // --generate-completion-script (about 0.15 ms of 3.9, issue 15). A command line that
        // asks for a completion script fails the shortcut's parse and is parsed again the full way.
        _superCommandName: "metapool",
        abstract: "Pool the studies: estimate, confidence and prediction intervals, heterogeneity.",
        discussion: "Values are on the analysis scale (logit, log, ...); the back-transformed line gives the natural scale."
    )

    @OptionGroup var model: ModelOptions

    @OptionGroup var subgroups: SubgroupOptions

    @OptionGroup var prediction: PredictionOptions
    var by: String? { subgroups.by }

    /// `--study-ci` (StudyIntervalOptions.swift).
    @OptionGroup var studyIntervals: StudyIntervalArguments
    var commonTauSquared: Bool { subgroups.commonTauSquared }

    @Flag(help: "Batch: FILE holds many analyses (a CSV/JSON table with an analysis column, or JSON Lines with one analysis per line); fit each, in parallel, one result per analysis.")
    var batch = false

    @Option(name: .customLong("batch-column"), help: ArgumentHelp("With --batch: the column naming each row's analysis.", valueName: "column"))
    var batchColumn = "analysis"

    @Option(help: ArgumentHelp("With --batch: parallel tasks (default: the number of processors).", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Output: table (for people), json (one object), csv (per-study rows).", valueName: "format"))
    var format: OutputFormat = .table

    @Flag(help: "The Bayesian random-effects model (normal-normal), computed by numerical integration as R's bayesmeta: posteriors of tau and mu, a new study's predictive distribution, shrinkage estimates, Bayes factors.")
    var bayes = false

    @Option(name: .customLong("tau-prior"), help: ArgumentHelp("With --bayes: the prior of tau: half-normal(SCALE), half-cauchy(SCALE), half-t(SCALE, DF), uniform(0, UPPER), log-normal(MU, SIGMA), jeffreys, flat. Default half-normal(0.5) for PLO, OR, RR, HR.", valueName: "prior"))
    var tauPrior: String?

    @Option(name: .customLong("mu-prior"), help: ArgumentHelp("With --bayes: the prior of mu: normal(MEAN, SD) or flat (default).", valueName: "prior"))
    var muPrior: String?

    @Option(help: ArgumentHelp("With --bayes: the likelihood of the studies: normal (their effect sizes and sampling variances, the normal-normal model; default) or binomial (the exact likelihood of the counts: for events/total the binomial-normal model on the logit scale, with the conditional and population-averaged rates; for two-group counts with OR the conditional, noncentral hypergeometric likelihood of the log odds ratio).", valueName: "likelihood"))
    var likelihood: BayesLikelihood?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1; got \(jobs)") }
        if bayes {
            if model.cluster != nil || model.isCountBased {
                throw ValidationError("--bayes fits the Bayesian random-effects model; it cannot be combined with --cluster or --method MH/PETO/GLMM")
            }
            if let message = BayesLikelihood.refusal(likelihood, measure: model.measure) { throw ValidationError(message) }
            if commonTauSquared {
                throw ValidationError("--common-tau2 shares one tau^2 between subgroups of an inverse-variance model; --bayes --by fits each subgroup on its own with the same priors")
            }
            if format == .csv && !batch && by == nil {
                throw ValidationError("--bayes prints a table or JSON for one analysis; --format csv lists one row per subgroup (--by) or per analysis (--batch)")
            }
            if let text = tauPrior, case .failure(let e) = PriorText.tau(text) { throw e }
            if let text = muPrior, case .failure(let e) = PriorText.mu(text) { throw e }
        } else if tauPrior != nil || muPrior != nil || likelihood != nil {
            warn("--tau-prior, --mu-prior and --likelihood set the model of --bayes; they have no effect without it (ignored)")
        }
        studyIntervals.validate(measure: model.measure)
        if model.isCountBased && batch && !model.pooling.isGLMM {
            throw ValidationError("--method \(model.pooling.code) fits one analysis at a time; --batch works with the inverse-variance methods (FE DL REML ML PM HE SJ HS EB) and GLMM")
        }
        if model.isCountBased, let message = SubgroupOptions.refusal(by: by, commonTauSquared: commonTauSquared, pooling: model.pooling) {
            throw ValidationError(message)
        }
        if batch && by != nil { throw ValidationError("--batch and --by cannot be combined; give each subgroup its own analysis id") }
        if prediction.setting != nil, let reason = PredictionOptions.noInterval(model) {
            warn("--pi sets the prediction interval; \(reason) (ignored)")
        }
        if prediction.threshold != nil && (batch || by != nil) {
            throw ValidationError("--threshold gives the probabilities of one pooled analysis; it cannot be combined with --\(batch ? "batch" : "by")")
        }
        if !batch {
            if jobs != nil { warn("--jobs sets the parallel tasks of --batch; it has no effect without --batch (ignored)") }
            if batchColumn != "analysis" { warn("--batch-column names the analysis column of --batch; it has no effect without --batch (ignored)") }
        }
    }

    func run() async throws {
        if batch { return try await runBatch() }
        try runSingle()
    }

    /// One analysis (not `--batch`): synchronous, so that `main` runs it on the main thread
    /// (``MetaPoolCommand/main()``); `run()` is `async` for the batch's tasks, and calling it
    /// would first move to a thread of the global executor, started for the purpose.
    func runSingle() throws {
        if bayes { return try runBayes() }
        if format == .json {
            // One code path with `check`: the JSON records the input's SHA-256 and every option.
            do {
                var spec = model.specification(by: by, commonTauSquared: commonTauSquared)
                spec.studyInterval = studyIntervals.method
                (spec.predictionInterval, spec.threshold) = (prediction.setting, prediction.threshold)
                let bytes = try DataTable.readBytes(path: model.file)
                func analyse() throws(MetaPoolError) -> JSONDocument {
                    try spec.document(bytes: bytes, noting: ModelOptions.noteMixed,
                                 notingExcluded: EffectSizeArguments.note, notingInput: ModelOptions.noteInput,
                                 warningInapplicable: model.measure == nil ? warn : { _ in })
                }
                // The GLMM is the one single analysis that can run for minutes (10⁵ studies):
                // a progress line on stderr; the closed-form models stay quiet.
                let json = model.pooling.isGLMM && by == nil
                    ? try ProgressReporter.whileRunning("pool", "fitting the GLMM") { () throws(MetaPoolError) in try analyse() }
                    : try analyse()
                // Streamed: the text of 10⁶ studies is never held whole, nor their JSON values (JSONDocument.swift).
                var sink = TextSink(streaming: true)
                json.write(into: &sink)
                sink.write("\n")
                sink.flush()
            } catch {
                var located = error
                if located.location.file == nil { located.location.file = model.file }
                throw fail(located)
            }
            return
        }
        if let by { return try runSubgroups(by) }
        if model.cluster != nil { return try runThreeLevel() }
        if model.isCountBased { return try runCountBased() }
        let summary: PoolSummary
        var analysis: MetaAnalysis
        let studies: ForestPlot
        var probabilities: ThresholdProbabilities?
        do {
            let table = try model.table()
            analysis = try MetaAnalysis(EffectSizes(table: table, measure: model.measure), method: model.method,
                                        ciMethod: model.ciMethod, level: model.level)
            analysis.predictionIntervalSetting = prediction.resolved(for: analysis.measure)
            if let threshold = prediction.threshold { probabilities = try ThresholdProbabilities(analysis, threshold: threshold) }
            // The table lists the studies from the plot below: no summary rows of 10⁶ studies are made for it.
            summary = try analysis.summary(includingStudies: format != .table)
            // The study listing, from the typed fit and the rows it was fitted to.
            studies = try studyIntervals.apply(to: ForestPlot(analysis, table: table), explicitMeasure: model.measure)
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = model.file }
            throw fail(located)
        }
        switch format {
        case .json: print(JSONOutput.encode(summary))
        case .csv: print(StudyCSV.render(summary, studies: studies), terminator: "")
        case .table:
            // Streamed: the listing of 10⁶ studies goes out as it is written (TextSink.swift).
            var sink = TextSink(streaming: true)
            SummaryTable.write(summary, analysis: analysis, studies: studies, into: &sink)
            sink.flush()
            if let probabilities { print(PredictionOptions.lines(probabilities, measure: analysis.measure), terminator: "") }
        }
    }

    private func runSubgroups(_ column: String) throws {
        if model.pooling.isGLMM && commonTauSquared { return try runGLMMCommonTau(column) }
        if model.isCountBased || model.cluster != nil {
            let groups = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> SubgroupFits in
                let table = try model.table(by: column)
                return try SubgroupFits(table: table, by: column, specification: model.specification(prediction))
            }
            switch format {
            case .table:
                print(SubgroupTable.render(groups), terminator: "")
                let rows = groups.groups.map { g in PredictionOptions.SubgroupInterval(g.label, g.fit.newStudyPrediction) { g.fit.backTransform($0) } }
                    + [PredictionOptions.SubgroupInterval("overall", groups.overall.newStudyPrediction) { groups.overall.backTransform($0) }]
                print(PredictionOptions.subgroupIntervals(rows, level: groups.specification.level), terminator: "")
            case .json: print(try reportingErrors(file: model.file) { () throws(MetaPoolError) in try groups.summary() }.serialized())
            case .csv:
                var out = "subgroup,k,estimate,se,ci_lower,ci_upper,tau2,i2\n"
                for g in groups.groups {
                    let e = g.fit.pooled, het = g.fit.heterogeneity
                    let fields: [String] = [String(g.fit.studies.effects.count), "\(e.estimate)", "\(e.standardError)",
                                            "\(e.confidenceInterval.lower)", "\(e.confidenceInterval.upper)",
                                            het.tauSquared.map { "\($0)" } ?? "", "\(het.iSquared)"]
                    out += StudyCSV.quote(g.label) + "," + fields.joined(separator: ",") + "\n"
                }
                print(out, terminator: "")
            }
            return
        }
        let analysis: SubgroupAnalysis
        let json: JSONValue
        do {
            let table = try model.table(by: column)
            analysis = try SubgroupAnalysis(table: table, by: column, measure: model.measure, method: model.method,
                                            ciMethod: model.ciMethod, level: model.level, commonTauSquared: commonTauSquared,
                                            effectSizeOptions: model.effectSizeOptions, predictionInterval: prediction.setting)
            json = try analysis.summary()
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = model.file }
            throw fail(located)
        }
        switch format {
        case .json: print(json.serialized())
        case .csv:
            var out = "subgroup,k,estimate,se,ci_lower,ci_upper,tau2,i2\n"
            for g in analysis.subgroups {
                let tau2: String = g.tauSquared.map { "\($0)" } ?? ""
                let i2: String = g.iSquared.map { "\($0)" } ?? ""
                let fields: [String] = [String(g.count), "\(g.estimate)", "\(g.standardError)", "\(g.confidenceInterval.lower)",
                                        "\(g.confidenceInterval.upper)", tau2, i2]
                out += StudyCSV.quote(g.label) + "," + fields.joined(separator: ",") + "\n"
            }
            print(out, terminator: "")
        case .table:
            print(SubgroupTable.render(analysis), terminator: "")
            let rows = analysis.subgroups.map { g in PredictionOptions.SubgroupInterval(g.label, g.prediction) { g.backTransform($0) } }
                + [PredictionOptions.SubgroupInterval("overall", analysis.overall.newStudyPrediction) { analysis.overall.backTransform($0) }]
            print(PredictionOptions.subgroupIntervals(rows, level: analysis.overall.level), terminator: "")
        }
    }

    /// Mantel–Haenszel or Peto: a table for people, or CSV of the per-study escalc values.
    private func runCountBased() throws {
        if model.pooling.isGLMM { return try runGLMM() }
        let (text, csv) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (String, String) in
            let table = try model.table()
            let counts = try TwoGroupCounts(table: table)
            func f(_ x: Double) -> String { SummaryTable.f(x) }
            func p(_ x: Double?) -> String { x.map { $0 < 1e-4 ? "<.0001" : SummaryTable.p($0) } ?? "NA" }
            var out: String
            let estimate: Double, se: Double, z: Double, pValue: Double, ci: Interval, back: BackTransform
            let q: Double, qDF: Int, qP: Double, i2: Double, h2: Double, measure: EffectMeasure
            var tests = ""
            var probabilities: ThresholdProbabilities?
            if model.pooling == .peto {
                let fit = try Peto(counts, level: model.level)
                if let threshold = prediction.threshold { probabilities = try ThresholdProbabilities(fit, threshold: threshold) }
                (estimate, se, z, pValue, ci, back) = (fit.estimate, fit.standardError, fit.statistic, fit.pValue, fit.confidenceInterval, BackTransform.exponential)
                (q, qDF, qP, i2, h2, measure) = (fit.q, fit.qDegreesOfFreedom, fit.qPValue, fit.iSquared, fit.hSquared, .oddsRatio)
                out = "Equal-effects model (k = \(fit.count)); Peto's method\nMeasure: OR (log odds ratio)\n\n"
            } else {
                let fit = try MantelHaenszel(counts, measure: model.measure ?? .oddsRatio, level: model.level)
                if let threshold = prediction.threshold { probabilities = try ThresholdProbabilities(fit, threshold: threshold) }
                (estimate, se, z, pValue, ci, back) = (fit.estimate, fit.standardError, fit.statistic, fit.pValue, fit.confidenceInterval, fit.backTransform)
                (q, qDF, qP, i2, h2, measure) = (fit.q, fit.qDegreesOfFreedom, fit.qPValue, fit.iSquared, fit.hSquared, fit.measure)
                out = "Equal-effects model (k = \(fit.count)); Mantel-Haenszel method\nMeasure: \(measure.rawValue)\n\n"
                if let cmh = fit.cochranMantelHaenszel {
                    tests += "Cochran-Mantel-Haenszel test: CMH = \(f(cmh.statistic)), df = \(cmh.degreesOfFreedom), p-val \(p(cmh.pValue))\n"
                }
                if let ta = fit.tarone {
                    tests += "Tarone's test for heterogeneity: X^2 = \(f(ta.statistic)), df = \(ta.degreesOfFreedom), p-val \(p(ta.pValue))\n"
                }
            }
            out += "I^2 (total heterogeneity / total variability):  \(SummaryTable.f(i2, 2))%\n"
            out += "H^2 (total variability / sampling variability): \(SummaryTable.f(h2, 2))\n\n"
            out += "Test for heterogeneity: Q(df = \(qDF)) = \(f(q)), p-val \(p(qP))\n"
            out += tests + "\nModel results:\n\n"
            var results = TextTable(["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number), indent: 2)
            results.append([f(estimate), f(se), f(z), p(pValue), f(ci.lower), f(ci.upper)])
            out += results.render()
            if back != .identity {
                func n(_ x: Double) -> String { SummaryTable.natural(back.apply(x), of: x) }
                out += "\nOn the \(measure.naturalScaleName) scale: \(n(estimate)) [\(n(ci.lower)), \(n(ci.upper))]\n"
            }
            if let probabilities { out += PredictionOptions.lines(probabilities, measure: measure) }
            var rows = "study,treat_events,treat_total,control_events,control_total\n"
            for i in 0..<counts.count {
                rows += StudyCSV.quote(counts.labels[i]) + ",\(counts.treatEvents[i]),\(counts.treatTotals[i]),\(counts.controlEvents[i]),\(counts.controlTotals[i])\n"
            }
            return (out, rows)
        }
        print(format == .csv ? csv : text, terminator: "")
    }

    /// The GLMM as a table for people (the JSON goes through `RecordedAnalysis`).
    private func runGLMM() throws {
        guard format != .csv else { throw fail(MetaPoolError(.invalidArgument, "--method GLMM prints a table or JSON; --format csv lists per-study effect sizes of the inverse-variance models")) }
        // The table is rendered from the typed fit (no JSON read back).
        let fit = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> any FittedModel in
            let table = try model.table()
            return try ProgressReporter.whileRunning("pool", "fitting the GLMM to \(ProgressReporter.grouped(table.rowCount)) studies") { () throws(MetaPoolError) in
                var spec = model.specification
                spec.predictionInterval = prediction.setting
                return try spec.fit(table)
            }
        }
        let tests: (wald: GeneralizedLinearMixedModel.HeterogeneityTest, lrt: GeneralizedLinearMixedModel.HeterogeneityTest)
        if let g = fit as? GeneralizedLinearMixedModel {
            tests = (g.waldTest, g.likelihoodRatioTest)
        } else if let o = fit as? OddsRatioMixedModel {
            tests = (o.waldTest, o.likelihoodRatioTest)
        } else {
            return
        }
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x < 1e-4 ? "< .0001" : "= " + SummaryTable.p(x) }
        let measure = fit.measure.rawValue
        let e = fit.pooled, het = fit.heterogeneity
        let tau2 = het.tauSquared ?? 0
        var out = "Random-effects model (k = \(fit.studies.effects.count)); GLMM, \(measure == "OR" ? "unconditional model with fixed study effects (UM.FS)" : "binomial-normal")\n"
        out += "Measure: \(measure); adaptive Gauss-Hermite quadrature with \(model.quadraturePoints) point\(model.quadraturePoints == 1 ? " (Laplace)" : "s")\n\n"
        out += "tau^2 = \(f(tau2))   tau = \(f(tau2.squareRoot()))\n"
        out += "I^2   = \(SummaryTable.f(het.iSquared, 2))%   H^2 = \(SummaryTable.f(het.hSquared, 2))\n\n"
        out += "Tests for heterogeneity:\n"
        out += "Wald-type test: QE(df = \(tests.wald.degreesOfFreedom)) = \(f(tests.wald.statistic)), p-val \(p(tests.wald.pValue))\n"
        out += "Likelihood ratio test: QE(df = \(tests.lrt.degreesOfFreedom)) = \(f(tests.lrt.statistic)), p-val \(p(tests.lrt.pValue))\n\n"
        // --ci t: metafor's rma.glmm(test = "t") prints tval and df (k - 1).
        let df = e.degreesOfFreedom
        var results = TextTable((["estimate", "se", df == nil ? "zval" : "tval"] + (df == nil ? [] : ["df"]) + ["pval", "ci.lb", "ci.ub"]).map(TextTable.Column.number), indent: 2)
        results.append([f(e.estimate), f(e.standardError), f(e.statistic)] + (df.map { [String($0)] } ?? [])
                       + [e.pValue < 1e-4 ? "<.0001" : SummaryTable.p(e.pValue), f(e.confidenceInterval.lower), f(e.confidenceInterval.upper)])
        out += "Model results:\n\n" + results.render()
        func n(_ x: Double) -> String { SummaryTable.natural(fit.backTransform(x), of: x) }
        if let pi = fit.newStudyPrediction {
            out += "\n" + PredictionOptions.heading(pi, level: fit.pooled.level) + ": [\(f(pi.interval.lower)), \(f(pi.interval.upper))]\n"
        }
        out += "\nOn the \(measure == "OR" ? "odds ratio" : "proportion") scale: \(n(e.estimate)) [\(n(e.confidenceInterval.lower)), \(n(e.confidenceInterval.upper))]"
        if let pi = fit.predictionInterval { out += "; prediction interval [\(n(pi.lower)), \(n(pi.upper))]" }
        out += "\n"
        // The conditional rate above is the median study's; the population-averaged one beside it.
        if let line = fit.populationAveragedText() { out += line + "\n" }
        if let g = fit as? GeneralizedLinearMixedModel {
            let p = g.profileLikelihoodSummary
            if let error = p.error {
                out += "Profile-likelihood intervals: not available (\(error))\n"
            } else if let lo = p.ciLower, let hi = p.ciUpper, let tlo = p.tau2CILower, let thi = p.tau2CIUpper {
                out += "Profile-likelihood \(SummaryTable.f(p.level * 100, 0))% CIs: mu [\(f(lo)), \(f(hi))] (proportion [\(n(lo)), \(n(hi))]); tau^2 [\(f(tlo)), \(f(thi))]\n"
            }
        }
        if let threshold = prediction.threshold {
            let probabilities = try reportingErrors(file: model.file) { () throws(MetaPoolError) in try ThresholdProbabilities(fit, threshold: threshold) }
            out += PredictionOptions.lines(probabilities, measure: fit.measure)
        }
        print(out, terminator: "")
    }

    /// A batch's input with --label, --where and the mixed-outcome guard (within each analysis)
    /// applied: JSON Lines (one analysis per line, each with its own columns) or a table.
    enum BatchInput {
        case jsonLines(DataTable, keys: [Int: [String]], idColumn: String)
        case table(DataTable)
    }

    /// Reads `--batch` input: JSON Lines when the file is named .jsonl/.ndjson or starts with `{`.
    func readBatchInput(_ given: [UInt8]? = nil) throws(MetaPoolError) -> BatchInput {
        let bytes: [UInt8]
        if let given { bytes = given } else { bytes = try DataTable.readBytes(path: model.file) }
        if isJSONLines(bytes) {
            let text = try DataTable.decodeText(bytes, source: model.file)
            if let delimiter = model.delimiter {
                throw MetaPoolError(.invalidArgument, "--delimiter \(delimiter.name) applies to CSV input; this is JSON Lines (one object per line), which has no delimiter to choose", at: InputLocation(file: model.file))
            }
            let input = try DataTable.readJSONLines(text, source: model.file, idColumn: batchColumn)
            let table = try ModelOptions.narrowed(input.table, label: model.label, conditions: model.rowConditions)
            try model.checkOutcomes(table, comparing: [], within: input.idColumn)
            return .jsonLines(table, keys: input.keys, idColumn: input.idColumn)
        }
        let table = try model.read(bytes: bytes)
        try model.checkOutcomes(table, comparing: [], within: batchColumn)
        return .table(table)
    }

    private func runBatch() async throws {
        if bayes { return try await runBayesBatch() }
        if model.pooling.isGLMM || model.cluster != nil { return try await runGLMMBatch() }
        let tasks = jobs ?? BatchAnalysis.processorCount
        // Most batches (yi and vi or events and totals, nothing unusual) are read straight from the
        // bytes, in pieces as the file is read; the rest, and any input with a problem to report,
        // from the whole file (quotes, standard input), else the general way.
        if let streamed = await streamedBatchAnalyses(tasks: tasks) { return try await fitBatch(streamed, tasks: tasks) }
        let bytes = try reportingErrors(file: model.file) { () throws(MetaPoolError) in try DataTable.readBytes(path: model.file) }
        let fast = await fastBatchAnalyses(bytes, tasks: tasks)
        let analyses = try fast ?? reportingErrors(file: model.file) { () throws(MetaPoolError) -> [BatchAnalysis.Analysis] in
            switch try readBatchInput(bytes) {
            case .jsonLines(let table, let keys, let idColumn):
                // The same steps as for a table: --drop-missing/--drop00 (listed), then each line's effect sizes.
                let (analyses, excluded) = try BatchAnalysis.analyses(jsonLines: table, keys: keys, column: idColumn,
                                                                      measure: model.measure, options: model.effectSizeOptions)
                for (id, row) in excluded { printError("note: left out of analysis \(id): \(row.description)") }
                return analyses
            case .table(let table):
                let (kept, excluded) = try table.excludingStudies(measure: model.measure, options: model.effectSizeOptions)
                EffectSizeArguments.note(excluded)
                return try BatchAnalysis.analyses(from: kept, column: batchColumn, measure: model.measure, options: model.effectSizeOptions)
            }
        }
        try await fitBatch(analyses, tasks: tasks)
    }

    /// Fits the batch's analyses and writes the results.
    private func fitBatch(_ analyses: [BatchAnalysis.Analysis], tasks: Int) async throws {
        var engine = BatchAnalysis(method: model.method, ciMethod: model.ciMethod, level: model.level)
        engine.predictionInterval = prediction.setting
        // "pool --batch: fitting 100,000 analyses (N s)" every few seconds while the batch runs (the
        // engine reports no count, so the line gives the batch's size and the time).
        let progress = ProgressReporter(task: "pool --batch", unit: "fitting \(ProgressReporter.grouped(analyses.count)) analyses", total: nil)
        let stopProgress = progress.startHeartbeat()
        if format != .table {
            // JSON Lines or CSV, written as the analyses are fitted.
            let failed = await streamBatch(analyses, engine: engine, tasks: tasks, csv: format == .csv)
            stopProgress()
            if failed > 0 { printError("metapool: \(failed) of \(analyses.count) analyses could not be fitted (see their error fields)") }
            return
        }
        let results = await engine.run(analyses, tasks: tasks)
        stopProgress()
        var out = ""
        out.reserveCapacity(results.count * 200)
        switch format {
        case .json, .csv:
            break
        case .table:
            // Whole analysis names; analyses that could not be fitted are listed under the table.
            var table = TextTable([.label("analysis"), .number("k"), .number("estimate"), .number("se"), .number("ci.lb"),
                                   .number("ci.ub"), .number("tau^2")])
            var errors = ""
            for (a, outcome) in zip(analyses, results) {
                switch outcome {
                case .failure(let error):
                    table.append([a.id, String(a.yi.count), "NA", "NA", "NA", "NA", "NA"])
                    errors += "  \(SafeText.terminal(a.id)): \(SafeText.terminal(error.commandLineSentence))\n"
                case .success(let r):
                    table.append([a.id, String(r.k), SummaryTable.f(r.estimate), SummaryTable.f(r.standardError),
                                  SummaryTable.f(r.confidenceInterval.lower), SummaryTable.f(r.confidenceInterval.upper),
                                  r.tauSquared.map { SummaryTable.f($0) } ?? "-"])
                }
            }
            out += table.render()
            if !errors.isEmpty { out += "\nNot fitted (NA above):\n" + errors }
        }
        print(out, terminator: "")
        let failed = results.filter { if case .failure = $0 { true } else { false } }.count
        if failed > 0 { printError("metapool: \(failed) of \(results.count) analyses could not be fitted (see their error fields)") }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}


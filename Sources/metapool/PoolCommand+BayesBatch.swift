// `metapool pool --bayes --batch`: one Bayesian fit per analysis with the same priors, in parallel,
// as JSON Lines (each line the object of `pool --bayes --format json` for that analysis, without
// the recorded input and options, after its `analysis` id), CSV or a table.

import MetaPool

extension PoolCommand {
    func runBayesBatch() async throws {
        let analyses = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> [MixedModelBatch.Analysis] in
            switch try readBatchInput() {
            case .jsonLines(let table, let keys, let idColumn): try MixedModelBatch.analyses(jsonLines: table, keys: keys, column: idColumn)
            case .table(let table): try MixedModelBatch.analyses(from: table, column: batchColumn)
            }
        }
        let (priors, measure, options, level) = (bayesPriors, model.measure, model.effectSizeOptions, model.level)
        /// One analysis: its effect sizes, the fit and its summaries; errors name the analysis.
        @Sendable func fit(_ a: MixedModelBatch.Analysis) -> Result<(BayesFit, BayesianMetaAnalysisSummary), MetaPoolError> {
            do throws(MetaPoolError) {
                let fit = try BayesFit(table: a.table, measure: measure, options: options, priors: priors)
                return .success((fit, try fit.summary(level: level, threshold: nil)))
            } catch {
                var e = error
                e.reason = "analysis \(a.id): " + e.reason
                return .failure(e)
            }
        }
        let progress = ProgressReporter(task: "pool --batch", unit: "integrating \(ProgressReporter.grouped(analyses.count)) Bayesian posteriors", total: nil)
        let stopProgress = progress.startHeartbeat()
        let workers = max(1, min(jobs ?? BatchAnalysis.processorCount, analyses.count))
        let results: [Result<(BayesFit, BayesianMetaAnalysisSummary), MetaPoolError>] = await withTaskGroup(of: (Int, Result<(BayesFit, BayesianMetaAnalysisSummary), MetaPoolError>).self) { group in
            var next = 0
            var results = [Result<(BayesFit, BayesianMetaAnalysisSummary), MetaPoolError>?](repeating: nil, count: analyses.count)
            while next < workers { let i = next; group.addTask { (i, fit(analyses[i])) }; next += 1 }
            for await (i, outcome) in group {
                results[i] = outcome
                if next < analyses.count { let j = next; group.addTask { (j, fit(analyses[j])) }; next += 1 }
            }
            return results.map { $0 ?? .failure(MetaPoolError(.noConvergence, "the analysis was not fitted")) }
        }
        stopProgress()
        let rows: [BayesRow] = zip(analyses, results).map { ($0.id, $0.count, $1) }
        switch format {
        case .json:
            var out = ""
            for (a, outcome) in zip(analyses, results) {
                var line: JSONValue = .object([("analysis", .string(a.id)), ("k", .integer(a.count)), ("error", .string("the summary could not be encoded"))])
                switch outcome {
                case .success(let (fit, s)):
                    let json = PoolCommand.bayesJSON(s, effects: fit.effects, tau: fit.tauPrior, mu: fit.muPrior, model: fit.posterior.likelihoodName,
                                                     threshold: nil, rates: try? fit.rates(level: s.level), uninformative: fit.uninformative,
                                                     back: fit.backTransform)
                    if case .object(let members) = json { line = .object([("analysis", .string(a.id))] + members) }
                case .failure(let e):
                    line = .object([("analysis", .string(a.id)), ("k", .integer(a.count)), ("error", .string(e.reason))])
                }
                out += line.serialized(indent: 0) + "\n"
            }
            print(out, terminator: "")
        case .csv:
            print(Self.bayesCSV(rows, first: "analysis"), terminator: "")
        case .table:
            var out = "Bayesian random-effects model (normal-normal) per analysis; posterior by numerical integration\n"
            if let first = rows.lazy.compactMap({ try? $0.outcome.get().0 }).first {
                out += "Measure: \(first.effects.measure.rawValue) (\(first.effects.measure.analysisScaleName)); priors: tau ~ \(first.tauPrior.notation), mu ~ \(first.muPrior.notation)\n\n"
            }
            out += Self.bayesRowsTable(rows, first: "analysis", level: level)
            print(out, terminator: "")
        }
        let failed = results.filter { if case .failure = $0 { true } else { false } }.count
        if failed > 0 { printError("metapool: \(failed) of \(results.count) analyses could not be fitted (see their error fields)") }
    }
}

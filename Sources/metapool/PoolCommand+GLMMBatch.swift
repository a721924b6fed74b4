// `pool --batch --method GLMM` and `pool --batch --cluster`: each analysis's rows fitted by the GLMM
// or the three-level model (MixedModelBatch),
// with the outputs of the inverse-variance batch: JSON Lines, CSV or a table.

import MetaPool

extension PoolCommand {
    func runGLMMBatch() async throws {
        let (engine, analyses) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (MixedModelBatch, [MixedModelBatch.Analysis]) in
            let engine = try MixedModelBatch(specification: model.specification)
            switch try readBatchInput() {
            case .jsonLines(let table, let keys, let idColumn):
                return (engine, try MixedModelBatch.analyses(jsonLines: table, keys: keys, column: idColumn))
            case .table(let table):
                return (engine, try MixedModelBatch.analyses(from: table, column: batchColumn))
            }
        }
        let progress = ProgressReporter(task: "pool --batch", unit: "fitting \(ProgressReporter.grouped(analyses.count)) \(model.cluster == nil ? "GLMMs" : "three-level models")", total: nil)
        let stopProgress = progress.startHeartbeat()
        let results = await engine.run(analyses, tasks: jobs ?? BatchAnalysis.processorCount)
        stopProgress()
        var out = ""
        switch format {
        case .json:
            for (a, r) in zip(analyses, results) { out += MixedModelBatch.summary(of: r, for: a).serialized(indent: 0) + "\n" }
        case .csv where model.cluster != nil:
            // The three-level model: both variance components and the cluster-robust test where asked for.
            out += "analysis,k,clusters,estimate,se,ci_lower,ci_upper,p_value,sigma2_cluster,sigma2_cohort,i2,i2_cluster,i2_cohort,q,q_p_value,pi_lower,pi_upper,robust_se,robust_df,robust_ci_lower,robust_ci_upper,error\n"
            for (a, outcome) in zip(analyses, results) {
                switch outcome {
                case .success(let fit):
                    guard let t = fit as? any ThreeLevelFitted else { continue }
                    let e = t.pooled, f = t, pi = t.predictionInterval, r = t.robust, het = t.heterogeneity
                    let cells: [String] = [String(t.studies.effects.count), String(f.clusterCount), "\(e.estimate)", "\(e.standardError)",
                                           "\(e.confidenceInterval.lower)", "\(e.confidenceInterval.upper)", "\(e.pValue)",
                                           "\(f.clusterVariance)", "\(f.cohortVariance)", "\(t.heterogeneity.iSquared)",
                                           "\(f.iSquaredCluster)", "\(f.iSquaredCohort)", "\(het.q)", "\(het.pValue)",
                                           pi.map { "\($0.lower)" } ?? "", pi.map { "\($0.upper)" } ?? "",
                                           r.map { "\($0.standardError)" } ?? "", r.map { "\($0.degreesOfFreedom)" } ?? "",
                                           r.map { "\($0.confidenceInterval.lower)" } ?? "", r.map { "\($0.confidenceInterval.upper)" } ?? ""]
                    out += StudyCSV.quote(a.id) + "," + cells.joined(separator: ",") + ",\n"
                case .failure(let error):
                    out += StudyCSV.quote(a.id) + "," + String(a.count) + String(repeating: ",", count: 20) + StudyCSV.quote(error.commandLineSentence) + "\n"
                }
            }
        case .csv:
            // The inverse-variance batch's columns; q is the Wald-type test (metafor's QE.Wld), and
            // population-averaged rates (proportions) follow.
            out += "analysis,k,estimate,se,ci_lower,ci_upper,p_value,tau2,i2,q,q_p_value,pi_lower,pi_upper,marginal,marginal_ci_lower,marginal_ci_upper,error\n"
            for (a, outcome) in zip(analyses, results) {
                switch outcome {
                case .success(let fit):
                    let e = fit.pooled, het = fit.heterogeneity, pi = fit.predictionInterval
                    let marginal = (fit as? GeneralizedLinearMixedModel)?.populationAveragedRate
                    let cells: [String] = [String(fit.studies.effects.count), "\(e.estimate)", "\(e.standardError)", "\(e.confidenceInterval.lower)",
                                           "\(e.confidenceInterval.upper)", "\(e.pValue)", het.tauSquared.map { "\($0)" } ?? "",
                                           "\(het.iSquared)", "\(het.q)", "\(het.pValue)",
                                           pi.map { "\($0.lower)" } ?? "", pi.map { "\($0.upper)" } ?? "",
                                           marginal.map { "\($0.estimate)" } ?? "", marginal.map { "\($0.lower)" } ?? "",
                                           marginal.map { "\($0.upper)" } ?? ""]
                    out += StudyCSV.quote(a.id) + "," + cells.joined(separator: ",") + ",\n"
                case .failure(let error):
                    out += StudyCSV.quote(a.id) + "," + String(a.count) + String(repeating: ",", count: 15) + StudyCSV.quote(error.commandLineSentence) + "\n"
                }
            }
        case .table:
            if model.cluster != nil { out += Self.threeLevelBatchTable(analyses, results); break }
            var table = TextTable([.label("analysis"), .number("k"), .number("estimate"), .number("se"), .number("ci.lb"),
                                   .number("ci.ub"), .number("tau^2"), .number("pop.avg")])
            var errors = ""
            for (a, outcome) in zip(analyses, results) {
                switch outcome {
                case .failure(let error):
                    table.append([a.id, String(a.count), "NA", "NA", "NA", "NA", "NA", "NA"])
                    errors += "  \(SafeText.terminal(a.id)): \(SafeText.terminal(error.commandLineSentence))\n"
                case .success(let fit):
                    let e = fit.pooled
                    table.append([a.id, String(fit.studies.effects.count), SummaryTable.f(e.estimate), SummaryTable.f(e.standardError),
                                  SummaryTable.f(e.confidenceInterval.lower), SummaryTable.f(e.confidenceInterval.upper),
                                  fit.heterogeneity.tauSquared.map { SummaryTable.f($0) } ?? "-",
                                  (fit as? GeneralizedLinearMixedModel).map { SummaryTable.f($0.populationAveragedRate.estimate) } ?? "-"])
                }
            }
            out += table.render()
            out += "\nGLMM (\(model.quadraturePoints == 1 ? "Laplace" : "\(model.quadraturePoints)-point AGHQ")); estimates on the analysis scale (logit or log odds ratio); pop.avg: the population-averaged proportion (proportions only).\n"
            if !errors.isEmpty { out += "\nNot fitted (NA above):\n" + errors }
        }
        print(out, terminator: "")
        let failed = results.filter { if case .failure = $0 { true } else { false } }.count
        if failed > 0 { printError("metapool: \(failed) of \(results.count) analyses could not be fitted (see their error fields)") }
    }

    /// The three-level batch as a table for people: both variance components per analysis.
    static func threeLevelBatchTable(_ analyses: [MixedModelBatch.Analysis], _ results: [MixedModelBatch.Outcome]) -> String {
        var table = TextTable([.label("analysis"), .number("k"), .number("clusters"), .number("estimate"), .number("se"), .number("ci.lb"),
                               .number("ci.ub"), .number("sigma^2.1"), .number("sigma^2.2")])
        var errors = ""
        for (a, outcome) in zip(analyses, results) {
            switch outcome {
            case .success(let fit):
                guard let t = fit as? any ThreeLevelFitted else { continue }
                let e = t.pooled
                table.append([a.id, String(t.studies.effects.count), String(t.clusterCount), SummaryTable.f(e.estimate), SummaryTable.f(e.standardError),
                              SummaryTable.f(e.confidenceInterval.lower), SummaryTable.f(e.confidenceInterval.upper),
                              SummaryTable.f(t.clusterVariance), SummaryTable.f(t.cohortVariance)])
            case .failure(let error):
                table.append([a.id, String(a.count), "NA", "NA", "NA", "NA", "NA", "NA", "NA"])
                errors += "  \(SafeText.terminal(a.id)): \(SafeText.terminal(error.commandLineSentence))\n"
            }
        }
        var out = table.render()
        out += "\nThree-level model; estimates on the analysis scale; sigma^2.1 between clusters, sigma^2.2 between cohorts within a cluster.\n"
        if !errors.isEmpty { out += "\nNot fitted (NA above):\n" + errors }
        return out
    }
}

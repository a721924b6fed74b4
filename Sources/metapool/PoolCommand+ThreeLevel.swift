// `metapool pool --cluster COLUMN`: the three-level model as a table for people, or CSV of the
// studies with their clusters (the JSON goes through RecordedAnalysis, as for every model).

import MetaPool

extension PoolCommand {
    func runThreeLevel() throws {
        let (analysis, plot) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (any ThreeLevelFitted, ForestPlot) in
            let table = try model.table()
            var spec = model.specification
            spec.predictionInterval = prediction.setting
            guard let analysis = try spec.fit(table) as? any ThreeLevelFitted else {
                throw MetaPoolError(.invalidArgument, "--cluster did not give a three-level fit")
            }
            return (analysis, try studyIntervals.apply(to: ForestPlot(analysis, table: table), explicitMeasure: model.measure))
        }
        switch format {
        case .csv:
            var out = "study,cluster,yi,vi,ci_lower,ci_upper,weight\n"
            let e = analysis.studies.effects, weights = analysis.studies.weights, clusters = analysis.clusters
            let intervals = analysis.studies.confidenceIntervals(level: analysis.pooled.level)
            for i in 0..<e.count {
                out += [StudyCSV.quote(e.labels[i]), StudyCSV.quote(clusters.names[clusters.ids[i]]), "\(e.yi[i])", "\(e.vi[i])",
                        "\(intervals[i].lower)", "\(intervals[i].upper)", weights.map { "\($0[i])" } ?? ""].joined(separator: ",") + "\n"
            }
            print(out, terminator: "")
        case .table, .json:
            var sink = TextSink(streaming: true)
            sink.write(ThreeLevelTable.header(analysis))
            StudyListing.write(plot, model: "three-level model", into: &sink)
            sink.write(ThreeLevelTable.results(analysis))
            sink.flush()
            if let threshold = prediction.threshold {
                let probabilities = try reportingErrors(file: model.file) { () throws(MetaPoolError) in try ThresholdProbabilities(analysis, threshold: threshold) }
                print(PredictionOptions.lines(probabilities, measure: analysis.measure), terminator: "")
            }
        }
    }
}

/// The three-level fit for people, in the order of metafor's `print.rma.mv`: the variance
/// components (both levels named), heterogeneity, the model results, then what metafor prints
/// only on request (`confint()`, `anova()` against the two-level model, `robust()`, `predict()`).
enum ThreeLevelTable {
    static func f(_ x: Double) -> String { SummaryTable.f(x) }
    static func p(_ x: Double) -> String { x < 1e-4 ? "< .0001" : "= " + SummaryTable.p(x) }

    static func header(_ a: any ThreeLevelFitted) -> String {
        let column = a.clusters.column
        var out = "\(a.modelName): k = \(a.studies.effects.count) cohorts in \(a.clusterCount) clusters (\(column))\n"
        out += "Measure: \(a.measure.rawValue) (\(a.measure.analysisScaleName)); CI: \(a.pooled.degreesOfFreedom == nil ? "wald" : "t"), \(SummaryTable.f(a.pooled.level * 100, 0))%\n\n"
        return out
    }

    static func results(_ a: any ThreeLevelFitted) -> String {
        let fit = a, column = a.clusters.column, k = a.studies.effects.count
        let level = SummaryTable.f(a.pooled.level * 100, 0)
        var out = "Variance components (\(level)% profile-likelihood CIs):\n\n"
        var components = TextTable([.label(""), .number("estimate"), .number("sqrt"), .number("ci.lb"), .number("ci.ub"),
                                    .number("nlvls"), .label("level")], indent: 2)
        let ci1 = a.clusterVarianceInterval, ci2 = a.cohortVarianceInterval
        components.append(["sigma^2.1", f(fit.clusterVariance), f(fit.clusterVariance.squareRoot()),
                           ci1.map { f($0.lower) } ?? "NA", ci1.map { f($0.upper) } ?? "NA", String(fit.clusterCount),
                           "between clusters (\(column))"])
        components.append(["sigma^2.2", f(fit.cohortVariance), f(fit.cohortVariance.squareRoot()),
                           ci2.map { f($0.lower) } ?? "NA", ci2.map { f($0.upper) } ?? "NA", String(k),
                           "between cohorts within a cluster"])
        out += components.render()
        if let note = a.varianceIntervalError { out += "  (profile-likelihood intervals not available: \(note))\n" }
        out += "\nI^2 (Cheung 2014): total \(SummaryTable.f(a.heterogeneity.iSquared, 2))%, between clusters \(SummaryTable.f(fit.iSquaredCluster, 2))%, within clusters \(SummaryTable.f(fit.iSquaredCohort, 2))%\n"
        let het = a.heterogeneity
        if let t = a as? ThreeLevelAnalysis {
            out += "Log-likelihood (\(t.fit.method.rawValue)): \(f(fit.logLikelihood))\n\n"
            out += "Test for heterogeneity: Q(df = \(het.degreesOfFreedom)) = \(f(het.q)), p-val \(p(het.pValue))\n"
        } else {
            out += "Log-likelihood (Laplace, as lme4's logLik): \(f(fit.logLikelihood))"
            if let g = a as? ThreeLevelBinomialAnalysis {
                out += "; conditional on the modes (as metafor's logLik for a GLMM): \(f(g.fit.conditionalLogLikelihood))"
            }
            out += "\n\n"
            out += "Wald-type test for heterogeneity: QE(df = \(het.degreesOfFreedom)) = \(f(het.q)), p-val \(p(het.pValue))\n"
            if let g = a as? ThreeLevelBinomialAnalysis {
                let t = g.likelihoodRatioTest
                out += "Likelihood ratio test for heterogeneity: QE(df = \(t.degreesOfFreedom)) = \(f(t.statistic)), p-val \(p(t.pValue))\n"
            }
        }
        out += "Likelihood-ratio test against the two-level model (sigma^2.1 = 0; tau^2 = \(f(fit.twoLevelTauSquared))): LRT = \(f(fit.likelihoodRatio)), df = 1, p-val \(p(fit.likelihoodRatioPValue))\n\n"
        let e = a.pooled, df = e.degreesOfFreedom
        var results = TextTable((["estimate", "se", df == nil ? "zval" : "tval"] + (df == nil ? [] : ["df"]) + ["pval", "ci.lb", "ci.ub"]).map(TextTable.Column.number), indent: 2)
        results.append([f(e.estimate), f(e.standardError), f(e.statistic)] + (df.map { [String($0)] } ?? [])
                       + [SummaryTable.p(e.pValue), f(e.confidenceInterval.lower), f(e.confidenceInterval.upper)])
        out += "Model results:\n\n" + results.render()
        if let r = a.robust, let type = a.robustType {
            out += "\nCluster-robust inference (\(type.rawValue), \(fit.clusterCount) clusters; \(type == .cr2 ? "Satterthwaite df" : "df = clusters - 1")):\n\n"
            var robust = TextTable(["estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number), indent: 2)
            robust.append([f(r.estimate), f(r.standardError), f(r.statistic), SummaryTable.f(r.degreesOfFreedom, 2), SummaryTable.p(r.pValue),
                           f(r.confidenceInterval.lower), f(r.confidenceInterval.upper)])
            out += robust.render()
        }
        if let pi = a.newStudyPrediction {
            out += "\n" + PredictionOptions.heading(pi, level: e.level) + " (a new cohort of a new cluster): [\(f(pi.interval.lower)), \(f(pi.interval.upper))]\n"
        }
        if a.measure.backTransform != .identity {
            func n(_ x: Double) -> String { SummaryTable.natural(a.backTransform(x), of: x) }
            out += "\nOn the \(a.measure.naturalScaleName) scale: \(n(e.estimate)) [\(n(e.confidenceInterval.lower)), \(n(e.confidenceInterval.upper))]"
            if let pi = a.predictionInterval { out += "; prediction interval [\(n(pi.lower)), \(n(pi.upper))]" }
            if let r = a.robust { out += "; cluster-robust CI [\(n(r.confidenceInterval.lower)), \(n(r.confidenceInterval.upper))]" }
            out += "\n"
        }
        if let g = a as? ThreeLevelBinomialAnalysis {
            // The conditional rate above is a median cohort's; averaged over both random effects:
            let r = g.fit.populationAveragedRate
            out += "Population-averaged rate: \(f(r.estimate)) [\(f(r.lower)), \(f(r.upper))] (mu's CI with sigma^2 fixed)\n"
            if let ci = g.meanInterval {
                func n(_ x: Double) -> String { SummaryTable.natural(a.backTransform(x), of: x) }
                out += "Profile-likelihood \(level)% CI of mu: [\(f(ci.lower)), \(f(ci.upper))] (proportion [\(n(ci.lower)), \(n(ci.upper))])\n"
            } else if let why = g.meanIntervalError {
                out += "Profile-likelihood CI of mu: not available (\(why))\n"
            }
        }
        return out
    }
}

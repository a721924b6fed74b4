// `metapool pool --bayes --by COLUMN`: one Bayesian fit per subgroup with the same priors, and the
// fit of every row, as a table, JSON (through the recorded analysis, so `check` repeats it) or CSV.

import ArgumentParser
import MetaPool

extension RecordedAnalysis {
    /// `pool --bayes --by COLUMN --format json`: `by`, the measure, the model and priors, `subgroups`
    /// (each `subgroup` then the single fit's members, or `subgroup`, `k` and `error`), `overall`,
    /// then `metapool_version`, `input` and `options`.
    func bayesSubgroupDocument(_ table: DataTable, by column: String, priors: BayesChoice,
                               bytes: [UInt8]) throws(MetaPoolError) -> JSONDocument {
        let groups = try BayesianSubgroups(table: table, by: column, measure: measure, options: effectSizeOptions,
                                           fit: BayesFit.model(priors: priors))
        let overall = BayesFit(effects: groups.overall.effects, posterior: groups.overall.posterior)
        var subgroups: [JSONValue] = []
        for g in groups.groups {
            switch g.outcome {
            case .success(let f):
                guard case .object(let members) = try BayesFit(effects: f.effects, posterior: f.posterior).json(level: level, threshold: nil) else { continue }
                subgroups.append(.object([("subgroup", .string(g.label))] + members))
            case .failure(let error):
                subgroups.append(.object([("subgroup", .string(g.label)), ("k", .integer(g.rows.count)), ("error", .string(error.reason))]))
            }
        }
        let members: [(String, JSONValue)] = [
            ("by", .string(groups.column)), ("measure", .string(overall.effects.measure.rawValue)), ("method", .string("BAYES")),
            ("model", .string(overall.posterior.likelihoodName)),
            ("tau_prior", .string(overall.tauPrior.notation)), ("mu_prior", .string(overall.muPrior.notation)),
            ("level", .number(level)), ("subgroups", .array(subgroups)),
            ("overall", try overall.json(level: level, threshold: nil)),
        ]
        var resolved = self
        resolved.bayes = BayesChoice(tau: overall.tauPrior, mu: overall.muPrior, likelihood: overall.likelihood)
        return JSONDocument((members + resolved.recorded(bytes)).map { ($0.0, .value($0.1)) })
    }
}

extension PoolCommand {
    /// `pool --bayes --by COLUMN` as a table or CSV (the JSON goes through the recorded analysis).
    func runBayesSubgroups(_ column: String) throws {
        let (groups, rows) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (BayesianSubgroups, [BayesRow]) in
            let table = try model.table(by: column)
            let groups = try BayesianSubgroups(table: table, by: column, measure: model.measure, options: model.effectSizeOptions,
                                               fit: BayesFit.model(priors: bayesPriors))
            var rows: [BayesRow] = []
            for g in groups.groups {
                switch g.outcome {
                case .success(let f):
                    let fit = BayesFit(effects: f.effects, posterior: f.posterior)
                    rows.append((g.label, g.rows.count, .success((fit, try fit.summary(level: model.level, threshold: nil)))))
                case .failure(let e):
                    rows.append((g.label, g.rows.count, .failure(e)))
                }
            }
            let overall = BayesFit(effects: groups.overall.effects, posterior: groups.overall.posterior)
            rows.append(("overall", overall.effects.count, .success((overall, try overall.summary(level: model.level, threshold: nil)))))
            return (groups, rows)
        }
        let overall = BayesFit(effects: groups.overall.effects, posterior: groups.overall.posterior)
        let failed = rows.filter { if case .failure = $0.2 { true } else { false } }.count
        defer {
            if failed > 0 { printError("metapool: \(failed) of \(groups.groups.count) subgroups could not be fitted (see their error\(format == .csv ? " column" : "s above"))") }
        }
        if format == .csv {
            print(Self.bayesCSV(rows, first: "subgroup"), terminator: "")
            return
        }
        let measure = overall.effects.measure
        var out = "Bayesian random-effects model (\(overall.posterior.likelihoodName)) in subgroups by \(groups.column); posterior by numerical integration\n"
        out += "Measure: \(measure.rawValue) (\(measure.analysisScaleName)); priors: tau ~ \(overall.tauPrior.notation), mu ~ \(overall.muPrior.notation)\n\n"
        out += Self.bayesRowsTable(rows, first: "subgroup", level: model.level)
        print(out, terminator: "")
    }

    typealias BayesRow = (label: String, k: Int, outcome: Result<(BayesFit, BayesianMetaAnalysisSummary), MetaPoolError>)

    /// One CSV row per subgroup or analysis: posterior medians and central intervals of mu and tau,
    /// the central predictive interval (analysis scale), or the error.
    static func bayesCSV(_ rows: [BayesRow], first: String) -> String {
        var out = "\(first),k,mu_median,mu_ci_lower,mu_ci_upper,tau_median,tau_ci_lower,tau_ci_upper,prediction_ci_lower,prediction_ci_upper,error\n"
        for (label, k, outcome) in rows {
            switch outcome {
            case .success(let (_, s)):
                let cells = [s.mu.median, s.mu.central.lower, s.mu.central.upper, s.tau.median, s.tau.central.lower, s.tau.central.upper,
                             s.prediction.central.lower, s.prediction.central.upper].map { "\($0)" }
                out += StudyCSV.quote(label) + ",\(k)," + cells.joined(separator: ",") + ",\n"
            case .failure(let e):
                out += StudyCSV.quote(label) + ",\(k)" + String(repeating: ",", count: 8) + "," + StudyCSV.quote(e.commandLineSentence) + "\n"
            }
        }
        return out
    }

    /// The table of subgroups or analyses for people, then the natural scale, then what was not fitted.
    static func bayesRowsTable(_ rows: [BayesRow], first: String, level: Double) -> String {
        func f(_ x: Double) -> String { x.isFinite ? SummaryTable.f(x) : (x.isNaN ? "NA" : "Inf") }
        var table = TextTable([.label(first), .number("k"), .number("mu"), .number("ci.lb"), .number("ci.ub"), .number("tau"),
                               .number("tau.lb"), .number("tau.ub"), .number("new.lb"), .number("new.ub")], indent: 2)
        var errors = ""
        for (label, k, outcome) in rows {
            switch outcome {
            case .success(let (_, s)):
                table.append([label, String(k), f(s.mu.median), f(s.mu.central.lower), f(s.mu.central.upper), f(s.tau.median),
                              f(s.tau.central.lower), f(s.tau.central.upper), f(s.prediction.central.lower), f(s.prediction.central.upper)])
            case .failure(let e):
                table.append([label, String(k), "NA", "NA", "NA", "NA", "NA", "NA", "NA", "NA"])
                errors += "  \(SafeText.terminal(label)): \(SafeText.terminal(e.commandLineSentence))\n"
            }
        }
        var out = "Posterior medians and \(SummaryTable.f(level * 100, 0))% central credible intervals (new: a new study's true effect):\n\n" + table.render()
        let natural = rows.compactMap { row -> (String, BayesFit, BayesianMetaAnalysisSummary)? in
            guard case .success(let (fit, s)) = row.outcome, fit.effects.measure.backTransform != .identity else { return nil }
            return (row.label, fit, s)
        }
        if let first = natural.first {
            out += "\nOn the \(first.1.effects.measure.naturalScaleName) scale:\n"
            for (label, fit, s) in natural {
                func b(_ x: Double) -> String { SummaryTable.natural(fit.backTransform(x), of: x) }
                out += "  \(SafeText.terminal(label)): mu \(b(s.mu.median)) [\(b(s.mu.central.lower)), \(b(s.mu.central.upper))]; new study [\(b(s.prediction.central.lower)), \(b(s.prediction.central.upper))]\n"
            }
        }
        if !errors.isEmpty { out += "\nNot fitted (NA above):\n" + errors }
        return out
    }
}

// `metapool regress --method GLMM`: the binomial–normal GLMM with moderators for events/total
// (metafor's rma.glmm(measure = "PLO", mods = ~ …, method = "ML")).

import ArgumentParser
import MetaPool

extension RegressCommand {
    /// What `regress --method GLMM` refuses (nil when fine): other measures than PLO (the
    /// odds-ratio GLMM with moderators is not implemented) and permutation tests.
    static func glmmRefusal(measure: EffectMeasure?, permutations: Int?) -> String? {
        if let measure, measure != .logitProportion {
            return "regress --method GLMM fits logit proportions with moderators (PLO, events/total; metafor's rma.glmm(measure = \"PLO\", mods = ...)); --measure \(measure.rawValue) is not available with moderators (the odds-ratio GLMM is in metapool pool)"
        }
        if permutations != nil {
            return "--permutations refits the inverse-variance meta-regression; it is not available with --method GLMM"
        }
        return nil
    }

    func runGLMM() throws {
        let fit = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> GeneralizedLinearMixedRegression in
            let table = try model.table(comparing: moderatorColumns)
            if table.columnIndex("events") == nil || table.columnIndex("total") == nil,
               table.columnIndex("treat_events") != nil || table.columnIndex("control_events") != nil {
                throw MetaPoolError(.invalidArgument, "regress --method GLMM fits events/total (PLO) with moderators; two-group counts (the odds-ratio GLMM) are available without moderators in metapool pool --method GLMM")
            }
            return try ProgressReporter.whileRunning("regress", "fitting the GLMM") { () throws(MetaPoolError) in
                try GeneralizedLinearMixedRegression(table: table, moderators: moderatorColumns,
                                                     quadraturePoints: model.quadraturePoints, level: model.level)
            }
        }
        switch format {
        case .json: print(Self.json(fit).serialized())
        default: print(Self.table(fit), terminator: "")
        }
    }

    /// The JSON of `regress --method GLMM`: the keys of the inverse-variance regression where they
    /// apply, metafor's two tests for residual heterogeneity, and the fit statistics.
    static func json(_ m: GeneralizedLinearMixedRegression) -> JSONValue {
        func n(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        let coefficients: [JSONValue] = m.predictors.indices.map { j in
            let c = m.coefficients[j]
            return .object([("name", .string(m.predictors[j])), ("estimate", n(c.estimate)), ("se", n(c.standardError)),
                            ("statistic", n(c.statistic)), ("p_value", n(c.pValue)),
                            ("ci_lower", n(c.confidenceInterval.lower)), ("ci_upper", n(c.confidenceInterval.upper))])
        }
        var out: [(String, JSONValue)] = [
            ("measure", .string(EffectMeasure.logitProportion.rawValue)), ("method", .string("GLMM")),
            ("quadrature_points", .integer(m.quadraturePoints)), ("ci_method", .string(ConfidenceIntervalMethod.wald.rawValue)),
            ("level", .number(m.level)), ("k", .integer(m.count)), ("p", .integer(m.predictors.count)),
            ("coefficients", .array(coefficients)),
            ("tau2", n(m.tauSquared)), ("tau", n(m.tau)), ("i2", n(m.iSquared)), ("h2", n(m.hSquared)),
            ("qe_df", .integer(m.waldTest.degreesOfFreedom)),
            ("qe_wald", n(m.waldTest.statistic)), ("qe_wald_p_value", n(m.waldTest.pValue)),
            ("qe_lrt", n(m.likelihoodRatioTest.statistic)), ("qe_lrt_p_value", n(m.likelihoodRatioTest.pValue)),
        ]
        if let t = m.moderatorTest {
            out += [("qm", n(t.statistic)), ("qm_df", .integer(t.degreesOfFreedom)), ("qm_df2", .null), ("qm_p_value", n(t.pValue))]
        }
        out += [("log_likelihood", n(m.logLikelihood)), ("marginal_log_likelihood", n(m.marginalLogLikelihood)),
                ("deviance", n(m.deviance)), ("aic", n(m.aic)), ("bic", n(m.bic)), ("aicc", n(m.aicc))]
        return .object(out)
    }

    /// The table of `regress --method GLMM`, laid out as metafor prints rma.glmm with moderators.
    static func table(_ m: GeneralizedLinearMixedRegression) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x < 1e-4 ? "<.0001" : SummaryTable.p(x) }
        func pv(_ x: Double) -> String { x < 1e-4 ? "< .0001" : "= " + p(x) }
        var out = "Mixed-effects model (k = \(m.count); tau^2 estimator: ML)\n"
        out += "Model: GLMM, binomial-normal, \(m.quadraturePoints == 1 ? "Laplace" : "\(m.quadraturePoints)-point AGHQ")\n"
        out += "Measure: PLO; CI: wald, \(SVGLevel.text(m.level))\n\n"
        out += "tau^2 (estimated amount of residual heterogeneity):     \(f(m.tauSquared))\n"
        out += "tau (square root of estimated tau^2 value):             \(f(m.tau))\n"
        out += "I^2 (residual heterogeneity / unaccounted variability): \(SummaryTable.f(m.iSquared, 2))%\n"
        out += "H^2 (unaccounted variability / sampling variability):   \(SummaryTable.f(m.hSquared, 2))\n\n"
        let df = m.waldTest.degreesOfFreedom
        out += "Tests for Residual Heterogeneity:\n"
        out += "Wld(df = \(df)) = \(f(m.waldTest.statistic)), p-val \(pv(m.waldTest.pValue))\n"
        out += "LRT(df = \(df)) = \(f(m.likelihoodRatioTest.statistic)), p-val \(pv(m.likelihoodRatioTest.pValue))\n\n"
        if let t = m.moderatorTest {
            let which = t.coefficients.map { String($0 + 1) }.joined(separator: ",")
            out += "Test of Moderators (coefficient\(t.coefficients.count == 1 ? "" : "s") \(which)):\nQM(df = \(t.degreesOfFreedom)) = \(f(t.statistic)), p-val \(pv(t.pValue))\n\n"
        }
        out += "Model Results:\n\n"
        var table = TextTable([.label("coefficient")] + ["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number))
        for j in m.predictors.indices {
            let c = m.coefficients[j]
            table.append([m.predictors[j], f(c.estimate), f(c.standardError), f(c.statistic), p(c.pValue),
                          f(c.confidenceInterval.lower), f(c.confidenceInterval.upper)])
        }
        out += table.render()
        out += "\nlogLik (conditional, as metafor): \(f(m.logLikelihood)); deviance: \(f(m.deviance)); AIC: \(f(m.aic)); BIC: \(f(m.bic))\n"
        return out
    }
}

// `metapool regress --cluster COLUMN`: the three-level meta-regression (metafor's rma.mv(yi, vi,
// mods = ~ ..., random = ~ 1 | cluster/cohort)) with profile CIs of both variance components, the
// LRT against the two-level meta-regression and, with --robust, cluster-robust tests (CR2 or CR1).

import ArgumentParser
import MetaPool

extension RegressCommand {
    /// What `regress --cluster` refuses (nil when fine): methods other than REML and ML, the
    /// Hartung–Knapp tests, and permutation tests.
    static func threeLevelRefusal(pooling: PoolingMethod, ciMethod: ConfidenceIntervalMethod, permutations: Int?) -> String? {
        guard case .inverseVariance(let method) = pooling, method == .restrictedMaximumLikelihood || method == .maximumLikelihood else {
            return "--cluster fits the three-level meta-regression (rma.mv) by REML or ML; --method \(pooling.code) is not available with it (use --method REML or ML)"
        }
        if ciMethod != .wald && ciMethod != .t {
            return "--cluster supports --ci wald (z tests) and t (t tests on k - p df, as rma.mv's test = \"t\"); --ci \(ciMethod.rawValue) is not available with it (for small-sample inference use --robust)"
        }
        if permutations != nil {
            return "--permutations permutes the two-level meta-regression; it is not available with --cluster"
        }
        return nil
    }

    /// The three-level fit and what the output shows with it.
    struct ThreeLevelResult {
        var model: ThreeLevelRegression
        var fit: ThreeLevelRegressionFit
        var clusterInterval: Interval?, cohortInterval: Interval?
        var robust: ClusterRobustCoefficients?
        var measure: EffectMeasure
        var clusterColumn: String
    }

    func runThreeLevel(clusterColumn: String) throws {
        let adjustment = model.robustChoice
        let result = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> ThreeLevelResult in
            let table = try model.table(comparing: moderatorColumns + [clusterColumn])
            let effects = try EffectSizes(table: table, measure: model.measure, options: model.effectSizeOptions)
            let design = try ModeratorDesign(table: table, moderators: moderatorColumns)
            let clusters = try table.clusters(column: clusterColumn)
            let (ids, header) = (clusters.ids, clusters.column)
            let regression = try ThreeLevelRegression(yi: effects.yi, vi: effects.vi, cluster: ids, design: design.matrix,
                                                      predictors: design.predictors)
            let fit = try ProgressReporter.whileRunning("regress", "fitting the three-level model") { () throws(MetaPoolError) in
                try regression.fit(method: model.method, tDistribution: model.ciMethod == .t, level: model.level)
            }
            // The profile intervals are reported as missing (with a warning) where they cannot be found.
            func interval(_ isCluster: Bool) -> Interval? {
                do {
                    return try regression.varianceInterval(fit, cluster: isCluster, level: model.level)
                } catch {
                    warn("the profile-likelihood interval of sigma^2.\(isCluster ? 1 : 2) could not be found (\(error.reason)); reported as missing")
                    return nil
                }
            }
            var robust: ClusterRobustCoefficients?
            if let adjustment {
                robust = regression.clusterRobust(fit, adjustment: adjustment)
                if robust == nil {
                    warn("the cluster-robust (\(adjustment.rawValue)) tests need more clusters than coefficients (\(regression.clusterCount) clusters, \(regression.coefficientCount) coefficients); not reported")
                }
            }
            return ThreeLevelResult(model: regression, fit: fit, clusterInterval: interval(true), cohortInterval: interval(false),
                                    robust: robust, measure: effects.measure, clusterColumn: header)
        }
        switch format {
        case .json: print(Self.json(result).serialized())
        default: print(Self.table(result), terminator: "")
        }
    }

    static func json(_ r: ThreeLevelResult) -> JSONValue {
        func n(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        let m = r.fit
        var coefficients: [JSONValue] = []
        for (j, c) in m.coefficients.enumerated() {
            coefficients.append(.object([("name", .string(m.predictors[j])), ("estimate", n(c.estimate)), ("se", n(c.standardError)),
                                         ("statistic", n(c.statistic)), ("p_value", n(c.pValue)),
                                         ("ci_lower", n(c.confidenceInterval.lower)), ("ci_upper", n(c.confidenceInterval.upper))]))
        }
        var out: [(String, JSONValue)] = [
            ("measure", .string(r.measure.rawValue)), ("method", .string(m.method.rawValue)),
            ("ci_method", .string(m.degreesOfFreedom == nil ? ConfidenceIntervalMethod.wald.rawValue : ConfidenceIntervalMethod.t.rawValue)),
            ("level", .number(m.level)), ("model", .string("three-level")), ("cluster_column", .string(r.clusterColumn)),
            ("k", .integer(m.count)), ("n_clusters", .integer(m.clusterCount)), ("p", .integer(m.predictors.count)),
            ("coefficients", .array(coefficients)),
        ]
        if let df = m.degreesOfFreedom { out.append(("df", .integer(df))) }
        out += [
            ("sigma2_cluster", n(m.clusterVariance)), ("sigma2_cluster_ci_lower", n(r.clusterInterval?.lower)),
            ("sigma2_cluster_ci_upper", n(r.clusterInterval?.upper)),
            ("sigma2_cohort", n(m.cohortVariance)), ("sigma2_cohort_ci_lower", n(r.cohortInterval?.lower)),
            ("sigma2_cohort_ci_upper", n(r.cohortInterval?.upper)),
            ("log_likelihood", n(m.logLikelihood)),
            ("qe", n(m.residualQ)), ("qe_df", .integer(m.residualQDegreesOfFreedom)), ("qe_p_value", n(m.residualQPValue)),
        ]
        if let t = m.moderatorTest {
            out += [("qm", n(t.statistic)), ("qm_df", .integer(t.degreesOfFreedom)),
                    ("qm_df2", t.denominatorDegreesOfFreedom.map { .integer($0) } ?? .null), ("qm_p_value", n(t.pValue))]
        }
        out += [("two_level_tau2", n(m.twoLevelTauSquared)), ("two_level_log_likelihood", n(m.twoLevelLogLikelihood)),
                ("lrt_two_level", n(m.likelihoodRatio)), ("lrt_two_level_df", .integer(1)),
                ("lrt_two_level_p_value", n(m.likelihoodRatioPValue))]
        if let robust = r.robust {
            let rows: [JSONValue] = robust.coefficients.enumerated().map { j, c in
                .object([("name", .string(m.predictors[j])), ("estimate", n(c.estimate)), ("se", n(c.standardError)),
                         ("statistic", n(c.statistic)), ("df", n(c.degreesOfFreedom)), ("p_value", n(c.pValue)),
                         ("ci_lower", n(c.confidenceInterval.lower)), ("ci_upper", n(c.confidenceInterval.upper))])
            }
            var object: [(String, JSONValue)] = [("type", .string(robust.adjustment.rawValue)), ("n_clusters", .integer(robust.clusterCount)),
                                                 ("coefficients", .array(rows))]
            if let t = robust.moderatorTest {
                object += [("qm_test", .string(robust.adjustment == .cr2 ? "HTZ" : "F")), ("qm", n(t.statistic)), ("qm_df", .integer(t.numeratorDegreesOfFreedom)),
                           ("qm_df2", n(t.denominatorDegreesOfFreedom)), ("qm_p_value", n(t.pValue))]
            }
            out.append(("robust", .object(object)))
        }
        return .object(out)
    }

    static func table(_ r: ThreeLevelResult) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x < 1e-4 ? "<.0001" : SummaryTable.p(x) }
        func pv(_ x: Double) -> String { x < 1e-4 ? "< .0001" : "= " + p(x) }
        func bound(_ x: Double?) -> String { x.map(f) ?? "NA" }
        let m = r.fit
        var out = "Multilevel mixed-effects model (k = \(m.count); clusters = \(m.clusterCount); method: \(m.method.rawValue))\n"
        out += "Measure: \(r.measure.rawValue); CI: \(m.degreesOfFreedom == nil ? "wald" : "t"), \(SVGLevel.text(m.level))\n\n"
        out += "Variance components (profile-likelihood CIs):\n\n"
        var components = TextTable([.label("component")] + ["estimate", "sqrt", "ci.lb", "ci.ub"].map(TextTable.Column.number)
                                   + [.number("levels"), .label("level")])
        components.append(["sigma^2.1", f(m.clusterVariance), f(m.clusterVariance.squareRoot()), bound(r.clusterInterval?.lower),
                           bound(r.clusterInterval?.upper), String(m.clusterCount), "cluster = \(r.clusterColumn)"])
        components.append(["sigma^2.2", f(m.cohortVariance), f(m.cohortVariance.squareRoot()), bound(r.cohortInterval?.lower),
                           bound(r.cohortInterval?.upper), String(m.count), "cohort (row) within cluster"])
        out += components.render() + "\n"
        out += "logLik (\(m.method.rawValue)): \(f(m.logLikelihood))\n"
        out += "LRT against the two-level meta-regression (sigma^2.1 = 0; tau^2 = \(f(m.twoLevelTauSquared))): LRT(df = 1) = \(f(m.likelihoodRatio)), p-val \(pv(m.likelihoodRatioPValue))\n\n"
        out += "Test for Residual Heterogeneity:\nQE(df = \(m.residualQDegreesOfFreedom)) = \(f(m.residualQ)), p-val \(pv(m.residualQPValue))\n\n"
        if let t = m.moderatorTest {
            let which = t.coefficients.map { String($0 + 1) }.joined(separator: ",")
            let stat = t.denominatorDegreesOfFreedom.map { "F(df1 = \(t.degreesOfFreedom), df2 = \($0))" } ?? "QM(df = \(t.degreesOfFreedom))"
            out += "Test of Moderators (coefficient\(t.coefficients.count == 1 ? "" : "s") \(which)):\n\(stat) = \(f(t.statistic)), p-val \(pv(t.pValue))\n\n"
        }
        out += "Model Results:\n\n"
        let stat = m.degreesOfFreedom == nil ? "zval" : "tval"
        var table = TextTable([.label("coefficient")] + ["estimate", "se", stat, "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number))
        for (j, c) in m.coefficients.enumerated() {
            table.append([m.predictors[j], f(c.estimate), f(c.standardError), f(c.statistic), p(c.pValue),
                          f(c.confidenceInterval.lower), f(c.confidenceInterval.upper)])
        }
        out += table.render()
        if let robust = r.robust {
            switch robust.adjustment {
            case .cr2:
                out += "\nCluster-robust tests (CR2, Satterthwaite df; clubSandwich's coef_test; \(robust.clusterCount) clusters of \(r.clusterColumn)):\n\n"
                if let t = robust.moderatorTest {
                    let which = t.coefficients.map { String($0 + 1) }.joined(separator: ",")
                    out += "Test of Moderators (coefficient\(t.coefficients.count == 1 ? "" : "s") \(which); HTZ, clubSandwich's Wald_test):\nF(df1 = \(t.numeratorDegreesOfFreedom), df2 = \(SummaryTable.f(t.denominatorDegreesOfFreedom, 2))) = \(f(t.statistic)), p-val \(pv(t.pValue))\n\n"
                }
            case .cr1:
                out += "\nCluster-robust tests (CR1, metafor's robust(); t on n - p = \(robust.clusterCount - m.predictors.count) df; \(robust.clusterCount) clusters of \(r.clusterColumn)):\n\n"
                if let t = robust.moderatorTest {
                    let which = t.coefficients.map { String($0 + 1) }.joined(separator: ",")
                    out += "Test of Moderators (coefficient\(t.coefficients.count == 1 ? "" : "s") \(which)):\nF(df1 = \(t.numeratorDegreesOfFreedom), df2 = \(Int(t.denominatorDegreesOfFreedom))) = \(f(t.statistic)), p-val \(pv(t.pValue))\n\n"
                }
            }
            var rt = TextTable([.label("coefficient")] + ["estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number))
            for (j, c) in robust.coefficients.enumerated() {
                rt.append([m.predictors[j], f(c.estimate), f(c.standardError), f(c.statistic), SummaryTable.f(c.degreesOfFreedom, 2),
                           p(c.pValue), f(c.confidenceInterval.lower), f(c.confidenceInterval.upper)])
            }
            out += rt.render()
        }
        return out
    }
}

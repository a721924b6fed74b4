// Rendering a PoolSummary for people (table), for programs (JSON) and for spreadsheets (CSV).

import Foundation
import MetaPool

enum JSONOutput {
    /// One JSON object, keys in the order the type declares them (the documented order, JSONOutput.md).
    static func encode<T: Encodable>(_ value: T) -> String {
        do {
            return try OrderedJSONEncoder.encode(value).serialized()
        } catch {
            return "{\"error\": \"could not encode the result\"}"
        }
    }
}

enum StudyCSV {
    /// Per-study rows: study, yi, vi, ci_lower, ci_upper, weight, and the natural-scale estimate and CI.
    static func render(_ s: PoolSummary) -> String {
        var out = "study,yi,vi,ci_lower,ci_upper,weight\n"
        for study in s.studies {
            out += [quote(study.study), "\(study.yi)", "\(study.vi)", "\(study.ciLower)", "\(study.ciUpper)", "\(study.weight)"].joined(separator: ",") + "\n"
        }
        return out
    }

    /// RFC 4180 quoting when a field needs it.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The studies pooled, as R's meta prints them: label, the data as written (events and total,
/// the two groups' counts, HR and CI, or yi and vi/se), the study's estimate and CI on the
/// natural scale (yᵢ ± z·√vᵢ back-transformed, metafor's `summary(escalc(...), transf = ...)`)
/// and its percentage weight in the fitted model (metafor's `weights(fit)`), all read from the
/// typed ``ForestPlot`` of the fit.
enum StudyListing {
    static func render(_ plot: ForestPlot, model: String) -> String {
        let studies = plot.rows.compactMap { row -> ForestPlot.Study? in if case .study(let s) = row { s } else { nil } }
        guard let first = studies.first else { return "" }
        let inputs = first.inputs.map(\.0)
        let percent = plot.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)
        var table = TextTable([.label("study")] + inputs.map(TextTable.Column.number)
                              + [.number(plot.measure.naturalScaleName), .number("ci.lb"), .number("ci.ub"), .number("weight")])
        for s in studies {
            let data = inputs.map { name in s.inputs.first { $0.0 == name }?.1 ?? "-" }
            table.append([s.label] + data + [SummaryTable.f(s.estimate), SummaryTable.f(s.ciLower), SummaryTable.f(s.ciUpper),
                                             s.weight.map { String(format: "%.2f%%", $0) } ?? "-"])
        }
        return "Studies (\(lvl)% CI on the \(plot.measure.naturalScaleName) scale; weights in the \(model)):\n\n" + table.render() + "\n"
    }
}

enum SummaryTable {
    static func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

    /// metafor's style: p < .0001 below 1e-4, four decimals otherwise.
    static func p(_ x: Double) -> String { x < 1e-4 ? "<.0001" : String(format: "%.4f", x) }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    static func render(_ s: PoolSummary, analysis: MetaAnalysis, studies: ForestPlot? = nil) -> String {
        let percent = s.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)
        var out = ""
        let measure = analysis.effects.measure
        if let tau2 = s.tau2 {
            out += "Random-effects model (k = \(s.k); tau^2 estimator: \(s.method))\n"
            out += "Measure: \(s.measure) (\(measure.analysisScaleName)); CI: \(s.ciMethod), \(lvl)%\n\n"
            if let studies { out += StudyListing.render(studies, model: "random-effects model") }
            let ci = { (lo: Double?, hi: Double?, d: Int) -> String in
                guard let lo, let hi else { return "" }
                if s.tau2CINote != nil { return " [empty set]" }
                return " [\(f(lo, d)), \(f(hi, d))]"
            }
            out += "tau^2 = \(f(tau2))\(ci(s.tau2CILower, s.tau2CIUpper, 4))   (\(lvl)% CI by Q-profile)\n"
            out += "tau   = \(f(tau2.squareRoot()))\(ci(s.tau2CILower.map { $0.squareRoot() }, s.tau2CIUpper.map { $0.squareRoot() }, 4))\n"
            if let i2 = s.i2 { out += "I^2   = \(f(i2, 2))%\(ci(s.i2CILower, s.i2CIUpper, 2))\n" }
            if let h2 = s.h2 { out += "H^2   = \(f(h2, 2))\(ci(s.h2CILower, s.h2CIUpper, 2))\n" }
            if s.tau2CINote != nil { out += "(Both bounds of the tau^2 CI fall below 0: the CIs are the empty set, as metafor's confint() says.)\n" }
            out += "\n"
        } else {
            out += "Fixed-effect model (k = \(s.k))\n"
            out += "Measure: \(s.measure) (\(measure.analysisScaleName)); CI: \(s.ciMethod), \(lvl)%\n\n"
            if let studies { out += StudyListing.render(studies, model: "fixed-effect model") }
            // The Q-based I² and H² of a common-effect model (Higgins & Thompson 2002), as metafor prints them.
            if let i2 = s.i2 { out += "I^2 (total heterogeneity / total variability):  \(f(i2, 2))%\n" }
            if let h2 = s.h2 { out += "H^2 (total variability / sampling variability): \(f(h2, 2))\n\n" }
        }
        out += "Test for heterogeneity: Q(df = \(s.qDF)) = \(f(s.q)), p \(s.qPValue < 1e-4 ? "< .0001" : "= " + p(s.qPValue))\n\n"
        let stat = s.df == nil ? "zval" : "tval"
        let header = ["estimate", "se", stat] + (s.df != nil ? ["df"] : []) + ["pval", "ci.lb", "ci.ub"]
        var values = [f(s.estimate), f(s.se), f(s.statistic)]
        if let df = s.df { values.append("\(df)") }
        values += [p(s.pValue), f(s.ciLower), f(s.ciUpper)]
        var results = TextTable(header.map(TextTable.Column.number), indent: 2)
        results.append(values)
        out += "Model results:\n\n" + results.render() + "\n"
        if let lo = s.piLower, let hi = s.piUpper {
            out += "Prediction interval (\(lvl)%): [\(f(lo)), \(f(hi))]\n\n"
        }
        if measure.backTransform != .identity {
            let b = s.backTransformed
            out += "On the \(measure.naturalScaleName) scale: \(f(b.estimate)) [\(f(b.ciLower)), \(f(b.ciUpper))]"
            if let lo = b.piLower, let hi = b.piUpper { out += "; prediction interval [\(f(lo)), \(f(hi))]" }
            out += "\n"
        }
        return out
    }
}

enum SubgroupTable {
    /// The subgroup table's layout, shared by both subgroup renderers: one row per subgroup
    /// (k, estimate, CI, τ², I², natural scale) and the overall model, as a ``TextTable``.
    struct SubgroupRows {
        var table = TextTable([.label("subgroup"), .number("k"), .number("estimate"), .number("ci.lb"), .number("ci.ub"),
                               .number("tau^2"), .number("I^2"), .label("natural scale [CI]")])

        mutating func append(_ label: String, k: Int, estimate: Double, ci: Interval, tau2: Double?, i2: Double?,
                             back: (Double) -> Double) {
            func f(_ x: Double) -> String { SummaryTable.f(x) }
            let bt = "\(f(back(estimate))) [\(f(back(ci.lower))), \(f(back(ci.upper)))]"
            table.append([label, String(k), f(estimate), f(ci.lower), f(ci.upper), tau2.map { f($0) } ?? "-",
                          i2.map { String(format: "%.1f%%", $0) } ?? "-", bt])
        }
    }

    /// Subgroups fitted with MH, Peto or the GLMM: one line per subgroup, the overall fit and the
    /// Wald test between the subgroup estimates.
    static func render(_ s: SubgroupFits) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x.isNaN ? "p = NA" : x < 1e-4 ? "p < .0001" : "p = " + SummaryTable.p(x) }
        let percent = s.specification.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)
        var out = "Subgroups by \(s.column) (\(s.overall.modelName); CI: wald, \(lvl)%; measure \(s.overall.measure.rawValue))\n\n"
        var rows = SubgroupRows()
        func line(_ label: String, _ fit: any FittedModel) {
            let het = fit.heterogeneity
            rows.append(label, k: fit.studies.effects.count, estimate: fit.estimate, ci: fit.confidenceInterval,
                        tau2: het.tauSquared, i2: het.degreesOfFreedom > 0 ? het.iSquared : nil, back: fit.backTransform)
        }
        for g in s.groups { line(g.label, g.fit) }
        line("overall", s.overall)
        out += rows.table.render()
        out += "\nTest for subgroup differences (Wald, subgroup estimates): Q(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(p(s.qBetweenPValue))\n"
        return out
    }

    /// One line per subgroup (k, estimate, CI, τ², I²), the overall model and the test for
    /// subgroup differences, like the subgroup block of R meta's `print`.
    static func render(_ s: SubgroupAnalysis) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        /// "p = 0.0347" or "p < .0001", as metafor prints it.
        func p(_ x: Double) -> String { x.isNaN ? "p = NA" : x < 1e-4 ? "p < .0001" : "p = " + SummaryTable.p(x) }
        let overall = s.overall
        let percent = (overall.level * 100)
        let lvl = percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)
        var out = "Subgroups by \(s.column) (\(overall.method.rawValue); CI: \(overall.ciMethod.rawValue), \(lvl)%; measure \(overall.effects.measure.rawValue))\n\n"
        var rows = SubgroupRows()
        for g in s.subgroups {
            rows.append(g.label, k: g.count, estimate: g.estimate, ci: g.confidenceInterval, tau2: g.tauSquared,
                        i2: g.count > 1 ? g.iSquared : nil, back: g.backTransform)
        }
        rows.append("overall", k: overall.count, estimate: overall.estimate, ci: overall.confidenceInterval,
                    tau2: overall.tauSquared, i2: overall.iSquared, back: overall.backTransform)
        out += rows.table.render()
        // A subgroup fitted differently from the others is named (the JSON's `model`).
        for (i, g) in s.subgroups.filter(\.isSingleStudy).enumerated() {
            out += (i == 0 ? "\n" : "") + "Note: \(g.label) has one study, reported as that study (fixed effect, Wald CI).\n"
        }
        let pText = p(s.qBetweenPValue)
        if let model = s.commonModel {
            let tau2 = model.tauSquared.map { "tau^2 = \(f($0))" } ?? "fixed effect"
            let i2 = model.iSquared.map { String(format: ", I^2 = %.2f%%", $0) } ?? ""
            out += "\nCommon tau^2 across subgroups (mixed-effects model, subgroup as a factor): \(tau2)\(i2)\n"
            out += "Residual heterogeneity: QE(df = \(model.residualQDegreesOfFreedom)) = \(f(model.residualQ)), \(p(model.residualQPValue))\n"
            if let df2 = s.qBetweenDenominatorDegreesOfFreedom {
                out += "Test for subgroup differences: F(df1 = \(s.qBetweenDegreesOfFreedom), df2 = \(df2)) = \(f(s.qBetween)), \(pText)\n"
            } else {
                out += "Test for subgroup differences: QM(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(pText)\n"
            }
        } else {
            out += "\nTest for subgroup differences: Q(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(pText)\n"
        }
        return out
    }
}

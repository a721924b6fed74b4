// `pool --by G --common-tau2 --method GLMM`: the table and CSV outputs (the JSON goes through
// `RecordedAnalysis`).

import MetaPool

extension PoolCommand {
    func runGLMMCommonTau(_ column: String) throws {
        if let measure = model.measure, measure != .logitProportion {
            throw fail(MetaPoolError(.invalidArgument, "--common-tau2 with --method GLMM fits events/total (PLO) with the subgroup as a factor; --measure \(measure.rawValue) is not available (the odds-ratio GLMM fits each subgroup on its own: drop --common-tau2)"))
        }
        let groups = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> SubgroupGLMMCommonTau in
            let table = try model.table(by: column)
            return try ProgressReporter.whileRunning("pool", "fitting the GLMM") { () throws(MetaPoolError) in
                try SubgroupGLMMCommonTau(table: table, by: column, quadraturePoints: model.quadraturePoints, level: model.level)
            }
        }
        switch format {
        case .table: print(Self.render(groups), terminator: "")
        case .json: print(try reportingErrors(file: model.file) { () throws(MetaPoolError) in try groups.summary() }.serialized())
        case .csv:
            var out = "subgroup,k,estimate,se,ci_lower,ci_upper,tau2,i2\n"
            for g in groups.subgroups {
                let e = g.pooled
                let fields = [String(g.count), "\(e.estimate)", "\(e.standardError)", "\(e.confidenceInterval.lower)",
                              "\(e.confidenceInterval.upper)", "\(groups.model.tauSquared)", ""]
                out += StudyCSV.quote(g.label) + "," + fields.joined(separator: ",") + "\n"
            }
            print(out, terminator: "")
        }
    }

    /// One line per subgroup (its cell mean in the factor model), the overall GLMM, the common τ²
    /// and the Wald test QM of the subgroup factor, as for the inverse-variance common τ².
    static func render(_ s: SubgroupGLMMCommonTau) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x.isNaN ? "p = NA" : x < 1e-4 ? "p < .0001" : "p = " + SummaryTable.p(x) }
        let m = s.model
        let percent = m.level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        var out = "Subgroups by \(SafeText.terminal(s.column)) (GLMM, \(m.quadraturePoints == 1 ? "Laplace" : "\(m.quadraturePoints)-point AGHQ"), common tau^2; CI: wald, \(lvl)%; measure PLO)\n\n"
        var rows = SubgroupTable.SubgroupRows()
        for g in s.subgroups {
            rows.append(g.label, k: g.count, estimate: g.pooled.estimate, ci: g.pooled.confidenceInterval, tau2: m.tauSquared, i2: nil,
                        back: { BackTransform.inverseLogit.apply($0) })
        }
        let o = s.overall
        rows.append("overall", k: o.count, estimate: o.estimate, ci: o.confidenceInterval, tau2: o.tauSquared, i2: o.iSquared,
                    back: { BackTransform.inverseLogit.apply($0) })
        out += rows.table.render()
        out += "\nCommon tau^2 across subgroups (GLMM, subgroup as a factor): tau^2 = \(f(m.tauSquared)), I^2 = \(SummaryTable.f(m.iSquared, 2))%\n"
        out += "Residual heterogeneity: Wld(df = \(m.waldTest.degreesOfFreedom)) = \(f(m.waldTest.statistic)), \(p(m.waldTest.pValue)); "
        out += "LRT(df = \(m.likelihoodRatioTest.degreesOfFreedom)) = \(f(m.likelihoodRatioTest.statistic)), \(p(m.likelihoodRatioTest.pValue))\n"
        out += "Test for subgroup differences: QM(df = \(s.qBetweenDegreesOfFreedom)) = \(f(s.qBetween)), \(p(s.qBetweenPValue))\n"
        return out
    }
}

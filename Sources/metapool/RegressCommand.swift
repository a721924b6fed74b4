// `metapool regress`: mixed-effects meta-regression on moderator columns, with a permutation test.

import ArgumentParser
import MetaPool

struct RegressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regress",
        abstract: "Meta-regression: the effect sizes on moderator columns (numeric, or text as factors), as metafor's rma(yi, vi, mods = ...).",
        discussion: """
        Mixed-effects model with any tau^2 estimator (REML by default); FE for a fixed-effects \
        model; GLMM for events/total: the binomial-normal model with moderators, as \
        rma.glmm(measure = "PLO", mods = ...), with metafor's Wald and LRT tests for residual heterogeneity. Coefficients with SE, z (or t) test, p and CI; the omnibus test of moderators QM \
        (chi-squared, or F with --ci t/hksj/hksj-adhoc); residual heterogeneity QE; R^2. \
        --permutations N adds metafor's permutest(): exact over every distinct permutation when \
        there are at most N, else N random ones (--seed). \
        --cluster COLUMN fits the three-level meta-regression (rows as cohorts within clusters, REML \
        or ML), as rma.mv(yi, vi, mods = ..., random = ~ 1 | cluster/cohort): both variance components \
        with profile-likelihood CIs and the LRT against the two-level model; --robust adds \
        cluster-robust tests of every coefficient (CR2 with Satterthwaite df, or --robust-type CR1).
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Moderator columns, comma separated (repeatable). Numeric columns enter as they are; text columns as factors (first level in sorted order is the reference).", valueName: "col[,col...]"))
    var mods: [String] = []

    @Option(help: ArgumentHelp("Permutation test with up to N permutations, 100 to 1,000,000 (exact when there are no more distinct ones).", valueName: "n"))
    var permutations: Int?

    /// The permutation counts accepted: below 100 the smallest attainable p-value, 1/N, is above
    /// 0.01 (and N = 1 gives p = 1 whatever the data); above 10⁶ a run takes hours for p-values
    /// no more precise than ±0.001 (the Monte Carlo standard error √(p(1 − p)/N)).
    static let permutationRange = 100...1_000_000

    @Option(name: .customLong("seed"), help: ArgumentHelp("Seed of the random permutations (default 1).", valueName: "n"))
    var seedArgument: UInt64?

    /// `--seed`, 1 when not given.
    var seed: UInt64 { seedArgument ?? 1 }

    @Option(help: ArgumentHelp("Output: table (for people) or json.", valueName: "format"))
    var format: ReportFormat = .table

    var moderatorColumns: [String] {
        mods.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace() } }.filter { !$0.isEmpty }
    }

    func validate() throws {
        guard !moderatorColumns.isEmpty else { throw ValidationError("give at least one moderator: --mods COLUMN[,COLUMN...]") }
        if let permutations, !Self.permutationRange.contains(permutations) {
            throw ValidationError(permutations < Self.permutationRange.lowerBound
                ? "--permutations must be at least \(Self.permutationRange.lowerBound): with N permutations the smallest p-value is 1/N, so fewer cannot show significance (exact enumeration is used anyway when there are fewer distinct permutations); got \(permutations)"
                : "--permutations must be at most 1,000,000 (each one refits the model; a million already gives p-values to ±0.001); got \(permutations)")
        }
        if seedArgument != nil && permutations == nil { warn("--seed sets the random permutations of --permutations; it has no effect without it (ignored)") }
        if model.cluster != nil {
            if let message = Self.threeLevelRefusal(pooling: model.pooling, ciMethod: model.ciMethod, permutations: permutations) {
                throw ValidationError(message)
            }
        } else if model.pooling.isGLMM {
            if let message = Self.glmmRefusal(measure: model.measure, permutations: permutations) { throw ValidationError(message) }
        } else {
            try model.requireInverseVariance("regress")
        }
    }

    func run() throws {
        if let column = model.cluster { return try runThreeLevel(clusterColumn: column.trimmingWhitespace()) }
        if model.pooling.isGLMM { return try runGLMM() }
        let result = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (MetaRegression, Double?, PermutationTest?, EffectSizes) in
            let table = try model.table(comparing: moderatorColumns)
            let effects = try EffectSizes(table: table, measure: model.measure, options: model.effectSizeOptions)
            let design = try ModeratorDesign(table: table, moderators: moderatorColumns)
            let fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design.matrix, predictors: design.predictors,
                                         method: model.method, ciMethod: model.ciMethod, level: model.level)
            let r2 = try fit.rSquared()
            var perm: PermutationTest?
            if let permutations {
                let progress = ProgressReporter(task: "regress", unit: "permutations", total: nil)
                defer { progress.finish() }
                perm = try PermutationTest(fit, iterations: permutations, seed: seed) { done, total in
                    progress.update(done, total: total)
                }
            }
            return (fit, r2, perm, effects)
        }
        let (fit, r2, perm, effects) = result
        switch format {
        case .json: print(Self.json(fit, r2: r2, permutation: perm, measure: effects.measure).serialized())
        default: print(Self.table(fit, r2: r2, permutation: perm, measure: effects.measure), terminator: "")
        }
    }

    static func json(_ m: MetaRegression, r2: Double?, permutation: PermutationTest?, measure: EffectMeasure) -> JSONValue {
        func n(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        var coefficients: [JSONValue] = []
        for j in m.predictors.indices {
            var c: [(String, JSONValue)] = [("name", .string(m.predictors[j])), ("estimate", n(m.coefficients[j])), ("se", n(m.standardErrors[j])),
                                            ("statistic", n(m.statistics[j])), ("p_value", n(m.pValues[j])),
                                            ("ci_lower", n(m.confidenceIntervals[j].lower)), ("ci_upper", n(m.confidenceIntervals[j].upper))]
            if let perm = permutation { c.append(("permutation_p_value", n(perm.coefficientPValues[j]))) }
            coefficients.append(.object(c))
        }
        var out: [(String, JSONValue)] = [
            ("measure", .string(measure.rawValue)), ("method", .string(m.method.rawValue)), ("ci_method", .string(m.ciMethod.rawValue)),
            ("level", .number(m.level)), ("k", .integer(m.count)), ("p", .integer(m.predictors.count)),
            ("coefficients", .array(coefficients)),
        ]
        if let df = m.degreesOfFreedom { out.append(("df", .integer(df))) }
        if let tau2 = m.tauSquared { out += [("tau2", n(tau2)), ("tau", n(tau2.squareRoot())), ("i2", n(m.iSquared)), ("h2", n(m.hSquared)), ("r2", n(r2))] }
        out += [("qe", n(m.residualQ)), ("qe_df", .integer(m.residualQDegreesOfFreedom)), ("qe_p_value", n(m.residualQPValue))]
        if let t = m.moderatorTest {
            out += [("qm", n(t.statistic)), ("qm_df", .integer(t.degreesOfFreedom)),
                    ("qm_df2", t.denominatorDegreesOfFreedom.map { .integer($0) } ?? .null), ("qm_p_value", n(t.pValue))]
        }
        if let perm = permutation {
            out.append(("permutation", .object([("exact", .bool(perm.exact)), ("permutations", .integer(perm.permutations)),
                                                ("failures", .integer(perm.failures)), ("qm_p_value", n(perm.moderatorPValue))])))
        }
        return .object(out)
    }

    static func table(_ m: MetaRegression, r2: Double?, permutation: PermutationTest?, measure: EffectMeasure) -> String {
        func f(_ x: Double) -> String { SummaryTable.f(x) }
        func p(_ x: Double) -> String { x < 1e-4 ? "<.0001" : SummaryTable.p(x) }
        var out = m.isRandomEffects ? "Mixed-effects model (k = \(m.count); tau^2 estimator: \(m.method.rawValue))\n"
                                    : "Fixed-effects with moderators model (k = \(m.count))\n"
        out += "Measure: \(measure.rawValue); CI: \(m.ciMethod.rawValue), \(SVGLevel.text(m.level))\n\n"
        if let tau2 = m.tauSquared {
            out += "tau^2 (estimated amount of residual heterogeneity):     \(f(tau2))\n"
            out += "tau (square root of estimated tau^2 value):             \(f(tau2.squareRoot()))\n"
            out += "I^2 (residual heterogeneity / unaccounted variability): \(SummaryTable.f(m.iSquared ?? .nan, 2))%\n"
            out += "H^2 (unaccounted variability / sampling variability):   \(SummaryTable.f(m.hSquared ?? .nan, 2))\n"
            out += "R^2 (amount of heterogeneity accounted for):            \(r2.map { SummaryTable.f($0, 2) + "%" } ?? "NA")\n\n"
        }
        out += "Test for Residual Heterogeneity:\nQE(df = \(m.residualQDegreesOfFreedom)) = \(f(m.residualQ)), p-val \(m.residualQPValue < 1e-4 ? "< .0001" : "= " + p(m.residualQPValue))\n\n"
        if let t = m.moderatorTest {
            let which = t.coefficients.map { String($0 + 1) }.joined(separator: ",")
            let stat = t.denominatorDegreesOfFreedom.map { "F(df1 = \(t.degreesOfFreedom), df2 = \($0))" } ?? "QM(df = \(t.degreesOfFreedom))"
            out += "Test of Moderators (coefficients \(which)):\n\(stat) = \(f(t.statistic)), p-val \(t.pValue < 1e-4 ? "< .0001" : "= " + p(t.pValue))"
            if let perm = permutation, let pp = perm.moderatorPValue {
                out += ", permutation p-val = \(p(pp)) (\(perm.exact ? "exact, " : "")\(perm.permutations) permutations)"
            }
            out += "\n\n"
        }
        out += "Model Results:\n\n"
        let stat = m.degreesOfFreedom == nil ? "zval" : "tval"
        var table = TextTable([.label("coefficient")] + ["estimate", "se", stat, "pval", "ci.lb", "ci.ub"].map(TextTable.Column.number)
                              + (permutation != nil ? [.number("perm.pval")] : []))
        for j in m.predictors.indices {
            var cells = [m.predictors[j], f(m.coefficients[j]), f(m.standardErrors[j]), f(m.statistics[j]), p(m.pValues[j]),
                         f(m.confidenceIntervals[j].lower), f(m.confidenceIntervals[j].upper)]
            if let perm = permutation { cells.append(p(perm.coefficientPValues[j])) }
            table.append(cells)
        }
        out += table.render()
        return out
    }
}

enum SVGLevel {
    static func text(_ level: Double) -> String {
        let percent = level * 100
        return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
    }
}

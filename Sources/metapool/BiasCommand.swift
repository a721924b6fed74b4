// `metapool bias`: small-study effects — Egger's regression tests, Begg's rank correlation,
// Peters' test for two-group data, and trim-and-fill.

import ArgumentParser
import MetaPool

extension TrimAndFill.Estimator: CaseInsensitiveArgument {}
extension TrimAndFill.Side: CaseInsensitiveArgument {}

struct BiasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bias",
        abstract: "Small-study effects: Egger's tests, Begg's rank correlation, Peters' test and trim-and-fill, as metafor's regtest(), ranktest() and trimfill().",
        discussion: """
        Egger: metafor's regtest() default (mixed-effects meta-regression on the standard error, \
        the model's tau^2 estimator and test) and the classic weighted regression (model "lm"). \
        Begg & Mazumdar: Kendall's tau between standardized effects and variances (exact p \
        without ties). Peters: regression on 1/n, for two-group counts. Trim-and-fill: L0 or R0, \
        the side chosen from the sign of the Egger slope unless --side is given. Each test needs \
        at least 3 studies.
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Trim-and-fill estimator: L0 or R0.", valueName: "estimator"))
    var estimator: TrimAndFill.Estimator = .l0

    @Option(help: ArgumentHelp("Trim-and-fill side (left or right); default: chosen as metafor chooses it.", valueName: "side"))
    var side: TrimAndFill.Side?

    @Option(help: ArgumentHelp("Output: table (for people) or json.", valueName: "format"))
    var format: ReportFormat = .table

    func validate() throws {
        try model.refuseCluster("bias")
        try model.requireInverseVariance("bias")
    }

    /// The tests, fitted once; the JSON and the table are both rendered from these values.
    struct Results {
        let k: Int
        let egger: EggerTest
        let classic: EggerTest
        let peters: EggerTest?
        let rank: RankCorrelationTest
        let fill: TrimAndFill
    }

    func run() throws {
        let (results, json) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (Results, JSONValue) in
            let table = try model.table()
            let effects = try EffectSizes(table: table, measure: model.measure, options: model.effectSizeOptions)
            let egger = try EggerTest(effects, model: .metaRegression, predictor: .standardError, method: model.method,
                                      ciMethod: model.ciMethod, level: model.level)
            let classic = try EggerTest(effects, model: .weightedRegression, predictor: .standardError, level: model.level)
            let rank = try RankCorrelationTest(effects)
            var members: [(String, JSONValue)] = [
                ("measure", .string(effects.measure.rawValue)), ("method", .string(model.method.rawValue)),
                ("ci_method", .string(model.ciMethod.rawValue)), ("level", .number(model.level)), ("k", .integer(effects.count)),
                ("egger", try egger.summary()), ("egger_classic", try classic.summary()), ("rank_correlation", try rank.summary()),
            ]
            var peters: EggerTest?
            if effects.measure.family == .twoGroup {
                let test = try EggerTest.peters(effects, level: model.level)
                members.append(("peters", try test.summary()))
                peters = test
            }
            let fill = try TrimAndFill(effects, estimator: estimator, side: side, method: model.method,
                                       ciMethod: model.ciMethod, level: model.level)
            members.append(("trim_and_fill", try fill.summary()))
            return (Results(k: effects.count, egger: egger, classic: classic, peters: peters, rank: rank, fill: fill), .object(members))
        }
        if format == .json {
            print(json.serialized())
        } else {
            print(Self.table(results), terminator: "")
        }
    }

    /// A readable summary, one block per test, from the typed results.
    static func table(_ r: Results) -> String {
        func f(_ x: Double?) -> String { x.map { SummaryTable.f($0) } ?? "NA" }
        func p(_ x: Double?) -> String { x.map { $0 < 1e-4 ? "< .0001" : "= " + SummaryTable.p($0) } ?? "= NA" }
        var out = "Small-study effects (k = \(r.k))\n\n"
        // One row per test: the statistic (z or t for the regression tests, Kendall's tau for
        // the rank correlation), its df, p-value and the limit estimate as sei -> 0 with its CI.
        var table = TextTable([.label("test"), .label("statistic"), .number("value"), .number("df"), .number("pval"),
                               .number("limit"), .number("ci.lb"), .number("ci.ub")])
        let tests: [(EggerTest?, String)] = [
            (r.egger, "Egger: mixed-effects meta-regression on sei (regtest default)"),
            (r.classic, "Egger: classic weighted regression (regtest model = \"lm\")"),
            (r.peters, "Peters: regression on 1/n"),
        ]
        func pval(_ x: Double?) -> String { x.map { $0 < 1e-4 ? "<.0001" : SummaryTable.p($0) } ?? "NA" }
        for case let (t?, title) in tests {
            table.append([title, t.degreesOfFreedom == nil ? "z" : "t", f(t.statistic), t.degreesOfFreedom.map(String.init) ?? "-",
                          pval(t.pValue), t.limitEstimate.map { f($0) } ?? "-", t.limitConfidenceInterval.map { f($0.lower) } ?? "-",
                          t.limitConfidenceInterval.map { f($0.upper) } ?? "-"])
        }
        table.append(["Begg & Mazumdar rank correlation (ranktest)", "Kendall's tau", f(r.rank.tau), "-", pval(r.rank.pValue), "-", "-", "-"])
        out += table.render() + "\n"
        let fill = r.fill
        out += "Trim-and-fill (\(fill.estimator.rawValue)): estimated missing studies on the \(fill.side.rawValue) side: \(fill.missingStudies) (SE = \(f(fill.missingStudiesStandardError)))\n"
        out += "  adjusted estimate: \(f(fill.estimate)) [\(f(fill.confidenceInterval.lower)), \(f(fill.confidenceInterval.upper))], tau^2 = \(f(fill.tauSquared))\n"
        let back = fill.fit
        func n(_ x: Double) -> String { SummaryTable.natural(back.backTransform(x), of: x) }
        out += "  on the natural scale: \(n(fill.estimate)) [\(n(fill.confidenceInterval.lower)), \(n(fill.confidenceInterval.upper))]\n"
        return out
    }
}

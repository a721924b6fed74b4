// `metapool bias`: small-study effects — Egger's regression tests, Begg's rank correlation,
// Peters' test for two-group data, and trim-and-fill.

import ArgumentParser
import Foundation
import MetaPool

extension TrimAndFill.Estimator: ExpressibleByArgument {}
extension TrimAndFill.Side: ExpressibleByArgument {}

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
        try model.requireInverseVariance("bias")
    }

    func run() throws {
        let json = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> JSONValue in
            let table = try DataTable.read(path: model.file).selecting(model.rowConditions)
            let effects = try EffectSizes(table: table, measure: model.measure)
            let egger = try EggerTest(effects, model: .metaRegression, predictor: .standardError, method: model.method,
                                      ciMethod: model.ciMethod, level: model.level)
            let classic = try EggerTest(effects, model: .weightedRegression, predictor: .standardError, level: model.level)
            let rank = try RankCorrelationTest(effects)
            var members: [(String, JSONValue)] = [
                ("measure", .string(effects.measure.rawValue)), ("method", .string(model.method.rawValue)),
                ("ci_method", .string(model.ciMethod.rawValue)), ("level", .number(model.level)), ("k", .integer(effects.count)),
                ("egger", try egger.summary()), ("egger_classic", try classic.summary()), ("rank_correlation", try rank.summary()),
            ]
            if effects.measure.family == .twoGroup {
                let peters = try EggerTest.peters(effects, sampleSizes: try table.totalSampleSizes(), level: model.level)
                members.append(("peters", try peters.summary()))
            }
            let fill = try TrimAndFill(effects, estimator: estimator, side: side, method: model.method,
                                       ciMethod: model.ciMethod, level: model.level)
            members.append(("trim_and_fill", try fill.summary()))
            return .object(members)
        }
        if format == .json {
            print(json.serialized())
        } else {
            print(Self.table(json), terminator: "")
        }
    }

    /// A readable summary of the JSON (one block per test).
    static func table(_ json: JSONValue) -> String {
        func member(_ v: JSONValue?, _ key: String) -> JSONValue? {
            if case .object(let m)? = v { return m.first { $0.0 == key }?.1 }
            return nil
        }
        func number(_ v: JSONValue?, _ key: String) -> Double? {
            switch member(v, key) {
            case .number(let d)?: d
            case .integer(let i)?: Double(i)
            default: nil
            }
        }
        func f(_ x: Double?) -> String { x.map { SummaryTable.f($0) } ?? "NA" }
        func p(_ x: Double?) -> String { x.map { $0 < 1e-4 ? "< .0001" : "= " + SummaryTable.p($0) } ?? "= NA" }
        var out = ""
        if let k = number(json, "k") { out += "Small-study effects (k = \(Int(k)))\n\n" }
        for (key, title) in [("egger", "Egger's regression test (mixed-effects meta-regression on the standard error; metafor regtest default)"),
                             ("egger_classic", "Egger's test, classic weighted regression (Egger et al. 1997; regtest model = \"lm\")"),
                             ("peters", "Peters' test (regression on 1/n)")] {
            guard let t = member(json, key) else { continue }
            let df = number(t, "df").map { "t(df = \(Int($0)))" } ?? "z"
            out += "\(title):\n  test for funnel plot asymmetry: \(df) = \(f(number(t, "statistic"))), p \(p(number(t, "p_value")))\n"
            if let limit = number(t, "limit_estimate") {
                out += "  limit estimate (as sei -> 0): \(f(limit)) [\(f(number(t, "limit_ci_lower"))), \(f(number(t, "limit_ci_upper")))]\n"
            }
            out += "\n"
        }
        if let r = member(json, "rank_correlation") {
            out += "Rank correlation test (Begg & Mazumdar 1994):\n  Kendall's tau = \(f(number(r, "tau"))), p \(p(number(r, "p_value")))\n\n"
        }
        if let t = member(json, "trim_and_fill") {
            var side = ""
            if case .string(let s)? = member(t, "side") { side = s }
            var estimator = ""
            if case .string(let s)? = member(t, "estimator") { estimator = s }
            let k0 = number(t, "k0").map { String(Int($0)) } ?? "NA"
            out += "Trim-and-fill (\(estimator)): estimated missing studies on the \(side) side: \(k0) (SE = \(f(number(t, "se_k0"))))\n"
            out += "  adjusted estimate: \(f(number(t, "estimate"))) [\(f(number(t, "ci_lower"))), \(f(number(t, "ci_upper")))], tau^2 = \(f(number(t, "tau2")))\n"
            if let back = member(t, "back_transformed") {
                out += "  on the natural scale: \(f(number(back, "estimate"))) [\(f(number(back, "ci_lower"))), \(f(number(back, "ci_upper")))]\n"
            }
        }
        return out
    }
}

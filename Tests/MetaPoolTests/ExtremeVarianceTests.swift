// Extreme ratios of sampling variances against metafor 3.8-1, on every path that fits τ²: the
// intercept-only model (MetaAnalysis, and MetaRegression with an intercept-only design), the
// meta-regression on a numeric moderator, subgroups with a common τ² (the factor model, its
// cell-means form and SubgroupAnalysis(commonTauSquared:)) and Egger's regression test (rma and lm).
// Every τ² estimator and the z, t and knha tests.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/extreme/NAME.json, written by
// `Rscript Tests/Reference/generate_extreme_variance.R` (which documents the datasets). Tolerances:
// relative 1e-6, p-values 1e-4, absolute floor 1e-10. Cases where metafor gave rounding noise
// ("metafor_unreliable") or failed ("error") are not compared, and what MetaPool gives there is
// printed; except where metafor, started from τ² = 0 instead, converged ("expected_with_retry_control":
// d1's Egger REML and ML, on which metafor's own start makes it loop forever): those are compared.
// Where metafor's own QE, I², H² (and so DL, HS and HE τ²) lose accuracy to cancellation in
// P = W − WX(XᵀWX)⁻¹XᵀW, the fixture carries "expected_accurate" (the generator explains how it is
// formed and checked) and the case is compared with that. Cases with "better_optimum" (metafor's ML
// stayed on the τ² = 0 boundary although the likelihood is higher elsewhere) are compared with
// metafor's reported value all the same.
//
// Independently of metafor: MetaRegression with an intercept-only design must give MetaAnalysis's
// τ² (relative 1e-8) for every estimator.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ExtremeVarianceFixture: Decodable {
    struct Input: Decodable {
        var yi: [Double]
        var vi: [Double]
        var x: [Double]?
        var g: [String]?
        var levels: [String]?
    }
    struct Coefficient: Decodable {
        var name: String
        var estimate, se, statistic, p_value, ci_lower, ci_upper: Double?
    }
    struct Group: Decodable {
        var subgroup: String
        var k: Int
        var estimate, se, ci_lower, ci_upper, statistic, p_value: Double?
        var pi_lower, pi_upper: Double?
    }
    /// One class for the model values (single, regression, subgroups and their `means`) and for
    /// Egger's test (with its `fit`): every key optional.
    final class Expected: Decodable {
        var k, p: Int?
        var tau2: Double?
        var coefficients: [Coefficient]?
        var df: Int?
        var qe: Double?
        var qe_df: Int?
        var qe_p_value, qm: Double?
        var qm_df, qm_df2: Int?
        var qm_p_value, i2, h2, pi_lower, pi_upper: Double?
        var subgroups: [Group]?
        var tau2_means: Double?
        var means: Expected?
        // Egger
        var statistic, p_value, slope, slope_se, limit_estimate, limit_se, limit_ci_lower, limit_ci_upper: Double?
        var fit: Expected?
    }
    struct Change: Decodable {
        var fit: String?
        var key: String
        var metafor, accurate: Double?
    }
    struct BetterOptimum: Decodable {
        var reported_tau2, tau2, loglik, reported_loglik: Double
    }
    struct Case: Decodable {
        var analysis, method, ci_method, test: String
        var model, predictor, mods, note, error, metafor_unreliable: String?
        var warnings: [String]?
        var expected: Expected?
        var expected_accurate: Expected?
        var expected_with_retry_control: Expected?
        var metafor_inaccurate: [Change]?
        var better_optimum: BetterOptimum?

        /// The values to compare with: the accurate ones where metafor's lose accuracy, metafor's from
        /// τ² = 0 where its own start failed; `nil` when there is nothing to compare with.
        var reference: Expected? {
            if metafor_unreliable != nil { return nil }
            return expected_accurate ?? expected ?? expected_with_retry_control
        }
    }
    var dataset: String
    var description: String
    var metafor_version: String
    var data: Input
    var cases: [Case]

    static let directory = FixtureFolder.url("extreme")
    static func names() -> [String] { FixtureFolder.names(in: directory, suffix: ".json") }
    static func load(_ name: String) throws -> ExtremeVarianceFixture {
        try JSONDecoder().decode(ExtremeVarianceFixture.self, from: Data(contentsOf: directory.appendingPathComponent(name + ".json")))
    }
}

/// Collects the differences of one case, so that a failing case is one issue listing all of them.
struct Mismatches {
    var lines: [String] = []

    static func close(_ a: Double, _ e: Double, relative: Double, absolute: Double) -> Bool {
        a == e || abs(a - e) <= max(absolute, relative * abs(e))
    }

    mutating func number(_ label: String, _ got: Double?, _ want: Double?, relative: Double = 1e-6, absolute: Double = 1e-10) {
        switch (got, want) {
        case (nil, nil): return
        case let (g?, w?):
            if Self.close(g, w, relative: relative, absolute: absolute) { return }
            let rel = w == 0 ? Double.infinity : abs(g - w) / abs(w)
            lines.append("\(label): \(g) vs metafor \(w) (rel \(String(format: "%.3g", rel)))")
        case let (g, w):
            lines.append("\(label): \(g.map { "\($0)" } ?? "nil") vs metafor \(w.map { "\($0)" } ?? "nil")")
        }
    }

    mutating func p(_ label: String, _ got: Double?, _ want: Double?) { number(label, got, want, relative: 1e-4) }

    mutating func integer(_ label: String, _ got: Int?, _ want: Int?) {
        if got != want { lines.append("\(label): \(got.map { "\($0)" } ?? "nil") vs metafor \(want.map { "\($0)" } ?? "nil")") }
    }

    /// Every recorded value of an rma() fit against a MetaRegression.
    mutating func model(_ prefix: String, _ fit: MetaRegression, _ e: ExtremeVarianceFixture.Expected) {
        integer("\(prefix)k", fit.count, e.k)
        integer("\(prefix)p", fit.coefficients.count, e.p)
        number("\(prefix)tau2", fit.tauSquaredEstimate, e.tau2)
        let coefficients = e.coefficients ?? []
        for (j, c) in coefficients.enumerated() where j < fit.coefficients.count {
            let n = "\(prefix)\(c.name)"
            number("\(n) estimate", fit.coefficients[j], c.estimate)
            number("\(n) se", fit.standardErrors[j], c.se)
            number("\(n) statistic", fit.statistics[j], c.statistic)
            p("\(n) p", fit.pValues[j], c.p_value)
            number("\(n) ci_lower", fit.confidenceIntervals[j].lower, c.ci_lower)
            number("\(n) ci_upper", fit.confidenceIntervals[j].upper, c.ci_upper)
        }
        integer("\(prefix)df", fit.degreesOfFreedom, e.df)
        number("\(prefix)QE", fit.residualQ, e.qe)
        integer("\(prefix)QE df", fit.residualQDegreesOfFreedom, e.qe_df)
        p("\(prefix)QE p", fit.residualQPValue, e.qe_p_value)
        number("\(prefix)QM", fit.moderatorTest?.statistic, e.qm)
        integer("\(prefix)QM df", fit.moderatorTest?.degreesOfFreedom, e.qm_df)
        integer("\(prefix)QM df2", fit.moderatorTest?.denominatorDegreesOfFreedom, e.qm_df2)
        p("\(prefix)QM p", fit.moderatorTest?.pValue, e.qm_p_value)
        number("\(prefix)I2", fit.iSquared, e.i2)
        number("\(prefix)H2", fit.hSquared, e.h2)
    }
}

@Suite("Extreme variance ratios against metafor")
struct ExtremeVarianceTests {
    static let datasets = ["d1_vi_1e200", "d2_vi_1e200_k4", "d3_vi_1e-10", "d4_vi_span", "d5_bcg_scaled"]

    static func design(_ columns: [[Double]], k: Int) -> [Double] {
        (0..<k).flatMap { i in columns.map { $0[i] } }
    }

    @Test("the fixtures are present")
    func present() {
        #expect(Set(ExtremeVarianceFixture.names()).isSuperset(of: Self.datasets))
    }

    @Test("every case matches metafor", arguments: datasets)
    func dataset(_ name: String) throws {
        let fixture = try ExtremeVarianceFixture.load(name)
        #expect(fixture.metafor_version == "3.8.1")
        let d = fixture.data
        let effects = try EffectSizes.generic(yi: d.yi, vi: d.vi)
        #expect(fixture.cases.count >= 27)
        for c in fixture.cases {
            let method = try #require(TauSquaredMethod(code: c.method))
            let ci = try #require(ConfidenceIntervalMethod(rawValue: c.ci_method))
            let context = "\(name) \(c.analysis)\(c.model.map { " " + $0 } ?? "") \(c.method) \(c.ci_method)"
            var m = Mismatches()
            let outcome: String
            let reference = c.reference
            do {
                switch c.analysis {
                case "single": outcome = try single(d, effects, method, ci, reference, &m)
                case "regression": outcome = try regression(d, method, ci, reference, &m)
                case "subgroups": outcome = try subgroups(d, name, method, ci, reference, &m)
                case "egger": outcome = try egger(effects, c.model ?? "", method, ci, reference, &m)
                default:
                    Issue.record("\(context): unknown analysis")
                    continue
                }
            } catch {
                if reference == nil {
                    print("[extreme] \(context): metafor \(c.error ?? c.metafor_unreliable ?? ""); MetaPool throws \(error)")
                } else {
                    Issue.record("\(context): MetaPool throws \(error); metafor fits (tau2 = \(reference?.tau2.map { "\($0)" } ?? "nil"))")
                }
                continue
            }
            if reference == nil {
                print("[extreme] \(context): not compared, metafor \(c.error ?? c.metafor_unreliable ?? ""); MetaPool: \(outcome)")
                continue
            }
            let retried = c.expected == nil ? " [metafor's own start fails (\(c.error ?? "")); compared with metafor started at tau2 = 0]" : ""
            let optimum = c.better_optimum.map { " [metafor's ML τ² \($0.reported_tau2) (logLik \($0.reported_loglik)) is not its maximum: τ² \($0.tau2), logLik \($0.loglik)]" } ?? ""
            let accurate = c.metafor_inaccurate.map { changes in
                " [against expected_accurate; metafor's own " + changes.map { "\($0.fit.map { $0 + " " } ?? "")\($0.key) \($0.metafor ?? .nan) vs \($0.accurate ?? .nan)" }.joined(separator: ", ") + "]"
            } ?? ""
            #expect(m.lines.isEmpty, "\(context)\(optimum)\(accurate)\(retried): \(m.lines.joined(separator: "; "))")
        }
    }

    /// rma(yi, vi): MetaAnalysis, and MetaRegression on an intercept-only design with QM testing the intercept.
    func single(_ d: ExtremeVarianceFixture.Input, _ effects: EffectSizes, _ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod,
                _ e: ExtremeVarianceFixture.Expected?, _ m: inout Mismatches) throws -> String {
        let fit = try MetaAnalysis(effects, method: method, ciMethod: ci)
        let reg = try MetaRegression(y: d.yi, v: d.vi, design: [Double](repeating: 1, count: d.yi.count), predictors: ["intrcpt"],
                                     testing: [0], method: method, ciMethod: ci)
        let outcome = "tau2 \(fit.tauSquaredEstimate), estimate \(fit.estimate) (MetaRegression tau2 \(reg.tauSquaredEstimate))"
        guard let e else { return outcome }
        let c = e.coefficients?.first
        m.number("MetaAnalysis tau2", fit.tauSquaredEstimate, e.tau2)
        m.number("MetaAnalysis estimate", fit.estimate, c?.estimate)
        m.number("MetaAnalysis se", fit.standardError, c?.se)
        m.number("MetaAnalysis statistic", fit.statistic, c?.statistic)
        m.p("MetaAnalysis p", fit.pValue, c?.p_value)
        m.number("MetaAnalysis ci_lower", fit.confidenceInterval.lower, c?.ci_lower)
        m.number("MetaAnalysis ci_upper", fit.confidenceInterval.upper, c?.ci_upper)
        m.integer("MetaAnalysis df", fit.degreesOfFreedom, e.df)
        m.integer("MetaAnalysis k", fit.count, e.k)
        m.number("MetaAnalysis Q", fit.q, e.qe)
        m.integer("MetaAnalysis Q df", fit.qDegreesOfFreedom, e.qe_df)
        m.p("MetaAnalysis Q p", fit.qPValue, e.qe_p_value)
        m.number("MetaAnalysis I2", fit.iSquared, e.i2)
        m.number("MetaAnalysis H2", fit.hSquared, e.h2)
        m.number("MetaAnalysis pi_lower", fit.predictionInterval?.lower, e.pi_lower)
        m.number("MetaAnalysis pi_upper", fit.predictionInterval?.upper, e.pi_upper)
        m.model("MetaRegression ", reg, e)
        return outcome
    }

    func regression(_ d: ExtremeVarianceFixture.Input, _ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod,
                    _ e: ExtremeVarianceFixture.Expected?, _ m: inout Mismatches) throws -> String {
        let k = d.yi.count
        let x = try #require(d.x)
        let fit = try MetaRegression(y: d.yi, v: d.vi, design: Self.design([[Double](repeating: 1, count: k), x], k: k),
                                     predictors: ["intrcpt", "x"], method: method, ciMethod: ci)
        if let e { m.model("", fit, e) }
        return "tau2 \(fit.tauSquaredEstimate), b \(fit.coefficients)"
    }

    /// ~ factor(g) and ~ factor(g) - 1 as MetaRegression designs, and SubgroupAnalysis(commonTauSquared: true).
    func subgroups(_ d: ExtremeVarianceFixture.Input, _ name: String, _ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod,
                   _ e: ExtremeVarianceFixture.Expected?, _ m: inout Mismatches) throws -> String {
        let k = d.yi.count
        let g = try #require(d.g), levels = try #require(d.levels)
        let indicator = levels.map { level in g.map { $0 == level ? 1.0 : 0.0 } }
        let model = try MetaRegression(y: d.yi, v: d.vi, design: Self.design([[Double](repeating: 1, count: k)] + indicator.dropFirst(), k: k),
                                       predictors: ["intrcpt"] + levels.dropFirst().map { "g\($0)" }, method: method, ciMethod: ci)
        let means = try MetaRegression(y: d.yi, v: d.vi, design: Self.design(indicator, k: k), predictors: levels.map { "g\($0)" },
                                       testing: Array(levels.indices), method: method, ciMethod: ci)
        let rows: [[String?]] = (0..<k).map { ["\(d.yi[$0])", "\(d.vi[$0])", g[$0]] }
        let table = DataTable(source: name, columns: ["yi", "vi", "g"], rows: rows)
        let tableEffects = try EffectSizes(table: table)
        #expect(tableEffects.yi == d.yi && tableEffects.vi == d.vi, "\(name): the table reads back the fixture's numbers")
        let analysis = try SubgroupAnalysis(table: table, by: "g", measure: .generic,
                                            method: method, ciMethod: ci, commonTauSquared: true)
        let outcome = "tau2 \(model.tauSquaredEstimate) (cell means \(means.tauSquaredEstimate)), QM \(model.moderatorTest?.statistic ?? .nan)"
        guard let e else { return outcome }
        m.model("~g ", model, e)
        if let em = e.means { m.model("~g-1 ", means, em) }
        m.number("~g-1 tau2 (tau2_means)", means.tauSquaredEstimate, e.tau2_means)
        let common = analysis.commonModel
        m.number("SubgroupAnalysis tau2", common?.tauSquaredEstimate, e.tau2)
        m.number("SubgroupAnalysis QE", common?.residualQ, e.qe)
        m.number("SubgroupAnalysis I2", common?.iSquared, e.i2)
        m.number("SubgroupAnalysis Q between (QM)", analysis.qBetween, e.qm)
        m.integer("SubgroupAnalysis QM df", analysis.qBetweenDegreesOfFreedom, e.qm_df)
        m.integer("SubgroupAnalysis QM df2", analysis.qBetweenDenominatorDegreesOfFreedom, e.qm_df2)
        m.p("SubgroupAnalysis QM p", analysis.qBetweenPValue, e.qm_p_value)
        let groups = e.subgroups ?? []
        if analysis.subgroups.map(\.label) != groups.map(\.subgroup) {
            m.lines.append("SubgroupAnalysis labels \(analysis.subgroups.map(\.label)) vs \(groups.map(\.subgroup))")
        }
        for (got, want) in zip(analysis.subgroups, groups) {
            let n = "SubgroupAnalysis \(want.subgroup)"
            m.integer("\(n) k", got.count, want.k)
            m.number("\(n) estimate", got.estimate, want.estimate)
            m.number("\(n) se", got.standardError, want.se)
            m.number("\(n) ci_lower", got.confidenceInterval.lower, want.ci_lower)
            m.number("\(n) ci_upper", got.confidenceInterval.upper, want.ci_upper)
            m.number("\(n) statistic", got.statistic, want.statistic)
            m.p("\(n) p", got.pValue, want.p_value)
            m.number("\(n) pi_lower", got.predictionInterval?.lower, want.pi_lower)
            m.number("\(n) pi_upper", got.predictionInterval?.upper, want.pi_upper)
        }
        return outcome
    }

    func egger(_ effects: EffectSizes, _ model: String, _ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod,
               _ e: ExtremeVarianceFixture.Expected?, _ m: inout Mismatches) throws -> String {
        let kind = try #require(EggerTest.Model(rawValue: model))
        let test = try EggerTest(effects, model: kind, predictor: .standardError, method: method, ciMethod: ci)
        let outcome = "statistic \(test.statistic), p \(test.pValue), slope \(test.slope), tau2 \(test.tauSquared.map { "\($0)" } ?? "nil")"
        guard let e else { return outcome }
        m.integer("k", test.count, e.k)
        m.number("statistic", test.statistic, e.statistic)
        m.integer("df", test.degreesOfFreedom, e.df)
        m.p("p", test.pValue, e.p_value)
        m.number("slope", test.slope, e.slope)
        m.number("slope se", test.slopeStandardError, e.slope_se)
        m.number("limit estimate", test.limitEstimate, e.limit_estimate)
        m.number("limit se", test.limitStandardError, e.limit_se)
        m.number("limit ci_lower", test.limitConfidenceInterval?.lower, e.limit_ci_lower)
        m.number("limit ci_upper", test.limitConfidenceInterval?.upper, e.limit_ci_upper)
        m.number("tau2", test.tauSquared, kind == .metaRegression && method != .fixedEffect ? e.tau2 : nil)
        if let fit = e.fit { m.model("fit ", test.fit, fit) }
        return outcome
    }

    @Test("MetaRegression with an intercept-only design gives MetaAnalysis's tau^2 (relative 1e-8)", arguments: datasets)
    func interceptOnlyAgrees(_ name: String) throws {
        let d = try ExtremeVarianceFixture.load(name).data
        let effects = try EffectSizes.generic(yi: d.yi, vi: d.vi)
        for method in TauSquaredMethod.allCases {
            let context = "\(name) \(method.rawValue)"
            let analysis: MetaAnalysis, regression: MetaRegression
            do {
                analysis = try MetaAnalysis(effects, method: method)
                regression = try MetaRegression(y: d.yi, v: d.vi, design: [Double](repeating: 1, count: d.yi.count),
                                                predictors: ["intrcpt"], method: method)
            } catch {
                Issue.record("\(context): \(error)")
                continue
            }
            let a = analysis.tauSquaredEstimate, r = regression.tauSquaredEstimate
            #expect(a == r || abs(a - r) <= 1e-8 * abs(a), "\(context): MetaRegression tau2 \(r) vs MetaAnalysis \(a)")
        }
    }
}

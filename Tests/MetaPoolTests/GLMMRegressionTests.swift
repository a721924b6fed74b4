// The GLMM for proportions with moderators against metafor's rma.glmm(measure = "PLO", mods = ~ …,
// method = "ML"), which calls lme4::glmer. Fixtures: Tests/MetaPoolTests/Fixtures/glmm_regression,
// written by `Rscript Tests/Reference/generate_glmm_regression.R` with glmer's tolerances tightened.
//
// Tolerances as in GLMMTests: coefficients, τ², logLik and fit statistics to 1e-5 relative; SEs,
// z and QM to 1e-5 (1e-4 for the tests) at Q = 7, and to 1e-3 at Q = 1, where lme4's Hessian is a
// finite difference of a Laplace deviance whose conditional modes are converged to ~1e-5 only. The
// residual-heterogeneity tests do not depend on the mixed-model fit: QE.LRT to 1e-6; QE.Wld to 1e-5
// against metafor (whose glm fits stop early) and to 1e-9 against the closed form computed in R.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct GLMMRegressionFixture: Decodable {
    struct Values: Decodable {
        var k: Int
        var p: Int
        var predictors: [String]
        var estimate: [Double]
        var se: [Double]
        var statistic: [Double]
        var p_value: [Double]
        var ci_lower: [Double]
        var ci_upper: [Double]
        var tau2: Double
        var i2: Double
        var h2: Double
        var qm: Double
        var qm_df: Int
        var qm_p_value: Double
        var qe_wald: Double
        var qe_lrt: Double
        var qe_df: Int
        var qe_wald_p_value: Double
        var qe_lrt_p_value: Double
        var log_likelihood: Double
        var deviance: Double
        var aic: Double
        var bic: Double
        var aicc: Double
    }
    struct Case: Decodable {
        var moderators: [String]
        var quadrature_points: Int
        var qe_wald_exact: Double
        var expected: Values
    }
    var dataset: String
    var input: String
    var cases: [Case]

    static let directory = FixtureFolder.url("glmm_regression")
    static func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(".expected.json".count)) }.sorted()
    }
    static func load(_ name: String) throws -> GLMMRegressionFixture {
        try JSONDecoder().decode(GLMMRegressionFixture.self, from: Data(contentsOf: directory.appendingPathComponent(name + ".expected.json")))
    }
    func table() throws -> DataTable { try DataTable.read(path: Self.directory.appendingPathComponent(input).path) }
}

@Suite("GLMM for proportions with moderators (rma.glmm PLO, mods) against metafor")
struct GLMMRegressionTests {
    @Test("fixtures are present")
    func present() { #expect(GLMMRegressionFixture.names().count >= 5) }

    @Test("every case matches metafor with tight glmer tolerances", arguments: GLMMRegressionFixture.names())
    func tight(_ name: String) throws {
        let fixture = try GLMMRegressionFixture.load(name)
        let table = try fixture.table()
        #expect(fixture.cases.count >= 2)
        for c in fixture.cases {
            let m = try GeneralizedLinearMixedRegression(table: table, moderators: c.moderators, quadraturePoints: c.quadrature_points)
            let e = c.expected
            let context = "\(name) mods=\(c.moderators) Q=\(c.quadrature_points)"
            let laplace = c.quadrature_points == 1
            let rel = 1e-5, seRel = laplace ? 1e-3 : 1e-5, testRel = laplace ? 1e-3 : 1e-4
            #expect(m.count == e.k)
            #expect(m.predictors == e.predictors, "\(context)")
            guard m.predictors.count == e.p else { continue }
            for j in 0..<e.p {
                let b = m.coefficients[j]
                expectClose(b.estimate, e.estimate[j], relative: rel, absolute: 1e-6, "\(context) \(e.predictors[j]) estimate")
                expectClose(b.standardError, e.se[j], relative: seRel, absolute: 1e-12, "\(context) \(e.predictors[j]) se")
                expectClose(b.statistic, e.statistic[j], relative: testRel, absolute: 1e-5, "\(context) \(e.predictors[j]) z")
                expectClose(b.pValue, e.p_value[j], relative: max(testRel, e.statistic[j] * e.statistic[j] * seRel), absolute: 1e-10, "\(context) \(e.predictors[j]) p")
                // A bound near 0 moves by z·ΔSE: absolute tolerance 2·seRel·SE.
                expectClose(b.confidenceInterval.lower, e.ci_lower[j], relative: seRel, absolute: 1e-6 + 2 * seRel * e.se[j], "\(context) \(e.predictors[j]) ci_lower")
                expectClose(b.confidenceInterval.upper, e.ci_upper[j], relative: seRel, absolute: 1e-6 + 2 * seRel * e.se[j], "\(context) \(e.predictors[j]) ci_upper")
            }
            expectClose(m.tauSquared, e.tau2, relative: 2 * rel, absolute: 1e-10, "\(context) tau2")
            expectClose(m.iSquared, e.i2, relative: 2 * rel, absolute: 1e-8, "\(context) i2")
            expectClose(m.hSquared, e.h2, relative: 2 * rel, absolute: 1e-12, "\(context) h2")
            let qm = try #require(m.moderatorTest)
            #expect(qm.degreesOfFreedom == e.qm_df)
            expectClose(qm.statistic, e.qm, relative: testRel, absolute: 1e-8, "\(context) QM")
            expectClose(qm.pValue, e.qm_p_value, relative: max(testRel, e.qm * seRel), absolute: 1e-10, "\(context) QM p")
            #expect(m.waldTest.degreesOfFreedom == e.qe_df && m.likelihoodRatioTest.degreesOfFreedom == e.qe_df)
            // metafor's QE.Wld comes from glm fits stopped at a relative deviance change of 1e-8
            // (~3e-6 off); the closed form computed in R (rma FE on the informative studies) to 1e-9.
            expectClose(m.waldTest.statistic, c.qe_wald_exact, relative: 1e-9, absolute: 1e-10, "\(context) QE.Wld exact")
            expectClose(m.waldTest.statistic, e.qe_wald, relative: 1e-5, absolute: 1e-8, "\(context) QE.Wld")
            expectClose(m.waldTest.pValue, e.qe_wald_p_value, relative: 1e-4, absolute: 1e-12, "\(context) QEp.Wld")
            expectClose(m.likelihoodRatioTest.statistic, e.qe_lrt, relative: 1e-6, absolute: 1e-10, "\(context) QE.LRT")
            expectClose(m.likelihoodRatioTest.pValue, e.qe_lrt_p_value, relative: 1e-6, absolute: 1e-12, "\(context) QEp.LRT")
            expectClose(m.logLikelihood, e.log_likelihood, relative: rel, absolute: 1e-8, "\(context) logLik")
            expectClose(m.deviance, e.deviance, relative: rel, absolute: 1e-7, "\(context) deviance")
            expectClose(m.aic, e.aic, relative: rel, absolute: 1e-8, "\(context) AIC")
            expectClose(m.bic, e.bic, relative: rel, absolute: 1e-8, "\(context) BIC")
            expectClose(m.aicc, e.aicc, relative: rel, absolute: 1e-8, "\(context) AICc")
        }
    }

    @Test("intercept only: the regression gives the intercept-only GLMM", arguments: [1, 7])
    func interceptOnly(_ q: Int) throws {
        let table = try DataTable.read(path: GLMMRegressionFixture.directory.appendingPathComponent("debruin2009.csv").path)
        let reader = ColumnReader(table: table)
        let x = try reader.numbers("events"), n = try reader.numbers("total")
        let single = try GeneralizedLinearMixedModel(events: x, totals: n, quadraturePoints: q)
        let regression = try GeneralizedLinearMixedRegression(events: x, totals: n, design: [Double](repeating: 1, count: x.count),
                                                              predictors: ["intrcpt"], quadraturePoints: q)
        expectClose(regression.coefficients[0].estimate, single.estimate, relative: 1e-8, absolute: 1e-10, "estimate")
        expectClose(regression.coefficients[0].standardError, single.standardError, relative: 1e-6, absolute: 1e-12, "se")
        expectClose(regression.tauSquared, single.tauSquared, relative: 1e-7, absolute: 1e-12, "tau2")
        expectClose(regression.logLikelihood, single.logLikelihood, relative: 1e-9, absolute: 1e-12, "logLik")
        expectClose(regression.waldTest.statistic, single.waldTest.statistic, relative: 1e-10, absolute: 1e-12, "QE.Wld")
        expectClose(regression.likelihoodRatioTest.statistic, single.likelihoodRatioTest.statistic, relative: 1e-10, absolute: 1e-12, "QE.LRT")
        expectClose(regression.iSquared, single.iSquared, relative: 1e-6, absolute: 1e-10, "I2")
        #expect(regression.moderatorTest == nil)
    }

    @Test("the units of a numeric moderator do not change the fit (scq × 1000, ÷ 1000)")
    func moderatorUnits() throws {
        let table = try DataTable.read(path: GLMMRegressionFixture.directory.appendingPathComponent("debruin2009.csv").path)
        let reader = ColumnReader(table: table)
        let x = try reader.numbers("events"), n = try reader.numbers("total"), scq = try reader.numbers("scq")
        func fit(_ factor: Double) throws -> GeneralizedLinearMixedRegression {
            try GeneralizedLinearMixedRegression(events: x, totals: n, design: scq.flatMap { [1, $0 * factor] }, predictors: ["intrcpt", "scq"])
        }
        let base = try fit(1)
        for factor in [1000.0, 0.001] {
            let scaled = try fit(factor)
            expectClose(scaled.coefficients[1].estimate * factor, base.coefficients[1].estimate, relative: 1e-6, absolute: 1e-12, "×\(factor) estimate")
            expectClose(scaled.coefficients[1].standardError * factor, base.coefficients[1].standardError, relative: 1e-6, absolute: 1e-12, "×\(factor) se")
            expectClose(scaled.coefficients[0].standardError, base.coefficients[0].standardError, relative: 1e-6, absolute: 1e-12, "×\(factor) intercept se")
            expectClose(scaled.tauSquared, base.tauSquared, relative: 1e-6, absolute: 1e-12, "×\(factor) tau2")
        }
    }

    @Test("bad inputs get clear errors")
    func badInputs() throws {
        func kind(_ body: () throws -> Any) -> (MetaPoolError.Kind, String)? {
            do { _ = try body(); return nil } catch let error as MetaPoolError { return (error.kind, error.description) } catch { return nil }
        }
        let x: [Double] = [3, 5, 0, 0, 7, 2], n: [Double] = [10, 12, 9, 11, 14, 8]
        // A factor level (rows 3–4) whose studies all have 0 events: the logistic fit separates.
        let separated = kind { try GeneralizedLinearMixedRegression(events: x, totals: n, design: [1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0],
                                                                      predictors: ["intrcpt", "gb"]) }
        #expect(separated?.0 == .insufficientData)
        #expect(separated?.1.contains("separate") == true)
        // More coefficients than studies.
        let tooMany = kind { try GeneralizedLinearMixedRegression(events: [3, 5], totals: [10, 12], design: [1, 0, 1, 1],
                                                                    predictors: ["intrcpt", "g"]) }
        #expect(tooMany?.0 == .insufficientData)
        // Linearly dependent moderators.
        let dependent = kind { try GeneralizedLinearMixedRegression(events: x, totals: n, design: (0..<6).flatMap { [1, Double($0), 2 * Double($0)] },
                                                                      predictors: ["intrcpt", "a", "b"]) }
        #expect(dependent?.0 == .insufficientData)
    }

    struct SubgroupCase: Decodable {
        struct Group: Decodable {
            var label: String
            var k: Int
            var estimate: Double
            var se: Double
            var ci_lower: Double
            var ci_upper: Double
            var pi_lower: Double
            var pi_upper: Double
        }
        var file: String
        var by: String
        var tau2: Double
        var qm: Double
        var qm_df: Int
        var qm_p_value: Double
        var qe_wald: Double
        var qe_lrt: Double
        var groups: [Group]
    }

    @Test("subgroups under a common tau^2 match rma.glmm(mods = ~ factor(g)) and its cell-means form")
    func commonTauSubgroups() throws {
        struct File: Decodable { var cases: [SubgroupCase] }
        let url = GLMMRegressionFixture.directory.appendingPathComponent("subgroups_common_tau2.json")
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        #expect(cases.count >= 4)
        for c in cases {
            let table = try DataTable.read(path: GLMMRegressionFixture.directory.appendingPathComponent(c.file).path)
            let fit = try SubgroupGLMMCommonTau(table: table, by: c.by)
            let context = "\(c.file) by \(c.by)"
            expectClose(fit.model.tauSquared, c.tau2, relative: 2e-5, absolute: 1e-10, "\(context) tau2")
            expectClose(fit.qBetween, c.qm, relative: 1e-4, absolute: 1e-8, "\(context) QM")
            #expect(fit.qBetweenDegreesOfFreedom == c.qm_df)
            expectClose(fit.qBetweenPValue, c.qm_p_value, relative: max(1e-4, c.qm * 1e-5), absolute: 1e-10, "\(context) QM p")
            expectClose(fit.model.waldTest.statistic, c.qe_wald, relative: 1e-5, absolute: 1e-8, "\(context) QE.Wld")
            expectClose(fit.model.likelihoodRatioTest.statistic, c.qe_lrt, relative: 1e-6, absolute: 1e-10, "\(context) QE.LRT")
            #expect(fit.subgroups.count == c.groups.count)
            for g in c.groups {
                guard let s = fit.subgroups.first(where: { $0.label == g.label }) else {
                    Issue.record("\(context): no subgroup \(g.label)")
                    continue
                }
                #expect(s.count == g.k)
                expectClose(s.pooled.estimate, g.estimate, relative: 1e-5, absolute: 1e-6, "\(context) \(g.label) estimate")
                expectClose(s.pooled.standardError, g.se, relative: 1e-5, absolute: 1e-12, "\(context) \(g.label) se")
                expectClose(s.pooled.confidenceInterval.lower, g.ci_lower, relative: 1e-5, absolute: 1e-6, "\(context) \(g.label) ci_lower")
                expectClose(s.pooled.confidenceInterval.upper, g.ci_upper, relative: 1e-5, absolute: 1e-6, "\(context) \(g.label) ci_upper")
                expectClose(s.predictionInterval.lower, g.pi_lower, relative: 1e-5, absolute: 1e-6, "\(context) \(g.label) pi_lower")
                expectClose(s.predictionInterval.upper, g.pi_upper, relative: 1e-5, absolute: 1e-6, "\(context) \(g.label) pi_upper")
            }
        }
    }
}

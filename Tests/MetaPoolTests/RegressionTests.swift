// Meta-regression against metafor: rma(yi, vi, mods = ~ ...) for every τ² estimator and test
// (coefficients, QE, QM, τ², I², H², R²) and permutest(exact = TRUE). Fixtures:
// Tests/MetaPoolTests/Fixtures/regression, written by `Rscript Tests/Reference/generate_regression.R`.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct RegressionFixture: Decodable {
    struct Coefficient: Decodable { var estimate, se, statistic, p_value, ci_lower, ci_upper: Double }
    struct Expected: Decodable {
        var coefficients: [Coefficient]
        var tau2, qe, qe_p_value, qm: Double
        var qm_df: Int
        var qm_p_value: Double
        var i2, h2, r2: Double?
    }
    struct Case: Decodable {
        var mods: [String]
        var method, ci_method: String
        var expected: Expected
    }
    var input: String
    var cases: [Case]

    static let directory = FixtureFolder.url("regression")
}

struct PermutationFixture: Decodable {
    struct Case: Decodable {
        var rows: [Int]
        var mods: [String]
        var method, ci_method: String
        var permutations: Int
        var coefficient_p_values: [Double]
        var qm_p_value: Double
    }
    var input: String
    var cases: [Case]
}

@Suite("Meta-regression against metafor")
struct RegressionTests {
    @Test("every estimator, test and moderator set", arguments: ["bcg", "bangertdrowns2004"])
    func dataset(_ name: String) throws {
        let data = try Data(contentsOf: RegressionFixture.directory.appendingPathComponent(name + ".expected.json"))
        let fixture = try JSONDecoder().decode(RegressionFixture.self, from: data)
        let table = try DataTable.read(path: RegressionFixture.directory.appendingPathComponent(fixture.input).path)
        let effects = try EffectSizes(table: table)
        #expect(fixture.cases.count >= 100)
        for c in fixture.cases {
            let context = "\(name) ~\(c.mods.joined(separator: "+")) \(c.method) \(c.ci_method)"
            let design = try ModeratorDesign(table: table, moderators: c.mods)
            let fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design.matrix, predictors: design.predictors,
                                         method: try #require(TauSquaredMethod(code: c.method)),
                                         ciMethod: try #require(ConfidenceIntervalMethod(rawValue: c.ci_method)))
            let e = c.expected
            #expect(fit.coefficients.count == e.coefficients.count, "\(context) p")
            for (j, want) in e.coefficients.enumerated() where j < fit.coefficients.count {
                expectClose(fit.coefficients[j], want.estimate, relative: 1e-6, absolute: 1e-10, "\(context) b[\(j)] \(fit.coefficients[j]) vs \(want.estimate)")
                expectClose(fit.standardErrors[j], want.se, relative: 1e-6, absolute: 1e-10, "\(context) se[\(j)]")
                expectClose(fit.statistics[j], want.statistic, relative: 1e-6, absolute: 1e-10, "\(context) z[\(j)]")
                expectClose(fit.pValues[j], want.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p[\(j)]")
                expectClose(fit.confidenceIntervals[j].lower, want.ci_lower, relative: 1e-6, absolute: 1e-10, "\(context) ci.lb[\(j)]")
                expectClose(fit.confidenceIntervals[j].upper, want.ci_upper, relative: 1e-6, absolute: 1e-10, "\(context) ci.ub[\(j)]")
            }
            expectClose(fit.tauSquaredEstimate, e.tau2, relative: 1e-6, absolute: 1e-9, "\(context) tau2 \(fit.tauSquaredEstimate) vs \(e.tau2)")
            expectClose(fit.residualQ, e.qe, relative: 1e-6, absolute: 1e-10, "\(context) QE")
            expectClose(fit.residualQPValue, e.qe_p_value, relative: 1e-4, absolute: 1e-12, "\(context) QE p")
            let test = try #require(fit.moderatorTest)
            expectClose(test.statistic, e.qm, relative: 1e-6, absolute: 1e-10, "\(context) QM \(test.statistic) vs \(e.qm)")
            #expect(test.degreesOfFreedom == e.qm_df, "\(context) QM df")
            expectClose(test.pValue, e.qm_p_value, relative: 1e-4, absolute: 1e-12, "\(context) QM p")
            expectClose(fit.iSquared, e.i2, relative: 1e-6, absolute: 1e-7, "\(context) I2")
            expectClose(fit.hSquared, e.h2, relative: 1e-6, absolute: 1e-10, "\(context) H2")
            let r2 = try fit.rSquared(y: effects.yi, v: effects.vi)
            if let want = e.r2 {
                expectClose(r2 ?? .nan, want, relative: 1e-6, absolute: 1e-6, "\(context) R2 \(String(describing: r2)) vs \(want)")
            }
        }
    }

    @Test("exact permutation tests equal permutest(exact = TRUE)")
    func permutations() throws {
        let data = try Data(contentsOf: RegressionFixture.directory.appendingPathComponent("permutest.expected.json"))
        let fixture = try JSONDecoder().decode(PermutationFixture.self, from: data)
        let full = try DataTable.read(path: RegressionFixture.directory.appendingPathComponent(fixture.input).path)
        for c in fixture.cases {
            let table = DataTable(source: full.source, columns: full.columns, rows: c.rows.map { full.rows[$0 - 1] })
            let effects = try EffectSizes(table: table)
            let design = try ModeratorDesign(table: table, moderators: c.mods)
            let fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design.matrix, predictors: design.predictors,
                                         method: try #require(TauSquaredMethod(code: c.method)),
                                         ciMethod: try #require(ConfidenceIntervalMethod(rawValue: c.ci_method)))
            let test = try PermutationTest(model: fit, y: effects.yi, v: effects.vi, design: design.matrix, iterations: 10_000)
            let context = "\(c.rows.count) rows ~\(c.mods.joined(separator: "+")) \(c.method) \(c.ci_method)"
            #expect(test.exact && test.permutations == c.permutations && test.failures == 0, "\(context): \(test.permutations) permutations")
            for (got, want) in zip(test.coefficientPValues, c.coefficient_p_values) {
                #expect(abs(got - want) < 1e-12, "\(context) coefficient p \(got) vs \(want)")
            }
            #expect(abs((test.moderatorPValue ?? .nan) - c.qm_p_value) < 1e-12, "\(context) QM p")
        }
    }

    @Test("random permutations: reproducible by seed, observed order first, p within (0, 1]")
    func randomPermutations() throws {
        let table = try DataTable.read(path: RegressionFixture.directory.appendingPathComponent("bcg.csv").path)
        let effects = try EffectSizes(table: table)
        let design = try ModeratorDesign(table: table, moderators: ["latitude"])
        let fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design.matrix, predictors: design.predictors)
        let a = try PermutationTest(model: fit, y: effects.yi, v: effects.vi, design: design.matrix, iterations: 400, seed: 7)
        let b = try PermutationTest(model: fit, y: effects.yi, v: effects.vi, design: design.matrix, iterations: 400, seed: 7)
        #expect(!a.exact && a.permutations == 400)
        #expect(a.coefficientPValues == b.coefficientPValues && a.moderatorPValue == b.moderatorPValue)
        let pm = try #require(a.moderatorPValue)
        #expect(pm >= 1.0 / 400 && pm <= 1)
        // Latitude is a strong moderator in BCG (QM p = 0.0001 by chi-squared): few permutations beat it.
        #expect(pm < 0.02, "permutation p \(pm)")
    }

    @Test("design: numeric columns as they are, text as factors with sorted levels; errors name the column")
    func design() throws {
        let csv = "study,yi,vi,dose,arm\nA,0.1,0.01,10,b\nB,0.3,0.02,20,a\nC,0.2,0.03,15,c\nD,0.4,0.02,12,a\n"
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "m.csv")
        let d = try ModeratorDesign(table: table, moderators: ["dose", "arm"])
        #expect(d.predictors == ["intrcpt", "dose", "armb", "armc"])
        #expect(Array(d.matrix[0..<4]) == [1, 10, 1, 0] && Array(d.matrix[4..<8]) == [1, 20, 0, 0])
        #expect(throws: MetaPoolError.self) { _ = try ModeratorDesign(table: table, moderators: ["nope"]) }
        let constant = try DataTable.read(bytes: Array("yi,vi,x\n1,1,5\n2,1,5\n3,1,5\n".utf8), source: "c.csv")
        do {
            _ = try ModeratorDesign(table: constant, moderators: ["x"])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData && error.location.column == "x")
        }
        let empty = try DataTable.read(bytes: Array("yi,vi,x\n1,1,5\n2,1,\n3,1,4\n".utf8), source: "e.csv")
        do {
            _ = try ModeratorDesign(table: empty, moderators: ["x"])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.row == 2 && error.location.column == "x")
        }
        // Too few studies for the coefficients, collinear moderators: typed errors, no trap.
        let y: [Double] = [0.1, 0.2, 0.3], v: [Double] = [0.1, 0.1, 0.1]
        #expect(throws: MetaPoolError.self) { _ = try MetaRegression(y: Array(y.prefix(2)), v: Array(v.prefix(2)), design: [1, 1, 1, 2], predictors: ["intrcpt", "x"]) }
        #expect(throws: MetaPoolError.self) { _ = try MetaRegression(y: y + [0.4], v: v + [0.1], design: [1, 1, 2, 1, 2, 4, 1, 3, 6, 1, 4, 8], predictors: ["intrcpt", "x", "x2"]) }
    }
}

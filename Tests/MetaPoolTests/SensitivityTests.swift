// Sensitivity analyses against metafor 3.8-1: leave1out(), cumul() and influence(). Fixtures:
// Tests/MetaPoolTests/Fixtures/sensitivity, written by `Rscript Tests/Reference/generate_sensitivity.R`.

import Foundation
import Testing
import MetaPool
@testable import MetaPoolTestSupport

struct SensitivityFixture: Decodable {
    struct Study: Decodable {
        var study: String
        var yi: Double
        var vi: Double
        var key: Double
    }
    /// A row of leave1out() or cumul().
    struct Row: Decodable {
        var estimate: Double
        var se: Double
        var statistic: Double
        var p_value: Double
        var ci_lower: Double
        var ci_upper: Double
        var q: Double
        var q_p_value: Double
        var tau2: Double?
        var i2: Double
        var h2: Double
    }
    /// A row of influence().
    struct Influence: Decodable {
        var rstudent: Double
        var dffits: Double
        var cook_d: Double
        var cov_r: Double
        var tau2_del: Double
        var qe_del: Double
        var hat: Double
        var weight: Double
        var dfbetas: Double
        var influential: Bool
    }
    struct Case: Decodable {
        var method: String
        var ci_method: String
        var estimate: Double
        var tau2: Double
        var leave1out: [Row]
        var cumul: [Row]
        var cumul_ordered: [Row]
        var influence: [Influence]
    }
    var dataset: String
    var studies: [Study]
    var order: [Int]
    var cases: [Case]

    static let directory = FixtureFolder.url("sensitivity")
    static func names() -> [String] {
        FixtureFolder.names(in: directory, suffix: ".expected.json")
    }
    static func load(_ name: String) throws -> SensitivityFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(SensitivityFixture.self, from: data)
    }
}

@Suite("Sensitivity analyses against metafor")
struct SensitivityTests {
    /// Compares a refit with a row of leave1out() or cumul().
    static func check(_ got: SubsetFit, _ want: SensitivityFixture.Row, random: Bool, _ context: String) {
        expectClose(got.estimate, want.estimate, relative: 1e-6, absolute: 1e-10, "\(context) estimate \(got.estimate) vs \(want.estimate)")
        expectClose(got.standardError, want.se, relative: 1e-6, absolute: 1e-10, "\(context) se \(got.standardError) vs \(want.se)")
        expectClose(got.statistic, want.statistic, relative: 1e-6, absolute: 1e-10, "\(context) statistic \(got.statistic) vs \(want.statistic)")
        expectClose(got.pValue, want.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p \(got.pValue) vs \(want.p_value)")
        expectClose(got.confidenceInterval.lower, want.ci_lower, relative: 1e-6, absolute: 1e-10, "\(context) ci_lower")
        expectClose(got.confidenceInterval.upper, want.ci_upper, relative: 1e-6, absolute: 1e-10, "\(context) ci_upper")
        expectClose(got.q, want.q, relative: 1e-6, absolute: 1e-10, "\(context) Q \(got.q) vs \(want.q)")
        expectClose(got.qPValue, want.q_p_value, relative: 1e-4, absolute: 1e-12, "\(context) Qp \(got.qPValue) vs \(want.q_p_value)")
        if random {
            expectClose(got.tauSquared ?? .nan, want.tau2 ?? .nan, relative: 1e-6, absolute: 1e-9, "\(context) tau2 \(String(describing: got.tauSquared)) vs \(String(describing: want.tau2))")
        } else {
            #expect(got.tauSquared == nil, "\(context) tau2 should be absent for FE")
        }
        // I² and H² move with τ̂²: τ² near 0 is compared absolutely (1e-9), so they are too.
        expectClose(got.iSquared, want.i2, relative: 1e-6, absolute: 1e-6, "\(context) I2 \(got.iSquared) vs \(want.i2)")
        expectClose(got.hSquared, want.h2, relative: 1e-6, absolute: 1e-8, "\(context) H2 \(got.hSquared) vs \(want.h2)")
    }

    @Test("fixtures are present")
    func present() { #expect(SensitivityFixture.names().count >= 5) }

    @Test("leave-one-out, cumulative and influence match metafor", arguments: SensitivityFixture.names())
    func dataset(_ name: String) throws {
        let fixture = try SensitivityFixture.load(name)
        let effects = try EffectSizes.generic(yi: fixture.studies.map(\.yi), vi: fixture.studies.map(\.vi),
                                              labels: fixture.studies.map(\.study))
        let k = effects.count
        #expect(fixture.cases.count == 16)
        for c in fixture.cases {
            let context = "\(name) \(c.method) \(c.ci_method)"
            let method = try #require(TauSquaredMethod(code: c.method))
            let fit = try MetaAnalysis(effects, method: method,
                                       ciMethod: try #require(ConfidenceIntervalMethod(rawValue: c.ci_method)))
            expectClose(fit.estimate, c.estimate, relative: 1e-6, absolute: 1e-10, "\(context) full estimate")
            expectClose(fit.tauSquaredEstimate, c.tau2, relative: 1e-6, absolute: 1e-9, "\(context) full tau2")
            let random = method != .fixedEffect

            let loo = try LeaveOneOut(fit)
            #expect(loo.fits.count == k && c.leave1out.count == k, "\(context) leave1out rows")
            for (i, (got, want)) in zip(loo.fits, c.leave1out).enumerated() {
                #expect(got.study == fixture.studies[i].study && got.count == k - 1)
                Self.check(got, want, random: random, "\(context) leave1out without \(i + 1)")
            }

            let cumulative = try CumulativeAnalysis(fit)
            #expect(cumulative.order == Array(0..<k))
            #expect(cumulative.fits.count == c.cumul.count, "\(context) cumul rows")
            for (j, (got, want)) in zip(cumulative.fits, c.cumul).enumerated() {
                #expect(got.count == j + 1 && got.study == fixture.studies[j].study)
                Self.check(got, want, random: random, "\(context) cumul step \(j + 1)")
            }

            let ordered = try CumulativeAnalysis(fit, sortedBy: fixture.studies.map(\.key))
            #expect(ordered.order == fixture.order, "\(context) cumul order")
            for (j, (got, want)) in zip(ordered.fits, c.cumul_ordered).enumerated() {
                #expect(got.study == fixture.studies[fixture.order[j]].study)
                Self.check(got, want, random: random, "\(context) cumul ordered step \(j + 1)")
            }
            // The same order given as a permutation.
            #expect(try CumulativeAnalysis(fit, order: fixture.order).fits == ordered.fits)

            let influence = try InfluenceDiagnostics(fit)
            #expect(influence.studies.count == c.influence.count, "\(context) influence rows")
            for (i, (got, want)) in zip(influence.studies, c.influence).enumerated() {
                let at = "\(context) influence \(i + 1)"
                expectClose(got.studentizedResidual, want.rstudent, relative: 1e-6, absolute: 1e-10, "\(at) rstudent \(got.studentizedResidual) vs \(want.rstudent)")
                expectClose(got.dffits, want.dffits, relative: 1e-6, absolute: 1e-10, "\(at) dffits \(got.dffits) vs \(want.dffits)")
                expectClose(got.cooksDistance, want.cook_d, relative: 1e-6, absolute: 1e-10, "\(at) cook.d \(got.cooksDistance) vs \(want.cook_d)")
                expectClose(got.covarianceRatio, want.cov_r, relative: 1e-6, absolute: 1e-10, "\(at) cov.r \(got.covarianceRatio) vs \(want.cov_r)")
                expectClose(got.tauSquaredDeleted, want.tau2_del, relative: 1e-6, absolute: 1e-9, "\(at) tau2.del \(got.tauSquaredDeleted) vs \(want.tau2_del)")
                expectClose(got.qDeleted, want.qe_del, relative: 1e-6, absolute: 1e-10, "\(at) QE.del \(got.qDeleted) vs \(want.qe_del)")
                expectClose(got.hat, want.hat, relative: 1e-6, absolute: 1e-10, "\(at) hat")
                expectClose(got.weight, want.weight, relative: 1e-6, absolute: 1e-10, "\(at) weight")
                expectClose(got.dfbetas, want.dfbetas, relative: 1e-6, absolute: 1e-10, "\(at) dfbetas \(got.dfbetas) vs \(want.dfbetas)")
                #expect(got.isInfluential == want.influential, "\(at) inf flag \(got.isInfluential) vs \(want.influential)")
            }
        }
    }

    @Test("leave-one-out gives identical rows for the two copies of a duplicated study")
    func duplicatedStudy() throws {
        let yi = [0.1, -0.4, 0.35, 0.8, -0.05, 0.35, 0.6]
        let vi = [0.04, 0.09, 0.02, 0.12, 0.05, 0.02, 0.07]
        let effects = try EffectSizes.generic(yi: yi, vi: vi, labels: ["A", "B", "C", "D", "E", "C again", "F"])
        for method in [TauSquaredMethod.fixedEffect, .derSimonianLaird, .restrictedMaximumLikelihood, .pauleMandel] {
            for ci in ConfidenceIntervalMethod.allCases {
                let fit = try MetaAnalysis(effects, method: method, ciMethod: ci)
                let rows = try LeaveOneOut(fit).fits
                let a = rows[2], b = rows[5]
                let pairs: [(Double, Double)] = [
                    (a.estimate, b.estimate), (a.standardError, b.standardError), (a.statistic, b.statistic),
                    (a.pValue, b.pValue), (a.confidenceInterval.lower, b.confidenceInterval.lower),
                    (a.confidenceInterval.upper, b.confidenceInterval.upper), (a.q, b.q), (a.qPValue, b.qPValue),
                    (a.tauSquared ?? 0, b.tauSquared ?? 0), (a.iSquared, b.iSquared), (a.hSquared, b.hSquared),
                ]
                for (x, y) in pairs { expectClose(x, y, relative: 1e-12, absolute: 1e-14, "\(method) \(ci)") }
                let inf = try InfluenceDiagnostics(fit).studies
                expectClose(inf[2].studentizedResidual, inf[5].studentizedResidual, relative: 1e-12, absolute: 1e-14)
                expectClose(inf[2].dfbetas, inf[5].dfbetas, relative: 1e-12, absolute: 1e-14)
                #expect(inf[2].isInfluential == inf[5].isInfluential)
            }
        }
    }

    @Test("the first cumulative row is the first study (tau^2 = 0, z test) for every method and test")
    func firstCumulativeRow() throws {
        let effects = try EffectSizes.generic(yi: [0.5, 0.1, 0.9], vi: [0.04, 0.09, 0.02])
        for method in TauSquaredMethod.allCases {
            for ci in ConfidenceIntervalMethod.allCases {
                let row = try CumulativeAnalysis(try MetaAnalysis(effects, method: method, ciMethod: ci)).fits[0]
                #expect(row.estimate == 0.5 && row.standardError == 0.2 && row.degreesOfFreedom == nil)
                expectClose(row.confidenceInterval.lower, 0.5 - 1.959963984540054 * 0.2, relative: 1e-12, absolute: 1e-10)
                #expect(row.q == 0 && row.qPValue == 1 && row.iSquared == 0 && row.hSquared == 1)
                #expect(row.tauSquared == (method == .fixedEffect ? nil : 0))
            }
        }
        // A fixed-effect analysis of one study has a cumulative analysis of one row.
        let one = try MetaAnalysis(try EffectSizes.generic(yi: [0.2], vi: [0.01]), method: .fixedEffect)
        #expect(try CumulativeAnalysis(one).fits.count == 1)
    }

    @Test("errors: a single study, a bad order, bad sort keys")
    func errors() throws {
        let one = try MetaAnalysis(try EffectSizes.generic(yi: [0.2], vi: [0.01]), method: .fixedEffect)
        do {
            _ = try LeaveOneOut(one)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData)
        }
        do {
            _ = try InfluenceDiagnostics(one)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData)
        }
        let fit = try MetaAnalysis(try EffectSizes.generic(yi: [0.5, 0.1, 0.9], vi: [0.04, 0.09, 0.02], labels: ["A", "B", "C"]))
        for order in [[0, 1], [0, 1, 3], [0, 1, -1], [0, 1, 1]] {
            do {
                _ = try CumulativeAnalysis(fit, order: order)
                Issue.record("expected an error for \(order)")
            } catch {
                #expect(error.kind == .invalidArgument, "\(order)")
            }
        }
        do {
            _ = try CumulativeAnalysis(fit, sortedBy: [1, 2])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidArgument)
        }
        do {
            _ = try CumulativeAnalysis(fit, sortedBy: [1, .nan, 2])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.study == "B" && error.location.row == 2)
        }
    }

    @Test("summaries use metafor's names")
    func summaries() throws {
        let effects = try EffectSizes.generic(yi: [0.5, 0.1, 0.9, 0.3], vi: [0.04, 0.09, 0.02, 0.05], labels: ["A", "B", "C", "D"])
        let fit = try MetaAnalysis(effects, method: .derSimonianLaird, ciMethod: .hartungKnapp)
        func keys(_ value: JSONValue) -> [String] {
            guard case .object(let members) = value else { return [] }
            return members.map(\.0)
        }
        func firstRow(_ value: JSONValue) -> JSONValue? {
            guard case .object(let members) = value, let rows = members.first(where: { $0.0 == "rows" })?.1,
                  case .array(let array) = rows else { return nil }
            return array.first
        }
        let loo = try LeaveOneOut(fit).summary()
        #expect(keys(loo) == ["analysis", "measure", "method", "ci_method", "level", "k", "rows"])
        #expect(keys(try #require(firstRow(loo))) == ["study", "estimate", "se", "statistic", "p_value", "df", "ci_lower", "ci_upper", "q", "q_p_value", "tau2", "i2", "h2"])
        let cumulative = try CumulativeAnalysis(fit, sortedBy: [4, 3, 2, 1]).summary()
        #expect(keys(cumulative) == ["analysis", "measure", "method", "ci_method", "level", "k", "order", "rows"])
        // The first row is a single study: z test, no df.
        #expect(keys(try #require(firstRow(cumulative))) == ["study", "k", "estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper", "q", "q_p_value", "tau2", "i2", "h2"])
        let influence = try InfluenceDiagnostics(fit).summary()
        #expect(keys(influence) == ["analysis", "measure", "method", "ci_method", "level", "k", "thresholds", "rows"])
        #expect(keys(try #require(firstRow(influence))) == ["study", "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas", "influential"])
        #expect(!influence.serialized().contains("nan"))
    }
}

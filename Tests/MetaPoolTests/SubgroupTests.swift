// Subgroup analysis (`--by`) against metafor: per-subgroup models and the test for subgroup
// differences. Fixtures: Tests/MetaPoolTests/Fixtures/subgroups, written by
// `Rscript Tests/Reference/generate_subgroups.R`.

import Foundation
import Testing
import MetaPool
@testable import MetaPoolTestSupport

struct SubgroupFixture: Decodable {
    struct Group: Decodable {
        var subgroup: String
        var k: Int
        var estimate: Double
        var se: Double
        var ci_lower: Double
        var ci_upper: Double
        var tau2: Double?
    }
    struct Expected: Decodable {
        var subgroups: [Group]
        var overall_estimate: Double
        var q: Double
        var df: Int
        var p_value: Double
    }
    struct Case: Decodable {
        var measure: String
        var method: String
        var ci_method: String
        var by: String
        var expected: Expected
    }
    var input: String
    var cases: [Case]

    static let directory = FixtureFolder.url("subgroups")
    static func names() -> [String] {
        FixtureFolder.names(in: directory, suffix: ".expected.json").filter { !$0.hasSuffix(".common") }
    }
}

@Suite("Subgroups (--by) against metafor")
struct SubgroupTests {
    @Test("fixtures are present")
    func present() { #expect(SubgroupFixture.names().count >= 3) }

    @Test("every case matches metafor", arguments: SubgroupFixture.names())
    func dataset(_ name: String) throws {
        let data = try Data(contentsOf: SubgroupFixture.directory.appendingPathComponent(name + ".expected.json"))
        let fixture = try JSONDecoder().decode(SubgroupFixture.self, from: data)
        let table = try DataTable.read(path: SubgroupFixture.directory.appendingPathComponent(fixture.input).path)
        #expect(fixture.cases.count >= 12)
        for c in fixture.cases {
            let context = "\(name) \(c.measure) \(c.method) \(c.ci_method)"
            let analysis = try SubgroupAnalysis(
                table: table, by: c.by, measure: try #require(EffectMeasure(code: c.measure)),
                method: try #require(TauSquaredMethod(code: c.method)),
                ciMethod: try #require(ConfidenceIntervalMethod(rawValue: c.ci_method)))
            let e = c.expected
            #expect(analysis.subgroups.map(\.label) == e.subgroups.map(\.subgroup), "\(context)")
            for (got, want) in zip(analysis.subgroups, e.subgroups) {
                let a = try #require(got.analysis)
                #expect(a.count == want.k, "\(context) \(want.subgroup) k")
                expectClose(a.estimate, want.estimate, relative: 1e-6, absolute: 1e-10, "\(context) \(want.subgroup) estimate \(a.estimate) vs \(want.estimate)")
                expectClose(a.standardError, want.se, relative: 1e-6, absolute: 1e-10, "\(context) \(want.subgroup) se")
                expectClose(a.confidenceInterval.lower, want.ci_lower, relative: 1e-6, absolute: 1e-10, "\(context) \(want.subgroup) ci_lower")
                expectClose(a.confidenceInterval.upper, want.ci_upper, relative: 1e-6, absolute: 1e-10, "\(context) \(want.subgroup) ci_upper")
                if let tau2 = want.tau2 {
                    expectClose(a.tauSquared ?? .nan, tau2, relative: 1e-6, absolute: 1e-9, "\(context) \(want.subgroup) tau2")
                } else {
                    #expect(a.tauSquared == nil, "\(context) \(want.subgroup) tau2 should be absent")
                }
            }
            expectClose(analysis.overall.estimate, e.overall_estimate, relative: 1e-6, absolute: 1e-10, "\(context) overall")
            expectClose(analysis.qBetween, e.q, relative: 1e-6, absolute: 1e-10, "\(context) Q_between \(analysis.qBetween) vs \(e.q)")
            #expect(analysis.qBetweenDegreesOfFreedom == e.df, "\(context) df")
            expectClose(analysis.qBetweenPValue, e.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p")
        }
    }

    @Test("errors: unknown column, empty subgroup cell")
    func errors() throws {
        let table = try DataTable.read(bytes: Array("study,events,total,arm\nA,3,10,x\nB,4,12,\nC,5,11,y\n".utf8), source: "g.csv")
        do {
            _ = try SubgroupAnalysis(table: table, by: "drug")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .missingColumn && error.location.column == "drug")
        }
        do {
            _ = try SubgroupAnalysis(table: table, by: "arm", method: .fixedEffect)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.row == 2 && error.location.column == "arm")
        }
    }

    @Test("errors: --common-tau2 needs 2 subgroups and more studies than subgroups")
    func commonErrors() throws {
        let one = try DataTable.read(bytes: Array("study,events,total,arm\nA,3,10,x\nB,4,12,x\nC,5,11,x\n".utf8), source: "g.csv")
        #expect(throws: MetaPoolError.self) { _ = try SubgroupAnalysis(table: one, by: "arm", commonTauSquared: true) }
        let saturated = try DataTable.read(bytes: Array("study,events,total,arm\nA,3,10,x\nB,4,12,y\n".utf8), source: "g.csv")
        do {
            _ = try SubgroupAnalysis(table: saturated, by: "arm", method: .fixedEffect, commonTauSquared: true)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData && error.location.file == "g.csv" && error.location.column == "arm")
        }
    }
}

/// `NAME.common.expected.json`: one τ² for all subgroups, from metafor's `rma(mods = ~ g)` and `~ g - 1`.
struct CommonTauSquaredFixture: Decodable {
    struct Group: Decodable {
        var subgroup: String
        var k: Int
        var estimate, se, ci_lower, ci_upper, statistic, p_value: Double
        var pi_lower, pi_upper: Double?
    }
    struct Expected: Decodable {
        var subgroups: [Group]
        var tau2, qm: Double
        var qm_df: Int
        var qm_df2: Int?
        var qm_p_value, qe: Double
        var qe_df: Int
        var qe_p_value: Double
        var i2, h2: Double?
    }
    struct Case: Decodable {
        var measure, method, ci_method, by: String
        var expected: Expected
    }
    var input: String
    var cases: [Case]

    static func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: SubgroupFixture.directory.path)) ?? [])
            .filter { $0.hasSuffix(".common.expected.json") }.map { String($0.dropLast(".common.expected.json".count)) }.sorted()
    }
}

@Suite("Subgroups with a common tau^2 (--common-tau2) against metafor")
struct CommonTauSquaredTests {
    @Test("fixtures are present")
    func present() { #expect(CommonTauSquaredFixture.names().count >= 3) }

    @Test("every estimator and test matches metafor", arguments: CommonTauSquaredFixture.names())
    func dataset(_ name: String) throws {
        let data = try Data(contentsOf: SubgroupFixture.directory.appendingPathComponent(name + ".common.expected.json"))
        let fixture = try JSONDecoder().decode(CommonTauSquaredFixture.self, from: data)
        let table = try DataTable.read(path: SubgroupFixture.directory.appendingPathComponent(fixture.input).path)
        #expect(fixture.cases.count >= 36)
        for c in fixture.cases {
            let context = "\(name) \(c.measure) \(c.method) \(c.ci_method)"
            let analysis = try SubgroupAnalysis(
                table: table, by: c.by, measure: try #require(EffectMeasure(code: c.measure)),
                method: try #require(TauSquaredMethod(code: c.method)),
                ciMethod: try #require(ConfidenceIntervalMethod(rawValue: c.ci_method)), commonTauSquared: true)
            let e = c.expected
            let model = try #require(analysis.commonModel)
            expectClose(model.tauSquaredEstimate, e.tau2, relative: 1e-6, absolute: 1e-9, "\(context) tau2 \(model.tauSquaredEstimate) vs \(e.tau2)")
            expectClose(analysis.qBetween, e.qm, relative: 1e-6, absolute: 1e-10, "\(context) QM \(analysis.qBetween) vs \(e.qm)")
            #expect(analysis.qBetweenDegreesOfFreedom == e.qm_df && analysis.qBetweenDenominatorDegreesOfFreedom == e.qm_df2, "\(context) QM df")
            expectClose(analysis.qBetweenPValue, e.qm_p_value, relative: 1e-4, absolute: 1e-12, "\(context) QM p")
            expectClose(model.residualQ, e.qe, relative: 1e-6, absolute: 1e-10, "\(context) QE")
            #expect(model.residualQDegreesOfFreedom == e.qe_df, "\(context) QE df")
            expectClose(model.residualQPValue, e.qe_p_value, relative: 1e-4, absolute: 1e-12, "\(context) QE p")
            expectClose(model.iSquared, e.i2, relative: 1e-6, absolute: 1e-7, "\(context) I2 \(String(describing: model.iSquared)) vs \(String(describing: e.i2))")
            expectClose(model.hSquared, e.h2, relative: 1e-6, absolute: 1e-10, "\(context) H2")
            #expect(analysis.subgroups.map(\.label) == e.subgroups.map(\.subgroup), "\(context) labels")
            for (got, want) in zip(analysis.subgroups, e.subgroups) {
                let where_ = "\(context) \(want.subgroup)"
                #expect(got.count == want.k, "\(where_) k")
                expectClose(got.estimate, want.estimate, relative: 1e-6, absolute: 1e-10, "\(where_) estimate \(got.estimate) vs \(want.estimate)")
                expectClose(got.standardError, want.se, relative: 1e-6, absolute: 1e-10, "\(where_) se")
                expectClose(got.confidenceInterval.lower, want.ci_lower, relative: 1e-6, absolute: 1e-10, "\(where_) ci_lower")
                expectClose(got.confidenceInterval.upper, want.ci_upper, relative: 1e-6, absolute: 1e-10, "\(where_) ci_upper")
                expectClose(got.statistic, want.statistic, relative: 1e-6, absolute: 1e-10, "\(where_) statistic")
                expectClose(got.pValue, want.p_value, relative: 1e-4, absolute: 1e-12, "\(where_) p")
                expectClose(got.predictionInterval?.lower, want.pi_lower, relative: 1e-6, absolute: 1e-10, "\(where_) pi_lower")
                expectClose(got.predictionInterval?.upper, want.pi_upper, relative: 1e-6, absolute: 1e-10, "\(where_) pi_upper")
            }
        }
    }

    @Test("fuzz reproducer: Q between that overflows is an error, not inf (Fuzz/Reproducers/FuzzPooling-qbetween-infinite.bin)")
    func qBetweenOverflow() {
        let yi = [-2.34050955068984e-185, 1.8034433272936293e+260, 0.3999913832720593, 0.3990234375, 0.4]
        let vi = [6.444099150936402e+257, 6.444099150936363e+257, 0.10000190734863282, 0.2, 0.05]
        let groups = ["a", "b", "a", "a", "a"]  // as the harness splits them (lowest bit of yi)
        let rows: [[String?]] = yi.indices.map { ["\(yi[$0])", "\(vi[$0])", groups[$0]] }
        let table = DataTable(source: "fuzz", columns: ["yi", "vi", "group"], rows: rows)
        do {
            // FE: the fits themselves are finite (REML on these data stops with noConvergence since
            // the REML and Q-profile tolerance no longer scales with the mean variance).
            let s = try SubgroupAnalysis(table: table, by: "group", method: .fixedEffect)
            Issue.record("expected an error, got Q between \(s.qBetween)")
        } catch {
            #expect(error.kind == .insufficientData)
            #expect(error.reason.contains("too extreme"), "\(error)")
            #expect(error.location.column == "group")
        }
    }

    @Test("fuzz reproducer: a common-tau^2 fit that overflows is an error (Fuzz/Reproducers/FuzzPooling-common-tau2-overflow.bin)")
    func commonTauSquaredOverflow() {
        let yi = [0.1, 4.9436196776559503e-203, -2.4131657160588553e-185, 0.03999999994594853]
        let vi = [4.5700268446340675e-62, 4.619429761397471e-62, 3.322022268497166e-33, 4.447324621943327e+252]
        let groups = ["a", "b", "b", "b"]
        let rows: [[String?]] = yi.indices.map { ["\(yi[$0])", "\(vi[$0])", groups[$0]] }
        let table = DataTable(source: "fuzz", columns: ["yi", "vi", "group"], rows: rows)
        do {
            let s = try SubgroupAnalysis(table: table, by: "group", ciMethod: .hartungKnapp, level: 0.7495, commonTauSquared: true)
            let numbers = s.subgroups.flatMap { [$0.estimate, $0.standardError, $0.confidenceInterval.lower, $0.confidenceInterval.upper] }
                + [s.qBetween, s.qBetweenPValue]
            #expect(numbers.allSatisfy { $0.isFinite }, "\(numbers)")
        } catch {
            #expect(error.kind == .insufficientData || error.kind == .noConvergence, "\(error)")
        }
    }
}

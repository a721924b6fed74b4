// The README's headline analyses of the shipped HER2+ brain-metastasis datasets against metafor.
// Fixture: Tests/MetaPoolTests/Fixtures/headline/expected.json, written by
// `Rscript Tests/Reference/generate_headline.R` from the files in Datasets/.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Headline analyses of Datasets/ against metafor")
struct HeadlineAnalysisTests {
    struct Pooled: Decodable {
        var file: String
        var `where`: [String]
        var k: Int
        var estimate, se, ci_lower, ci_upper, p_value, tau2, tau2_ci_lower, tau2_ci_upper, i2, q, q_p_value: Double
        var pi_lower, pi_upper, back_estimate, back_ci_lower, back_ci_upper: Double
        var pi_t_lower, pi_t_upper: Double
    }
    struct Mixed: Decodable {
        var subgroup: String?
        var k: Int
        var estimate, se, ci_lower, ci_upper, tau2, pi_t_lower, pi_t_upper, marginal, marginal_lower, marginal_upper: Double
    }
    struct Group: Decodable {
        var subgroup: String
        var k: Int
        var estimate, se, ci_lower, ci_upper: Double
        var tau2: Double?
    }
    struct ByClass: Decodable {
        var file, by: String
        var `where`: [String]
        var subgroups: [Group]
        var overall_estimate, q: Double
        var df: Int
        var p_value, common_tau2, common_qm, common_qm_p_value: Double
        var common_estimates, common_se: [Double]
    }
    struct Expected: Decodable {
        var tdxd_active: Pooled
        var by_drug_class: ByClass
        var pfs: Pooled
        var tdxd_active_glmm: Mixed
        var class_glmm: [Mixed]
        var with_kamilla: Pooled
        var without_radiotherapy: Pooled
        var overall_glmm, with_kamilla_glmm, without_radiotherapy_glmm: Mixed
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func expected() throws -> Expected {
        let url = repository.appendingPathComponent("Tests/MetaPoolTests/Fixtures/headline/expected.json")
        return try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url))
    }

    static func table(_ file: String) throws -> DataTable {
        try DataTable.read(path: repository.appendingPathComponent("Datasets").appendingPathComponent(file).path)
    }

    func check(_ e: Pooled, _ name: String) throws {
        let conditions = try e.where.map { try #require(RowCondition(parsing: $0)) }
        let fit = try MetaAnalysis(EffectSizes(table: Self.table(e.file).selecting(conditions)))
        let s = try fit.summary()
        #expect(s.k == e.k, "\(name) k")
        let pairs: [(String, Double?, Double)] = [
            ("estimate", s.estimate, e.estimate), ("se", s.se, e.se), ("ci_lower", s.ciLower, e.ci_lower),
            ("ci_upper", s.ciUpper, e.ci_upper), ("tau2", s.tau2, e.tau2), ("tau2_ci_upper", s.tau2CIUpper, e.tau2_ci_upper),
            ("i2", s.i2, e.i2), ("q", s.q, e.q), ("pi_lower", s.piLower, e.pi_lower), ("pi_upper", s.piUpper, e.pi_upper),
            ("back estimate", s.backTransformed.estimate, e.back_estimate),
            ("back ci_lower", s.backTransformed.ciLower, e.back_ci_lower), ("back ci_upper", s.backTransformed.ciUpper, e.back_ci_upper),
        ]
        for (key, got, want) in pairs {
            expectClose(got, want, relative: 1e-6, absolute: 1e-10, "\(name) \(key): \(String(describing: got)) vs metafor \(want)")
        }
        let t = try #require(fit.prediction(.t), "\(name): no t prediction interval")
        #expect(t.degreesOfFreedom == e.k - 1)
        expectClose(t.interval.lower, e.pi_t_lower, relative: 1e-6, absolute: 1e-10, "\(name) pi (t) lower")
        expectClose(t.interval.upper, e.pi_t_upper, relative: 1e-6, absolute: 1e-10, "\(name) pi (t) upper")
        expectClose(s.tau2CILower, e.tau2_ci_lower, relative: 1e-6, absolute: 1e-8, "\(name) tau2_ci_lower")
        expectClose(s.pValue, e.p_value, relative: 1e-4, absolute: 1e-10, "\(name) p")
        expectClose(s.qPValue, e.q_p_value, relative: 1e-4, absolute: 1e-10, "\(name) Q p")
    }

    @Test("pooled IC-ORR of trastuzumab deruxtecan in active brain metastases")
    func tdxdActive() throws {
        let e = try Self.expected()
        try check(e.tdxd_active, "T-DXd active")
        #expect(e.tdxd_active.k >= 4)
    }

    /// The GLMM of the rows `conditions` select against rma.glmm(nAGQ = 7): estimate, SE, CI and
    /// τ² to 1e-5 (the bar for metafor/lme4), the t prediction interval and the
    /// population-averaged rate (R's integrate()) to 1e-5 as they follow from the fit.
    func checkGLMM(_ e: Mixed, _ conditions: [String], _ name: String) throws {
        let rows = try Self.table("her2-bm-intracranial-response.csv").selecting(conditions.map { try #require(RowCondition(parsing: $0)) })
        let g = try GeneralizedLinearMixedModel(table: rows, quadraturePoints: 7)
        #expect(g.count == e.k, "\(name) k")
        expectClose(g.estimate, e.estimate, relative: 1e-5, absolute: 1e-7, "\(name) GLMM estimate")
        expectClose(g.standardError, e.se, relative: 1e-5, absolute: 1e-7, "\(name) GLMM se")
        expectClose(g.confidenceInterval.lower, e.ci_lower, relative: 1e-5, absolute: 1e-7, "\(name) GLMM ci_lower")
        expectClose(g.confidenceInterval.upper, e.ci_upper, relative: 1e-5, absolute: 1e-7, "\(name) GLMM ci_upper")
        expectClose(g.tauSquared, e.tau2, relative: 1e-5, absolute: 1e-7, "\(name) GLMM tau2")
        let t = try #require(g.prediction(.t))
        expectClose(t.interval.lower, e.pi_t_lower, relative: 1e-5, absolute: 1e-7, "\(name) GLMM pi (t) lower")
        expectClose(t.interval.upper, e.pi_t_upper, relative: 1e-5, absolute: 1e-7, "\(name) GLMM pi (t) upper")
        let m = g.populationAveragedRate
        expectClose(m.estimate, e.marginal, relative: 1e-5, absolute: 1e-7, "\(name) marginal rate")
        expectClose(m.lower, e.marginal_lower, relative: 1e-5, absolute: 1e-7, "\(name) marginal lower")
        expectClose(m.upper, e.marginal_upper, relative: 1e-5, absolute: 1e-7, "\(name) marginal upper")
    }

    @Test("the GLMM beside inverse variance: T-DXd in active BM and the two largest drug classes")
    func glmm() throws {
        let e = try Self.expected()
        try checkGLMM(e.tdxd_active_glmm, e.tdxd_active.where, "T-DXd active")
        #expect(e.class_glmm.count == 2)
        for c in e.class_glmm {
            let subgroup = try #require(c.subgroup)
            try checkGLMM(c, e.by_drug_class.where + ["drug_class=\(subgroup)"], subgroup)
        }
    }

    @Test("sensitivity analyses: with KAMILLA's best overall response, without the radiotherapy series")
    func sensitivityAnalyses() throws {
        let e = try Self.expected()
        try check(e.with_kamilla, "with KAMILLA")
        try check(e.without_radiotherapy, "without Chargari 2011")
        try checkGLMM(e.overall_glmm, e.by_drug_class.where, "all experimental arms")
        try checkGLMM(e.with_kamilla_glmm, e.with_kamilla.where, "with KAMILLA")
        try checkGLMM(e.without_radiotherapy_glmm, e.without_radiotherapy.where, "without Chargari 2011")
        #expect(e.with_kamilla.k == e.by_drug_class.subgroups.map(\.k).reduce(0, +) + 1)
        #expect(e.without_radiotherapy.k == e.by_drug_class.subgroups.map(\.k).reduce(0, +) - 1)
    }

    @Test("pooled PFS hazard ratios in patients with brain metastases")
    func pfs() throws { try check(try Self.expected().pfs, "PFS") }

    @Test("IC-ORR by drug class: separate and common tau^2")
    func byDrugClass() throws {
        let e = try Self.expected().by_drug_class
        let conditions = try e.where.map { try #require(RowCondition(parsing: $0)) }
        let table = try Self.table(e.file).selecting(conditions)
        let separate = try SubgroupAnalysis(table: table, by: e.by)
        #expect(separate.subgroups.map(\.label) == e.subgroups.map(\.subgroup))
        for (got, want) in zip(separate.subgroups, e.subgroups) {
            #expect(got.count == want.k, "\(want.subgroup) k")
            expectClose(got.estimate, want.estimate, relative: 1e-6, absolute: 1e-10, "\(want.subgroup) estimate")
            expectClose(got.standardError, want.se, relative: 1e-6, absolute: 1e-10, "\(want.subgroup) se")
            expectClose(got.confidenceInterval.lower, want.ci_lower, relative: 1e-6, absolute: 1e-10, "\(want.subgroup) ci_lower")
            expectClose(got.confidenceInterval.upper, want.ci_upper, relative: 1e-6, absolute: 1e-10, "\(want.subgroup) ci_upper")
            if let tau2 = want.tau2 { expectClose(got.tauSquared, tau2, relative: 1e-6, absolute: 1e-9, "\(want.subgroup) tau2") }
        }
        expectClose(separate.overall.estimate, e.overall_estimate, relative: 1e-6, absolute: 1e-10)
        expectClose(separate.qBetween, e.q, relative: 1e-6, absolute: 1e-10, "Q_between \(separate.qBetween) vs \(e.q)")
        #expect(separate.qBetweenDegreesOfFreedom == e.df)
        expectClose(separate.qBetweenPValue, e.p_value, relative: 1e-4, absolute: 1e-14)

        let common = try SubgroupAnalysis(table: table, by: e.by, commonTauSquared: true)
        expectClose(common.commonModel?.tauSquaredEstimate, e.common_tau2, relative: 1e-6, absolute: 1e-9)
        expectClose(common.qBetween, e.common_qm, relative: 1e-6, absolute: 1e-10, "QM \(common.qBetween) vs \(e.common_qm)")
        expectClose(common.qBetweenPValue, e.common_qm_p_value, relative: 1e-4, absolute: 1e-14)
        #expect(common.subgroups.count == e.common_estimates.count)
        for (i, g) in common.subgroups.enumerated() where i < e.common_estimates.count {
            expectClose(g.estimate, e.common_estimates[i], relative: 1e-6, absolute: 1e-10, "\(g.label) common estimate")
            expectClose(g.standardError, e.common_se[i], relative: 1e-6, absolute: 1e-10, "\(g.label) common se")
        }
    }
}

@Suite("README: the documented output is what the main command prints")
struct ReadmeOutputTests {
    /// The code block after `marker` in the README.
    static func block(after marker: String) throws -> String {
        let readme = try String(contentsOf: HeadlineAnalysisTests.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: marker), "README has no \(marker)")
        let open = try #require(readme.range(of: "```\n", range: start.upperBound..<readme.endIndex))
        let close = try #require(readme.range(of: "\n```", range: open.upperBound..<readme.endIndex))
        return String(readme[open.upperBound..<close.lowerBound])
    }

    @Test("the first command's output")
    func mainCommand() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, ["pool", "Datasets/her2-bm-intracranial-response.csv",
                                                     "--where", "regimen=trastuzumab deruxtecan", "--where", "population=active",
                                                     "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"],
                                            in: HeadlineAnalysisTests.repository, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let documented = try Self.block(after: "The first prints")
        #expect(result.stdout.trimmingCharacters(in: .newlines) == documented.trimmingCharacters(in: .newlines))
    }

    @Test("the drug-class and PFS outputs")
    func headlineBlocks() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        for (command, marker) in [
            (["pool", "Datasets/her2-bm-intracranial-response.csv", "--by", "drug_class",
              "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR", "--where", "role=experimental"], "**2. Intracranial response by drug class**"),
            (["pool", "Datasets/her2-bm-hazard-ratios.csv", "--where", "endpoint=PFS"], "**3. PFS hazard ratios"),
        ] {
            let result = try MetapoolBinary.run(binary, command, in: HeadlineAnalysisTests.repository, stdinFile: nil)
            #expect(result.status == 0, "\(result.stderr)")
            let documented = try Self.block(after: marker)
            let lines = documented.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()  // the "$ metapool …" line
            #expect(result.stdout.trimmingCharacters(in: .newlines) == lines.joined(separator: "\n").trimmingCharacters(in: .newlines), "\(command)")
        }
    }
}

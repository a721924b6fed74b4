// `regress --method GLMM` and `pool --by G --common-tau2 --method GLMM` through the built binary:
// the numbers against the metafor fixtures of Tests/Reference/generate_glmm_regression.R, and the
// refusals and data errors.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("regress --method GLMM and pool --by --common-tau2 --method GLMM")
struct GLMMRegressCommandTests {
    static let folder = FixtureFolder.url("glmm_regression")

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments + ["--format", "json"], in: folder, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func expected(_ file: String, _ moderators: [String], q: Int) throws -> [String: Any] {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(file + ".expected.json"))) as? [String: Any])
        let cases = try #require(doc["cases"] as? [[String: Any]])
        let c = try #require(cases.first { ($0["moderators"] as? [String]) == moderators && ($0["quadrature_points"] as? Int) == q })
        return try #require(c["expected"] as? [String: Any])
    }

    @Test("regress --method GLMM prints metafor's rma.glmm(mods) values", arguments: [1, 7])
    func regress(_ q: Int) throws {
        let out = try Self.json(["regress", "debruin2009.csv", "--mods", "scq,patients", "--method", "GLMM", "--quadrature-points", String(q)])
        let e = try Self.expected("debruin2009", ["scq", "patients"], q: q)
        #expect(out["method"] as? String == "GLMM" && out["measure"] as? String == "PLO" && out["k"] as? Int == e["k"] as? Int)
        let coefficients = try #require(out["coefficients"] as? [[String: Any]])
        let names = try #require(e["predictors"] as? [String]), estimates = try #require(e["estimate"] as? [Double])
        let ses = try #require(e["se"] as? [Double])
        #expect(coefficients.compactMap { $0["name"] as? String } == names)
        for (j, c) in coefficients.enumerated() where j < names.count {
            expectClose(c["estimate"] as? Double, estimates[j], relative: 1e-5, absolute: 1e-6, "\(names[j]) estimate")
            expectClose(c["se"] as? Double, ses[j], relative: q == 1 ? 1e-3 : 1e-5, absolute: 1e-12, "\(names[j]) se")
        }
        expectClose(out["tau2"] as? Double, e["tau2"] as? Double, relative: 2e-5, absolute: 1e-10, "tau2")
        expectClose(out["qm"] as? Double, e["qm"] as? Double, relative: q == 1 ? 1e-3 : 1e-4, absolute: 1e-8, "QM")
        #expect(out["qm_df"] as? Int == e["qm_df"] as? Int && out["qe_df"] as? Int == e["qe_df"] as? Int)
        expectClose(out["qe_lrt"] as? Double, e["qe_lrt"] as? Double, relative: 1e-6, absolute: 1e-10, "QE.LRT")
        expectClose(out["log_likelihood"] as? Double, e["log_likelihood"] as? Double, relative: 1e-5, absolute: 1e-8, "logLik")
    }

    @Test("pool --by --common-tau2 --method GLMM: QM between subgroups and each subgroup's cell mean")
    func commonTau() throws {
        let out = try Self.json(["pool", "her2_icorr.csv", "--by", "population", "--common-tau2", "--method", "GLMM"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.folder.appendingPathComponent("subgroups_common_tau2.json"))) as? [String: Any])
        let c = try #require((doc["cases"] as? [[String: Any]])?.first { $0["file"] as? String == "her2_icorr.csv" && $0["by"] as? String == "population" })
        let test = try #require(out["test_subgroup_differences"] as? [String: Any])
        #expect(test["test"] as? String == "QM" && test["df"] as? Int == c["qm_df"] as? Int)
        expectClose(test["q"] as? Double, c["qm"] as? Double, relative: 1e-4, absolute: 1e-8, "QM")
        let common = try #require(out["common_tau2"] as? [String: Any])
        expectClose(common["tau2"] as? Double, c["tau2"] as? Double, relative: 2e-5, absolute: 1e-10, "tau2")
        let groups = try #require(out["subgroups"] as? [[String: Any]])
        for g in try #require(c["groups"] as? [[String: Any]]) {
            let s = try #require(groups.first { $0["subgroup"] as? String == g["label"] as? String })
            #expect(s["model"] as? String == "common tau^2 (GLMM)")
            expectClose(s["estimate"] as? Double, g["estimate"] as? Double, relative: 1e-5, absolute: 1e-6, "estimate")
            expectClose(s["se"] as? Double, g["se"] as? Double, relative: 1e-5, absolute: 1e-12, "se")
        }
        // The forest plot draws the same fit.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glmmreg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("forest.svg")
        try expectCLIOutcome(["forest", "her2_icorr.csv", "--by", "population", "--common-tau2", "--method", "GLMM", "-o", svg.path],
                             exit: 0, stderr: [], output: svg, in: Self.folder)
        // So does the report, whose plot carries QM from the same model.
        let html = dir.appendingPathComponent("report.html")
        try expectCLIOutcome(["report", "her2_icorr.csv", "--by", "population", "--common-tau2", "--method", "GLMM", "-o", html.path],
                             exit: 0, stderr: [], output: html, in: Self.folder)
        let page = try String(contentsOf: html, encoding: .utf8)
        let qm = try #require(c["qm"] as? Double)
        #expect(page.contains("QM = \(String(format: "%.2f", qm))"), "the report names QM = \(qm)")
    }

    @Test("refusals (64) and data errors (65)")
    func errors() throws {
        try expectCLIOutcome(["regress", "separated.csv", "--mods", "g", "--method", "GLMM"], exit: 65,
                             stderr: ["separated.csv", "separate the studies with events from those without"], output: nil, in: Self.folder)
        try expectCLIOutcome(["pool", "separated.csv", "--by", "g", "--common-tau2", "--method", "GLMM"], exit: 65,
                             stderr: ["separated.csv", "separate the studies"], output: nil, in: Self.folder)
        try expectCLIOutcome(["regress", "debruin2009.csv", "--mods", "scq", "--method", "GLMM", "--measure", "OR"], exit: 64,
                             stderr: ["--measure OR is not available with moderators"], output: nil, in: Self.folder)
        try expectCLIOutcome(["regress", "debruin2009.csv", "--mods", "scq", "--method", "GLMM", "--permutations", "100"], exit: 64,
                             stderr: ["--permutations"], output: nil, in: Self.folder)
        try expectCLIOutcome(["regress", "Datasets/bcg-vaccine.csv", "--mods", "allocation", "--method", "GLMM"], exit: 64,
                             stderr: ["two-group counts"], output: nil, in: FixtureFolder.root)
        try expectCLIOutcome(["regress", "debruin2009.csv", "--mods", "total", "--method", "GLMM", "--where", "total=29"], exit: 65,
                             stderr: ["same value"], output: nil, in: Self.folder)
        try expectCLIOutcome(["pool", "Datasets/bcg-vaccine.csv", "--by", "allocation", "--common-tau2", "--method", "GLMM"], exit: 64,
                             stderr: ["two-group counts", "without a common tau^2"], output: nil, in: FixtureFolder.root)
        try expectCLIOutcome(["pool", "Datasets/bcg-vaccine.csv", "--by", "allocation", "--common-tau2", "--method", "MH"], exit: 64,
                             stderr: ["--method MH fits each subgroup on its own"], output: nil, in: FixtureFolder.root)
    }
}

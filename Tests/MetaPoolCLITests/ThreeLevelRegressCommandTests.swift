// `regress --cluster COLUMN [--robust [--robust-type CR1|CR2]]` through the built binary: the JSON
// numbers against the metafor/clubSandwich fixtures of Tests/Reference/generate_threelevel_regression.R,
// the table naming both levels, the refusals and a missing cluster cell.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("regress --cluster: the three-level meta-regression")
struct ThreeLevelRegressCommandTests {
    static let folder = FixtureFolder.url("threelevel_regression")

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments + ["--format", "json"], in: folder, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func expected(_ name: String, _ method: String) throws -> [String: Any] {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name + ".expected.json"))) as? [String: Any])
        return try #require((doc["fits"] as? [String: Any])?[method] as? [String: Any])
    }

    @Test("REML, CR2: coefficients, variance components and their CIs, QE, QM, LRT and the CR2 table as metafor and clubSandwich")
    func assinkCR2() throws {
        let out = try Self.json(["regress", "assink2016_deltype.csv", "--mods", "deltype,year", "--cluster", "study", "--robust"])
        let e = try Self.expected("assink2016_deltype", "REML")
        let tol = 1e-6
        #expect(out["model"] as? String == "three-level" && out["cluster_column"] as? String == "study")
        #expect(out["k"] as? Int == 100 && out["n_clusters"] as? Int == 17 && out["p"] as? Int == 4)
        let coefficients = try #require(out["coefficients"] as? [[String: Any]])
        #expect(coefficients.compactMap { $0["name"] as? String } == ["intrcpt", "deltypegeneral", "deltypeovert", "year"])
        let estimate = try #require(e["estimate"] as? [Double]), se = try #require(e["se"] as? [Double])
        let ciLower = try #require(e["ci_lb"] as? [Double]), ciUpper = try #require(e["ci_ub"] as? [Double])
        for (j, c) in coefficients.enumerated() where j < 4 {
            expectClose(c["estimate"] as? Double, estimate[j], relative: tol, absolute: tol, "b[\(j)]")
            expectClose(c["se"] as? Double, se[j], relative: tol, absolute: tol, "se[\(j)]")
            expectClose(c["ci_lower"] as? Double, ciLower[j], relative: tol, absolute: tol, "ci.lb[\(j)]")
            expectClose(c["ci_upper"] as? Double, ciUpper[j], relative: tol, absolute: tol, "ci.ub[\(j)]")
        }
        let sigma2 = try #require(e["sigma2"] as? [Double]), ci = try #require(e["sigma2_ci"] as? [[Double]])
        expectClose(out["sigma2_cluster"] as? Double, sigma2[0], relative: tol, absolute: tol, "sigma2 cluster")
        expectClose(out["sigma2_cohort"] as? Double, sigma2[1], relative: tol, absolute: tol, "sigma2 cohort")
        expectClose(out["sigma2_cluster_ci_lower"] as? Double, ci[0][0], relative: 1e-5, absolute: 1e-7, "sigma2 cluster ci.lb")
        expectClose(out["sigma2_cluster_ci_upper"] as? Double, ci[0][1], relative: 1e-5, absolute: 1e-7, "sigma2 cluster ci.ub")
        expectClose(out["sigma2_cohort_ci_lower"] as? Double, ci[1][0], relative: 1e-5, absolute: 1e-7, "sigma2 cohort ci.lb")
        expectClose(out["sigma2_cohort_ci_upper"] as? Double, ci[1][1], relative: 1e-5, absolute: 1e-7, "sigma2 cohort ci.ub")
        expectClose(out["log_likelihood"] as? Double, e["logLik"] as? Double, relative: tol, absolute: tol, "logLik")
        expectClose(out["qe"] as? Double, e["QE"] as? Double, relative: tol, absolute: tol, "QE")
        expectClose(out["qm"] as? Double, e["QM"] as? Double, relative: tol, absolute: tol, "QM")
        expectClose(out["qm_p_value"] as? Double, e["QM_pval"] as? Double, relative: tol, absolute: 1e-9, "QM p")
        expectClose(out["lrt_two_level"] as? Double, e["lrt"] as? Double, relative: tol, absolute: tol, "LRT")
        expectClose(out["two_level_tau2"] as? Double, (e["two_level"] as? [String: Any])?["tau2"] as? Double, relative: tol, absolute: tol, "two-level tau2")
        let robust = try #require(out["robust"] as? [String: Any])
        #expect(robust["type"] as? String == "CR2" && robust["n_clusters"] as? Int == 17)
        let cr2 = try #require(e["cr2"] as? [String: Any])
        // clubSandwich's Wald_test(constrain_zero(2:4), test = "HTZ").
        #expect(robust["qm_test"] as? String == "HTZ" && robust["qm_df"] as? Int == cr2["htz_df_num"] as? Int)
        expectClose(robust["qm"] as? Double, cr2["htz_F"] as? Double, relative: tol, absolute: tol, "HTZ F")
        expectClose(robust["qm_df2"] as? Double, cr2["htz_df_denom"] as? Double, relative: tol, absolute: tol, "HTZ df2")
        expectClose(robust["qm_p_value"] as? Double, cr2["htz_pval"] as? Double, relative: tol, absolute: 1e-9, "HTZ p")
        let rows = try #require(robust["coefficients"] as? [[String: Any]])
        for (key, want) in [("se", "se"), ("statistic", "tval"), ("df", "df"), ("p_value", "pval"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub")] {
            let values = try #require(cr2[want] as? [Double])
            for (j, row) in rows.enumerated() where j < values.count {
                expectClose(row[key] as? Double, values[j], relative: tol, absolute: tol, "CR2 \(key)[\(j)]")
            }
        }
    }

    @Test("ML with --ci t and --robust-type CR1: t on k - p df, F(m, k - p), metafor's robust() with its F-test")
    func konstantopoulosCR1() throws {
        let out = try Self.json(["regress", "konstantopoulos2011_schools.csv", "--mods", "schools", "--cluster", "district",
                                 "--method", "ML", "--ci", "t", "--robust", "--robust-type", "CR1"])
        let e = try Self.expected("konstantopoulos2011_schools", "ML")
        let tol = 1e-6
        #expect(out["method"] as? String == "ML" && out["df"] as? Int == e["t_df"] as? Int)
        let coefficients = try #require(out["coefficients"] as? [[String: Any]])
        let tval = try #require(e["tval"] as? [Double])
        for (j, c) in coefficients.enumerated() where j < 2 {
            expectClose(c["statistic"] as? Double, tval[j], relative: tol, absolute: tol, "t[\(j)]")
        }
        expectClose(out["qm"] as? Double, e["t_QM"] as? Double, relative: tol, absolute: tol, "F")
        #expect(out["qm_df2"] as? Int == (e["t_QM_df"] as? [Int])?.last)
        let robust = try #require(out["robust"] as? [String: Any])
        let cr1 = try #require(e["cr1"] as? [String: Any])
        #expect(robust["type"] as? String == "CR1")
        expectClose(robust["qm"] as? Double, cr1["QM"] as? Double, relative: tol, absolute: tol, "CR1 F")
        expectClose(robust["qm_df2"] as? Double, (cr1["QM_df"] as? [Int])?.last.map(Double.init), relative: 0, absolute: 0, "CR1 F df2")
        let rows = try #require(robust["coefficients"] as? [[String: Any]])
        let se = try #require(cr1["se"] as? [Double]), pval = try #require(cr1["pval"] as? [Double])
        for (j, row) in rows.enumerated() where j < 2 {
            expectClose(row["se"] as? Double, se[j], relative: tol, absolute: tol, "CR1 se[\(j)]")
            expectClose(row["p_value"] as? Double, pval[j], relative: tol, absolute: 1e-9, "CR1 p[\(j)]")
            expectClose(row["df"] as? Double, (cr1["df"] as? Int).map(Double.init), relative: 0, absolute: 0, "CR1 df")
        }
    }

    @Test("the table names both levels and the cluster column, and the CR2 table has a df column")
    func table() throws {
        let binary = try #require(MetapoolBinary.url)
        let result = try MetapoolBinary.run(binary, ["regress", "her2_drugclass.csv", "--mods", "drug_class", "--cluster", "trial", "--robust"],
                                            in: Self.folder, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        for needle in ["sigma^2.1", "cluster = trial", "sigma^2.2", "cohort", "LRT against the two-level", "CR2, Satterthwaite df", "drug_classtyrosine kinase inhibitor"] {
            #expect(result.stdout.contains(needle), "\(needle)\n\(result.stdout)")
        }
    }

    @Test("refusals: other methods, hksj, permutations, --robust without --cluster, an unknown --robust-type; --robust-type alone implies --robust")
    func refusals() throws {
        let base = ["regress", "assink2016_deltype.csv", "--mods", "year"]
        _ = try expectCLIOutcome(base + ["--cluster", "study", "--method", "DL"], exit: 64, stderr: ["REML or ML"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--cluster", "study", "--method", "GLMM"], exit: 64, stderr: ["REML or ML"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--cluster", "study", "--ci", "hksj"], exit: 64, stderr: ["--ci hksj"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--cluster", "study", "--permutations", "100"], exit: 64, stderr: ["--permutations"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--robust"], exit: 64, stderr: ["--cluster"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--cluster", "study", "--robust", "--robust-type", "CR3"], exit: 64, stderr: ["CR1", "CR2"], output: nil, in: Self.folder)
        _ = try expectCLIOutcome(base + ["--cluster", "nope"], exit: 65, stderr: ["\"nope\""], output: nil, in: Self.folder)
        let implied = try Self.json(base + ["--cluster", "study", "--robust-type", "CR1"])
        #expect((implied["robust"] as? [String: Any])?["type"] as? String == "CR1")
    }

    @Test("a missing cluster cell names the file, row and column; one study per cluster says the model is two-level")
    func dataErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("threelevel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "yi,vi,trial,x\n0.1,0.01,A,1\n0.2,0.02,A,2\n0.3,0.01,,3\n0.4,0.02,B,4\n0.2,0.03,B,2\n"
            .write(to: dir.appendingPathComponent("missing.csv"), atomically: true, encoding: .utf8)
        _ = try expectCLIOutcome(["regress", "missing.csv", "--mods", "x", "--cluster", "trial"], exit: 65,
                                 stderr: ["missing.csv", "row 3", "column \"trial\"", "cluster cell is empty"], output: nil, in: dir)
        try "yi,vi,trial,x\n0.1,0.01,A,1\n0.2,0.02,B,2\n0.3,0.01,C,3\n0.4,0.02,D,4\n"
            .write(to: dir.appendingPathComponent("single.csv"), atomically: true, encoding: .utf8)
        _ = try expectCLIOutcome(["regress", "single.csv", "--mods", "x", "--cluster", "trial"], exit: 65,
                                 stderr: ["reduces to the two-level"], output: nil, in: dir)
    }
}

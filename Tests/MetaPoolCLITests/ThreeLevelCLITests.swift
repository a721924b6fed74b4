// `--cluster COLUMN` through the built binary against metafor's rma.mv(yi, vi, random = ~ 1 |
// cluster/cohort), robust() (CR1) and clubSandwich's coef_test(vcov = "CR2"): pool's JSON (both
// levels named, weights, QE, the LRT against the two-level model, the per-cluster estimates),
// --ci t, --robust and --robust-type CR1, sensitivity (leave one cluster out), --batch, check,
// the forest plot's cluster blocks, and the errors of issue 16.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/threelevel/*.expected.json, written by
// `Rscript Tests/Reference/generate_threelevel.R` (metafor with rel.tol 1e-12, polished to the score
// root). Tolerances: estimates, SEs, variance components, log-likelihoods, tests and weights 1e-6
// absolute (the fits agree to ~1e-9); profile-likelihood bounds 1e-5 (metafor's confint() tolerance
// is 1e-12 but its refits stop at nlminb's); leave-one-cluster-out 1e-5 (the R refits of subsets are
// nlminb's, polished where interior).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ThreeLevelCLIFixture: Decodable {
    struct Data: Decodable { var yi, vi: [Double]; var cluster, cohort: [String] }
    struct TwoLevel: Decodable { var tau2, logLik: Double }
    struct ClusterMeans: Decodable { var cluster: [String]; var k: [Int]; var estimate, se: [Double] }
    struct Omitted: Decodable {
        var omitted: String
        var k: Int
        var model: String
        var estimate, se: Double
        var sigma2_cluster: Double?
        var sigma2_cohort: Double
    }
    struct Fit: Decodable {
        var estimate, se, zval, pval, ci_lb, ci_ub: Double
        var tval, t_pval, t_ci_lb, t_ci_ub: Double
        var t_df: Int
        var sigma2: [Double]
        var sigma2_ci: [[Double?]]
        var logLik, pi_lb, pi_ub, t_pi_lb, t_pi_ub, I2_cluster, I2_cohort, I2_total: Double
        var lrt, lrt_pval: Double
        var two_level: TwoLevel
        var robust_se, robust_tval, robust_pval, robust_ci_lb, robust_ci_ub: Double
        var robust_df: Int
        var cr2_se, cr2_df, cr2_pval, cr2_ci_lb, cr2_ci_ub: Double
        var QE, QEp: Double
        var weights: [Double]
        var cluster_means: ClusterMeans
        var leave_one_cluster_out: [Omitted]
    }
    var dataset: String
    var k, n_clusters: Int
    var data: Data
    var fits: [String: Fit]

    static func load(_ name: String) throws -> ThreeLevelCLIFixture {
        let url = FixtureFolder.url("threelevel").appendingPathComponent(name + ".expected.json")
        return try JSONDecoder().decode(ThreeLevelCLIFixture.self, from: Foundation.Data(contentsOf: url))
    }

    /// The data as a CSV of study, cluster, yi, vi in `folder`.
    func csv(in folder: URL) throws -> URL {
        var text = "study,cluster,yi,vi\n"
        for i in data.yi.indices {
            text += "\"\(data.cluster[i]) / \(data.cohort[i])\",\"\(data.cluster[i])\",\(data.yi[i]),\(data.vi[i])\n"
        }
        let url = folder.appendingPathComponent(dataset + ".csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

@Suite("--cluster through the CLI against rma.mv, robust() and clubSandwich")
struct ThreeLevelCLITests {
    static let datasets = ["konstantopoulos2011", "assink2016", "bornmann2007", "her2_cohorts"]

    static func run(_ arguments: [String], in directory: URL = FixtureFolder.root) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: directory, stdinFile: nil)
    }

    static func json(_ arguments: [String], in directory: URL = FixtureFolder.root) throws -> [String: Any] {
        let result = try run(arguments, in: directory)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    @Test("pool --cluster --format json: every output against metafor, ML and REML", arguments: datasets)
    func pool(_ name: String) throws {
        let fixture = try ThreeLevelCLIFixture.load(name)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try fixture.csv(in: folder).path
        for method in ["ML", "REML"] {
            let r = try #require(fixture.fits[method])
            let out = try Self.json(["pool", csv, "--measure", "GEN", "--method", method, "--cluster", "cluster", "--robust", "--format", "json"])
            func close(_ key: String, _ expected: Double?, _ tolerance: Double = 1e-6, in object: [String: Any]? = nil) {
                expectClose(Self.number((object ?? out)[key]), expected, relative: 0, absolute: tolerance, "\(name) \(method) \(key)")
            }
            #expect(out["model"] as? String == "three-level" && out["cluster_column"] as? String == "cluster")
            #expect(out["k"] as? Int == fixture.k && out["clusters"] as? Int == fixture.n_clusters)
            close("estimate", r.estimate); close("se", r.se); close("statistic", r.zval); close("p_value", r.pval)
            close("ci_lower", r.ci_lb); close("ci_upper", r.ci_ub)
            close("pi_lower", r.pi_lb); close("pi_upper", r.pi_ub)
            close("sigma2_cluster", r.sigma2[0]); close("sigma2_cohort", r.sigma2[1])
            close("sigma2_cluster_ci_lower", r.sigma2_ci[0][0], 1e-5); close("sigma2_cluster_ci_upper", r.sigma2_ci[0][1], 1e-5)
            close("sigma2_cohort_ci_lower", r.sigma2_ci[1][0], 1e-5); close("sigma2_cohort_ci_upper", r.sigma2_ci[1][1], 1e-5)
            close("i2", r.I2_total); close("i2_cluster", r.I2_cluster); close("i2_cohort", r.I2_cohort)
            close("q", r.QE); close("q_p_value", r.QEp); close("log_likelihood", r.logLik)
            let lrt = try #require(out["lrt_two_level"] as? [String: Any])
            close("statistic", r.lrt, in: lrt); close("p_value", r.lrt_pval, in: lrt)
            close("two_level_tau2", r.two_level.tau2, in: lrt); close("two_level_log_likelihood", r.two_level.logLik, in: lrt)
            let robust = try #require(out["robust"] as? [String: Any])
            #expect(robust["type"] as? String == "CR2")
            close("se", r.cr2_se, in: robust); close("df", r.cr2_df, in: robust); close("p_value", r.cr2_pval, in: robust)
            close("ci_lower", r.cr2_ci_lb, in: robust); close("ci_upper", r.cr2_ci_ub, in: robust)
            // metafor's weights() in percent, study by study (the input order).
            let studies = try #require(out["studies"] as? [[String: Any]])
            #expect(studies.count == fixture.k)
            for (s, w) in zip(studies, r.weights) { close("weight", w, in: s) }
            #expect(studies.map { $0["cluster"] as? String } == fixture.data.cluster.map { Optional($0) })
            // Each cluster's cohorts pooled at σ̂²₂ (the forest plot's diamonds).
            let clusters = try #require(out["cluster_estimates"] as? [[String: Any]])
            #expect(clusters.map { $0["cluster"] as? String } == r.cluster_means.cluster.map { Optional($0) })
            for (c, i) in zip(clusters, clusters.indices) {
                #expect(c["k"] as? Int == r.cluster_means.k[i])
                close("estimate", r.cluster_means.estimate[i], in: c); close("se", r.cluster_means.se[i], in: c)
            }

            // --ci t: t on k - 1 df (metafor's test = "t"), and metafor's robust() (CR1).
            let t = try Self.json(["pool", csv, "--measure", "GEN", "--method", method, "--cluster", "cluster", "--ci", "t",
                                   "--robust-type", "CR1", "--pi", "metafor", "--format", "json"])
            #expect(t["df"] as? Int == r.t_df)
            close("statistic", r.tval, in: t); close("p_value", r.t_pval, in: t)
            close("ci_lower", r.t_ci_lb, in: t); close("ci_upper", r.t_ci_ub, in: t)
            close("pi_lower", r.t_pi_lb, in: t); close("pi_upper", r.t_pi_ub, in: t)
            let cr1 = try #require(t["robust"] as? [String: Any])
            #expect(cr1["type"] as? String == "CR1" && Self.number(cr1["df"]) == Double(r.robust_df))
            close("se", r.robust_se, in: cr1); close("statistic", r.robust_tval, in: cr1); close("p_value", r.robust_pval, in: cr1)
            close("ci_lower", r.robust_ci_lb, in: cr1); close("ci_upper", r.robust_ci_ub, in: cr1)
        }
    }

    @Test("sensitivity --cluster: leave one cluster out against rma.mv refits", arguments: ["konstantopoulos2011", "her2_cohorts"])
    func leaveOneClusterOut(_ name: String) throws {
        let fixture = try ThreeLevelCLIFixture.load(name)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try fixture.csv(in: folder).path
        for method in ["ML", "REML"] {
            let r = try #require(fixture.fits[method])
            let out = try Self.json(["sensitivity", csv, "--measure", "GEN", "--method", method, "--cluster", "cluster", "--format", "json"])
            let rows = try #require(out["leave_one_cluster_out"] as? [[String: Any]])
            #expect(rows.count == r.leave_one_cluster_out.count)
            for (row, e) in zip(rows, r.leave_one_cluster_out) {
                #expect(row["omitted"] as? String == e.omitted && row["k"] as? Int == e.k && row["model"] as? String == e.model)
                expectClose(Self.number(row["estimate"]), e.estimate, relative: 0, absolute: 1e-5, "\(name) \(method) \(e.omitted) estimate")
                expectClose(Self.number(row["se"]), e.se, relative: 0, absolute: 1e-5, "\(name) \(method) \(e.omitted) se")
                expectClose(Self.number(row["sigma2_cluster"]), e.sigma2_cluster, relative: 0, absolute: 1e-5, "\(name) \(method) \(e.omitted) sigma2_cluster")
                expectClose(Self.number(row["sigma2_cohort"]), e.sigma2_cohort, relative: 0, absolute: 1e-5, "\(name) \(method) \(e.omitted) sigma2_cohort")
            }
        }
    }

    @Test("--batch --cluster: each analysis as pool fits it; check locks a three-level baseline")
    func batchAndCheck() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var text = "analysis,study,cluster,yi,vi\n"
        var references: [(String, ThreeLevelCLIFixture.Fit)] = []
        for name in ["konstantopoulos2011", "her2_cohorts"] {
            let f = try ThreeLevelCLIFixture.load(name)
            for i in f.data.yi.indices { text += "\(name),\"\(f.data.cohort[i])\",\"\(f.data.cluster[i])\",\(f.data.yi[i]),\(f.data.vi[i])\n" }
            references.append((name, try #require(f.fits["REML"])))
        }
        let batch = folder.appendingPathComponent("batch.csv")
        try text.write(to: batch, atomically: true, encoding: .utf8)
        let result = try Self.run(["pool", batch.path, "--measure", "GEN", "--cluster", "cluster", "--batch", "--format", "json", "--jobs", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, (name, r)) in zip(lines, references) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["analysis"] as? String == name)
            expectClose(Self.number(object["estimate"]), r.estimate, relative: 0, absolute: 1e-6, "\(name) batch estimate")
            expectClose(Self.number(object["sigma2_cluster"]), r.sigma2[0], relative: 0, absolute: 1e-6, "\(name) batch sigma2_cluster")
            expectClose(Self.number(object["sigma2_cohort"]), r.sigma2[1], relative: 0, absolute: 1e-6, "\(name) batch sigma2_cohort")
        }
        // A baseline recorded with --cluster and --robust re-runs to the same numbers; a drifted one fails.
        let fixture = try ThreeLevelCLIFixture.load("her2_cohorts")
        let csv = try fixture.csv(in: folder)
        let recorded = try Self.run(["pool", csv.lastPathComponent, "--measure", "GEN", "--cluster", "cluster", "--robust", "--format", "json"], in: folder)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let baseline = folder.appendingPathComponent("baseline.json")
        try recorded.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", baseline.path], in: folder)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let options = try #require((try JSONSerialization.jsonObject(with: Data(recorded.stdout.utf8)) as? [String: Any])?["options"] as? [String: Any])
        #expect(options["cluster"] as? String == "cluster" && options["robust"] as? String == "CR2")
        let drifted = recorded.stdout.replacingOccurrences(of: "\"sigma2_cluster\": ", with: "\"sigma2_cluster\": 1")
        try drifted.write(to: baseline, atomically: true, encoding: .utf8)
        let failed = try Self.run(["check", baseline.path], in: folder)
        #expect(failed.status != 0 && failed.stdout.contains("sigma2_cluster"), "\(failed.stdout)")
    }

    @Test("forest --cluster: cohorts under their cluster, a diamond per cluster of several cohorts")
    func forest() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let svg = folder.appendingPathComponent("forest.svg")
        let result = try Self.run(["forest", "Datasets/her2-bm-intracranial-response.csv", "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR",
                                   "--where", "role=experimental", "--cluster", "trial", "-o", svg.path])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        // Five trials with two cohorts each (DESTINY-Breast12, DEBBRAH, DESTINY-Breast01/02/03, TBCRC 022, PERMEATE).
        #expect(text.components(separatedBy: "Cohorts pooled (k = 2)").count - 1 == 5)
        #expect(text.contains("σ²₁ = ") && text.contains("(between trial)"))
    }

    @Test("forest --by --cluster: within each subgroup the cohorts under their trial, a diamond per trial of several cohorts, then the subgroup's")
    func forestByCluster() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = "Datasets/her2-bm-intracranial-response.csv"
        let selection = ["--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR", "--where", "role=experimental"]
        let svg = folder.appendingPathComponent("forest.svg")
        let result = try Self.run(["forest", data, "--by", "drug_class", "--cluster", "trial", "-o", svg.path] + selection)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        // The same five trials of two cohorts (three ADC, two TKI), and four subgroup diamonds.
        #expect(text.components(separatedBy: "Cohorts pooled (k = 2)").count - 1 == 5)
        #expect(text.components(separatedBy: "Subgroup model (k = ").count - 1 == 4)
        #expect(text.contains("σ²₁ = ") && text.contains("(between trial)"))
        // The rows in pool --format json's forest member: headers, studies and diamonds in order, the
        // ADC block holding its trials' blocks; each trial's diamond is its cohorts pooled at the
        // subgroup's σ̂²₂, as the subgroup's own --cluster fit gives it.
        let by = try Self.json(["pool", data, "--by", "drug_class", "--cluster", "trial", "--format", "json"] + selection)
        let rows = try #require((by["forest"] as? [String: Any])?["rows"] as? [[String: Any]])
        let kinds = rows.prefix(14).map { ($0["type"] as? String ?? "") + ":" + ($0["label"] as? String ?? "") }
        #expect(kinds == ["subgroup_header:antibody-drug conjugate", "subgroup_header:DESTINY-Breast12", "study:DESTINY-Breast12 (stable)",
                          "study:DESTINY-Breast12 (active)", "cluster_diamond:DESTINY-Breast12", "subgroup_header:DEBBRAH",
                          "study:DEBBRAH cohort 2", "study:DEBBRAH cohort 3", "cluster_diamond:DEBBRAH", "study:TUXEDO-1",
                          "subgroup_header:DESTINY-Breast01/02/03 pooled", "study:DESTINY-Breast01/02/03 pooled (stable)",
                          "study:DESTINY-Breast01/02/03 pooled (active)", "cluster_diamond:DESTINY-Breast01/02/03 pooled"], "\(kinds)")
        #expect(rows[14]["type"] as? String == "subgroup_diamond" && rows[14]["label"] as? String == "antibody-drug conjugate")
        let adc = try Self.json(["pool", data, "--cluster", "trial", "--where", "drug_class=antibody-drug conjugate", "--format", "json"] + selection)
        let clusters = try #require(adc["cluster_estimates"] as? [[String: Any]])
        let db12 = try #require(clusters.first { $0["cluster"] as? String == "DESTINY-Breast12" })
        let logit = try #require(Self.number(db12["estimate"]))
        expectClose(Self.number(rows[4]["estimate"]), 1 / (1 + Double.exp(-logit)), relative: 1e-12, absolute: 0, "DB-12 diamond")
        expectClose(Self.number(rows[4]["tau2"]), Self.number(adc["sigma2_cohort"]), relative: 1e-12, absolute: 0, "DB-12 sigma2_cohort")
        // The subgroup diamond's weight is the sum of its cohorts' weights in the overall fit.
        let studyWeights = rows.prefix(14).filter { $0["type"] as? String == "study" }.compactMap { Self.number($0["weight"]) }
        #expect(studyWeights.count == 7)
        expectClose(Self.number(rows[14]["weight"]), studyWeights.reduce(0, +), relative: 1e-12, absolute: 0, "ADC weight")
    }

    @Test("--by with --cluster, CSV and the report: both levels named; a class of single-cohort trials falls back to two levels")
    func byCSVAndReport() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let selection = ["--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR", "--where", "role=experimental"]
        let data = "Datasets/her2-bm-intracranial-response.csv"
        let by = try Self.json(["pool", data, "--by", "drug_class", "--cluster", "trial", "--format", "json"] + selection)
        let groups = try #require(by["subgroups"] as? [[String: Any]])
        #expect(groups.map { $0["model"] as? String } == ["three-level (REML)", "three-level (REML)", "common-effect (FE)", "common-effect (FE)"])
        // The overall three-level fit is pool --cluster's (her2_cohorts REML).
        let fixture = try ThreeLevelCLIFixture.load("her2_cohorts")
        let reml = try #require(fixture.fits["REML"])
        let overall = try #require(by["overall"] as? [String: Any])
        expectClose(Self.number(overall["estimate"]), reml.estimate, relative: 0, absolute: 1e-6, "--by overall estimate")
        expectClose(Self.number(overall["sigma2_cluster"]), reml.sigma2[0], relative: 0, absolute: 1e-6, "--by overall sigma2_cluster")
        // Each class as pool --cluster --where drug_class=... fits it.
        let adc = try Self.json(["pool", data, "--cluster", "trial", "--where", "drug_class=antibody-drug conjugate", "--format", "json"] + selection)
        expectClose(Self.number(groups[0]["estimate"]), Self.number(adc["estimate"]), relative: 0, absolute: 1e-12, "ADC estimate")
        expectClose(Self.number(groups[0]["sigma2_cohort"]), Self.number(adc["sigma2_cohort"]), relative: 0, absolute: 1e-12, "ADC sigma2_cohort")

        let csv = try Self.run(["pool", data, "--cluster", "trial", "--format", "csv"] + selection)
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "study,cluster,yi,vi,ci_lower,ci_upper,weight" && lines.count == 17)
        let weights = lines.dropFirst().compactMap { Double($0.split(separator: ",").last.map(String.init) ?? "") }
        #expect(weights.count == 16)
        for (w, e) in zip(weights, reml.weights) { expectClose(w, e, relative: 0, absolute: 1e-6, "CSV weight") }

        let html = folder.appendingPathComponent("report.html")
        let report = try Self.run(["report", data, "--cluster", "trial", "--robust", "-o", html.path] + selection)
        #expect(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("σ²₁ between clusters (trial)") && page.contains("LRT against the two-level model") && page.contains("cluster-robust CR2"))
        #expect(page.contains(String(format: "%.4f", reml.sigma2[0])))
    }

    /// Fixtures/threelevel_glmm/NAME.expected.json (generate_threelevel_glmm.R: lme4's glmer, polished on the Laplace likelihood).
    struct GLMMFixture: Decodable {
        struct Data: Decodable { var events, total: [Double]; var cluster, cohort: [String] }
        struct TwoLevel: Decodable { var estimate, se, tau2, logLik: Double }
        var dataset: String
        var k, n_clusters, t_df: Int
        var data: Data
        var estimate, se, zval, pval, ci_lb, ci_ub, tval, t_pval, t_ci_lb, t_ci_ub: Double
        var sigma2: [Double]
        var sigma2_ci: [[Double]]
        var logLik, pi_lb, pi_ub, t_pi_lb, t_pi_ub, typical_vi, I2_cluster, I2_cohort, I2_total: Double
        var marginal_rate: Double
        var marginal_rate_ci: [Double]
        var mu_profile_ci: [Double]
        var conditional_logLik: Double
        var two_level: TwoLevel
        var lrt, lrt_pval: Double

        static func load(_ name: String) throws -> GLMMFixture {
            let url = FixtureFolder.url("threelevel_glmm").appendingPathComponent(name + ".expected.json")
            return try JSONDecoder().decode(GLMMFixture.self, from: Foundation.Data(contentsOf: url))
        }

        func csv(in folder: URL) throws -> URL {
            var text = "study,cluster,events,total\n"
            for i in data.events.indices {
                text += "\"\(data.cluster[i]) / \(data.cohort[i])\",\"\(data.cluster[i])\",\(Int(data.events[i])),\(Int(data.total[i]))\n"
            }
            let url = folder.appendingPathComponent(dataset + ".csv")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
    }

    @Test("pool --cluster --method GLMM: the three-level binomial GLMM against lme4 (Laplace)",
          arguments: ["her2_cohorts", "hasselblad1998", "simulated40", "boundary_cluster"])
    func glmm(_ name: String) throws {
        let r = try GLMMFixture.load(name)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try r.csv(in: folder).path
        let out = try Self.json(["pool", csv, "--cluster", "cluster", "--method", "GLMM", "--format", "json"])
        // 1e-6 absolute: the fit agrees with the polished lme4 optimum to ~1e-9 (ThreeLevelBinomialModelTests).
        func close(_ key: String, _ expected: Double, in object: [String: Any]? = nil) {
            expectClose(Self.number((object ?? out)[key]), expected, relative: 0, absolute: 1e-6, "\(name) GLMM \(key)")
        }
        #expect(out["model"] as? String == "three-level" && out["approximation"] as? String == "Laplace")
        #expect(out["k"] as? Int == r.k && out["clusters"] as? Int == r.n_clusters)
        close("estimate", r.estimate); close("se", r.se); close("statistic", r.zval); close("p_value", r.pval)
        close("ci_lower", r.ci_lb); close("ci_upper", r.ci_ub)
        // Proportions: the prediction interval on t with k - 1 df by default.
        close("pi_lower", r.t_pi_lb); close("pi_upper", r.t_pi_ub)
        close("sigma2_cluster", r.sigma2[0]); close("sigma2_cohort", r.sigma2[1])
        close("sigma2_cluster_ci_lower", r.sigma2_ci[0][0]); close("sigma2_cluster_ci_upper", r.sigma2_ci[0][1])
        close("sigma2_cohort_ci_lower", r.sigma2_ci[1][0]); close("sigma2_cohort_ci_upper", r.sigma2_ci[1][1])
        close("i2", r.I2_total); close("i2_cluster", r.I2_cluster); close("i2_cohort", r.I2_cohort)
        close("typical_variance", r.typical_vi); close("log_likelihood", r.logLik)
        close("conditional_log_likelihood", r.conditional_logLik)
        let profile = try #require(out["profile_likelihood"] as? [String: Any])
        close("level", 0.95, in: profile); close("ci_lower", r.mu_profile_ci[0], in: profile); close("ci_upper", r.mu_profile_ci[1], in: profile)
        #expect(profile["error"] == nil && profile["tau_ci_lower"] == nil, "\(name): \(profile)")
        let lrt = try #require(out["lrt_two_level"] as? [String: Any])
        close("statistic", r.lrt, in: lrt); close("p_value", r.lrt_pval, in: lrt)
        close("two_level_estimate", r.two_level.estimate, in: lrt); close("two_level_se", r.two_level.se, in: lrt)
        close("two_level_tau2", r.two_level.tau2, in: lrt); close("two_level_log_likelihood", r.two_level.logLik, in: lrt)
        let rate = try #require(out["population_averaged"] as? [String: Any])
        close("estimate", r.marginal_rate, in: rate); close("ci_lower", r.marginal_rate_ci[0], in: rate); close("ci_upper", r.marginal_rate_ci[1], in: rate)
        // The tests for heterogeneity do not depend on the random effects: the two-level GLMM's
        // (checked against metafor's QE.Wld and QE.LRT in GLMMTests) on the same rows.
        let two = try Self.json(["pool", csv, "--method", "GLMM", "--format", "json"])
        for key in ["qe_wald", "qe_wald_p_value", "qe_lrt", "qe_lrt_p_value"] {
            expectClose(Self.number(out[key]), Self.number(two[key]), relative: 1e-13, absolute: 1e-300, "\(name) \(key)")
        }
        #expect(out["qe_lrt_df"] as? Int == r.k - 1 && out["qe_wald_df"] as? Int == r.k - 1)
        let t = try Self.json(["pool", csv, "--cluster", "cluster", "--method", "GLMM", "--ci", "t", "--pi", "z", "--format", "json"])
        #expect(t["df"] as? Int == r.t_df)
        close("statistic", r.tval, in: t); close("p_value", r.t_pval, in: t)
        close("ci_lower", r.t_ci_lb, in: t); close("ci_upper", r.t_ci_ub, in: t)
        close("pi_lower", r.pi_lb, in: t)
    }

    @Test("sensitivity --cluster --method GLMM: leave one trial out against glmer refits")
    func glmmLeaveOneClusterOut() throws {
        struct Rows: Decodable {
            struct Row: Decodable { var omitted: String; var k: Int; var model: String; var estimate, se, sigma2_cohort: Double; var sigma2_cluster: Double? }
            var rows: [Row]
        }
        let url = FixtureFolder.url("threelevel_glmm_loco").appendingPathComponent("her2_cohorts.expected.json")
        let reference = try JSONDecoder().decode(Rows.self, from: Foundation.Data(contentsOf: url))
        let r = try GLMMFixture.load("her2_cohorts")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try r.csv(in: folder).path
        let out = try Self.json(["sensitivity", csv, "--cluster", "cluster", "--method", "GLMM", "--format", "json"])
        let rows = try #require(out["leave_one_cluster_out"] as? [[String: Any]])
        #expect(rows.count == reference.rows.count && rows.count == r.n_clusters)
        for (row, e) in zip(rows, reference.rows) {
            #expect(row["omitted"] as? String == e.omitted && row["k"] as? Int == e.k && row["model"] as? String == e.model)
            // glmer unpolished: estimates within ~1e-6 of the maximum; its SE from a finite-difference Hessian, ~1e-3 relative.
            expectClose(Self.number(row["estimate"]), e.estimate, relative: 0, absolute: 1e-5, "\(e.omitted) estimate")
            expectClose(Self.number(row["sigma2_cohort"]), e.sigma2_cohort, relative: 0, absolute: 1e-5, "\(e.omitted) sigma2_cohort")
            expectClose(Self.number(row["sigma2_cluster"]), e.sigma2_cluster, relative: 0, absolute: 1e-5, "\(e.omitted) sigma2_cluster")
            expectClose(Self.number(row["se"]), e.se, relative: 1e-3, absolute: 0, "\(e.omitted) se")
        }
    }

    @Test("errors: one cohort per cluster, an empty cluster cell, a missing column, methods without a three-level form")
    func errors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let singles = folder.appendingPathComponent("singles.csv")
        try "study,trial,yi,vi\nA,t1,0.1,0.01\nB,t2,0.3,0.02\nC,t3,0.2,0.015\n".write(to: singles, atomically: true, encoding: .utf8)
        let one = try Self.run(["pool", singles.path, "--cluster", "trial"])
        #expect(one.status != 0 && one.stderr.contains("reduces to the two-level one") && one.stderr.contains("trial"), "\(one.stderr)")
        let empty = folder.appendingPathComponent("empty.csv")
        try "study,trial,yi,vi\nA,t1,0.1,0.01\nB,,0.3,0.02\nC,t1,0.2,0.015\n".write(to: empty, atomically: true, encoding: .utf8)
        for command in ["pool", "forest", "report", "sensitivity"] {
            var arguments = [command, empty.path, "--cluster", "trial"]
            if command == "forest" || command == "report" { arguments += ["-o", folder.appendingPathComponent("out").path] }
            let r = try Self.run(arguments)
            #expect(r.status != 0 && r.stderr.contains("row 2 (line 3") && r.stderr.contains("column \"trial\"") && r.stderr.contains("cluster cell is empty"),
                    "\(command): \(r.stderr)")
        }
        let missing = try Self.run(["pool", empty.path, "--cluster", "centre"])
        #expect(missing.status != 0 && missing.stderr.contains("centre") && missing.stderr.contains("columns: study, trial, yi, vi"), "\(missing.stderr)")
        // --where leaving one cohort per cluster: the model reduces to two levels, said so.
        let mixed = folder.appendingPathComponent("mixed.csv")
        try "study,trial,arm,yi,vi\nA,t1,x,0.1,0.01\nB,t1,y,0.3,0.02\nC,t2,x,0.2,0.015\nD,t2,y,0.5,0.03\n".write(to: mixed, atomically: true, encoding: .utf8)
        let narrowed = try Self.run(["pool", mixed.path, "--cluster", "trial", "--where", "arm=x"])
        #expect(narrowed.status != 0 && narrowed.stderr.contains("reduces to the two-level one"), "\(narrowed.stderr)")
        let dl = try Self.run(["pool", mixed.path, "--cluster", "trial", "--method", "DL"])
        #expect(dl.status != 0 && dl.stderr.contains("REML or ML"), "\(dl.stderr)")
        let robust = try Self.run(["pool", mixed.path, "--robust"])
        #expect(robust.status != 0 && robust.stderr.contains("--robust needs --cluster"), "\(robust.stderr)")
        // The three-level GLMM: Laplace only, no sandwich test, proportions only.
        let counts = folder.appendingPathComponent("counts.csv")
        try "study,trial,events,total\nA,t1,3,10\nB,t1,5,12\nC,t2,4,11\n".write(to: counts, atomically: true, encoding: .utf8)
        let points = try Self.run(["pool", counts.path, "--cluster", "trial", "--method", "GLMM", "--quadrature-points", "7"])
        #expect(points.status == 64 && points.stderr.contains("Laplace"), "\(points.stderr)")
        let glmmRobust = try Self.run(["pool", counts.path, "--cluster", "trial", "--method", "GLMM", "--robust"])
        #expect(glmmRobust.status == 64 && glmmRobust.stderr.contains("--method REML or ML with --robust"), "\(glmmRobust.stderr)")
        let twoGroup = folder.appendingPathComponent("twogroup.csv")
        try "study,trial,treat_events,treat_total,control_events,control_total\nA,t1,3,10,5,10\nB,t1,4,12,6,12\nC,t2,2,9,5,9\n"
            .write(to: twoGroup, atomically: true, encoding: .utf8)
        let or = try Self.run(["pool", twoGroup.path, "--cluster", "trial", "--method", "GLMM"])
        #expect(or.status == 64 && or.stderr.contains("the three-level GLMM is for proportions"), "\(or.stderr)")
        let bias = try Self.run(["bias", mixed.path, "--cluster", "trial"])
        #expect(bias.status != 0 && bias.stderr.contains("no three-level form"), "\(bias.stderr)")
    }
}

// The GLMM in every output (issue 14, items 3 and 4) through the built binary, against R:
// the population-averaged rate in pool's table, JSON, --by, the forest plot and the report;
// --ci t (rma.glmm(test = "t")); sensitivity (rma.glmm refitted to each subset); --batch; check.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/glmm_ci/reference.json and by_groups.csv, written by
// `Rscript Tests/Reference/generate_glmm_ci.R` (metafor 3.8-1, lme4 1.1-31, nAGQ = 7, glmer's
// tolerances tightened). Tolerances as GLMMTests for Q = 7: estimates, SEs, CIs and τ² 1e-5
// relative (glmer stops within ~1e-7 of the maximum; the odds-ratio GLMM within ~1e-5), test
// statistics and p-values 1e-4 relative (the odds-ratio GLMM: OddsRatioGLMMTests' looser ones). The population-averaged rate is the integral of our fit,
// which agrees with metafor's fit to ~1e-6 on the logit scale: 1e-6 absolute on the proportion
// (MarginalRateTests checks the integral itself against integrate() to 1e-11).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct GLMMCIReference: Decodable {
    struct Marginal: Decodable {
        var dataset: String?
        var subgroup: String?
        var estimate: Double
        var ci_lower: Double
        var ci_upper: Double
        var tau2: Double
        var marginal: Double
        var marginal_lower: Double
        var marginal_upper: Double
    }
    struct Marginals: Decodable { var fits: [Marginal]; var by_groups_subgroups: [Marginal] }
    struct Fit: Decodable {
        var dataset: String?
        var measure: String?
        var study: String?
        var fitted: Bool?
        var k: Int?
        var estimate: Double?
        var se: Double?
        var statistic: Double?
        var p_value: Double?
        var df: Int?
        var ci_lower: Double?
        var ci_upper: Double?
        var tau2: Double?
        var pi_lower: Double?
        var pi_upper: Double?
    }
    struct Sensitivity: Decodable {
        var dataset: String
        var measure: String
        var test: String
        var leave_one_out: [Fit]
        var cumulative: [Fit]
    }
    var marginal: Marginals
    var t_test: [Fit]
    var sensitivity: [Sensitivity]

    static let shared: GLMMCIReference? = {
        let url = FixtureFolder.url("glmm_ci").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(GLMMCIReference.self, from: data)
    }()

    /// The CSV of a dataset, relative to the package root.
    static func path(_ dataset: String) -> String {
        switch dataset {
        case "by_groups": "Tests/MetaPoolTests/Fixtures/glmm_ci/by_groups.csv"
        case "bcg": "Tests/MetaPoolTests/Fixtures/glmm_or/bcg.csv"
        default: "Tests/MetaPoolTests/Fixtures/glmm/\(dataset).csv"
        }
    }
}

@Suite("GLMM in every output: population-averaged rate, --ci t, sensitivity, --batch, check")
struct GLMMOutputTests {
    static func run(_ arguments: [String], in directory: URL = FixtureFolder.root) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: directory, stdinFile: nil)
    }

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(arguments)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func expectMarginal(_ object: Any?, _ r: GLMMCIReference.Marginal, _ context: String) throws {
        let m = try #require(object as? [String: Any], "\(context): no population_averaged")
        expectClose(number(m["estimate"]), r.marginal, relative: 0, absolute: 1e-6, "\(context) estimate")
        expectClose(number(m["ci_lower"]), r.marginal_lower, relative: 0, absolute: 1e-6, "\(context) ci_lower")
        expectClose(number(m["ci_upper"]), r.marginal_upper, relative: 0, absolute: 1e-6, "\(context) ci_upper")
        #expect((m["interval"] as? String) == PopulationAveragedSummary.intervalDescription)
    }

    @Test("pool --method GLMM --format json: population_averaged matches integrate() on metafor's fit")
    func marginalJSON() throws {
        let reference = try #require(GLMMCIReference.shared)
        #expect(reference.marginal.fits.count == 3)
        for f in reference.marginal.fits {
            let dataset = try #require(f.dataset)
            let out = try Self.json(["pool", GLMMCIReference.path(dataset), "--method", "GLMM", "--format", "json"])
            expectClose(Self.number(out["estimate"]), f.estimate, relative: 1e-5, absolute: 1e-7, "\(dataset) estimate")
            try Self.expectMarginal(out["population_averaged"], f, dataset)
            // The conditional (median-study) rate is expit(mu) and differs from the marginal one.
            let back = try #require(out["back_transformed"] as? [String: Any])
            let marginal = try #require(Self.number((out["population_averaged"] as? [String: Any])?["estimate"]))
            #expect(abs(marginal - 0.5) < abs(try #require(Self.number(back["estimate"]) ) - 0.5))
        }
        // The odds-ratio GLMM has no population-averaged rate.
        let or = try Self.json(["pool", GLMMCIReference.path("bcg"), "--method", "GLMM", "--format", "json"])
        #expect(or["population_averaged"] == nil && or["estimate"] != nil)
    }

    @Test("pool --method GLMM tables, --by, the forest plot and the report show the population-averaged rate")
    func marginalEverywhere() throws {
        let reference = try #require(GLMMCIReference.shared)
        let pritz = try #require(reference.marginal.fits.first { $0.dataset == "pritz1997" })
        // Our fit's values, printed to 4 decimals as the table prints them (they agree with R's to 1e-6).
        let model = try GeneralizedLinearMixedModel(table: try DataTable.read(path: FixtureFolder.root.appendingPathComponent(GLMMCIReference.path("pritz1997")).path))
        let rate = model.populationAveragedRate
        expectClose(rate.estimate, pritz.marginal, relative: 0, absolute: 1e-6, "pritz1997")
        func d(_ x: Double) -> String { String(format: "%.4f", x) }
        let line = "Population-averaged rate: \(d(rate.estimate)) [\(d(rate.lower)), \(d(rate.upper))] (mean of expit(mu + tau*z) over z ~ N(0, 1); interval from mu's CI with tau^2 fixed)"
        let table = try Self.run(["pool", GLMMCIReference.path("pritz1997"), "--method", "GLMM"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("\nOn the proportion scale: ") && table.stdout.contains("\n" + line + "\n"), "\(table.stdout)")
        let forest = try Self.run(["forest", GLMMCIReference.path("pritz1997"), "--method", "GLMM", "-o", "-"])
        #expect(forest.status == 0 && forest.stdout.contains("Population-averaged rate: \(d(rate.estimate)) [\(d(rate.lower)), \(d(rate.upper))] (mean of expit(μ + τz)"), "\(forest.stderr)")
        let report = try Self.run(["report", GLMMCIReference.path("pritz1997"), "--method", "GLMM", "-o", "-"])
        #expect(report.status == 0 && report.stdout.contains("<td>population-averaged rate [95% CI, μ's CI with τ² fixed]</td><td></td><td>\(d(rate.estimate)) [\(d(rate.lower)), \(d(rate.upper))]</td>"), "\(report.stderr)")
        // Inverse-variance and odds-ratio outputs say nothing of it.
        let reml = try Self.run(["pool", GLMMCIReference.path("pritz1997")])
        let or = try Self.run(["pool", GLMMCIReference.path("bcg"), "--method", "GLMM"])
        #expect(!reml.stdout.contains("Population-averaged") && !or.stdout.contains("Population-averaged") && or.status == 0)

        // --by: each subgroup's GLMM and the overall one, against R.
        let by = try Self.json(["pool", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--by", "setting", "--format", "json"])
        let groups = try #require(by["subgroups"] as? [[String: Any]])
        #expect(groups.map { $0["subgroup"] as? String } == ["active", "stable"])
        for (g, r) in zip(groups, reference.marginal.by_groups_subgroups) {
            #expect(g["subgroup"] as? String == r.subgroup)
            expectClose(Self.number(g["tau2"]), r.tau2, relative: 1e-5, absolute: 1e-9, "\(r.subgroup ?? "") tau2")
            try Self.expectMarginal(g["population_averaged"], r, "subgroup \(r.subgroup ?? "")")
        }
        let overall = try #require(reference.marginal.fits.first { $0.dataset == "by_groups" })
        try Self.expectMarginal((by["overall"] as? [String: Any])?["population_averaged"], overall, "overall")
        let byTable = try Self.run(["pool", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--by", "setting"])
        #expect(byTable.stdout.contains("\nactive: Population-averaged rate: ") && byTable.stdout.contains("\nstable: Population-averaged rate: ")
                && byTable.stdout.contains("\noverall: Population-averaged rate: "), "\(byTable.stdout)")
        let byForest = try Self.run(["forest", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--by", "setting", "-o", "-"])
        #expect(byForest.status == 0 && byForest.stdout.contains("active: Population-averaged rate: "))
    }

    static func expectFit(_ row: [String: Any], _ r: GLMMCIReference.Fit, _ context: String) {
        // The odds-ratio GLMM (UM.FS): glmer optimises k + 2 parameters without derivatives, and its
        // optimum and finite-difference SE move by ~1e-5 and ~1e-4 between optimisers (see
        // OddsRatioGLMMTests): 1e-4 relative, SE and statistic 2e-4, p-values z²·2e-4.
        let orModel = r.measure == "OR"
        let rel = orModel ? 1e-4 : 1e-5, seRel = orModel ? 2e-4 : 1e-5, testRel = orModel ? 2e-4 : 1e-4
        let z = r.statistic ?? 0
        expectClose(number(row["estimate"]), r.estimate, relative: rel, absolute: 1e-7, "\(context) estimate")
        expectClose(number(row["se"]), r.se, relative: seRel, absolute: 1e-9, "\(context) se")
        expectClose(number(row["ci_lower"]), r.ci_lower, relative: seRel, absolute: 1e-6, "\(context) ci_lower")
        expectClose(number(row["ci_upper"]), r.ci_upper, relative: seRel, absolute: 1e-6, "\(context) ci_upper")
        expectClose(number(row["statistic"]), r.statistic, relative: testRel, absolute: 1e-9, "\(context) statistic")
        expectClose(number(row["p_value"]), r.p_value, relative: max(testRel, z * z * seRel), absolute: 1e-12, "\(context) p_value")
        // tau^2 = 0 exactly in our fit; glmer's bobyqa stops at ~1e-40 (or ~1e-9 for the OR model).
        expectClose(number(row["tau2"]), r.tau2, relative: 2 * rel, absolute: orModel ? 1e-7 : 1e-9, "\(context) tau2")
        #expect((row["df"] as? Int) == r.df, "\(context) df")
        #expect((row["k"] as? Int) == r.k, "\(context) k")
    }

    @Test("--ci t with --method GLMM: t on k - 1 df as metafor's rma.glmm(test = \"t\"), PLO and OR")
    func tTest() throws {
        let reference = try #require(GLMMCIReference.shared)
        #expect(reference.t_test.count == 4)
        for r in reference.t_test {
            let dataset = try #require(r.dataset)
            let out = try Self.json(["pool", GLMMCIReference.path(dataset), "--method", "GLMM", "--ci", "t", "--format", "json"])
            #expect((r.df ?? 0) == (r.k ?? 0) - 1)
            Self.expectFit(out, r, "\(dataset) t")
            // The prediction interval (the forest plot's, natural scale) is on t(k - 1) too, as predict().
            let pi = try #require((out["forest"] as? [String: Any])?["prediction_interval"] as? [String: Any])
            let back: (Double) -> Double = r.measure == "OR" ? { Double.exp($0) } : { 1 / (1 + Double.exp(-$0)) }
            let piRel = r.measure == "OR" ? 2e-4 : 1e-5
            expectClose(Self.number(pi["lower"]), back(try #require(r.pi_lower)), relative: piRel, absolute: 1e-9, "\(dataset) pi lower")
            expectClose(Self.number(pi["upper"]), back(try #require(r.pi_upper)), relative: piRel, absolute: 1e-9, "\(dataset) pi upper")
            #expect(((out["options"] as? [String: Any])?["ci"] as? String) == "t")
            // The heterogeneity tests do not depend on the test of the fixed effect.
            let z = try Self.json(["pool", GLMMCIReference.path(dataset), "--method", "GLMM", "--format", "json"])
            #expect(Self.number(z["qe_wald"]) == Self.number(out["qe_wald"]) && Self.number(z["estimate"]) == Self.number(out["estimate"]))
            #expect(z["df"] == nil)
        }
        let table = try Self.run(["pool", GLMMCIReference.path("pritz1997"), "--method", "GLMM", "--ci", "t"])
        #expect(table.stdout.contains("  estimate      se    tval  df    pval   ci.lb   ci.ub\n    1.3766  0.2884  4.7735  13  0.0004  0.7536  1.9996\n"), "\(table.stdout)")
        // Still refused: the Hartung-Knapp intervals (inverse-variance weights), with the choices named.
        let hksj = try Self.run(["pool", GLMMCIReference.path("pritz1997"), "--method", "GLMM", "--ci", "hksj"])
        #expect(hksj.status == 64 && hksj.stderr.contains("--method GLMM takes --ci wald (z) or t"), "\(hksj.stderr)")
        // --by: every subgroup's GLMM on t, and the table names the interval.
        let by = try Self.run(["pool", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--ci", "t", "--by", "setting"])
        #expect(by.status == 0 && by.stdout.hasPrefix("Subgroups by setting (Random-effects model (GLMM, 7-point AGHQ); CI: t, 95%; measure PLO)"), "\(by.stdout)")
        let byJSON = try Self.json(["pool", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--ci", "t", "--by", "setting", "--format", "json"])
        #expect((byJSON["subgroups"] as? [[String: Any]])?.map { $0["df"] as? Int } == [3, 4])
        let mh = try Self.run(["pool", GLMMCIReference.path("bcg"), "--method", "MH", "--ci", "t"])
        #expect(mh.status == 64)
    }

    @Test("sensitivity --method GLMM: leave-one-out and cumulative refits match rma.glmm refitted in R")
    func sensitivity() throws {
        let reference = try #require(GLMMCIReference.shared)
        #expect(reference.sensitivity.count == 3)
        for s in reference.sensitivity {
            let out = try Self.json(["sensitivity", GLMMCIReference.path(s.dataset), "--method", "GLMM", "--ci", s.test == "t" ? "t" : "wald", "--format", "json"])
            for (key, expected) in [("leave_one_out", s.leave_one_out), ("cumulative", s.cumulative)] {
                let rows = try #require((out[key] as? [String: Any])?["rows"] as? [[String: Any]])
                #expect(rows.count == expected.count, "\(s.dataset) \(key)")
                var compared = 0
                for (row, r) in zip(rows, expected) {
                    #expect(row["study"] as? String == r.study)
                    // Subsets glmer could not fit are not compared (we fit them; R says "Cannot fit ML model").
                    guard r.fitted == true else { continue }
                    var r = r
                    r.measure = s.measure
                    Self.expectFit(row, r, "\(s.dataset) \(key) \(r.study ?? "")")
                    compared += 1
                }
                #expect(compared >= expected.count - 1, "\(s.dataset) \(key)")
            }
            #expect(out["influence"] is NSNull && (out["influence_note"] as? String) == MixedModelRefits.influenceNote)
        }
        let table = try Self.run(["sensitivity", GLMMCIReference.path("icorr_synthetic"), "--method", "GLMM"])
        #expect(table.status == 0 && table.stdout.hasPrefix("Leave-one-out, GLMM refitted without each study\n")
                && table.stdout.contains("Influence diagnostics: not computed for the GLMM"), "\(table.stdout)")
        // --order-by sorts the cumulative analysis; the leave-one-out rows keep input order.
        let ordered = try Self.json(["sensitivity", GLMMCIReference.path("by_groups"), "--method", "GLMM", "--order-by", "total", "--format", "json"])
        let first = try #require(((ordered["cumulative"] as? [String: Any])?["rows"] as? [[String: Any]])?.first)
        #expect(first["study"] as? String == "Cohort 5" && (first["k"] as? Int) == 2)
    }

    @Test("pool --batch --method GLMM: each analysis as pool fits it alone; check on a GLMM baseline")
    func batchAndCheck() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-glmm-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pritz = try String(contentsOf: FixtureFolder.url("glmm").appendingPathComponent("pritz1997.csv"), encoding: .utf8)
        let icorr = try String(contentsOf: FixtureFolder.url("glmm").appendingPathComponent("icorr_synthetic.csv"), encoding: .utf8)
        func rows(_ csv: String, _ id: String) -> [String] { csv.split(separator: "\n").dropFirst().map { "\(id),\($0)" } }
        let batch = (["analysis,study,events,total"] + rows(pritz, "pritz") + rows(icorr, "icorr") + ["bad,\"only\",3,10"]).joined(separator: "\n") + "\n"
        try batch.write(to: dir.appendingPathComponent("batch.csv"), atomically: true, encoding: .utf8)
        let result = try Self.run(["pool", "batch.csv", "--batch", "--method", "GLMM", "--ci", "t", "--format", "json", "--jobs", "2"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0["analysis"] as? String } == ["pritz", "icorr", "bad"])
        let reference = try #require(GLMMCIReference.shared)
        for (line, name) in zip(lines.prefix(2), ["pritz1997", "icorr_synthetic"]) {
            let r = try #require(reference.t_test.first { $0.dataset == name })
            Self.expectFit(line, r, "batch \(name)")
            let m = try #require(reference.marginal.fits.first { $0.dataset == name })
            expectClose(Self.number((line["population_averaged"] as? [String: Any])?["estimate"]), m.marginal, relative: 0, absolute: 1e-6, "batch \(name) marginal")
        }
        #expect((lines.last?["error"] as? String)?.contains("analysis bad: a random-effects model needs at least 2 studies") == true)
        #expect(result.stderr.contains("1 of 3 analyses could not be fitted"))
        let csv = try Self.run(["pool", "batch.csv", "--batch", "--method", "GLMM", "--format", "csv"], in: dir)
        #expect(csv.stdout.hasPrefix("analysis,k,estimate,se,ci_lower,ci_upper,p_value,tau2,i2,q,q_p_value,pi_lower,pi_upper,marginal,marginal_ci_lower,marginal_ci_upper,error\npritz,14,1.3766"), "\(csv.stdout)")
        let table = try Self.run(["pool", "batch.csv", "--batch", "--method", "GLMM"], in: dir)
        #expect(table.stdout.contains("pop.avg") && table.stdout.contains("Not fitted (NA above):"))
        // MH and Peto still fit one analysis at a time.
        #expect(try Self.run(["pool", "batch.csv", "--batch", "--method", "MH"], in: dir).status == 64)

        // check: a GLMM baseline (--ci t) recorded here passes, and drifts when the data change.
        try pritz.write(to: dir.appendingPathComponent("pritz.csv"), atomically: true, encoding: .utf8)
        let recorded = try Self.run(["pool", "pritz.csv", "--method", "GLMM", "--ci", "t", "--format", "json"], in: dir)
        #expect(recorded.status == 0)
        try recorded.stdout.write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        let ok = try Self.run(["check", "baseline.json"], in: dir)
        #expect(ok.status == 0 && ok.stdout.hasPrefix("ok    baseline.json: "), "\(ok.stdout)\(ok.stderr)")
        let edited = pritz.replacingOccurrences(of: "\"Giannotta et al.\",16,17", with: "\"Giannotta et al.\",15,17")
        #expect(edited != pritz)
        try edited.write(to: dir.appendingPathComponent("pritz.csv"), atomically: true, encoding: .utf8)
        let moved = try Self.run(["check", "baseline.json"], in: dir)
        #expect(moved.status == 1 && moved.stdout.hasPrefix("DRIFT baseline.json: input changed; "), "\(moved.stdout)")
        #expect(moved.stdout.contains("population_averaged.estimate: ") && moved.stdout.contains("  estimate: "), "\(moved.stdout)")
    }

    @Test("pool --method GLMM: profile-likelihood intervals in the JSON and the table, as solved on lme4's deviance")
    func profile() throws {
        struct Reference: Decodable {
            struct Bounds: Decodable { var mu_lower: Double; var mu_upper: Double; var tau_lower: Double; var tau_upper: Double }
            struct Case: Decodable { var dataset: String; var level: Double; var exact: Bounds }
            var profile: [Case]
        }
        let data = try Data(contentsOf: FixtureFolder.url("glmm_ci").appendingPathComponent("reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        for c in reference.profile {
            let out = try Self.json(["pool", GLMMCIReference.path(c.dataset), "--method", "GLMM", "--level", "\(c.level)", "--format", "json"])
            let p = try #require(out["profile_likelihood"] as? [String: Any])
            let context = "\(c.dataset) \(c.level)"
            expectClose(Self.number(p["ci_lower"]), c.exact.mu_lower, relative: 0, absolute: 1e-6, "\(context) mu lower")
            expectClose(Self.number(p["ci_upper"]), c.exact.mu_upper, relative: 0, absolute: 1e-6, "\(context) mu upper")
            expectClose(Self.number(p["tau_ci_lower"]), c.exact.tau_lower, relative: 0, absolute: 1e-6, "\(context) tau lower")
            expectClose(Self.number(p["tau_ci_upper"]), c.exact.tau_upper, relative: 0, absolute: 1e-6, "\(context) tau upper")
            expectClose(Self.number(p["tau2_ci_upper"]), c.exact.tau_upper * c.exact.tau_upper, relative: 0, absolute: 1e-5, "\(context) tau2 upper")
            #expect(Self.number(p["level"]) == c.level && p["error"] == nil)
        }
        let table = try Self.run(["pool", GLMMCIReference.path("pritz1997"), "--method", "GLMM"])
        // R: mu [0.845163, 2.088130], tau [0.342354, 1.544171] (tau^2 [0.117206, 2.384464]).
        #expect(table.stdout.contains("\nProfile-likelihood 95% CIs: mu [0.8452, 2.0881] (proportion [0.6996, 0.8897]); tau^2 [0.1172, 2.3845]\n"), "\(table.stdout)")
        let or = try Self.json(["pool", GLMMCIReference.path("bcg"), "--method", "GLMM", "--format", "json"])
        #expect(or["profile_likelihood"] == nil)
    }
}

// `--bayes --likelihood binomial` through the built binary: the binomial–normal model of events/total
// (BinomialBayesianMetaAnalysis) in pool's table and JSON, against the R quadrature
// (Tests/Reference/generate_bayes_binomial.R, fixture her2_tdxd, checked against the library in
// BinomialBayesianMetaAnalysisTests), with --by, --batch, forest and check; and its refusals.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("--bayes --likelihood binomial through the CLI")
struct BayesBinomialCLITests {
    static func run(_ arguments: [String], in folder: URL = FixtureFolder.root) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: folder, stdinFile: nil)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(200))")
    }

    static func number(_ x: Any?) -> Double? { (x as? NSNumber)?.doubleValue }

    /// The fixture's rows: the experimental arms of the antibody-drug conjugates (IC-ORR or CNS-ORR).
    static let data = "Datasets/her2-bm-intracranial-response.csv"
    static let selection = ["--where", "drug_class=antibody-drug conjugate", "--where", "role=experimental",
                            "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"]

    struct Fixture: Decodable {
        struct Posterior: Decodable { var mean, sd, median: Double; var central, shortest: [Double] }
        struct Rate: Decodable { var mean, sd, median: Double; var central: [Double] }
        struct Rates: Decodable { var conditional, population: Rate }
        struct Theta: Decodable { var mean, sd: [Double] }
        struct Quantiles: Decodable { var median, central_lb, central_ub: [Double] }
        struct Case: Decodable {
            var name: String
            var tau, mu, prediction: Posterior
            var p_mu_above, p_prediction_above: Double
            var theta: Theta
            var theta_quantiles: Quantiles?
            var rates: Rates
        }
        var k: Int
        var cases: [Case]
    }

    static func fixture() throws -> (Fixture.Case, Fixture.Quantiles) {
        let url = FixtureFolder.url("bayes_binomial").appendingPathComponent("her2_tdxd.expected.json")
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let c = try #require(f.cases.first { $0.name == "halfnormal_flat" })
        // The quantiles of every study's θᵢ, in study order.
        let q = try #require(c.theta_quantiles)
        return (c, q)
    }

    @Test("pool --format json: the posteriors, rates and shrinkage estimates of the R quadrature; the model and likelihood recorded")
    func json() throws {
        let (e, q) = try Self.fixture()
        let result = try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial", "--format", "json"] + Self.selection)
        try #require(result.status == 0, "\(result.stderr)")
        let out = try Self.object(result.stdout)
        #expect(out["model"] as? String == "binomial-normal" && out["method"] as? String == "BAYES" && out["k"] as? Int == 7)
        #expect(out["tau_prior"] as? String == "half-normal(0.5)" && out["mu_prior"] as? String == "flat")
        let options = try #require(out["options"] as? [String: Any])
        #expect(options["likelihood"] as? String == "binomial" && options["bayes"] as? Bool == true)
        // 1e-6, the target for the binomial model (the library agrees more closely: its tests).
        func close(_ object: [String: Any]?, _ key: String, _ expected: Double, _ what: String) {
            expectClose(Self.number(object?[key]), expected, relative: 0, absolute: 1e-6, "\(what) \(key)")
        }
        for (name, p) in [("tau", e.tau), ("mu", e.mu), ("prediction", e.prediction)] {
            let o = out[name] as? [String: Any]
            close(o, "mean", p.mean, name); close(o, "sd", p.sd, name); close(o, "median", p.median, name)
            close(o, "ci_lower", p.central[0], name); close(o, "ci_upper", p.central[1], name)
            close(o, "shortest_lower", p.shortest[0], name); close(o, "shortest_upper", p.shortest[1], name)
        }
        let rates = out["rates"] as? [String: Any]
        for (name, r) in [("conditional", e.rates.conditional), ("population_averaged", e.rates.population)] {
            let o = rates?[name] as? [String: Any]
            close(o, "mean", r.mean, name); close(o, "sd", r.sd, name); close(o, "median", r.median, name)
            close(o, "ci_lower", r.central[0], name); close(o, "ci_upper", r.central[1], name)
        }
        let studies = try #require(out["studies"] as? [[String: Any]])
        #expect(studies.count == 7)
        for (i, s) in studies.enumerated() {
            close(s, "mean", e.theta.mean[i], "study \(i)"); close(s, "sd", e.theta.sd[i], "study \(i)")
            close(s, "median", q.median[i], "study \(i)")
            close(s, "ci_lower", q.central_lb[i], "study \(i)"); close(s, "ci_upper", q.central_ub[i], "study \(i)")
        }
        // The threshold on the proportion scale: P(mu > logit 0.5 = 0) is the fixture's (threshold 0).
        let t = try Self.object(try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial", "--threshold", "0.5", "--format", "json"] + Self.selection).stdout)
        close(t, "p_mu_exceeds", e.p_mu_above, "threshold"); close(t, "p_new_study_exceeds", e.p_prediction_above, "threshold")
        // The table says which model and prints the rates.
        let table = try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial"] + Self.selection)
        #expect(table.status == 0 && table.stdout.contains("Bayesian random-effects model (binomial-normal, k = 7)")
                && table.stdout.contains("Rates: conditional expit(mu) ") && table.stdout.contains("population-averaged "), "\(table.stdout)")
        // The normal-normal model of the same rows is another posterior.
        let normal = try Self.object(try Self.run(["pool", Self.data, "--bayes", "--format", "json"] + Self.selection).stdout)
        #expect(normal["model"] as? String == "normal-normal" && normal["rates"] == nil)
        #expect(abs((Self.number((normal["mu"] as? [String: Any])?["median"]) ?? 0) - e.mu.median) > 1e-3)
    }

    @Test("--by and --batch fit each subgroup and analysis by the binomial model; check repeats it and catches drift")
    func subgroupsBatchAndCheck() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let by = try Self.object(try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial", "--by", "population", "--format", "json"]
                                                + Self.selection).stdout)
        #expect(by["model"] as? String == "binomial-normal")
        let groups = try #require(by["subgroups"] as? [[String: Any]])
        #expect(groups.count == 2)
        for g in groups {
            let label = try #require(g["subgroup"] as? String)
            let single = try Self.object(try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial", "--where", "population=\(label)",
                                                       "--format", "json"] + Self.selection).stdout)
            for key in ["mu", "tau", "prediction", "rates"] {
                #expect(NSDictionary(dictionary: g[key] as? [String: Any] ?? [:]) == NSDictionary(dictionary: single[key] as? [String: Any] ?? ["missing": 1]),
                        "subgroup \(label) \(key)")
            }
        }
        // A batch of two analyses (JSON Lines input): each line the single fit of its rows.
        let lines = folder.appendingPathComponent("batch.jsonl")
        try """
        {"analysis": "one", "study": ["a", "b", "c"], "events": [12, 20, 7], "total": [30, 41, 25]}
        {"analysis": "two", "study": ["d", "e"], "events": [3, 9], "total": [20, 31]}

        """.write(to: lines, atomically: true, encoding: .utf8)
        let batch = try Self.run(["pool", lines.path, "--batch", "--bayes", "--likelihood", "binomial", "--format", "json"])
        try #require(batch.status == 0, "\(batch.stderr)")
        let outputs = try batch.stdout.split(separator: "\n").map { try Self.object(String($0)) }
        #expect(outputs.map { $0["analysis"] as? String } == ["one", "two"])
        let csv = folder.appendingPathComponent("one.csv")
        try "study,events,total\na,12,30\nb,20,41\nc,7,25\n".write(to: csv, atomically: true, encoding: .utf8)
        let one = try Self.object(try Self.run(["pool", csv.path, "--bayes", "--likelihood", "binomial", "--format", "json"]).stdout)
        #expect(outputs.first?["model"] as? String == "binomial-normal")
        for key in ["mu", "tau", "rates"] {
            #expect(NSDictionary(dictionary: outputs.first?[key] as? [String: Any] ?? [:]) == NSDictionary(dictionary: one[key] as? [String: Any] ?? ["missing": 1]), "batch \(key)")
        }
        // check: the recorded options carry the likelihood, so the repeat is the binomial model.
        let recorded = try Self.run(["pool", csv.path, "--bayes", "--likelihood", "binomial", "--format", "json"], in: folder)
        let baseline = folder.appendingPathComponent("baseline.json")
        try recorded.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", baseline.path], in: folder)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let drifted = recorded.stdout.replacingOccurrences(of: "\"population_averaged\": {\n      \"mean\": 0.", with: "\"population_averaged\": {\n      \"mean\": 0.1")
        #expect(drifted != recorded.stdout, "the drift edit found its place")
        try drifted.write(to: baseline, atomically: true, encoding: .utf8)
        let failed = try Self.run(["check", baseline.path], in: folder)
        #expect(failed.status == 1 && failed.stdout.contains("rates.population_averaged.mean"), "\(failed.stdout)")
    }

    @Test("forest --bayes --likelihood binomial: the shrinkage rows are the binomial model's study posteriors")
    func forest() throws {
        let (e, q) = try Self.fixture()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let svg = folder.appendingPathComponent("forest.svg")
        let result = try Self.run(["forest", Self.data, "--bayes", "--likelihood", "binomial", "-o", svg.path] + Self.selection)
        try #require(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        #expect(text.contains("Bayesian random-effects model (binomial-normal)"))
        // The first study's shrinkage estimate and interval, back-transformed, as the table prints them.
        func expit(_ x: Double) -> Double { 1 / (1 + Double.exp(-x)) }
        let shown = String(format: "%.2f [%.2f, %.2f]", expit(q.median[0]), expit(q.central_lb[0]),
                           expit(q.central_ub[0]))
        #expect(text.contains(shown), "\(shown)")
    }

    @Test("refusals: another --measure, effects that are not counts, --likelihood without --bayes")
    func refusals() throws {
        let measure = try Self.run(["pool", Self.data, "--bayes", "--likelihood", "binomial", "--measure", "PR"] + Self.selection)
        #expect(measure.status == 64 && measure.stderr.contains("--likelihood binomial models the counts exactly")
                && measure.stderr.contains("--measure PR is another scale"), "\(measure.stderr)")
        // Hazard ratios (log HR and its SE) are not counts: refused when the effects are read.
        let ratios = try Self.run(["pool", "Datasets/her2-bm-hazard-ratios.csv", "--bayes", "--likelihood", "binomial", "--where", "endpoint=PFS"])
        #expect(ratios.status != 0 && ratios.stderr.contains("these effects are HR"), "\(ratios.stderr)")
        let ignored = try Self.run(["pool", Self.data, "--likelihood", "binomial"] + Self.selection)
        #expect(ignored.status == 0 && ignored.stderr.contains("no effect without it (ignored)"), "\(ignored.stderr)")
        let bad = try Self.run(["pool", Self.data, "--bayes", "--likelihood", "poisson"] + Self.selection)
        #expect(bad.status == 64, "\(bad.stderr)")
    }
}

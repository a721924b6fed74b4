// `--bayes --likelihood binomial` on two-group counts through the built binary: the hypergeometric–normal
// model of log odds ratios (OddsRatioBayesianMetaAnalysis) in pool's table and JSON, against the R
// quadrature (Tests/Reference/generate_bayes_or.R, fixture nielweise6, checked against the library in
// OddsRatioBayesianMetaAnalysisTests), a study without information, check, and the refusals.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("--bayes --likelihood binomial with two-group counts through the CLI")
struct BayesOddsRatioCLITests {
    // The binary, its JSON and numbers as the binomial model's CLI tests read them.
    static func run(_ arguments: [String], in folder: URL = FixtureFolder.root) throws -> MetapoolBinary.Result {
        try BayesBinomialCLITests.run(arguments, in: folder)
    }
    static func object(_ text: String) throws -> [String: Any] { try BayesBinomialCLITests.object(text) }
    static func number(_ x: Any?) -> Double? { BayesBinomialCLITests.number(x) }

    /// The fixture's case with τ ~ half-normal(0.5), μ ~ N(0, 4²), and its data.
    static func fixture() throws -> (OddsRatioBayesFixtureCLI.Case, OddsRatioBayesFixtureCLI.Data) {
        let url = FixtureFolder.url("bayes_or").appendingPathComponent("nielweise6.expected.json")
        let f = try JSONDecoder().decode(OddsRatioBayesFixtureCLI.self, from: Data(contentsOf: url))
        let c = try #require(f.cases.first { $0.name == "halfnormal_normal" })
        _ = try #require(c.theta_quantiles, "the case has the quantiles of some θᵢ")
        return (c, f.data)
    }

    static let priors = ["--bayes", "--likelihood", "binomial", "--tau-prior", "half-normal(0.5)", "--mu-prior", "normal(0, 4)"]

    /// The fixture's six studies as a CSV, and a seventh without events in either group when `empty`.
    static func csv(_ d: OddsRatioBayesFixtureCLI.Data, in folder: URL, empty: Bool) throws -> URL {
        func g(_ x: Double) -> String { String(Int(x)) }
        var text = "study,treat_events,treat_total,control_events,control_total\n"
        for i in d.labels.indices {
            text += "\(d.labels[i]),\(g(d.treat_events[i])),\(g(d.treat_totals[i])),\(g(d.control_events[i])),\(g(d.control_totals[i]))\n"
        }
        if empty { text += "Empty 2000,0,50,0,48\n" }
        let url = folder.appendingPathComponent(empty ? "with-empty.csv" : "counts.csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("pool --format json: the posteriors and shrinkage estimates of the R quadrature; a study without events drops out and is named")
    func json() throws {
        let (e, d) = try Self.fixture()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The seventh study (no events in either group) carries no information: μ, τ and the first six θᵢ are
        // the fixture's (the library's tests check this invariance to 1e-10), its θ is the predictive.
        let file = try Self.csv(d, in: folder, empty: true)
        let result = try Self.run(["pool", file.path, "--format", "json"] + Self.priors)
        try #require(result.status == 0, "\(result.stderr)")
        let out = try Self.object(result.stdout)
        #expect(out["model"] as? String == "hypergeometric-normal" && out["method"] as? String == "BAYES" && out["k"] as? Int == 7)
        #expect(out["measure"] as? String == "OR")
        #expect(out["tau_prior"] as? String == "half-normal(0.5)" && out["mu_prior"] as? String == "normal(0, 4)")
        #expect(out["uninformative_studies"] as? [String] == ["Empty 2000"])
        #expect(out["rates"] == nil)
        let options = try #require(out["options"] as? [String: Any])
        #expect(options["likelihood"] as? String == "binomial" && options["bayes"] as? Bool == true)
        // 1e-6, the target for the models of counts (relative above 1 in magnitude, as the library's tests).
        func close(_ object: [String: Any]?, _ key: String, _ expected: Double, _ what: String) {
            expectClose(Self.number(object?[key]), expected, relative: 1e-6, absolute: 1e-6, "\(what) \(key)")
        }
        for (name, p) in [("tau", e.tau), ("mu", e.mu), ("prediction", e.prediction)] {
            let o = out[name] as? [String: Any]
            close(o, "mean", p.mean, name); close(o, "sd", p.sd, name); close(o, "median", p.median, name)
            close(o, "ci_lower", p.central[0], name); close(o, "ci_upper", p.central[1], name)
            close(o, "shortest_lower", p.shortest[0], name); close(o, "shortest_upper", p.shortest[1], name)
        }
        close(out, "bayes_factor_tau0", try #require(e.bf_tau0), "BF"); close(out, "bayes_factor_mu0", try #require(e.bf_mu0), "BF")
        // The back-transformed median: the odds ratio e^median(mu).
        close(out["back_transformed"] as? [String: Any], "mu_median", Double.exp(e.mu.median), "OR")
        let studies = try #require(out["studies"] as? [[String: Any]])
        try #require(studies.count == 7)
        for i in 0..<6 {
            close(studies[i], "mean", e.theta.mean[i], "study \(i)"); close(studies[i], "sd", e.theta.sd[i], "study \(i)")
        }
        let q = try #require(e.theta_quantiles)
        for (j, index) in q.index.enumerated() {
            close(studies[index - 1], "median", q.median[j], "study \(index)")
            close(studies[index - 1], "ci_lower", q.central_lb[j], "study \(index)")
            close(studies[index - 1], "ci_upper", q.central_ub[j], "study \(index)")
        }
        let prediction = out["prediction"] as? [String: Any]
        for key in ["mean", "median", "ci_lower", "ci_upper"] {
            expectClose(Self.number(studies[6][key]), Self.number(prediction?[key]), relative: 0, absolute: 1e-7, "empty study \(key)")
        }
    }

    @Test("the table names the model and the study without information; check repeats the fit and catches drift")
    func tableAndCheck() throws {
        let (e, d) = try Self.fixture()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let table = try Self.run(["pool", try Self.csv(d, in: folder, empty: true).path] + Self.priors)
        try #require(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("Bayesian random-effects model (hypergeometric-normal, k = 7)"), "\(table.stdout)")
        #expect(table.stdout.contains("Measure: OR (log odds ratio); priors: tau ~ half-normal(0.5), mu ~ normal(0, 4)"), "\(table.stdout)")
        #expect(table.stdout.contains("no events, or only events, in both groups; their posterior is the predictive): Empty 2000"), "\(table.stdout)")
        let muLine = String(format: "  mu         %.4f", e.mu.mean)
        #expect(table.stdout.contains(muLine), "\(muLine) in \(table.stdout)")
        // check: the recorded options carry the likelihood and priors, so the repeat is the same model.
        let file = try Self.csv(d, in: folder, empty: false)
        let recorded = try Self.run(["pool", file.lastPathComponent, "--format", "json"] + Self.priors, in: folder)
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let baseline = folder.appendingPathComponent("baseline.json")
        let drifted = recorded.stdout.replacingOccurrences(of: "\"bayes_factor_mu0\": 0.05", with: "\"bayes_factor_mu0\": 0.06")
        #expect(drifted != recorded.stdout, "the drift edit found its place")
        try drifted.write(to: baseline, atomically: true, encoding: .utf8)
        let failed = try Self.run(["check", baseline.path], in: folder)
        #expect(failed.status == 1 && failed.stdout.contains("bayes_factor_mu0"), "\(failed.stdout)")
    }

    @Test("forest and --batch fit two-group counts by the hypergeometric-normal model: the batch line is the single fit, the forest rows its shrinkage estimates")
    func forestAndBatch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("small.csv")
        try "study,treat_events,treat_total,control_events,control_total\na,2,20,5,21\nb,3,25,6,24\nc,1,15,4,16\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        let single = try Self.run(["pool", csv.path, "--bayes", "--likelihood", "binomial", "--format", "json"])
        try #require(single.status == 0, "\(single.stderr)")
        let one = try Self.object(single.stdout)
        let lines = folder.appendingPathComponent("batch.jsonl")
        try """
        {"analysis": "small", "study": ["a", "b", "c"], "treat_events": [2, 3, 1], "treat_total": [20, 25, 15], "control_events": [5, 6, 4], "control_total": [21, 24, 16]}
        {"analysis": "empty", "study": ["x", "y"], "treat_events": [0, 0], "treat_total": [10, 12], "control_events": [0, 0], "control_total": [11, 9]}

        """.write(to: lines, atomically: true, encoding: .utf8)
        let batch = try Self.run(["pool", lines.path, "--batch", "--bayes", "--likelihood", "binomial", "--format", "json"])
        let outputs = try batch.stdout.split(separator: "\n").map { try Self.object(String($0)) }
        try #require(outputs.count == 2, "\(batch.stdout) \(batch.stderr)")
        #expect(outputs[0]["analysis"] as? String == "small" && outputs[0]["model"] as? String == "hypergeometric-normal")
        for key in ["mu", "tau", "prediction"] {
            #expect(NSDictionary(dictionary: outputs[0][key] as? [String: Any] ?? [:]) == NSDictionary(dictionary: one[key] as? [String: Any] ?? ["missing": 1]),
                    "batch \(key)")
        }
        // The analysis without information fails on its own line, naming it.
        #expect((outputs[1]["error"] as? String)?.contains("analysis empty: no study has information on the odds ratio") == true, "\(outputs[1])")
        // forest: the first study's shrinkage estimate on the odds-ratio scale, as the JSON gives it.
        let svg = folder.appendingPathComponent("forest.svg")
        let forest = try Self.run(["forest", csv.path, "--bayes", "--likelihood", "binomial", "-o", svg.path])
        try #require(forest.status == 0, "\(forest.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        #expect(text.contains("Bayesian random-effects model (hypergeometric-normal)"))
        let first = try #require((one["studies"] as? [[String: Any]])?.first)
        let shown = String(format: "%.2f [%.2f, %.2f]", Double.exp(try #require(Self.number(first["median"]))),
                           Double.exp(try #require(Self.number(first["ci_lower"]))), Double.exp(try #require(Self.number(first["ci_upper"]))))
        #expect(text.contains(shown), "\(shown)")
    }

    @Test("refusals: --measure RR or RD with --likelihood binomial; the Jeffreys prior; no informative study")
    func refusals() throws {
        for measure in ["RR", "RD"] {
            let r = try Self.run(["pool", "Datasets/bcg-vaccine.csv", "--bayes", "--likelihood", "binomial", "--measure", measure])
            #expect(r.status == 64 && r.stderr.contains("--measure \(measure) is another scale"), "\(r.stderr)")
        }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let jeffreys = try Self.run(["pool", "Datasets/bcg-vaccine.csv", "--bayes", "--likelihood", "binomial", "--tau-prior", "jeffreys"])
        #expect(jeffreys.status != 0 && jeffreys.stderr.contains("not available for the hypergeometric-normal model"), "\(jeffreys.stderr)")
        let empty = folder.appendingPathComponent("empty.csv")
        try "study,treat_events,treat_total,control_events,control_total\na,0,10,0,12\nb,5,5,7,7\n".write(to: empty, atomically: true, encoding: .utf8)
        let none = try Self.run(["pool", empty.path, "--bayes", "--likelihood", "binomial"])
        #expect(none.status != 0 && none.stderr.contains("no study has information on the odds ratio") && none.stderr.contains("empty.csv"), "\(none.stderr)")
    }
}

/// The parts of an R fixture of the odds-ratio model (Tests/MetaPoolTests/Fixtures/bayes_or) the CLI tests read.
struct OddsRatioBayesFixtureCLI: Decodable {
    struct Data: Decodable { var treat_events, treat_totals, control_events, control_totals: [Double]; var labels: [String] }
    struct Posterior: Decodable { var mean, sd, median: Double; var central, shortest: [Double] }
    struct Theta: Decodable { var mean, sd: [Double] }
    struct Quantiles: Decodable { var index: [Int]; var median, central_lb, central_ub: [Double] }
    struct Case: Decodable {
        var name: String
        var tau, mu, prediction: Posterior
        var theta: Theta
        var theta_quantiles: Quantiles?
        var bf_tau0, bf_mu0: Double?
    }
    var data: Data
    var cases: [Case]
}

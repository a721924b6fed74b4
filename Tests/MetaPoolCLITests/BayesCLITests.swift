// `metapool pool --bayes` through the built binary: the posterior summaries in the JSON against the
// R integration fixtures (Tests/MetaPoolTests/Fixtures/bayes, `Rscript Tests/Reference/generate_bayes.R`,
// integrate() at rel.tol 1e-13) to 1e-8, the published example of Röver (2020) to its printed
// digits, the table's priors and the usage errors.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("pool --bayes: the normal-normal model through the CLI")
struct BayesCLITests {
    struct Fixture: Decodable {
        struct Data: Decodable { var yi, vi: [Double]; var labels: [String] }
        struct Posterior: Decodable { var median: Double; var central: [Double]; var shortest: [Double]; var mean: Double?; var sd: Double? }
        struct Case: Decodable { var name: String; var tau, mu: Posterior }
        var data: Data
        var cases: [Case]
    }

    static func run(_ arguments: [String]) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
    }

    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    @Test("Crins et al. (2014), half-normal(0.5) and normal(0, 4): the R integration and the published numbers")
    func crins() throws {
        let url = FixtureFolder.url("bayes").appendingPathComponent("crins2014.expected.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        let reference = try #require(fixture.cases.first { $0.name == "halfnormal_normal" })
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var text = "study,yi,vi\n"
        for i in fixture.data.yi.indices { text += "\"\(fixture.data.labels[i])\",\(fixture.data.yi[i]),\(fixture.data.vi[i])\n" }
        let csv = folder.appendingPathComponent("crins.csv")
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let result = try Self.run(["pool", csv.path, "--bayes", "--tau-prior", "half-normal(0.5)", "--mu-prior", "normal(0, 4)", "--format", "json"])
        try #require(result.status == 0, "\(result.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(out["tau_prior"] as? String == "half-normal(0.5)" && out["mu_prior"] as? String == "normal(0, 4)")
        for (key, r) in [("tau", reference.tau), ("mu", reference.mu)] {
            let p = try #require(out[key] as? [String: Any])
            expectClose(Self.number(p["median"]), r.median, relative: 0, absolute: 1e-8, "\(key) median")
            expectClose(Self.number(p["ci_lower"]), r.central[0], relative: 0, absolute: 1e-8, "\(key) ci_lower")
            expectClose(Self.number(p["ci_upper"]), r.central[1], relative: 0, absolute: 1e-8, "\(key) ci_upper")
            expectClose(Self.number(p["shortest_lower"]), r.shortest[0], relative: 0, absolute: 1e-8, "\(key) shortest_lower")
            expectClose(Self.number(p["shortest_upper"]), r.shortest[1], relative: 0, absolute: 1e-8, "\(key) shortest_upper")
            if let mean = r.mean { expectClose(Self.number(p["mean"]), mean, relative: 0, absolute: 1e-8, "\(key) mean") }
        }
        // Röver (2020), JSS 93(6), the bayesmeta example: tau median 0.3445, shortest 95% [0, 0.8607];
        // mu median -1.5735 and mean -1.5764, printed to 4 decimals. Its printed mu interval
        // [-2.2312, -0.9264] comes from bayesmeta's DIRECT grid approximation of the mixture (delta
        // 0.01): the exact integral (ours, and R's integrate() in the fixture) is 5e-4 away from it.
        let tau = try #require(out["tau"] as? [String: Any]), mu = try #require(out["mu"] as? [String: Any])
        for (value, printed) in [(tau["median"], 0.3445), (tau["shortest_upper"], 0.8607), (mu["median"], -1.5735), (mu["mean"], -1.5764)] {
            expectClose(Self.number(value), printed, relative: 0, absolute: 5e-5, "published \(printed)")
        }
        for (value, printed) in [(mu["shortest_lower"], -2.2312), (mu["shortest_upper"], -0.9264)] {
            expectClose(Self.number(value), printed, relative: 0, absolute: 1e-3, "published (DIRECT) \(printed)")
        }
        #expect(Self.number(tau["shortest_lower"]) == 0)
        let table = try Self.run(["pool", csv.path, "--bayes", "--tau-prior", "half-normal(0.5)", "--mu-prior", "normal(0, 4)"])
        #expect(table.status == 0 && table.stdout.contains("priors: tau ~ half-normal(0.5), mu ~ normal(0, 4)") && table.stdout.contains("Shrinkage estimates"))
    }

    @Test("--method BAYES (any case, or --method=bayes) is --bayes for pool, forest and report; other commands refuse the value")
    func methodAlias() throws {
        let data = "Datasets/her2-bm-intracranial-response.csv"
        let selection = ["--where", "regimen=trastuzumab deruxtecan", "--where", "population=active",
                         "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"]
        let flag = try Self.run(["pool", data, "--bayes", "--format", "json"] + selection)
        try #require(flag.status == 0, "\(flag.stderr)")
        for spelling in [["--method", "BAYES"], ["--method", "bayes"], ["--method=Bayes"], ["--method", "BAYES", "--bayes"]] {
            let alias = try Self.run(["pool", data] + spelling + ["--format", "json"] + selection)
            #expect(alias.status == 0 && alias.stdout == flag.stdout, "\(spelling): \(alias.stderr)")
        }
        let table = try Self.run(["pool", data, "--method", "BAYES", "--tau-prior", "half-normal(1)"] + selection)
        #expect(table.status == 0 && table.stdout.hasPrefix("Bayesian random-effects model (normal-normal, k = 5)")
                && table.stdout.contains("tau ~ half-normal(1)"), "\(table.stdout)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let svg = folder.appendingPathComponent("forest.svg")
        let forest = try Self.run(["forest", data, "--method", "BAYES", "-o", svg.path] + selection)
        #expect(forest.status == 0 && (try? String(contentsOf: svg, encoding: .utf8))?.contains("Bayesian random-effects model") == true, "\(forest.stderr)")
        // A command without the Bayesian model: the value is not one of --method's.
        let funnel = try Self.run(["funnel", data, "--method", "BAYES", "-o", folder.appendingPathComponent("f.svg").path] + selection)
        #expect(funnel.status == 64 && funnel.stderr.contains("--method"), "\(funnel.stderr)")
    }

    @Test("check locks a Bayesian baseline at rtol 1e-9: the priors recorded, a moved posterior median is drift")
    func baseline() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let selection = ["--where", "regimen=trastuzumab deruxtecan", "--where", "population=active", "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"]
        let data = FixtureFolder.root.appendingPathComponent("Datasets/her2-bm-intracranial-response.csv").path
        let recorded = try Self.run(["pool", data, "--bayes", "--tau-prior", "half-cauchy(0.5)", "--threshold", "0.5", "--format", "json"] + selection)
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(recorded.stdout.utf8)) as? [String: Any])
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["bayes"] as? Bool == true && options["tau_prior"] as? String == "half-cauchy(0.5)" && options["mu_prior"] as? String == "flat")
        #expect(Self.number(options["threshold"]) == 0.5 && object["p_mu_exceeds"] != nil)
        let baseline = folder.appendingPathComponent("bayes.json")
        try recorded.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", baseline.path])
        #expect(check.status == 0 && check.stdout.hasPrefix("ok"), "\(check.stdout) \(check.stderr)")
        // The τ median moved in its 6th digit: drift at rtol 1e-9.
        let tau = try #require(object["tau"] as? [String: Any])
        let median = try #require(Self.number(tau["median"]))
        let moved = recorded.stdout.replacingOccurrences(of: "\"median\": \(median)", with: "\"median\": \(median * (1 + 1e-6))")
        #expect(moved != recorded.stdout)
        try moved.write(to: baseline, atomically: true, encoding: .utf8)
        let drift = try Self.run(["check", baseline.path])
        #expect(drift.status != 0 && drift.stdout.contains("tau.median"), "\(drift.stdout)")
    }

    @Test("usage errors: a prior that is not one, a non-positive scale, a measure without a default prior, --bayes with --format csv (one analysis) or --common-tau2")
    func errors() throws {
        let data = "Tests/MetaPoolTests/Fixtures/glmm/pritz1997.csv"
        let bad = try Self.run(["pool", data, "--bayes", "--tau-prior", "half-normal"])
        #expect(bad.status == 64 && bad.stderr.contains("half-normal(SCALE)"), "\(bad.stderr)")
        let scale = try Self.run(["pool", data, "--bayes", "--tau-prior", "half-cauchy(0)"])
        #expect(scale.status == 64 && scale.stderr.contains("must be greater than 0"), "\(scale.stderr)")
        let mu = try Self.run(["pool", data, "--bayes", "--mu-prior", "normal(0, -1)"])
        #expect(mu.status == 64 && mu.stderr.contains("standard deviation must be greater than 0"), "\(mu.stderr)")
        let noDefault = try Self.run(["pool", data, "--bayes", "--measure", "PR"])
        #expect(noDefault.status != 0 && noDefault.stderr.contains("--tau-prior"), "\(noDefault.stderr)")
        let csv = try Self.run(["pool", data, "--bayes", "--format", "csv"])
        #expect(csv.status == 64 && csv.stderr.contains("--bayes") && csv.stderr.contains("--batch"), "\(csv.stderr)")
        let common = try Self.run(["pool", data, "--bayes", "--by", "study", "--common-tau2"])
        #expect(common.status == 64 && common.stderr.contains("--common-tau2"), "\(common.stderr)")
    }
}

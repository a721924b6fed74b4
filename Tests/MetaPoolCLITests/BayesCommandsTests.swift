// `pool --bayes --by`, `pool --bayes --batch`, `forest --bayes`, `report --bayes` and `check` of a
// Bayesian subgroup baseline, through the built binary: every subgroup and every analysis of a
// batch is the single fit of its rows (same code path, so identical to the last bit), a subgroup or
// analysis with an improper posterior keeps its error, and check locks the subgroups at rtol 1e-9.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("pool --bayes --by and --batch, forest and report --bayes, check")
struct BayesCommandsTests {
    static func run(_ arguments: [String]) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text.prefix(200))")
    }

    /// Three groups of proportions: a (4 studies), b (3), c (1 study: with flat priors on τ and μ
    /// its posterior is improper, p(τ|y) ~ τ⁰).
    static let rows = [("a", "a1", 12, 30), ("a", "a2", 20, 41), ("a", "a3", 7, 25), ("a", "a4", 30, 52),
                       ("b", "b1", 3, 20), ("b", "b2", 9, 31), ("b", "b3", 5, 14), ("c", "c1", 10, 12)]

    static func write(_ rows: [(String, String, Int, Int)], column: String, to url: URL) throws {
        var text = "\(column),study,events,total\n"
        for r in rows { text += "\(r.0),\(r.1),\(r.2),\(r.3)\n" }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// The posterior members of one fit's JSON (without the recorded input and options).
    static let recordedKeys: Set<String> = ["metapool_version", "input", "options"]

    static func posterior(_ object: [String: Any]) -> NSDictionary {
        NSDictionary(dictionary: object.filter { !recordedKeys.contains($0.key) && $0.key != "analysis" && $0.key != "subgroup" })
    }

    @Test("--by: each subgroup is the fit of its rows alone (--where), the overall the fit of all; an improper subgroup reports its error")
    func subgroups() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("groups.csv")
        try Self.write(Self.rows, column: "arm", to: csv)
        for prior in ["half-normal(0.5)", "flat"] {
            let result = try Self.run(["pool", csv.path, "--bayes", "--tau-prior", prior, "--by", "arm", "--format", "json"])
            try #require(result.status == 0, "\(result.stderr)")
            let out = try Self.object(result.stdout)
            #expect(out["by"] as? String == "arm" && out["method"] as? String == "BAYES" && out["tau_prior"] as? String == prior && out["mu_prior"] as? String == "flat")
            let groups = try #require(out["subgroups"] as? [[String: Any]])
            #expect(groups.map { $0["subgroup"] as? String } == ["a", "b", "c"])
            for g in groups {
                let label = try #require(g["subgroup"] as? String)
                let single = try Self.run(["pool", csv.path, "--bayes", "--tau-prior", prior, "--where", "arm=\(label)", "--format", "json"])
                if prior == "flat" && label == "c" {
                    // One study, flat priors: the single fit fails, the subgroup keeps the same reason.
                    #expect(single.status == 65 && single.stderr.contains("posterior is improper"))
                    #expect(g["k"] as? Int == 1 && (g["error"] as? String)?.contains("subgroup \"c\": the posterior is improper") == true, "\(g)")
                    #expect(result.stderr.contains("1 of 3 subgroups could not be fitted"), "\(result.stderr)")
                    continue
                }
                try #require(single.status == 0, "\(single.stderr)")
                #expect(Self.posterior(g) == Self.posterior(try Self.object(single.stdout)), "subgroup \(label) with \(prior)")
            }
            let all = try Self.run(["pool", csv.path, "--bayes", "--tau-prior", prior, "--format", "json"])
            #expect(Self.posterior(try #require(out["overall"] as? [String: Any])) == Self.posterior(try Self.object(all.stdout)), "overall with \(prior)")
        }
        // The table and CSV give the same medians (4 decimals; full precision in CSV).
        let json = try Self.object(try Self.run(["pool", csv.path, "--bayes", "--by", "arm", "--format", "json"]).stdout)
        let a = try #require((json["subgroups"] as? [[String: Any]])?.first?["mu"] as? [String: Any])
        let muA = try #require((a["median"] as? NSNumber)?.doubleValue)
        let table = try Self.run(["pool", csv.path, "--bayes", "--by", "arm"])
        #expect(table.status == 0 && table.stdout.contains(String(format: "%.4f", muA)) && table.stdout.contains("in subgroups by arm"), "\(table.stdout)")
        let rows = try Self.run(["pool", csv.path, "--bayes", "--by", "arm", "--format", "csv"]).stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("subgroup,k,mu_median,") == true && rows.count == 5)
        // Shortest round-trip digits in CSV; JSONSerialization reads its 17 digits to within an ulp.
        expectClose(rows.dropFirst().first.flatMap { Double($0.split(separator: ",")[2]) }, muA, relative: 4e-16, absolute: 0, "CSV mu median of a")
    }

    @Test("--batch: each JSON line is pool --bayes --format json of that analysis's rows; a failing analysis reports its error")
    func batch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("batch.csv")
        try Self.write(Self.rows, column: "analysis", to: csv)
        for prior in ["half-cauchy(0.5)", "flat"] {
            let result = try Self.run(["pool", csv.path, "--batch", "--bayes", "--tau-prior", prior, "--mu-prior", "flat", "--jobs", "2", "--format", "json"])
            try #require(result.status == 0, "\(result.stderr)")
            let lines = try result.stdout.split(separator: "\n").map { try Self.object(String($0)) }
            #expect(lines.map { $0["analysis"] as? String } == ["a", "b", "c"])
            for line in lines {
                let id = try #require(line["analysis"] as? String)
                let rows = Self.rows.filter { $0.0 == id }
                let one = folder.appendingPathComponent("\(id).csv")
                try Self.write(rows, column: "analysis", to: one)
                let single = try Self.run(["pool", one.path, "--bayes", "--tau-prior", prior, "--format", "json"])
                if prior == "flat" && id == "c" {
                    #expect(single.status == 65 && (line["error"] as? String)?.hasPrefix("analysis c: the posterior is improper") == true, "\(line)")
                    #expect(line["k"] as? Int == 1)
                    continue
                }
                try #require(single.status == 0, "\(single.stderr)")
                #expect(Self.posterior(line) == Self.posterior(try Self.object(single.stdout)), "analysis \(id) with \(prior)")
            }
            if prior == "flat" { #expect(result.stderr.contains("1 of 3 analyses could not be fitted"), "\(result.stderr)") }
        }
        let table = try Self.run(["pool", csv.path, "--batch", "--bayes", "--tau-prior", "flat"])
        #expect(table.status == 0 && table.stdout.contains("Not fitted (NA above)") && table.stdout.contains("  c: analysis c: the posterior is improper"), "\(table.stdout)")
        let rows = try Self.run(["pool", csv.path, "--batch", "--bayes", "--format", "csv"]).stdout.split(separator: "\n")
        #expect(rows.first == "analysis,k,mu_median,mu_ci_lower,mu_ci_upper,tau_median,tau_ci_lower,tau_ci_upper,prediction_ci_lower,prediction_ci_upper,error" && rows.count == 4)
    }

    @Test("forest --bayes --by: each subgroup's studies carry the subgroup fit's shrinkage estimates, its diamond the subgroup's mu; a subgroup that cannot be fitted shows its studies without them")
    func subgroupForest() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("groups.csv")
        try Self.write(Self.rows, column: "arm", to: csv)
        let pool = try Self.object(try Self.run(["pool", csv.path, "--bayes", "--tau-prior", "flat", "--by", "arm", "--format", "json"]).stdout)
        let groups = try #require(pool["subgroups"] as? [[String: Any]])
        let svg = folder.appendingPathComponent("forest.svg")
        let forest = try Self.run(["forest", csv.path, "--bayes", "--tau-prior", "flat", "--by", "arm", "-o", svg.path])
        try #require(forest.status == 0, "\(forest.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        func values(_ marker: String, _ attribute: String) -> [Double] {
            text.components(separatedBy: marker).dropFirst().compactMap { piece in
                guard let r = piece.range(of: "\(attribute)=\"") else { return nil }
                return Double(piece[r.upperBound...].prefix { $0 != "\"" })
            }
        }
        // Subgroups a and b (7 studies, in row order, which is study order here); c's one study has none.
        var expected: [Double] = []
        for g in groups.prefix(2) {
            for s in try #require(g["studies"] as? [[String: Any]]) { expected.append(try #require((s["median"] as? NSNumber)?.doubleValue)) }
        }
        let medians = values("class=\"shrinkage\" data-study=", "data-median")
        try #require(medians.count == 7, "\(medians)")
        for (got, want) in zip(medians, expected) { expectClose(got, 1 / (1 + exp(-want)), relative: 1e-15, absolute: 0, "shrinkage median") }
        let diamonds = values("class=\"diamond\" data-kind=\"subgroup\"", "data-estimate")
        let mus = try groups.prefix(2).map { try #require((($0["mu"] as? [String: Any])?["median"] as? NSNumber)?.doubleValue) }
        try #require(diamonds.count == 2)
        for (got, want) in zip(diamonds, mus) { expectClose(got, 1 / (1 + exp(-want)), relative: 1e-15, absolute: 0, "subgroup diamond") }
        #expect(text.contains("Heterogeneity (all studies): τ posterior median"))
        let html = folder.appendingPathComponent("report.html")
        let report = try Self.run(["report", csv.path, "--bayes", "--by", "arm", "-o", html.path])
        try #require(report.status == 0, "\(report.stderr)")
        #expect(try String(contentsOf: html, encoding: .utf8).contains("class=\"density-plot\""))
    }

    @Test("check repeats a pool --bayes --by baseline (rtol 1e-9) and fails when a subgroup's posterior median drifts")
    func subgroupBaseline() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = "Datasets/her2-bm-intracranial-response.csv"
        let recorded = try Self.run(["pool", data, "--bayes", "--by", "regimen", "--where", "population=active", "--where", "endpoint=IC-ORR",
                                     "--where", "endpoint=CNS-ORR", "--allow-mixed-endpoints", "--format", "json"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let object = try Self.object(recorded.stdout)
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["bayes"] as? Bool == true && options["by"] as? String == "regimen" && options["tau_prior"] as? String == "half-normal(0.5)")
        let baseline = folder.appendingPathComponent("bayes-by.json")
        try recorded.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", baseline.path])
        #expect(check.status == 0 && check.stdout.hasPrefix("ok"), "\(check.stdout) \(check.stderr)")
        // The second subgroup's μ median moved in its 7th digit.
        let groups = try #require(object["subgroups"] as? [[String: Any]])
        let mu = try #require((groups[1]["mu"] as? [String: Any])?["median"] as? NSNumber).doubleValue
        let moved = recorded.stdout.replacingOccurrences(of: "\"median\": \(mu)", with: "\"median\": \(mu * (1 + 1e-6))")
        #expect(moved != recorded.stdout)
        try moved.write(to: baseline, atomically: true, encoding: .utf8)
        let drift = try Self.run(["check", baseline.path])
        #expect(drift.status != 0 && drift.stdout.contains("subgroups[1].mu.median"), "\(drift.stdout)")
    }

    @Test("forest --bayes and report --bayes: the shrinkage rows are pool --bayes's study posteriors on the proportion scale; the report has both density plots")
    func plots() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let selection = ["--where", "regimen=trastuzumab deruxtecan", "--where", "population=active", "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"]
        let data = "Datasets/her2-bm-intracranial-response.csv"
        let pool = try Self.object(try Self.run(["pool", data, "--bayes", "--tau-prior", "half-cauchy(0.5)", "--format", "json"] + selection).stdout)
        let studies = try #require(pool["studies"] as? [[String: Any]])
        let svg = folder.appendingPathComponent("forest.svg")
        let forest = try Self.run(["forest", data, "--bayes", "--tau-prior", "half-cauchy(0.5)", "-o", svg.path] + selection)
        try #require(forest.status == 0, "\(forest.stderr)")
        let text = try String(contentsOf: svg, encoding: .utf8)
        let medians = text.components(separatedBy: "class=\"shrinkage\" data-study=\"").dropFirst().compactMap { piece -> Double? in
            guard let r = piece.range(of: "data-median=\"") else { return nil }
            return Double(piece[r.upperBound...].prefix { $0 != "\"" })
        }
        try #require(medians.count == studies.count)
        for (i, s) in studies.enumerated() {
            let median = try #require((s["median"] as? NSNumber)?.doubleValue)
            expectClose(medians[i], 1 / (1 + exp(-median)), relative: 1e-15, absolute: 0, "study \(i): expit of the posterior median")
        }
        #expect(text.contains("τ ~ half-cauchy(0.5), μ ~ flat"))
        let html = folder.appendingPathComponent("report.html")
        let report = try Self.run(["report", data, "--bayes", "--tau-prior", "half-cauchy(0.5)", "-o", html.path] + selection)
        try #require(report.status == 0, "\(report.stderr)")
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.components(separatedBy: "class=\"density-plot\"").count == 3 && page.contains("data-curve=\"prior\"") && page.contains("<h2>Posterior</h2>"))
        #expect(!page.contains("<script"))
    }
}

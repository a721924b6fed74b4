// Study-level intervals (`--study-ci`, issue 14 item 1) through every output of the command line:
// Clopper-Pearson by default for events/total, the other proportion intervals on request, a
// hazard ratio's published CI as given. Expected values: R's binom.test, prop.test and qbeta in
// Tests/MetaPoolTests/Fixtures/proportion_intervals/reference.json
// (Tests/Reference/generate_proportion_intervals.R), and the published intervals
// (PATRICIA 4/37: 3.0-25.4%; HER2CLIMB 4/20: 5.7-43.7%; DEBBRAH 2/4: 6.8-93.2%) and Newcombe
// (1998, Table I): 81/263 Wilson .2553-.3662, CP .2527-.3676; 0/20 Wilson 0-.1611, CP 0-.1684.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("study intervals in pool, forest and report")
struct StudyIntervalTests {
    static let cohorts = "Tests/MetaPoolTests/Fixtures/study_ci/cohorts.csv"
    static let hazardRatios = "Tests/MetaPoolTests/Fixtures/study_ci/hazard-ratios.csv"
    /// Events and totals of cohorts.csv, in row order.
    static let counts: [(events: Int, total: Int)] = [(4, 37), (4, 20), (2, 4), (81, 263), (0, 20)]

    struct Reference: Decodable {
        struct Case: Decodable { var method: String; var events, total: Int; var level, lower, upper: Double }
        var cases: [Case]
    }

    /// R's interval for `method` at `level` for the i-th cohort.
    static func reference(_ method: String, _ i: Int, level: Double = 0.95) throws -> (lower: Double, upper: Double) {
        let url = FixtureFolder.url("proportion_intervals").appendingPathComponent("reference.json")
        let cases = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url)).cases
        let c = try #require(cases.first { $0.method == method && $0.events == counts[i].events && $0.total == counts[i].total && $0.level == level },
                             "no reference for \(method) \(counts[i]) at \(level)")
        return (c.lower, c.upper)
    }

    static func run(_ arguments: [String]) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result
    }

    static func json(_ arguments: [String]) throws -> [String: Any] {
        let out = try run(arguments + ["--format", "json"]).stdout
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    }

    /// The forest rows of type "study" of a JSON result.
    static func forestStudies(_ root: [String: Any]) throws -> [[String: Any]] {
        let forest = try #require(root["forest"] as? [String: Any])
        let rows = try #require(forest["rows"] as? [[String: Any]])
        return rows.filter { $0["type"] as? String == "study" }
    }

    /// The printed study listing's rows: label and the last four cells (estimate, ci.lb, ci.ub, weight).
    static func listing(_ stdout: String) -> [[String]] {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("study ") }) else { return [] }
        return lines[(header + 1)...].prefix { !$0.isEmpty }.map { line in
            line.split(separator: " ").map(String.init)
        }
    }

    @Test("the table prints the Clopper-Pearson interval by default: the issue's published CIs and Newcombe's Table I")
    func tableDefault() throws {
        let out = try Self.run(["pool", Self.cohorts]).stdout
        #expect(out.contains("Studies (95% Clopper-Pearson CI, shown on the proportion scale; weights in the random-effects model):"), "\(out)")
        let rows = Self.listing(out)
        #expect(rows.count == 5)
        // (ci.lb, ci.ub) as printed, four decimals: PATRICIA 3.0-25.4%, HER2CLIMB 5.7-43.7%,
        // DEBBRAH 6.8-93.2%, Newcombe 81/263 .2527-.3676 and 0/20 0-.1684.
        let expected = [("0.0303", "0.2542"), ("0.0573", "0.4366"), ("0.0676", "0.9324"), ("0.2527", "0.3676"), ("0.0000", "0.1684")]
        for (row, e) in zip(rows, expected) {
            let n = row.count
            #expect(n >= 4 && row[n - 3] == e.0 && row[n - 2] == e.1, "\(row)")
        }
    }

    @Test("--study-ci wilson switches the table to Wilson's interval (Newcombe's Table I: .2553-.3662, 0-.1611)")
    func tableWilson() throws {
        let out = try Self.run(["pool", Self.cohorts, "--study-ci", "wilson"]).stdout
        #expect(out.contains("Studies (95% Wilson CI, shown on the proportion scale;"), "\(out)")
        let rows = Self.listing(out)
        #expect(rows.count == 5)
        if rows.count == 5 {
            #expect(rows[3].suffix(3).prefix(2) == ["0.2553", "0.3662"], "\(rows[3])")
            #expect(rows[4].suffix(3).prefix(2) == ["0.0000", "0.1611"], "\(rows[4])")
        }
    }

    @Test("JSON: study_ci_lower/upper as R's intervals per method, ci_lower/ci_upper still escalc's on the logit scale",
          arguments: ["cp", "wilson", "wilson-cc", "agresti-coull", "jeffreys", "wald"])
    func json(_ method: String) throws {
        let root = try Self.json(["pool", Self.cohorts] + (method == "cp" ? [] : ["--study-ci", method]))
        #expect(root["study_ci_method"] as? String == method)
        let studies = try #require(root["studies"] as? [[String: Any]])
        let rows = try Self.forestStudies(root)
        #expect(studies.count == 5 && rows.count == 5)
        for i in 0..<min(studies.count, rows.count, 5) {
            let r = try Self.reference(method, i)
            for entry in [studies[i], rows[i]] {
                // Beta quantiles and the closed forms against R to 1e-10 relative.
                expectClose(entry["study_ci_lower"] as? Double, r.lower, relative: 1e-10, absolute: 1e-13, "\(method) \(Self.counts[i]) lower")
                expectClose(entry["study_ci_upper"] as? Double, r.upper, relative: 1e-10, absolute: 1e-13, "\(method) \(Self.counts[i]) upper")
                #expect(entry["study_ci"] as? String == method)
            }
            // The escalc interval on the analysis scale keeps its meaning: yi -/+ z sqrt(vi).
            let yi = try #require(studies[i]["yi"] as? Double), vi = try #require(studies[i]["vi"] as? Double)
            expectClose(studies[i]["ci_lower"] as? Double, yi - 1.959963984540054 * vi.squareRoot(), relative: 1e-12, absolute: 1e-14)
            expectClose(studies[i]["ci_upper"] as? Double, yi + 1.959963984540054 * vi.squareRoot(), relative: 1e-12, absolute: 1e-14)
        }
        let options = try #require(root["options"] as? [String: Any])
        #expect((options["study_ci"] as? String) == (method == "cp" ? nil : method))
    }

    @Test("the interval follows --level (Clopper-Pearson at 90% as binom.test)")
    func level() throws {
        let rows = try Self.forestStudies(Self.json(["pool", Self.cohorts, "--level", "0.9"]))
        #expect(rows.count == 5)
        for (i, row) in rows.prefix(5).enumerated() {
            let r = try Self.reference("cp", i, level: 0.9)
            expectClose(row["study_ci_lower"] as? Double, r.lower, relative: 1e-10, absolute: 1e-13)
            expectClose(row["study_ci_upper"] as? Double, r.upper, relative: 1e-10, absolute: 1e-13)
        }
    }

    @Test("--study-ci escalc gives metafor's forest() intervals, the back-transformed escalc ones")
    func escalc() throws {
        let root = try Self.json(["pool", Self.cohorts, "--study-ci", "escalc"])
        for row in try Self.forestStudies(root) {
            #expect(row["study_ci"] as? String == "escalc")
            expectClose(row["study_ci_lower"] as? Double, row["ci_lower"] as? Double ?? .nan, relative: 0, absolute: 0)
            expectClose(row["study_ci_upper"] as? Double, row["ci_upper"] as? Double ?? .nan, relative: 0, absolute: 0)
        }
    }

    @Test("the GLMM shows the same Clopper-Pearson study intervals")
    func glmm() throws {
        let rows = try Self.forestStudies(Self.json(["pool", Self.cohorts, "--method", "GLMM"]))
        #expect(rows.count == 5)
        for (i, row) in rows.prefix(5).enumerated() {
            let r = try Self.reference("cp", i)
            expectClose(row["study_ci_lower"] as? Double, r.lower, relative: 1e-10, absolute: 1e-13)
            expectClose(row["study_ci_upper"] as? Double, r.upper, relative: 1e-10, absolute: 1e-13)
        }
    }

    @Test("CSV: study_ci_lower, study_ci_upper and study_ci columns after the escalc ones")
    func csv() throws {
        let lines = try Self.run(["pool", Self.cohorts, "--format", "csv", "--study-ci", "jeffreys"]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "study,yi,vi,ci_lower,ci_upper,weight,study_ci_lower,study_ci_upper,study_ci")
        #expect(lines.count == 6)
        for (i, line) in lines.dropFirst().prefix(5).enumerated() {
            let cells = line.split(separator: ",").map(String.init)
            let r = try Self.reference("jeffreys", i)
            #expect(cells.count == 9 && cells[8] == "jeffreys", "\(line)")
            expectClose(Double(cells[6]), r.lower, relative: 1e-10, absolute: 1e-13, line)
            expectClose(Double(cells[7]), r.upper, relative: 1e-10, absolute: 1e-13, line)
        }
    }

    @Test("forest: each study's line spans its Clopper-Pearson interval and the footnote names both intervals")
    func forest() throws {
        for extra in [[], ["--method", "GLMM"]] {
            let svg = try Self.run(["forest", Self.cohorts, "-o", "-"] + extra).stdout
            let doc = try SVGCheck.parse(svg)
            let lines = try SVGCheck.elements(doc, "//*[local-name()='line'][@class='ci']")
            #expect(lines.count == 5)
            for (i, line) in lines.prefix(5).enumerated() {
                let r = try Self.reference("cp", i)
                expectClose(SVGCheck.double(line, "data-lower"), r.lower, relative: 1e-10, absolute: 1e-13)
                expectClose(SVGCheck.double(line, "data-upper"), r.upper, relative: 1e-10, absolute: 1e-13)
            }
            let model = extra.isEmpty ? "Random-effects model (REML)" : "Random-effects model (GLMM, 7-point AGHQ)"
            #expect(svg.contains("Studies: 95% Clopper-Pearson CI; pooled: \(model), 95% Wald CI"), "\(extra)")
            // The diamond stays the model's: the same bounds as without study intervals.
            let plain = try Self.run(["forest", Self.cohorts, "-o", "-", "--study-ci", "escalc"] + extra).stdout
            let diamond = { (s: String) throws -> [String?] in
                let d = try #require(try SVGCheck.elements(SVGCheck.parse(s), "//*[local-name()='polygon'][@class='diamond']").first)
                return [SVGCheck.string(d, "data-lower"), SVGCheck.string(d, "data-upper")]
            }
            #expect(try diamond(svg) == diamond(plain))
            #expect(plain.contains("Studies: 95% Wald CI on the logit proportion scale; pooled:"))
        }
    }

    @Test("report: the data table shows the chosen interval and the footnote names it")
    func report() throws {
        let html = try Self.run(["report", Self.cohorts, "-o", "-", "--study-ci", "wilson"]).stdout
        #expect(html.contains("<p class=\"meta\">Studies: 95% Wilson CI; pooled: Random-effects model (REML), 95% Wald CI</p>"))
        // 81/263: Wilson .2553-.3662, printed with two decimals.
        #expect(html.contains("<td>0.31 [0.26, 0.37]</td>"))
        let exact = try Self.run(["report", Self.cohorts, "-o", "-"]).stdout
        #expect(exact.contains("<td>0.50 [0.07, 0.93]</td>"), "DEBBRAH 2/4, exact 6.8-93.2%")
    }

    @Test("hazard ratios given with a CI show it as published: NALA's upper bound is 1.05, not 1.06")
    func publishedHazardRatio() throws {
        let out = try Self.run(["pool", Self.hazardRatios]).stdout
        #expect(out.contains("Studies (95% published CI, shown on the hazard ratio scale;"), "\(out)")
        let nala = try #require(Self.listing(out).first { $0.first == "NALA" })
        #expect(nala.suffix(3).prefix(2) == ["0.4100", "1.0500"], "\(nala)")

        let root = try Self.json(["pool", Self.hazardRatios])
        #expect(root["study_ci_method"] as? String == "published")
        let studies = try #require(root["studies"] as? [[String: Any]])
        #expect(studies.count == 2)
        #expect(studies.last?["study_ci_lower"] as? Double == 0.41 && studies.last?["study_ci_upper"] as? Double == 1.05)
        #expect(studies.last?["study_ci"] as? String == "published")
        // The analysis-scale interval from the SE is still there, unchanged: log 1.0562 = 0.0547.
        expectClose(studies.last?["ci_upper"] as? Double, 0.054678697764942, relative: 1e-9, absolute: 0)

        let svg = try Self.run(["forest", Self.hazardRatios, "-o", "-"]).stdout
        #expect(svg.contains("data-lower=\"0.41\" data-upper=\"1.05\""))
        #expect(svg.contains("0.66 [0.41, 1.05]"))
        #expect(svg.contains("Studies: 95% published CI; pooled: Random-effects model (REML), 95% Wald CI"))
        let html = try Self.run(["report", Self.hazardRatios, "-o", "-"]).stdout
        #expect(html.contains("<td>0.66 [0.41, 1.05]</td>"))
    }

    @Test("a published CI at another level than --level is not shown as if it were: the Wald interval at --level instead")
    func publishedOtherLevel() throws {
        // --hr-level 90: the columns are 90% CIs; the plot is at 95%.
        let rows = try Self.forestStudies(Self.json(["pool", Self.hazardRatios, "--hr-level", "90"]))
        #expect(rows.count == 2)
        for row in rows {
            #expect(row["study_ci"] as? String == "escalc")
            #expect(row["study_ci_upper"] as? Double == row["ci_upper"] as? Double)
        }
        // At --level 0.9 too, they are the published 90% intervals.
        let matching = try Self.forestStudies(Self.json(["pool", Self.hazardRatios, "--hr-level", "90", "--level", "0.9"]))
        #expect(matching.last?["study_ci"] as? String == "published" && matching.last?["study_ci_upper"] as? Double == 1.05)
        // --study-ci escalc recomputes every row from its SE, as metafor's forest() does.
        let escalc = try Self.forestStudies(Self.json(["pool", Self.hazardRatios, "--study-ci", "escalc"]))
        expectClose(escalc.last?["study_ci_upper"] as? Double, 1.056201200344781, relative: 1e-12, absolute: 0)
    }

    @Test("check repeats --study-ci from the baseline's options, and refuses an unknown value")
    func checkRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-study-ci-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("cohorts.csv")
        try FileManager.default.copyItem(at: FixtureFolder.root.appendingPathComponent(Self.cohorts), to: input)
        let binary = try #require(MetapoolBinary.url)
        let recorded = try MetapoolBinary.run(binary, ["pool", "cohorts.csv", "--study-ci", "agresti-coull", "--format", "json"], in: dir, stdinFile: nil)
        #expect(recorded.status == 0)
        try recorded.stdout.write(to: dir.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        let checked = try MetapoolBinary.run(binary, ["check", "b.json"], in: dir, stdinFile: nil)
        #expect(checked.status == 0 && checked.stdout.hasPrefix("ok    b.json:"), "\(checked.stdout)\(checked.stderr)")
        let bad = recorded.stdout.replacingOccurrences(of: "\"study_ci\": \"agresti-coull\"", with: "\"study_ci\": \"exact\"")
        #expect(bad != recorded.stdout)
        try bad.write(to: dir.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        let refused = try MetapoolBinary.run(binary, ["check", "b.json"], in: dir, stdinFile: nil)
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("options.study_ci is \"exact\"") || refused.stderr.contains("options.study_ci is \"exact\""),
                "\(refused.stdout)\(refused.stderr)")
    }

    @Test("an unknown --study-ci value is a usage error (64)")
    func unknownValue() throws {
        let binary = try #require(MetapoolBinary.url)
        let result = try MetapoolBinary.run(binary, ["pool", Self.cohorts, "--study-ci", "exact"], in: FixtureFolder.root, stdinFile: nil)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--study-ci"))
    }
}

// `pool --pi` and `--threshold` against R: Tests/MetaPoolTests/Fixtures/pi_cli/reference.json, written
// by `Rscript Tests/Reference/generate_pi_cli.R` (metafor fits, qt/qnorm/pt formulas, predict(pi.type)).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("pool --pi and --threshold against R")
struct PredictionIntervalCLITests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        var name, file, method, ci, pi, pi_method: String
        var `where`: [String]
        var pi_df: Int?
        var k: Int
        var estimate, se, tau2, pi_lower, pi_upper, threshold, threshold_analysis_scale, p_new_study_exceeds, p_mean_exceeds: Double
        var testDescription: String { "\(name) --ci \(ci) --pi \(pi)" }
    }
    struct Reference: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        let url = FixtureFolder.url("pi_cli").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(Reference.self, from: data).cases) ?? []
    }()

    @Test("the reference holds every dataset, interval method and the GLMM")
    func present() {
        #expect(Self.cases.count == 48)
        #expect(Set(Self.cases.map(\.pi)) == ["default", "metafor", "z", "t", "riley"])
        #expect(Self.cases.contains { $0.method == "GLMM" && $0.pi == "t" })
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let r = try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
        return (r.status, r.stdout, r.stderr)
    }

    static func arguments(_ c: Case) -> [String] {
        var a = ["pool", c.file, "--method", c.method, "--ci", c.ci, "--threshold", "\(c.threshold)"]
        for w in c.where { a += ["--where", w] }
        if c.pi != "default" { a += ["--pi", c.pi] }
        return a
    }

    @Test("pool --format json gives R's interval, method, df and probabilities to 1e-8", arguments: cases)
    func json(_ c: Case) throws {
        let r = try Self.run(Self.arguments(c) + ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        let tolerance = c.method == "GLMM" ? 1e-6 : 1e-8
        #expect(object["k"] as? Int == c.k)
        #expect(object["pi_method"] as? String == c.pi_method)
        #expect(object["pi_df"] as? Int == c.pi_df, "pi_df \(String(describing: object["pi_df"]))")
        expectClose(number("estimate"), c.estimate, relative: tolerance, absolute: 1e-10, "\(c.name) estimate")
        expectClose(number("pi_lower"), c.pi_lower, relative: tolerance, absolute: 1e-10, "\(c.name) pi_lower")
        expectClose(number("pi_upper"), c.pi_upper, relative: tolerance, absolute: 1e-10, "\(c.name) pi_upper")
        expectClose(number("threshold"), c.threshold, relative: 1e-15, absolute: 0, "\(c.name) threshold")
        expectClose(number("threshold_analysis_scale"), c.threshold_analysis_scale, relative: 1e-14, absolute: 1e-15, "\(c.name) threshold (analysis)")
        expectClose(number("p_new_study_exceeds"), c.p_new_study_exceeds, relative: tolerance, absolute: 1e-10, "\(c.name) P(new > c)")
        expectClose(number("p_mean_exceeds"), c.p_mean_exceeds, relative: tolerance, absolute: 1e-10, "\(c.name) P(mu > c)")
        // The natural-scale bounds follow the chosen method, and the options record --pi for check.
        let back = try #require(object["back_transformed"] as? [String: Any])
        let transform: (Double) -> Double = c.name.hasPrefix("her2_pfs") || c.name == "bcg" ? { Foundation.exp($0) } : { 1 / (1 + Foundation.exp(-$0)) }
        expectClose((back["pi_lower"] as? NSNumber)?.doubleValue, transform(c.pi_lower), relative: tolerance, absolute: 1e-10, "\(c.name) back pi_lower")
        expectClose((back["pi_upper"] as? NSNumber)?.doubleValue, transform(c.pi_upper), relative: tolerance, absolute: 1e-10, "\(c.name) back pi_upper")
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["pi"] as? String == (c.pi == "default" ? nil : c.pi))
    }

    @Test("the table names the method and prints the probabilities", arguments: cases.filter { $0.ci == "wald" && $0.pi != "metafor" })
    func table(_ c: Case) throws {
        let r = try Self.run(Self.arguments(c))
        #expect(r.status == 0, "\(r.stderr)")
        let label = switch c.pi_method {
        case "z": "z"
        case "riley": "t on \(c.pi_df ?? -1) df, Riley et al. 2011"
        default: "t on \(c.pi_df ?? -1) df"
        }
        func f(_ x: Double) -> String { NumberFormat.decimal(x, digits: 4) }
        #expect(r.stdout.contains("Prediction interval (95%, \(label)): [\(f(c.pi_lower)), \(f(c.pi_upper))]"), "\(r.stdout)")
        #expect(r.stdout.contains(") = \(f(c.p_new_study_exceeds))"), "\(r.stdout)")
        #expect(r.stdout.contains("P(new study's true "), "\(r.stdout)")
    }

    @Test("the PFS headline (k = 4): z 0.21-0.91 by default under metafor, t on 3 df 0.14-1.44 and crosses 1")
    func headline() throws {
        let base = ["pool", "Datasets/her2-bm-hazard-ratios.csv", "--where", "endpoint=PFS"]
        let t = try Self.run(base)
        #expect(t.stdout.contains("prediction interval [0.1365, 1.4358]"), "\(t.stdout)")
        let z = try Self.run(base + ["--pi", "z"])
        #expect(z.stdout.contains("prediction interval [0.2144, 0.9136]"), "\(z.stdout)")
    }

    @Test("a threshold outside the measure's range is a usage error (64) naming the range",
          arguments: [("Datasets/her2-bm-hazard-ratios.csv", "0"), ("Datasets/her2-bm-hazard-ratios.csv", "-1"),
                      ("Datasets/pritz1997-hyperdynamic-therapy.csv", "1"), ("Datasets/pritz1997-hyperdynamic-therapy.csv", "1.5"),
                      ("Datasets/pritz1997-hyperdynamic-therapy.csv", "0")])
    func outOfRange(_ file: String, _ value: String) throws {
        for format in ["table", "json"] {
            let selection = file.contains("hazard") ? ["--where", "endpoint=PFS"] : []
            let r = try Self.run(["pool", file, "--threshold=\(value)", "--format", format] + selection)
            #expect(r.status == 64, "\(r.stderr)")
            #expect(r.stderr.contains("threshold \(Double(value)!)") && r.stderr.contains("must be"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    struct SubgroupReference: Decodable {
        struct Group: Decodable { var subgroup: String; var k: Int?; var pi_method: String?; var pi_df: Int?; var pi_lower, pi_upper: Double? }
        struct Case: Decodable, CustomTestStringConvertible, Sendable {
            var pi, pi_method: String
            var groups, common: [Group]
            var common_pi_df: Int?
            var testDescription: String { "--pi \(pi)" }
        }
        var file, by: String
        var `where`: [String]
        var cases: [Case]
    }

    static let subgroupReference: SubgroupReference? = {
        let url = FixtureFolder.url("pi_cli").appendingPathComponent("subgroups.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(SubgroupReference.self, from: data)
    }()

    static func subgroupArguments(_ c: SubgroupReference.Case, _ r: SubgroupReference) -> [String] {
        var a = ["pool", r.file]
        for w in r.where { a += ["--where", w] }
        if c.pi != "default" { a += ["--pi", c.pi] }
        return a
    }

    static func number(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }

    @Test("--by: each subgroup's interval by the chosen method (separate and common tau^2) as R", arguments: subgroupReference?.cases ?? [])
    func subgroups(_ c: SubgroupReference.Case) throws {
        let reference = try #require(Self.subgroupReference)
        #expect(reference.cases.count == 4)
        for common in [false, true] {
            let r = try Self.run(Self.subgroupArguments(c, reference) + ["--by", reference.by, "--format", "json"] + (common ? ["--common-tau2"] : []))
            #expect(r.status == 0, "\(r.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let groups = try #require(object["subgroups"] as? [[String: Any]])
            let expected = common ? c.common : c.groups
            #expect(groups.count == expected.count)
            for (g, e) in zip(groups, expected) {
                #expect(g["subgroup"] as? String == e.subgroup)
                if let lower = e.pi_lower, let upper = e.pi_upper {
                    #expect(g["pi_method"] as? String == c.pi_method, "\(e.subgroup)")
                    #expect(g["pi_df"] as? Int == (common ? c.common_pi_df : e.pi_df), "\(e.subgroup) pi_df")
                    expectClose(Self.number(g["pi_lower"]), lower, relative: 1e-8, absolute: 1e-10, "\(e.subgroup) pi_lower (common \(common))")
                    expectClose(Self.number(g["pi_upper"]), upper, relative: 1e-8, absolute: 1e-10, "\(e.subgroup) pi_upper (common \(common))")
                } else {
                    // One study (fixed effect), or riley on k − 2 = 0 df: no interval.
                    #expect(g["pi_lower"] == nil && g["pi_upper"] == nil, "\(e.subgroup)")
                }
            }
        }
    }

    @Test("--by table: each subgroup's interval on the natural scale with its method, as R", arguments: subgroupReference?.cases ?? [])
    func subgroupTable(_ c: SubgroupReference.Case) throws {
        let reference = try #require(Self.subgroupReference)
        let r = try Self.run(Self.subgroupArguments(c, reference) + ["--by", reference.by])
        #expect(r.status == 0, "\(r.stderr)")
        let block = try #require(r.stdout.components(separatedBy: "Prediction intervals (95%, natural scale):").last)
        let lines = block.split(separator: "\n").map(String.init)
        func f(_ x: Double) -> String { NumberFormat.decimal(1 / (1 + Foundation.exp(-x)), digits: 4) }
        for e in c.groups {
            let line = try #require(lines.first { $0.hasPrefix(e.subgroup + " ") }, "\(e.subgroup): \(block)")
            let cells = line.dropFirst(e.subgroup.count).split(separator: " ", maxSplits: 2).map { $0.trimmingCharacters(in: .whitespaces) }
            if let lower = e.pi_lower, let upper = e.pi_upper {
                let method = c.pi_method == "z" ? "z" : "t on \(e.pi_df ?? -1) df" + (c.pi_method == "riley" ? ", Riley et al. 2011" : "")
                #expect(cells == [f(lower), f(upper), method], "\(line)")
            } else {
                #expect(cells.first == "-", "\(line)")
            }
        }
    }

    @Test("--batch: each analysis's interval and method by --pi, as R's per-subgroup fits", arguments: subgroupReference?.cases ?? [])
    func batch(_ c: SubgroupReference.Case) throws {
        let reference = try #require(Self.subgroupReference)
        let r = try Self.run(Self.subgroupArguments(c, reference) + ["--batch", "--batch-column", reference.by, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")  // the one-study class is an error line, not a failed run
        let lines = r.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.count == c.groups.count)
        for (line, e) in zip(lines, c.groups) {
            let g = try #require(line)
            #expect(g["analysis"] as? String == e.subgroup)
            guard let lower = e.pi_lower, let upper = e.pi_upper else {
                #expect(g["pi_lower"] == nil, "\(e.subgroup)")
                continue
            }
            #expect(g["pi_method"] as? String == c.pi_method, "\(e.subgroup)")
            #expect(g["pi_df"] as? Int == e.pi_df, "\(e.subgroup) pi_df")
            expectClose(Self.number(g["pi_lower"]), lower, relative: 1e-8, absolute: 1e-10, "\(e.subgroup) batch pi_lower")
            expectClose(Self.number(g["pi_upper"]), upper, relative: 1e-8, absolute: 1e-10, "\(e.subgroup) batch pi_upper")
        }
    }

    @Test("the forest plot and the report name the method beside the interval")
    func plots() throws {
        let base = ["Datasets/her2-bm-hazard-ratios.csv", "--where", "endpoint=PFS", "-o", "-"]
        let forest = try Self.run(["forest"] + base)
        #expect(forest.status == 0, "\(forest.stderr)")
        #expect(forest.stdout.contains(">Prediction interval (t on 3 df)<"), "\(forest.stdout)")
        let riley = try Self.run(["forest"] + base + ["--pi", "riley"])
        #expect(riley.stdout.contains(">Prediction interval (t on 2 df, Riley et al. 2011)<"))
        let report = try Self.run(["report"] + base + ["--pi", "z"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("<td>prediction interval (z)</td><td>[-1.5397, -0.0903]</td>"), "\(report.stdout)")
    }

    struct CommonEffect: Decodable, CustomTestStringConvertible, Sendable {
        var method, file: String
        var threshold, p_mean_exceeds: Double
        var testDescription: String { method }
    }
    struct CommonEffectReference: Decodable { var cases: [CommonEffect] }

    static let commonEffectCases: [CommonEffect] = {
        let url = FixtureFolder.url("pi_cli").appendingPathComponent("common_effect.json")
        guard let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(CommonEffectReference.self, from: data).cases) ?? []
    }()

    @Test("a common-effect model (FE, MH, Peto): P(mu > c) as R, no predictive probability, and --pi is named as ignored",
          arguments: commonEffectCases)
    func commonEffect(_ c: CommonEffect) throws {
        #expect(Self.commonEffectCases.count == 3)
        let r = try Self.run(["pool", c.file, "--method", c.method, "--threshold", "\(c.threshold)", "--format", "json", "--pi", "t"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: --pi sets the prediction interval") && r.stderr.contains("(ignored)"), "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["p_new_study_exceeds"] is NSNull)
        #expect(object["pi_lower"] == nil)
        expectClose(Self.number(object["p_mean_exceeds"]), c.p_mean_exceeds, relative: 1e-8, absolute: 1e-12, "\(c.method) P(mu > c)")
        let table = try Self.run(["pool", c.file, "--method", c.method, "--threshold", "\(c.threshold)"])
        #expect(table.stdout.contains("P(new study's true odds ratio > 0.6): none"), "\(table.stdout)")
        #expect(table.stdout.contains("P(pooled mean odds ratio > 0.6) = "), "\(table.stdout)")
    }

    @Test("check re-runs a baseline recorded with --pi and --threshold, and refuses an unknown pi")
    func baseline() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = FixtureFolder.root.appendingPathComponent("Datasets/pritz1997-hyperdynamic-therapy.csv").path
        let recorded = try Self.run(["pool", file, "--pi", "riley", "--threshold", "0.8", "--format", "json"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stdout.contains("\"pi\": \"riley\"") && recorded.stdout.contains("\"threshold\": 0.8"))
        let path = folder.appendingPathComponent("riley.json")
        try recorded.stdout.write(to: path, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", path.path])
        #expect(check.status == 0, "\(check.stdout)\n\(check.stderr)")
        #expect(check.stdout.hasPrefix("ok "), "\(check.stdout)")
        // The same baseline re-run with another method drifts: the option is really read back.
        let t = recorded.stdout.replacingOccurrences(of: "\"pi\": \"riley\"", with: "\"pi\": \"t\"")
        try t.write(to: path, atomically: true, encoding: .utf8)
        let drift = try Self.run(["check", path.path])
        #expect(drift.status == 1 && drift.stdout.contains("pi_lower"), "\(drift.stdout)")
        let bogus = recorded.stdout.replacingOccurrences(of: "\"pi\": \"riley\"", with: "\"pi\": \"hts\"")
        try bogus.write(to: path, atomically: true, encoding: .utf8)
        let refused = try Self.run(["check", path.path])
        #expect(refused.status == 65 && refused.stderr.contains("options.pi \"hts\""), "\(refused.stdout)\n\(refused.stderr)")
    }

    @Test("an unknown --pi is a usage error")
    func unknownMethod() throws {
        let r = try Self.run(["pool", "Datasets/pritz1997-hyperdynamic-therapy.csv", "--pi", "hts"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--pi"), "\(r.stderr)")
    }
}

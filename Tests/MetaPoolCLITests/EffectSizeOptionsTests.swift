// The effect-size options through the built binary: --hr-level, --add/--to/--drop00 and
// --drop-missing give the fits R gives (Fixtures/conventions, from generate_conventions.R), the JSON
// records the options and the rows left out, stderr lists them, and `check` re-runs the analysis.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool: effect-size options (--hr-level, --add, --to, --drop00, --drop-missing)")
struct EffectSizeOptionsTests {
    static let fixtures = CheckCommandTests.repository.appendingPathComponent("Tests/MetaPoolTests/Fixtures/conventions")

    /// The R fit of the fixture case `name` with `method`.
    static func reference(_ name: String, method: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("cases.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        let c = try #require(cases.first { $0["name"] as? String == name }, "no case \(name)")
        let fits = try #require(c["fits"] as? [[String: Any]])
        return try #require(fits.first { $0["method"] as? String == method })
    }

    /// `pool FILE ARGS --format json`, its JSON object and stderr, then `check` of it as a baseline.
    static func poolAndCheck(_ file: String, _ args: [String]) throws -> ([String: Any], String) {
        let path = fixtures.appendingPathComponent(file).path
        let result = try CheckCommandTests.run(["pool", path, "--format", "json"] + args)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let baseline = dir.appendingPathComponent("baseline.json")
        try result.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try CheckCommandTests.run(["check", baseline.path])
        #expect(check.status == 0, "check: \(check.stdout) \(check.stderr)")
        #expect(check.stdout.hasPrefix("ok    \(baseline.path): "), "\(check.stdout)")
        return (json, result.stderr)
    }

    static func number(_ json: [String: Any], _ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }

    @Test("--drop-missing: R's na.omit fit, the rows in the JSON and on stderr, check re-runs it")
    func dropMissing() throws {
        let (json, stderr) = try Self.poolAndCheck("missing_two_group.csv", ["--measure", "RR", "--drop-missing"])
        let r = try Self.reference("two groups with NA cells, drop_missing", method: "REML")
        #expect(json["k"] as? Int == r["k"] as? Int)
        #expect(isClose(Self.number(json, "estimate"), (r["estimate"] as? NSNumber)?.doubleValue, relative: 1e-8, absolute: 1e-13))
        let excluded = try #require(json["excluded"] as? [[String: Any]])
        #expect(excluded.map { $0["row"] as? Int } == [3, 5, 6])
        #expect(excluded.map { $0["column"] as? String } == ["treat_events", "control_events", "control_total"])
        #expect(excluded.map { $0["study"] as? String } == ["T 3", "T 5", "T 6"])
        #expect((json["options"] as? [String: Any])?["drop_missing"] as? Bool == true)
        #expect(stderr.contains("note: left out row 3 (study \"T 3\"): column \"treat_events\" is empty"))
        #expect(stderr.split(separator: "\n").count == 3)
    }

    @Test("--hr-level 90 (and 0.9): the SE from a 90% CI, as computed in R")
    func hazardRatioLevel() throws {
        let r = try Self.reference("CI at hr_level 0.9 for every row", method: "DL")
        for level in ["90", "0.9", "90%"] {
            let (json, stderr) = try Self.poolAndCheck("hr_ci90.csv", ["--hr-level", level, "--method", "DL"])
            #expect(isClose(Self.number(json, "estimate"), (r["estimate"] as? NSNumber)?.doubleValue, relative: 1e-10, absolute: 1e-13))
            #expect(isClose(Self.number(json, "se"), (r["se"] as? NSNumber)?.doubleValue, relative: 1e-10, absolute: 1e-13))
            #expect((json["options"] as? [String: Any])?["hr_level"] as? Double == 0.9)
            #expect(json["excluded"] == nil)
            #expect(stderr.isEmpty)
        }
    }

    @Test("--add, --to, --drop00: escalc's correction and the double-zero study left out")
    func continuityCorrection() throws {
        let r = try Self.reference("nielweise2007 OR add=0.5 to=if0all drop00=TRUE", method: "DL")
        let (json, stderr) = try Self.poolAndCheck("nielweise2007.csv", ["--measure", "OR", "--method", "DL", "--add", "0.5", "--to", "IF0ALL", "--drop00"])
        #expect(json["k"] as? Int == 17)
        #expect(isClose(Self.number(json, "estimate"), (r["estimate"] as? NSNumber)?.doubleValue, relative: 1e-10, absolute: 1e-13))
        #expect(isClose(Self.number(json, "se"), (r["se"] as? NSNumber)?.doubleValue, relative: 1e-10, absolute: 1e-13))
        let excluded = try #require(json["excluded"] as? [[String: Any]])
        #expect(excluded.count == 1)
        #expect(excluded.first?["row"] as? Int == 15)
        #expect(excluded.first?["study"] as? String == "Yucel 2004")
        #expect(excluded.first?["column"] is NSNull)
        #expect(stderr.contains("note: left out row 15 (study \"Yucel 2004\"): no events in either group"))
        let options = try #require(json["options"] as? [String: Any])
        #expect(options["add"] as? Double == 0.5)
        #expect(options["to"] as? String == "if0all")
        #expect(options["drop00"] as? Bool == true)
    }

    @Test("without the options the JSON has none of their keys (baselines unchanged)")
    func defaultsAddNoKeys() throws {
        let result = try CheckCommandTests.run(["pool", Self.fixtures.appendingPathComponent("hr_oe.csv").path, "--format", "json"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["excluded"] == nil)
        let options = try #require(json["options"] as? [String: Any])
        for key in ["hr_level", "add", "to", "drop00", "drop_missing"] { #expect(options[key] == nil, "\(key)") }
    }
}

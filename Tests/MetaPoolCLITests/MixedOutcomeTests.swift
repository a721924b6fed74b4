// The mixed-endpoint guard through the built binary (issue 13, item 1), and option values matched
// case-insensitively with metafor's names accepted (item 3).
//
// The numbers of the accepted analyses are metafor's (HeadlineAnalysisTests checks the PFS
// analysis against generate_headline.R); here the point is which rows are pooled and what is said.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("Mixed endpoints: refused unless named, compared or allowed")
struct MixedOutcomeTests {
    static let hazardRatios = FixtureFolder.root.appendingPathComponent("Datasets/her2-bm-hazard-ratios.csv").path

    static func run(_ arguments: [String], in folder: URL = FixtureFolder.root) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: folder, stdinFile: nil)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("the HR dataset pooled whole is refused, listing PFS, CNS-PFS and OS with their counts")
    func wholeFileRefused() throws {
        for command in ["pool", "forest", "funnel", "report", "sensitivity", "bias"] {
            let out = command == "pool" || command == "sensitivity" || command == "bias" ? [] : ["-o", "-"]
            let r = try Self.run([command, Self.hazardRatios] + out)
            #expect(r.status == 65, "\(command): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(command)")
            for needle in ["her2-bm-hazard-ratios.csv", "column \"endpoint\"", "3 values of endpoint",
                           "PFS (4 rows), CNS-PFS (1 row), OS (2 rows)", "--where endpoint=PFS", "--by endpoint",
                           "--allow-mixed-endpoints"] {
                #expect(r.stderr.contains(needle), "\(command): \(r.stderr)")
            }
        }
    }

    @Test("--where endpoint=PFS pools the four PFS comparisons as before; --by endpoint compares the three")
    func namedOrCompared() throws {
        let pfs = try Self.object(Self.run(["pool", Self.hazardRatios, "--where", "endpoint=PFS", "--format", "json"]).stdout)
        #expect(pfs["k"] as? Int == 4)
        #expect(pfs["mixed_outcomes"] == nil)
        let byEndpoint = try Self.run(["pool", Self.hazardRatios, "--by", "endpoint", "--format", "json"])
        #expect(byEndpoint.status == 0, "\(byEndpoint.stderr)")
        let groups = try #require(try Self.object(byEndpoint.stdout)["subgroups"] as? [[String: Any]])
        #expect(groups.map { $0["subgroup"] as? String } == ["PFS", "CNS-PFS", "OS"])
        // A moderator is compared too: regress --mods endpoint fits it as a factor.
        let regress = try Self.run(["regress", Self.hazardRatios, "--mods", "endpoint", "--format", "json"])
        #expect(regress.status == 0, "\(regress.stderr)")
    }

    @Test("--allow-mixed-endpoints pools, notes on stderr what was mixed, and records it in the JSON and the baseline")
    func allowed() throws {
        let r = try Self.run(["pool", Self.hazardRatios, "--allow-mixed-endpoints", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("note: --allow-mixed-endpoints: pooling rows with different endpoint values: PFS (4), CNS-PFS (1), OS (2)"), "\(r.stderr)")
        let json = try Self.object(r.stdout)
        #expect(json["k"] as? Int == 7)
        let mixed = try #require(json["mixed_outcomes"] as? [[String: Any]])
        #expect(mixed.count == 1 && mixed[0]["column"] as? String == "endpoint")
        let values = try #require(mixed[0]["values"] as? [[String: Any]])
        #expect(values.map { $0["value"] as? String } == ["PFS", "CNS-PFS", "OS"])
        #expect(values.map { $0["rows"] as? Int } == [4, 1, 2])
        let options = try #require(json["options"] as? [String: Any])
        #expect(options["allow_mixed_endpoints"] as? Bool == true)
        // The table output says it too (on stderr), and check repeats the recorded analysis.
        let table = try Self.run(["pool", Self.hazardRatios, "--allow-mixed-endpoints"])
        #expect(table.status == 0 && table.stdout.contains("k = 7") && table.stderr.contains("--allow-mixed-endpoints"), "\(table.stderr)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let baseline = folder.appendingPathComponent("mixed.json")
        try r.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let check = try Self.run(["check", baseline.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // Without the flag the option is absent from the recording.
        let plain = try Self.object(Self.run(["pool", Self.hazardRatios, "--where", "endpoint=PFS", "--format", "json"]).stdout)
        #expect((plain["options"] as? [String: Any])?["allow_mixed_endpoints"] == nil)
    }

    @Test("--batch: the endpoint must agree within each analysis, not across them")
    func batch() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows = ["analysis,study,endpoint,yi,vi",
                    "pfs,A,PFS,-0.5,0.04", "pfs,B,PFS,-0.3,0.05", "pfs,C,PFS,-0.7,0.03",
                    "os,A,OS,-0.1,0.04", "os,B,OS,-0.2,0.06", "os,C,OS,0.1,0.05"]
        try (rows.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("ok.csv"), atomically: true, encoding: .utf8)
        let ok = try Self.run(["pool", "ok.csv", "--batch", "--format", "json"], in: folder)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.split(separator: "\n").count == 2)
        var mixed = rows
        mixed[6] = "os,C,PFS,0.1,0.05"
        try (mixed.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("mixed.csv"), atomically: true, encoding: .utf8)
        let refused = try Self.run(["pool", "mixed.csv", "--batch", "--format", "json"], in: folder)
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("within one analysis") && refused.stderr.contains("OS (2 rows), PFS (1 row)"), "\(refused.stderr)")
    }

    @Test("--where COLUMN!=VALUE leaves rows out, is recorded as written, and does not exempt its column from the guard")
    func exclusion() throws {
        let r = try Self.run(["pool", Self.hazardRatios, "--where", "endpoint=PFS", "--where", "study!=NALA", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try Self.object(r.stdout)
        #expect(json["k"] as? Int == 3)
        let studies = try #require(json["studies"] as? [[String: Any]]).compactMap { $0["study"] as? String }
        #expect(!studies.contains("NALA") && studies.count == 3, "\(studies)")
        #expect((json["options"] as? [String: Any])?["where"] as? [String] == ["endpoint=PFS", "study!=NALA"])
        // Leaving OS out still leaves PFS and CNS-PFS mixed: refused, as without --where.
        let mixed = try Self.run(["pool", Self.hazardRatios, "--where", "endpoint!=OS"])
        #expect(mixed.status == 65 && mixed.stderr.contains("PFS (4 rows), CNS-PFS (1 row)"), "\(mixed.stderr)")
        let typo = try Self.run(["pool", Self.hazardRatios, "--where", "endpoint=PFS", "--where", "study!=NALLA"])
        #expect(typo.status == 65 && typo.stderr.contains("study!=NALLA leaves out no row") && typo.stderr.contains("did you mean NALA?"), "\(typo.stderr)")
    }

    @Test("a --where on another column that leaves one endpoint passes; one that leaves two is refused")
    func singleValueLeft() throws {
        // DESTINY-Breast03 has one row (PFS); NALA has two (PFS and OS).
        let one = try Self.run(["pool", Self.hazardRatios, "--where", "study=DESTINY-Breast03", "--format", "json", "--method", "FE"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(try Self.object(one.stdout)["k"] as? Int == 1)
        let two = try Self.run(["pool", Self.hazardRatios, "--where", "study=NALA", "--method", "FE"])
        #expect(two.status == 65 && two.stderr.contains("PFS (1 row), OS (1 row)"), "\(two.stderr)")
    }
}

@Suite("Option values: case-insensitive, metafor's names, help lists what is accepted")
struct OptionValueTests {
    static let bcg = FixtureFolder.root.appendingPathComponent("Datasets/bcg-vaccine.csv").path

    @Test("--format JSON, --method reml, --ci HKSJ, --measure rr give the same output as the canonical spelling")
    func caseInsensitive() throws {
        let canonical = try MixedOutcomeTests.run(["pool", Self.bcg, "--format", "json", "--method", "REML", "--ci", "hksj", "--measure", "RR"])
        #expect(canonical.status == 0, "\(canonical.stderr)")
        let shouted = try MixedOutcomeTests.run(["pool", Self.bcg, "--format", "JSON", "--method", "reml", "--ci", "HKSJ", "--measure", "rr"])
        #expect(shouted.status == 0, "\(shouted.stderr)")
        #expect(shouted.stdout == canonical.stdout)
        for (command, format) in [("regress", "Json"), ("sensitivity", "JSON"), ("bias", "Table")] {
            let args = command == "regress" ? ["--mods", "latitude"] : []
            let r = try MixedOutcomeTests.run([command, Self.bcg, "--format", format] + args)
            #expect(r.status == 0, "\(command) --format \(format): \(r.stderr)")
        }
        let side = try MixedOutcomeTests.run(["bias", Self.bcg, "--estimator", "r0", "--side", "LEFT", "--format", "json"])
        #expect(side.status == 0, "\(side.stderr)")
    }

    @Test("metafor's test names: knha is hksj, z is wald, adhoc is hksj-adhoc")
    func metaforNames() throws {
        for (alias, name) in [("knha", "hksj"), ("z", "wald"), ("adhoc", "hksj-adhoc"), ("KNHA", "hksj")] {
            let a = try MixedOutcomeTests.run(["pool", Self.bcg, "--ci", alias, "--format", "json"])
            let b = try MixedOutcomeTests.run(["pool", Self.bcg, "--ci", name, "--format", "json"])
            #expect(a.status == 0 && !a.stdout.isEmpty, "\(alias): \(a.stderr)")
            #expect(a.stdout == b.stdout, "\(alias) vs \(name)")
        }
        let bad = try MixedOutcomeTests.run(["pool", Self.bcg, "--ci", "knhaa"])
        #expect(bad.status == 64 && bad.stderr.contains("knhaa"), "\(bad.stderr)")
    }

    @Test("regress, sensitivity and bias list only table and json; pool lists csv too and writes it")
    func helpListsWhatIsAccepted() throws {
        for command in ["regress", "sensitivity", "bias"] {
            let help = try MixedOutcomeTests.run([command, "--help"])
            #expect(help.status == 0)
            let formatLine = help.stdout.split(separator: "\n").first { $0.hasPrefix("  --format") }.map(String.init) ?? ""
            #expect(formatLine.contains("table") && !help.stdout.contains("csv"), "\(command): \(formatLine)")
            let csv = try MixedOutcomeTests.run([command, Self.bcg, "--format", "csv"] + (command == "regress" ? ["--mods", "latitude"] : []))
            #expect(csv.status == 64 && csv.stderr.contains("csv"), "\(command): \(csv.stderr)")
        }
        let help = try MixedOutcomeTests.run(["pool", "--help"])
        #expect(help.stdout.contains("csv"))
        let csv = try MixedOutcomeTests.run(["pool", Self.bcg, "--format", "CSV"])
        #expect(csv.status == 0 && csv.stdout.split(separator: "\n").count == 14, "\(csv.stderr)")
    }
}

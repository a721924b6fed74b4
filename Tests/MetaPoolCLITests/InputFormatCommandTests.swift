// The input options through the binary: a semicolon-separated file pools to the numbers of its
// comma-separated equivalent with a note on stderr; --delimiter and --label are recorded in the
// JSON options only when given, and check repeats them; label_column names the label column.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool: delimiters and the label column")
struct InputFormatCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("semicolons with decimal commas: the same pooled numbers as commas, a note, recorded options, check passes")
    func semicolonRoundTrip() throws {
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let semicolon = "Trial;yi;vi\nAlpha;0,2;0,04\nBeta;0,5;0,05\nGamma;-0,1;0,03\n"
        let comma = "Trial,yi,vi\nAlpha,0.2,0.04\nBeta,0.5,0.05\nGamma,-0.1,0.03\n"
        try semicolon.write(to: dir.appendingPathComponent("s.csv"), atomically: true, encoding: .utf8)
        try comma.write(to: dir.appendingPathComponent("c.csv"), atomically: true, encoding: .utf8)

        let sniffed = try CheckCommandTests.run(["pool", "s.csv", "--format", "json"], in: dir)
        #expect(sniffed.status == 0, "\(sniffed.stderr)")
        #expect(sniffed.stderr == "note: s.csv: reading ';'-separated columns; decimal commas are read as points (0,42 as 0.42), as R's read.csv2 does\n")
        let plain = try CheckCommandTests.run(["pool", "c.csv", "--format", "json"], in: dir)
        #expect(plain.stderr.isEmpty)
        let a = try Self.json(sniffed.stdout), b = try Self.json(plain.stdout)
        for key in ["estimate", "se", "ci_lower", "ci_upper", "tau2", "q"] {
            let x = try #require(a[key] as? NSNumber, "\(key)"), y = try #require(b[key] as? NSNumber, "\(key)")
            #expect(x.doubleValue == y.doubleValue, "\(key)")
        }
        #expect(a["label_column"] as? String == "Trial")
        let sniffedOptions = try #require(a["options"] as? [String: Any])
        #expect(sniffedOptions["delimiter"] == nil && sniffedOptions["label"] == nil, "options only when given: \(sniffedOptions)")

        // Given, the options are recorded, and check repeats them (the label changes the rows' labels).
        let given = try CheckCommandTests.run(["pool", "s.csv", "--delimiter", ";", "--label", "yi", "--format", "json"], in: dir)
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stderr.isEmpty, "no note when the delimiter is given")
        let object = try Self.json(given.stdout)
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["delimiter"] as? String == ";")
        #expect(options["label"] as? String == "yi")
        #expect(object["label_column"] as? String == "yi")
        try given.stdout.write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        let checked = try CheckCommandTests.run(["check", "baseline.json"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)\n\(checked.stderr)")
        // Without the recorded label, check would see other labels: the option is what makes it pass.
        let withoutLabel = given.stdout.replacingOccurrences(of: "\"label\": \"yi\"", with: "\"label\": \"Trial\"")
        #expect(withoutLabel != given.stdout)
        try withoutLabel.write(to: dir.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        let differs = try CheckCommandTests.run(["check", "other.json"], in: dir)
        #expect(differs.status == 1, "\(differs.stdout)")
        #expect(differs.stdout.contains("label_column: \"yi\" in the baseline, \"Trial\" now"), "\(differs.stdout)")
    }

    @Test("no label column: label_column is null and the studies are numbered; tab files are read too")
    func noLabelColumn() throws {
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "yi\tvi\n0.2\t0.04\n0.5\t0.05\n".write(to: dir.appendingPathComponent("t.tsv"), atomically: true, encoding: .utf8)
        let result = try CheckCommandTests.run(["pool", "t.tsv", "--format", "json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "note: t.tsv: reading tab-separated columns\n")
        let object = try Self.json(result.stdout)
        #expect(object["label_column"] is NSNull)
        let rows = try #require((object["forest"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["label"] as? String }.filter { $0.hasPrefix("Study ") } == ["Study 1", "Study 2"])
    }
}

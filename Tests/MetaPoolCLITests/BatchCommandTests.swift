// metapool pool --batch as a process: JSON Lines in and out.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool pool --batch")
struct BatchCommandTests {
    @Test("metapool pool --batch: JSON Lines out, one line per analysis, in order")
    func cli() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = ""
        for i in 0..<50 { lines += "{\"analysis\": \"sim\(i)\", \"yi\": [\(0.1 * Double(i % 7)), 0.3, 0.5, \(0.02 * Double(i))], \"vi\": [0.01, 0.02, 0.03, 0.04]}\n" }
        try lines.write(to: dir.appendingPathComponent("sims.jsonl"), atomically: true, encoding: .utf8)
        let result = try MetapoolBinary.run(binary, ["pool", "--batch", "sims.jsonl", "--method", "DL", "--format", "json", "--jobs", "2"], in: dir, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout.split(separator: "\n")
        #expect(out.count == 50)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(out[0].utf8)) as? [String: Any])
        #expect(first["analysis"] as? String == "sim0" && (first["k"] as? Int) == 4)
        let expected = try MetaAnalysis(EffectSizes.generic(yi: [0, 0.3, 0.5, 0], vi: [0.01, 0.02, 0.03, 0.04]), method: .derSimonianLaird)
        #expect(abs(((first["estimate"] as? Double) ?? .nan) - expected.estimate) < 1e-14)
        #expect(out.enumerated().allSatisfy { $0.element.hasPrefix("{\"analysis\":\"sim\($0.offset)\"") })
        let bad = try MetapoolBinary.run(binary, ["pool", "--batch", "sims.jsonl", "--by", "x"], in: dir, stdinFile: nil)
        #expect(bad.status == 64)
    }

    /// One batch input written both as CSV (an `analysis` column) and as JSON Lines (one object
    /// per analysis, one array per column), the same rows in the same order.
    struct TwoForms {
        var csv: String
        var jsonLines: String

        /// `rows` as (analysis, cells) under `columns` (after `analysis`); `nil` is an empty cell / null.
        init(columns: [String], rows: [(String, [String?])]) {
            csv = (["analysis"] + columns).joined(separator: ",") + "\n"
                + rows.map { ([$0.0] + $0.1.map { $0 ?? "" }).joined(separator: ",") + "\n" }.joined()
            var order: [String] = []
            var byID: [String: [[String?]]] = [:]
            for (id, cells) in rows {
                if byID[id] == nil { order.append(id) }
                byID[id, default: []].append(cells)
            }
            func json(_ cell: String?) -> String {
                guard let cell else { return "null" }
                return Double(cell) != nil ? cell : "\"\(cell)\""
            }
            jsonLines = order.map { id in
                let members = columns.indices.map { c in "\"\(columns[c])\": [" + byID[id]!.map { json($0[c]) }.joined(separator: ", ") + "]" }
                return "{\"analysis\": \"\(id)\", " + members.joined(separator: ", ") + "}\n"
            }.joined()
        }

        static let columns = ["yi", "vi", "arm", "endpoint", "name"]
        /// Three analyses: a (arms x, x, y), b (x, y, y), c (y, y).
        static func base(yiB2: String? = "0.25", endpointA3: String = "OS") -> TwoForms {
            TwoForms(columns: columns, rows: [
                ("a", ["0.1", "0.1", "x", "OS", "s1"]), ("a", ["0.3", "0.2", "x", "OS", "s2"]), ("a", ["0.9", "0.1", "y", endpointA3, "s3"]),
                ("b", ["0.2", "0.05", "x", "OS", "t1"]), ("b", [yiB2, "0.1", "y", "OS", "t2"]), ("b", ["-0.1", "0.08", "y", "OS", "t3"]),
                ("c", ["0.4", "0.2", "y", "OS", "u1"]), ("c", ["0.6", "0.3", "y", "OS", "u2"]),
            ])
        }
    }

    struct OptionCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// base, missing (b's second yi empty) or mixed (a's third endpoint PFS).
        var data: String
        var args: [String]
        var exit: Int32
        var stderr: [String]
        /// Whether the two messages are the same but for the file name (no row in them).
        var sameMessage: Bool
        var testDescription: String { name }

        var forms: TwoForms {
            switch data {
            case "missing": TwoForms.base(yiB2: nil)
            case "mixed": TwoForms.base(endpointA3: "PFS")
            default: TwoForms.base()
            }
        }
    }

    static let optionCases: [OptionCase] = [
        OptionCase(name: "no options", data: "base", args: [], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--where selects rows within each analysis", data: "base", args: ["--where", "arm=x"], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--where compares case-insensitively", data: "base", args: ["--where", "ARM= X "], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--where alternatives on one column", data: "base", args: ["--where", "arm=x", "--where", "arm=y"], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--where on an unknown column", data: "base", args: ["--where", "zz=x"], exit: 65,
                   stderr: ["--where names column \"zz\"", "columns: analysis, yi, vi, arm, endpoint, name"], sameMessage: true),
        OptionCase(name: "--where matching no row", data: "base", args: ["--where", "arm=q"], exit: 65, stderr: ["no row matches", "arm=q"], sameMessage: true),
        OptionCase(name: "--label names a column", data: "base", args: ["--label", "name"], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--label on an unknown column", data: "base", args: ["--label", "who"], exit: 65, stderr: ["column \"who\""], sameMessage: true),
        OptionCase(name: "an empty cell is refused", data: "missing", args: [], exit: 65, stderr: ["column \"yi\""], sameMessage: false),
        OptionCase(name: "--drop-missing leaves the row out, with a note", data: "missing", args: ["--drop-missing"], exit: 0,
                   stderr: ["note: left out", "row", "column \"yi\" is empty"], sameMessage: false),
        OptionCase(name: "mixed endpoints within an analysis are refused", data: "mixed", args: [], exit: 65,
                   stderr: ["mix 2 values of endpoint", "OS (2 rows), PFS (1 row)"], sameMessage: true),
        OptionCase(name: "--allow-mixed-endpoints pools them, with a note", data: "mixed", args: ["--allow-mixed-endpoints"], exit: 0,
                   stderr: ["note: --allow-mixed-endpoints"], sameMessage: true),
        OptionCase(name: "--where on the endpoint selects it", data: "mixed", args: ["--where", "endpoint=os"], exit: 0, stderr: [], sameMessage: true),
        OptionCase(name: "--drop00 applies to two-group counts only", data: "base", args: ["--drop00"], exit: 64, stderr: ["--drop00"], sameMessage: false),
        OptionCase(name: "--measure that the columns do not fit", data: "base", args: ["--measure", "PLO"], exit: 65, stderr: ["PLO"], sameMessage: false),
    ]

    @Test("JSON Lines and CSV batches honour the same options: the same status and results", arguments: optionCases)
    func sameOptions(_ c: OptionCase) throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let forms = c.forms
        try forms.csv.write(to: dir.appendingPathComponent("in.csv"), atomically: true, encoding: .utf8)
        try forms.jsonLines.write(to: dir.appendingPathComponent("in.jsonl"), atomically: true, encoding: .utf8)
        let options = c.args + ["--method", "DL", "--format", "json"]
        let csv = try MetapoolBinary.run(binary, ["pool", "--batch", "in.csv"] + options, in: dir, stdinFile: nil)
        let jsonl = try MetapoolBinary.run(binary, ["pool", "--batch", "in.jsonl"] + options, in: dir, stdinFile: nil)
        for (form, result) in [("CSV", csv), ("JSON Lines", jsonl)] {
            #expect(result.status == c.exit, "\(form): \(result.stderr)")
            for needle in c.stderr { #expect(result.stderr.contains(needle), "\(form) stderr lacks \(needle): \(result.stderr)") }
            if c.exit != 0 { #expect(result.stdout.isEmpty, "\(form)") }
        }
        #expect(jsonl.stdout == csv.stdout)
        if c.sameMessage {
            #expect(jsonl.stderr.replacingOccurrences(of: "in.jsonl", with: "in.csv") == csv.stderr)
        }
    }

    @Test("JSON Lines --where arm=x fits only the x rows (k = 2, the two-study DL fit), and drops an analysis with none")
    func whereOnJSONLines() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        {"analysis":"a","yi":[0.1,0.3,0.9],"vi":[0.1,0.2,0.1],"arm":["x","x","y"]}
        {"analysis":"b","yi":[0.5,0.7],"vi":[0.1,0.2],"arm":["y","y"]}

        """.write(to: dir.appendingPathComponent("arms.jsonl"), atomically: true, encoding: .utf8)
        let result = try MetapoolBinary.run(binary, ["pool", "--batch", "arms.jsonl", "--where", "arm=x", "--method", "DL", "--format", "json"], in: dir, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["analysis"] as? String == "a" && first["k"] as? Int == 2)
        let expected = try MetaAnalysis(EffectSizes.generic(yi: [0.1, 0.3], vi: [0.1, 0.2]), method: .derSimonianLaird)
        #expect(abs(((first["estimate"] as? Double) ?? .nan) - expected.estimate) <= 1e-15)
        let unknown = try MetapoolBinary.run(binary, ["pool", "--batch", "arms.jsonl", "--where", "zz=x"], in: dir, stdinFile: nil)
        #expect(unknown.status == 65 && unknown.stdout.isEmpty)
        #expect(unknown.stderr.contains("arms.jsonl") && unknown.stderr.contains("--where names column \"zz\""), "\(unknown.stderr)")
    }

    @Test("JSON Lines: CRLF line endings read as LF; --batch-column names the identifier key; --delimiter is refused")
    func lineEndingsAndIdentifierKey() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = [#"{"run": "r1", "yi": [0.1, 0.3, 0.5], "vi": [0.01, 0.02, 0.03]}"#, #"{"run": "r2", "events": [4, 11, 2], "total": [15, 15, 4]}"#]
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("lf.jsonl"), atomically: true, encoding: .utf8)
        try (lines.joined(separator: "\r\n") + "\r\n").write(to: dir.appendingPathComponent("crlf.jsonl"), atomically: true, encoding: .utf8)
        let lf = try MetapoolBinary.run(binary, ["pool", "--batch", "lf.jsonl", "--batch-column", "run", "--format", "json"], in: dir, stdinFile: nil)
        let crlf = try MetapoolBinary.run(binary, ["pool", "--batch", "crlf.jsonl", "--batch-column", "run", "--format", "json"], in: dir, stdinFile: nil)
        #expect(lf.status == 0 && crlf.status == 0, "\(lf.stderr) \(crlf.stderr)")
        #expect(lf.stdout.split(separator: "\n").count == 2)
        #expect(crlf.stdout == lf.stdout)
        // Without --batch-column the lines have no "analysis" key.
        let noID = try MetapoolBinary.run(binary, ["pool", "--batch", "crlf.jsonl"], in: dir, stdinFile: nil)
        #expect(noID.status == 65 && noID.stderr.contains("line 1") && noID.stderr.contains("\"run\" must be an array") && noID.stderr.contains("--batch-column"), "\(noID.stderr)")
        let delimiter = try MetapoolBinary.run(binary, ["pool", "--batch", "lf.jsonl", "--batch-column", "run", "--delimiter", ";"], in: dir, stdinFile: nil)
        #expect(delimiter.status == 64 && delimiter.stdout.isEmpty && delimiter.stderr.contains("--delimiter"), "\(delimiter.stderr)")
    }

    @Test("JSON Lines identifiers are kept as written (1e2 and 100.0 are two analyses); a repeated identifier is refused naming both lines")
    func identifiers() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        {"analysis": 1e2, "yi": [0.1, 0.3], "vi": [0.1, 0.2]}
        {"analysis": 100.0, "yi": [0.5, 0.2], "vi": [0.1, 0.2]}

        """.write(to: dir.appendingPathComponent("numbers.jsonl"), atomically: true, encoding: .utf8)
        let numbers = try MetapoolBinary.run(binary, ["pool", "--batch", "numbers.jsonl", "--method", "FE", "--format", "csv"], in: dir, stdinFile: nil)
        #expect(numbers.status == 0, "\(numbers.stderr)")
        #expect(numbers.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] } == ["1e2", "100.0"])
        for (name, first, second) in [("same", #""a""#, #""a""#), ("case and spaces", #""a""#, #"" A ""#), ("number", "7", "7"),
                                      ("number and string", "7", #""7""#)] {
            let text = "{\"analysis\": \(first), \"yi\": [0.1, 0.3], \"vi\": [0.1, 0.2]}\n\n{\"analysis\": \(second), \"yi\": [0.5, 0.2], \"vi\": [0.1, 0.2]}\n"
            try text.write(to: dir.appendingPathComponent("dup.jsonl"), atomically: true, encoding: .utf8)
            let dup = try MetapoolBinary.run(binary, ["pool", "--batch", "dup.jsonl", "--format", "json"], in: dir, stdinFile: nil)
            #expect(dup.status == 65 && dup.stdout.isEmpty, "\(name): \(dup.stderr)")
            #expect(dup.stderr.contains("dup.jsonl, line 3") && dup.stderr.contains("also on line 1"), "\(name): \(dup.stderr)")
        }
    }
}

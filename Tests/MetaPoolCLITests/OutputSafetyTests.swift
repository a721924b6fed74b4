// Output safety through the CLI (issue 18, items 4, 13 and 14): estimates whose back-transform
// overflows a Double, labels with control characters, bidi overrides and XML-invalid characters,
// and labels a spreadsheet would run as formulas.

import Foundation
import FoundationXML
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("CLI: output safety (overflow, control characters, XML, CSV injection)")
struct OutputSafetyTests {
    static func run(_ arguments: [String], in directory: URL) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        return try MetapoolBinary.run(binary, arguments, in: directory, stdinFile: nil)
    }

    /// A scratch folder holding `files`, removed by the caller.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = try temporaryFolder()
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    /// Hazard ratios whose logs are valid but whose exponentials overflow a Double (e^800 ≈ 2.7e347).
    static let overflowing = "study,log_hr,se\nA,800,0.1\nB,799.5,0.2\nC,800.2,0.15\nD,799.8,0.12\n"
    /// Logs whose exponentials are finite but have 308 digits in fixed notation (e^709 ≈ 8.2e307).
    static let huge = "study,log_hr,se\nA,709,0.01\nB,708.5,0.02\nC,708.8,0.015\nD,708.9,0.012\n"

    /// Texts that must never appear: an infinity, or a run of 20 digits (fixed notation of a huge number).
    static func expectNoInfinityOrDigitRuns(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lower = text.lowercased()
        #expect(!lower.contains("inf"), "\(what) prints an infinity:\n\(text)", sourceLocation: sourceLocation)
        #expect(text.range(of: "[0-9]{20}", options: .regularExpression) == nil, "\(what) prints a 20-digit number:\n\(text)",
                sourceLocation: sourceLocation)
    }

    // MARK: item 4: overflowing back-transforms

    @Test("pool: log_hr = 800 prints the hazard ratios in scientific notation from the log scale, never inf")
    func poolTableOverflow() throws {
        let dir = try Self.folder(["hr.csv": Self.overflowing])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(["pool", "hr.csv"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        Self.expectNoInfinityOrDigitRuns(result.stdout, "pool")
        // Study A: e^800 and e^(800 ± 1.959964 · 0.1), from Python's decimal (50 digits), 4 decimals.
        let row = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("A ") })
        #expect(row.contains("2.7264e+347  2.2411e+347  3.3167e+347"), "\(row)")
        #expect(result.stdout.contains("On the hazard ratio scale: "))
    }

    @Test("pool --format json: back-transformed overflow is null with a reason; the log-scale values stay")
    func poolJSONOverflow() throws {
        let dir = try Self.folder(["hr.csv": Self.overflowing])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(["pool", "hr.csv", "--format", "json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.lowercased().contains("inf"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let back = try #require(json["back_transformed"] as? [String: Any])
        #expect(back["estimate"] is NSNull)
        #expect((back["overflow"] as? String)?.contains("exceeds the largest double") == true)
        let estimate = try #require(json["estimate"] as? Double)
        #expect(estimate > 799 && estimate < 801)
        let forest = try #require(json["forest"] as? [String: Any])
        #expect((forest["overflow"] as? String)?.contains("exceeds the largest double") == true)
    }

    @Test("pool --format csv: no infinity")
    func poolCSVOverflow() throws {
        let dir = try Self.folder(["hr.csv": Self.overflowing])
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try Self.run(["pool", "hr.csv", "--format", "csv"], in: dir)
        #expect(csv.status == 0, "\(csv.stderr)")
        Self.expectNoInfinityOrDigitRuns(csv.stdout, "pool --format csv")
    }

    @Test("pool --by: a subgroup whose back-transform overflows is written from the log scale")
    func subgroupOverflow() throws {
        let dir = try Self.folder(["hr.csv": "study,log_hr,se,arm\nA,800,0.1,x\nB,799.5,0.2,x\nC,0.2,0.15,y\nD,0.1,0.12,y\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try Self.run(["pool", "hr.csv", "--by", "arm"], in: dir)
        #expect(table.status == 0, "\(table.stderr)")
        Self.expectNoInfinityOrDigitRuns(table.stdout, "pool --by")
        #expect(table.stdout.contains("e+347"))
        let json = try Self.run(["pool", "hr.csv", "--by", "arm", "--format", "json"], in: dir)
        #expect(json.status == 0)
        #expect(!json.stdout.lowercased().contains("inf"))
        #expect(json.stdout.contains("\"overflow\""))
    }

    @Test("bias: the trim-and-fill estimate on the natural scale in scientific notation; JSON without infinity")
    func biasOverflow() throws {
        let dir = try Self.folder(["hr.csv": Self.overflowing])
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try Self.run(["bias", "hr.csv"], in: dir)
        #expect(table.status == 0, "\(table.stderr)")
        Self.expectNoInfinityOrDigitRuns(table.stdout, "bias")
        let line = try #require(table.stdout.split(separator: "\n").first { $0.contains("on the natural scale") })
        #expect(line.range(of: #"[0-9]\.[0-9]{4}e\+347 \["#, options: .regularExpression) != nil, "\(line)")
        let json = try Self.run(["bias", "hr.csv", "--format", "json"], in: dir)
        #expect(json.status == 0)
        #expect(!json.stdout.lowercased().contains("inf"))
        #expect(json.stdout.contains("\"overflow\""))
    }

    @Test("forest and report refuse a plot whose values overflow, naming the study, and write no file", arguments: ["forest", "report"])
    func plotOverflow(_ command: String) throws {
        let dir = try Self.folder(["hr.csv": Self.overflowing])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run([command, "hr.csv", "-o", "out"], in: dir)
        #expect(result.status == 65)
        #expect(result.stderr.contains("hr.csv"))
        #expect(result.stderr.contains("estimate of study \"A\" is 800.0000 on the analysis scale, 2.73e+347 on the hazard ratio scale"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    @Test("log_hr = -800: hazard ratios 0 in double precision print as 0.0000; forest refuses to put them on its log axis")
    func underflow() throws {
        let dir = try Self.folder(["hr.csv": "study,log_hr,se\nA,-800,0.1\nB,-799.5,0.2\nC,-800.2,0.15\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try Self.run(["pool", "hr.csv"], in: dir)
        #expect(table.status == 0)
        Self.expectNoInfinityOrDigitRuns(table.stdout, "pool")
        #expect(table.stdout.contains("On the hazard ratio scale: 0.0000 [0.0000, 0.0000]"))
        let forest = try Self.run(["forest", "hr.csv", "-o", "out.svg"], in: dir)
        #expect(forest.status == 65)
        #expect(forest.stderr.contains("estimate of study \"A\" is -800.0000 on the analysis scale, 0 in double precision on the hazard ratio scale"),
                "\(forest.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.svg").path))
    }

    @Test("log_hr = 709: tables in scientific notation, the forest plot drawn with a readable axis")
    func hugeButFinite() throws {
        let dir = try Self.folder(["hr.csv": Self.huge])
        defer { try? FileManager.default.removeItem(at: dir) }
        let table = try Self.run(["pool", "hr.csv"], in: dir)
        #expect(table.status == 0)
        Self.expectNoInfinityOrDigitRuns(table.stdout, "pool")
        // e^709 and e^(709 ± 1.959964 · 0.01), from Python's decimal.
        #expect(table.stdout.contains("8.2184e+307  8.0589e+307  8.3811e+307"), "\(table.stdout)")
        for command in ["forest", "report"] {
            let out = command == "forest" ? "plot.svg" : "report.html"
            let result = try Self.run([command, "hr.csv", "-o", out], in: dir)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            let text = try String(contentsOf: dir.appendingPathComponent(out), encoding: .utf8)
            Self.expectNoInfinityOrDigitRuns(text, command)
            let doc = try XMLDocument(data: Data(text.utf8), options: [])
            let ticks = try doc.nodes(forXPath: "//*[local-name()='text'][@class='tick-label']").compactMap(\.stringValue)
            #expect((2...9).contains(ticks.count), "\(ticks)")
            #expect(ticks.allSatisfy { $0.count <= 7 }, "\(ticks)")
        }
        let svg = try String(contentsOf: dir.appendingPathComponent("plot.svg"), encoding: .utf8)
        #expect(svg.contains("8.22e+307 [8.06e+307, 8.38e+307]"))
    }

    @Test("log_hr = -700: the log axis down to 1e-300 is labelled in scientific notation, not 0")
    func tinyButPositive() throws {
        let dir = try Self.folder(["hr.csv": "study,log_hr,se\nA,-700,0.1\nB,-699.5,0.2\nC,-700.2,0.15\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(["forest", "hr.csv", "-o", "plot.svg"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let doc = try XMLDocument(data: Data(contentsOf: dir.appendingPathComponent("plot.svg")), options: [])
        let ticks = try doc.nodes(forXPath: "//*[local-name()='text'][@class='tick-label']").compactMap(\.stringValue)
        #expect((2...9).contains(ticks.count), "\(ticks)")
        // Every label names its tick: distinct, and 1 the only one in fixed notation.
        #expect(Set(ticks).count == ticks.count, "\(ticks)")
        #expect(ticks.filter { !$0.contains("e-") } == ["1"], "\(ticks)")
    }

    // MARK: item 13: control characters in text output

    /// Labels an attacker would choose: clear screen, colour, window title, a forged line, a bidi
    /// override, XML-invalid noncharacters, a C1 control, and formula starts.
    static let hostileRows: [(String, String, String)] = [
        ("A\u{1B}[2J\u{1B}]0;pwned\u{07}", "0.1", "0.02"),
        ("=HYPERLINK(\"http://x\")", "0.3", "0.03"),
        ("B\nok   fake line", "0.2", "0.04"),
        ("C\u{202E}txt.exe\u{FFFE}\u{FFFF}", "0.5", "0.05"),
        ("-0.5", "0.4", "0.02"),
        ("@SUM\u{85}", "0.25", "0.03"),
    ]

    /// The hostile labels as RFC 4180 CSV, with a subgroup column whose levels are hostile too and a moderator.
    static var hostileCSV: String {
        var out = "study,yi,vi,grp,dose\n"
        for (i, row) in hostileRows.enumerated() {
            let label = "\"" + row.0.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            out += "\(label),\(row.1),\(row.2),\(i % 2 == 0 ? "\"g\u{1B}[31m\"" : "h"),\(i + 1)\n"
        }
        return out
    }

    /// Text that may reach a terminal holds no control character but line feeds, and no bidi control.
    static func expectTerminalSafe(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let unsafe = text.unicodeScalars.filter { $0 != "\n" && SafeText.isTerminalUnsafe($0) }
        #expect(unsafe.isEmpty, "\(what) passes raw control characters \(unsafe.map { String($0.value, radix: 16) }):\n\(text)",
                sourceLocation: sourceLocation)
        #expect(!text.contains("\nok   fake line"), "\(what) lets a label forge a line", sourceLocation: sourceLocation)
    }

    @Test("every text output shows control and bidi characters of labels escaped", arguments: [
        ["pool", "data.csv"], ["pool", "data.csv", "--by", "grp"], ["pool", "data.csv", "--by", "grp", "--common-tau2"],
        ["pool", "data.csv", "--method", "FE"], ["sensitivity", "data.csv"], ["bias", "data.csv"],
        ["regress", "data.csv", "--mods", "grp"], ["regress", "data.csv", "--mods", "study"],
        ["pool", "data.csv", "--where", "study=x\u{1B}[2J"], ["pool", "data.csv", "--by", "nope\u{1B}]0;t\u{07}"],
        ["pool", "no\u{1B}[2Jfile.csv"], ["pool", "data.csv", "--measure", "X\u{1B}[2J"],
        ["pool", "data.csv", "--batch", "--batch-column", "grp"], ["pool", "data.csv", "--batch", "--batch-column", "study"],
    ])
    func textOutputsEscaped(_ arguments: [String]) throws {
        let dir = try Self.folder(["data.csv": Self.hostileCSV])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(arguments, in: dir)
        #expect(!result.timedOut && !result.killedBySignal)
        Self.expectTerminalSafe(result.stdout, "stdout of \(arguments)")
        Self.expectTerminalSafe(result.stderr, "stderr of \(arguments)")
        if arguments == ["pool", "data.csv"] {
            #expect(result.status == 0)
            #expect(result.stdout.contains("A\\u{1B}[2J\\u{1B}]0;pwned\\u{7}"))
            #expect(result.stdout.contains("B\\nok   fake line"))
            #expect(result.stdout.contains("C\\u{202E}txt.exe"))
        }
    }

    @Test("check: baseline names and recorded text are escaped on stdout, and the JUnit report is well-formed XML")
    func checkOutputEscaped() throws {
        let dir = try Self.folder(["data.csv": Self.hostileCSV])
        defer { try? FileManager.default.removeItem(at: dir) }
        let recorded = try Self.run(["pool", "data.csv", "--format", "json"], in: dir)
        #expect(recorded.status == 0)
        let folder = dir.appendingPathComponent("baselines")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Paths in a baseline are relative to the folder check runs in: run it from `dir`.
        try Data(recorded.stdout.utf8).write(to: folder.appendingPathComponent("ok\u{1B}[2J\u{FFFE}.json"))
        // A drifted copy: the label of study "-0.5" recorded as a hostile string.
        let drifted = recorded.stdout.replacingOccurrences(of: "\"study\": \"-0.5\"", with: "\"study\": \"x\\u001b]0;t\\u0007\\n\\ufffe\"")
        #expect(drifted != recorded.stdout)
        try Data(drifted.utf8).write(to: folder.appendingPathComponent("drift\u{7}.json"))
        let result = try Self.run(["check", "baselines", "--junit", "junit.xml"], in: dir)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        Self.expectTerminalSafe(result.stdout, "check's stdout")
        Self.expectTerminalSafe(result.stderr, "check's stderr")
        #expect(result.stdout.contains("ok\\u{1B}[2J"))
        let xml = try String(contentsOf: dir.appendingPathComponent("junit.xml"), encoding: .utf8)
        let doc = try XMLDocument(data: Data(xml.utf8), options: [])
        #expect(try doc.nodes(forXPath: "//testcase").count == 2)
        #expect(!xml.unicodeScalars.contains { !SafeText.isXMLCharacter($0) })
    }

    // MARK: item 14: XML and CSV

    @Test("forest, funnel and report with XML-invalid and control characters in labels are well-formed XML",
          arguments: [["forest", "data.csv", "-o", "out.xml"], ["forest", "data.csv", "--by", "grp", "-o", "out.xml"],
                      ["funnel", "data.csv", "-o", "out.xml"], ["report", "data.csv", "-o", "out.xml"],
                      ["report", "data.csv", "--by", "grp", "-o", "out.xml"]])
    func xmlWellFormed(_ arguments: [String]) throws {
        let dir = try Self.folder(["data.csv": Self.hostileCSV])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(arguments, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOf: dir.appendingPathComponent("out.xml"), encoding: .utf8)
        #expect(!text.unicodeScalars.contains { !SafeText.isXMLCharacter($0) })
        let doc = try XMLDocument(data: Data(text.utf8), options: [])
        if arguments[0] != "funnel" {
            // The labels are there, with U+FFFD where XML cannot hold a character and the bidi
            // override shown as an escape (it would reorder the label as drawn).
            #expect(text.contains("C\\u{202E}txt.exe\u{FFFD}\u{FFFD}"))
            #expect(text.contains("A\u{FFFD}[2J\u{FFFD}]0;pwned\u{FFFD}"))
            #expect(try doc.nodes(forXPath: "//*[local-name()='text']").count > 10)
        }
    }

    @Test("CSV output: text cells starting with = + - @ are guarded with a quote; numbers, negative ones included, are not")
    func csvInjectionGuard() throws {
        let dir = try Self.folder(["data.csv": Self.hostileCSV])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(["pool", "data.csv", "--format", "csv"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.components(separatedBy: "\n")
        #expect(lines.contains { $0.hasPrefix("\"'=HYPERLINK(\"\"http://x\"\")\",0.3,0.03,") })
        #expect(lines.contains { $0.hasPrefix("'-0.5,0.4,0.02,0.1228") })
        // The C1 control U+0085 (NEL) is escaped, as every terminal-unsafe character of a CSV cell.
        #expect(lines.contains { $0.hasPrefix("'@SUM\\u{85},0.25,") })
        // The lower CI bound of study A is the number -0.1771…, not a guarded text cell.
        #expect(lines.contains { $0.contains(",0.1,0.02,-0.1771") })
        // A label with a line break stays data, quoted per RFC 4180.
        #expect(result.stdout.contains("\"B\nok   fake line\",0.2,"))
        let subgroups = try Self.run(["pool", "data.csv", "--by", "grp", "--format", "csv"], in: dir)
        #expect(subgroups.status == 0)
        // Batch ids are text cells too (an analysis of one study each: k = 1 with FE).
        let batch = try Self.run(["pool", "data.csv", "--batch", "--batch-column", "study", "--method", "FE", "--format", "csv"], in: dir)
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(batch.stdout.contains("\n'-0.5,1,0.4,"), "\(batch.stdout)")
        #expect(batch.stdout.contains("\n\"'=HYPERLINK(\"\"http://x\"\")\",1,0.3,"), "\(batch.stdout)")
    }
}

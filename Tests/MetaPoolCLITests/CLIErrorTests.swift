// Every kind of bad input (the corpus in Fixtures/bad) fails cleanly through the built `metapool` binary:
// the documented exit status, a message on stderr naming the file, row and column, nothing
// on stdout, and no crash.
//
// Cases: Tests/MetaPoolTests/Fixtures/bad/cases.json (one small input file each). The same
// table drives LibraryErrorTests, which checks the typed MetaPoolError for each data case.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("CLI errors: bad input fails cleanly")
struct CLIErrorTests {
    @Test("the metapool executable is built next to the tests")
    func binaryExists() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        #expect(FileManager.default.isExecutableFile(atPath: binary.path))
    }

    @Test("metapool pool FILE ARGS", arguments: BadInputCase.all())
    func badInput(_ c: BadInputCase) throws {
        #expect(c.exit >= 0, "\(c.name)")
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        let stdinFile = c.stdin.map { BadInputCase.directory.appendingPathComponent($0) }
        let result = try MetapoolBinary.run(binary, ["pool", c.file] + c.args, in: BadInputCase.directory, stdinFile: stdinFile)
        let context = "metapool pool \(([c.file] + c.args).joined(separator: " ")) -> status \(result.status)\nstderr: \(result.stderr)"

        #expect(!result.timedOut, "timed out: \(context)")
        #expect(!result.killedBySignal, "crashed (signal \(result.status)): \(context)")
        #expect(result.status == c.exit, "\(context)")
        for needle in c.stderr {
            #expect(result.stderr.contains(needle), "stderr lacks \"\(needle)\": \(context)")
        }
        // Notes about the input (a semicolon- or tab-separated file) come before any error, one line each.
        let messages = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("note: ") }
        if c.exit == 0 {
            #expect(!result.stdout.isEmpty, "no output for good data: \(context)")
            // Quiet unless the case expects a note.
            #expect(c.stderr.isEmpty ? result.stderr.isEmpty : messages.isEmpty, "\(context)")
        } else {
            #expect(result.stdout.isEmpty, "printed on stdout for bad input: \(result.stdout.prefix(200)) — \(context)")
            #expect(!result.stderr.isEmpty, "no message: \(context)")
            // Data errors are one line, `error: FILE…: reason`; usage errors come from the option parser.
            if c.exit != 64 {
                #expect(messages.first?.hasPrefix("error: ") == true, "\(context)")
                #expect(messages.count == 1, "\(context)")
            }
        }
    }

    @Test("usage and data errors have distinct exit statuses")
    func distinctStatuses() {
        let cases = BadInputCase.all()
        let usage = Set(cases.filter { $0.args.contains { $0.hasPrefix("--") } && $0.kind == nil && $0.exit != 0 }.map(\.exit))
        let data = Set(cases.filter { $0.kind != nil && $0.kind != "unreadableInput" && $0.kind != "invalidArgument" }.map(\.exit))
        #expect(usage == [64])
        #expect(data == [65])
    }
}

/// One case of `Fixtures/bad/cases.json` run through a command other than `pool`: the plots
/// (`forest`, `funnel`, `report`, written with `-o`) and `sensitivity`, `bias` and `regress`
/// (`--mods dose`, a column no fixture has: regress must report the data error before it looks
/// for its moderator, and the moderator when the data are fine).
struct CommandCase: Sendable, CustomTestStringConvertible {
    var command: String
    var base: BadInputCase

    var testDescription: String { "\(command): \(base.name)" }

    static let commands = ["forest", "funnel", "report", "sensitivity", "bias", "regress"]
    /// The commands with an `-o FILE`.
    static let plotCommands: Set<String> = ["forest", "funnel", "report"]

    /// Every case through every command, but the `--by`/`--common-tau2` cases only through
    /// `forest` and `report` (the others have no subgroups).
    static func all() -> [CommandCase] {
        BadInputCase.all().flatMap { c in
            commands.compactMap { command in
                let subgroups = c.args.contains("--by") || c.args.contains("--common-tau2")
                if subgroups && command != "forest" && command != "report" { return nil }
                return CommandCase(command: command, base: c)
            }
        }
    }

    /// The case's options without `--format X` (the plot commands have none; the others take
    /// table or json only), and `--mods dose` for regress.
    var arguments: [String] {
        var out: [String] = []
        var i = 0
        while i < base.args.count {
            if base.args[i] == "--format" { i += 2; continue }
            out.append(base.args[i])
            i += 1
        }
        return command == "regress" ? out + ["--mods", "dose"] : out
    }

    /// `--method MH` or `PETO`: pool, forest, funnel and report fit them (the same outcome as
    /// pool); a usage error for sensitivity, bias and regress, which need an inverse-variance model.
    var countBasedMethod: String? {
        guard !["forest", "funnel", "report"].contains(command) else { return nil }
        return base.option("--method").map { $0.uppercased() }.flatMap { ["MH", "PETO"].contains($0) ? $0 : nil }
    }

    var expectedExit: Int32 {
        if countBasedMethod != nil { return 64 }
        return base.commands?[command]?.exit ?? base.plot_exit ?? base.exit
    }

    /// What stderr must contain: the command's own outcome if the case gives one, else the case's
    /// substrings (file, row, column, reason), or for MH/PETO the method the command does not fit.
    var expectedStderr: [String] {
        if let m = countBasedMethod { return ["--method \(m)"] }
        if let own = base.commands?[command] { return own.stderr }
        return expectedExit == base.exit ? base.stderr : []
    }
}

@Suite("CLI errors: bad input through every command")
struct CommandErrorTests {
    @Test("every bad input runs through forest, funnel, report, sensitivity, bias and regress", arguments: CommandCase.all())
    func command(_ c: CommandCase) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = CommandCase.plotCommands.contains(c.command)
            ? folder.appendingPathComponent(c.command == "report" ? "out.html" : "out.svg") : nil
        let stdinFile = c.base.stdin.map { BadInputCase.directory.appendingPathComponent($0) }
        try expectCLIOutcome([c.command, c.base.file] + c.arguments + (output.map { ["-o", $0.path] } ?? []),
                             exit: c.expectedExit, stderr: c.expectedStderr, output: output, stdinFile: stdinFile)
    }

    @Test("the corpus: at least 60 bad inputs, each through every command (subgroup cases through pool, forest and report)")
    func corpusSize() {
        let cases = BadInputCase.all()
        #expect(cases.filter { $0.exit != 0 }.count >= 60)
        let runs = CommandCase.all()
        let subgroupFree = cases.filter { !$0.args.contains("--by") && !$0.args.contains("--common-tau2") }.count
        for command in CommandCase.commands {
            let expected = command == "forest" || command == "report" ? cases.count : subgroupFree
            #expect(runs.filter { $0.command == command }.count == expected, "\(command)")
        }
        // Every per-command outcome names a command that exists.
        for c in cases { for name in (c.commands ?? [:]).keys { #expect(CommandCase.commands.contains(name), "\(c.name): \(name)") } }
    }
}

/// Writes a file in chunks through a FileHandle, so that the test process never holds more
/// than one chunk of a file of many megabytes.
struct StreamingFileWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let chunkSize: Int

    init(creating url: URL, chunkSize: Int = 1 << 16) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        self.chunkSize = chunkSize
        buffer.reserveCapacity(chunkSize + 256)
    }

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= chunkSize { try flush() }
    }

    /// `byte` `count` times, a chunk at a time.
    mutating func write(repeating byte: UInt8, count: Int) throws {
        var left = count
        while left > 0 {
            let n = min(left, chunkSize)
            buffer.append(contentsOf: repeatElement(byte, count: n))
            left -= n
            if buffer.count >= chunkSize { try flush() }
        }
    }

    private mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is left and closes the file.
    mutating func close() throws {
        try flush()
        try handle.close()
    }
}

@Suite("CLI: valid quirks and very large inputs")
struct LargeAndQuirkyInputTests {
    /// The keys `pooledNumbers` reads.
    static let pooledKeys = ["estimate", "se", "ci_lower", "ci_upper", "tau2", "q", "i2"]

    /// The numbers of `pool --format json`. With `outputLimit`, only that many bytes of the
    /// output are read: the members before `"studies"` (the pooled results come first), not
    /// the 10⁶ study rows after them.
    static func pooledNumbers(_ file: String, _ extra: [String] = [], in directory: URL = BadInputCase.directory,
                              timeout: TimeInterval = 60, outputLimit: Int = .max) throws -> [String: Double] {
        let result = try expectCLIOutcome(["pool", file, "--format", "json"] + extra, exit: 0, stderr: [], output: nil,
                                          in: directory, timeout: timeout, outputLimit: outputLimit)
        var json = result.stdout
        if result.stdoutTruncated {
            // Pretty-printed: the top-level members are indented by two spaces.
            let studies = try #require(json.range(of: "\n  \"studies\":"),
                                       "no \"studies\" member in the first \(outputLimit) bytes: \(json.prefix(300))")
            json = String(json[..<studies.lowerBound])
            if json.hasSuffix(",") { json.removeLast() }
            json += "\n}"
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        var out: [String: Double] = [:]
        for key in pooledKeys { out[key] = object[key] as? Double }
        out["k"] = (object["k"] as? NSNumber)?.doubleValue
        return out
    }

    @Test("BOM, CRLF and blank lines inside the data pool exactly like the clean file", arguments: ["bom.csv", "crlf.csv", "blank_line_inside.csv"])
    func quirks(_ file: String) throws {
        // R: read.csv() keeps a BOM in the first column name ("ï..study") unless told
        // fileEncoding = "UTF-8-BOM", reads CRLF as LF and skips blank lines; MetaPool drops the
        // BOM (it is an encoding mark, not data), so all three pool as the clean file.
        let clean = try Self.pooledNumbers("good.csv")
        let quirky = try Self.pooledNumbers(file)
        #expect(clean.count == 8)
        #expect(quirky == clean, "\(file): \(quirky) vs \(clean)")
    }

    /// The 10⁶ rows below: row i (from 1) has yᵢ = `effects[i % 7]` and vᵢ = `variances[i % 5]`.
    static let rowCount = 1_000_000
    /// 0.1·(i mod 7) − 0.3 to one decimal, and 0.01·(1 + i mod 5) to two.
    static let effects = (0..<7).map { String(format: "%.1f", Double($0) * 0.1 - 0.3) }
    static let variances = (0..<5).map { String(format: "%.2f", 0.01 * Double(1 + $0)) }

    /// 10⁶ studies yᵢ = 0.1·(i mod 7) − 0.3, vᵢ = 0.01·(1 + i mod 5), written in chunks
    /// (17 MB on disk, never a string in memory); `lastVariance` replaces the last row's vᵢ.
    static func writeMillionRows(to url: URL, lastVariance: String? = nil) throws {
        var writer = try StreamingFileWriter(creating: url)
        try writer.write("study,yi,vi\n")
        for i in 1...rowCount {
            let v = i == rowCount ? lastVariance ?? variances[i % 5] : variances[i % 5]
            try writer.write("S\(i),\(effects[i % 7]),\(v)\n")
        }
        try writer.close()
    }

    @Test("a 10^6-row file pools, to the closed-form fixed-effect estimate")
    func millionRows() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("million.csv")
        try Self.writeMillionRows(to: file)
        // The values as the file has them (the printed decimals read back), summed in file order.
        let y = Self.effects.map { Double($0)! }, v = Self.variances.map { Double($0)! }
        var sw = 0.0, swy = 0.0
        for i in 1...Self.rowCount {
            sw += 1 / v[i % 5]
            swy += y[i % 7] / v[i % 5]
        }
        // The JSON is 0.5 GB (every study's row follows the pooled numbers): read its first 64 kB.
        let got = try Self.pooledNumbers(file.path, ["--method", "FE"], in: folder, timeout: 600, outputLimit: 1 << 16)
        #expect(got["k"] == 1_000_000)
        let estimate = try #require(got["estimate"])
        #expect(abs(estimate - swy / sw) <= 1e-9 * abs(swy / sw), "\(estimate) vs \(swy / sw)")
        #expect(abs(try #require(got["se"]) - (1 / sw).squareRoot()) <= 1e-9 * (1 / sw).squareRoot())
    }

    @Test("a 10^6-row file with a bad last cell: every command names row 1000000", arguments: ["pool", "forest", "funnel", "report"])
    func millionRowsBadLast(_ command: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("million_bad.csv")
        try Self.writeMillionRows(to: file, lastVariance: "-0.5")
        let output = command == "pool" ? nil : folder.appendingPathComponent("out")
        try expectCLIOutcome([command, file.path] + (output.map { ["-o", $0.path] } ?? []), exit: 65,
                             stderr: ["million_bad.csv", "row 1000000 (line 1000001", "study \"S1000000\"", "column \"vi\"", "greater than 0"],
                             output: output, in: folder, timeout: 600, outputLimit: 1 << 16)
    }

    @Test("megabyte-long fields: a long label pools; a long bad cell or label gives a short message",
          arguments: ["pool", "forest", "funnel", "report", "sensitivity", "bias"])
    func megabyteField(_ command: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let megabyte = 1 << 20
        // Each file: a header, a prefix, a megabyte of one byte, a suffix; written in chunks.
        let files: [(name: String, prefix: String, byte: Character, suffix: String)] = [
            ("label.csv", "study,events,total\n\"", "L", "\",3,10\nBeta,4,20\nGamma,5,25\n"),
            ("label_bad.csv", "study,events,total\n\"", "L", "\",30,10\nBeta,4,20\nGamma,5,25\n"),
            ("number.csv", "study,events,total\nAlpha,3,10\nBeta,", "7", ",20\nGamma,5,25\n"),
            ("text.csv", "study,events,total\nAlpha,3,10\nBeta,", "x", ",20\nGamma,5,25\n"),
        ]
        for f in files {
            var writer = try StreamingFileWriter(creating: folder.appendingPathComponent(f.name))
            try writer.write(f.prefix)
            try writer.write(repeating: try #require(f.byte.asciiValue), count: megabyte)
            try writer.write(f.suffix)
            try writer.close()
        }
        func run(_ file: String, exit: Int32, stderr: [String]) throws -> MetapoolBinary.Result {
            let output = ["forest", "funnel", "report"].contains(command) ? folder.appendingPathComponent("out-\(file)") : nil
            return try expectCLIOutcome([command, file] + (output.map { ["-o", $0.path] } ?? []), exit: exit, stderr: stderr,
                                        output: output, in: folder, outputLimit: 1 << 16)
        }
        // Three studies: bias needs three, leave-one-out two per fit.
        _ = try run("label.csv", exit: 0, stderr: [])
        for (file, needles) in [("label_bad.csv", ["row 1 (line 2", "column \"events\"", "exceed total"]),
                                ("number.csv", ["row 2 (line 3", "column \"events\"", "too large"]),
                                ("text.csv", ["row 2 (line 3", "column \"events\"", "not a number"])] {
            let result = try run(file, exit: 65, stderr: [file] + needles)
            // The label or cell is cut (60 and 40 characters and "…"), not echoed in full.
            #expect(result.stderr.utf8.count < 400, "\(file): a message of \(result.stderr.utf8.count) bytes")
        }
    }
}

// Every kind of bad input (the corpus in Fixtures/bad) fails cleanly through the built `metapool` binary:
// the documented exit status, a message on stderr naming the file, row and column, nothing
// on stdout, and no crash.
//
// Cases: Tests/MetaPoolTests/Fixtures/bad/cases.json (one small input file each). The same
// table drives LibraryErrorTests, which checks the typed MetaPoolError for each data case.

import Foundation
import Testing

/// One row of `Fixtures/bad/cases.json`.
struct BadInputCase: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    /// The input file in `Fixtures/bad/`, or `-` (then `stdin` names the file fed to standard input).
    var file: String
    /// Options after `pool FILE`.
    var args: [String]
    /// The expected exit status: 64 usage, 65 data, 66 no input; 0 for the good controls.
    var exit: Int32
    /// Substrings the stderr message must contain.
    var stderr: [String]
    var stdin: String?
    var note: String?
    /// The `MetaPoolError.Kind` raw value the library throws (data cases only), and where.
    var kind: String?
    var row: Int?
    var column: String?
    /// The exit status of the other commands where it differs from `exit` for a reason other than
    /// MH/PETO (which are usage errors there): a case whose only fault is `--format`.
    var plot_exit: Int32?
    /// Per-command outcomes where a command fails earlier or for another reason than `pool`.
    var commands: [String: Outcome]?

    struct Outcome: Decodable, Sendable {
        var exit: Int32
        var stderr: [String]
    }

    var testDescription: String { name }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bad", isDirectory: true)

    /// Loads the table; a table that cannot be read becomes a single case that fails.
    static func all() -> [BadInputCase] {
        struct Table: Decodable { var cases: [BadInputCase] }
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
            return try JSONDecoder().decode(Table.self, from: data).cases
        } catch {
            return [BadInputCase(name: "cases.json cannot be read: \(error)", file: "cases.json", args: [], exit: -1, stderr: [], plot_exit: nil, commands: nil)]
        }
    }

    /// The value of `--option` in `args`, if given.
    func option(_ name: String) -> String? {
        guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
        return args[i + 1]
    }
}

/// Finds and runs the `metapool` executable built alongside the tests.
enum MetapoolBinary {
    /// The products directory holds both the test bundle and `metapool`. Candidates: an
    /// explicit `METAPOOL_BINARY`, then the directory of the running test executable (Linux runs
    /// `<products>/MetaPoolPackageTests.xctest`) and the parent of every loaded `.xctest` bundle
    /// (macOS loads `<products>/MetaPoolPackageTests.xctest`). Not found is a test failure.
    static let url: URL? = {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["METAPOOL_BINARY"] {
            return fm.isExecutableFile(atPath: explicit) ? URL(fileURLWithPath: explicit) : nil
        }
        // Only the products directory itself: never a stale binary further up the tree.
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL { directories.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        directories += Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }.map { $0.deletingLastPathComponent() }
        for dir in directories {
            let candidate = dir.appendingPathComponent("metapool")
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               fm.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        return nil
    }()

    struct Result {
        var status: Int32
        var killedBySignal: Bool
        var timedOut: Bool
        /// Standard output, or its first `outputLimit` bytes (a character cut there decodes as U+FFFD).
        var stdout: String
        /// Standard error, or its first `outputLimit` bytes.
        var stderr: String
        /// Whether standard output was longer than `outputLimit` bytes.
        var stdoutTruncated = false
    }

    /// Runs `metapool` with `arguments` in `directory`, standard input from `stdinFile` (or
    /// empty), and captures both outputs through temporary files (no pipe can fill up). Only
    /// the first `outputLimit` bytes of each are read back, so a run that prints hundreds of
    /// megabytes (JSON for 10⁶ studies) does not make the test process as large.
    static func run(_ binary: URL, _ arguments: [String], in directory: URL, stdinFile: URL?, timeout: TimeInterval = 60,
                    outputLimit: Int = .max) throws -> Result {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("metapool-cli-\(UUID().uuidString)", isDirectory: true)
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = out
        process.standardError = err
        process.standardInput = try stdinFile.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        process.waitUntilExit()
        func head(_ url: URL) -> Data {
            guard let handle = try? FileHandle(forReadingFrom: url) else { return Data() }
            defer { try? handle.close() }
            return (try? handle.read(upToCount: outputLimit)) ?? Data()
        }
        let stdout = head(outURL)
        let stdoutBytes = ((try? fm.attributesOfItem(atPath: outURL.path))?[.size] as? NSNumber)?.intValue ?? stdout.count
        return Result(status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
                      timedOut: timedOut, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: head(errURL), as: UTF8.self), stdoutTruncated: stdoutBytes > stdout.count)
    }
}

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
        if c.exit == 0 {
            #expect(!result.stdout.isEmpty, "no output for good data: \(context)")
            #expect(result.stderr.isEmpty, "\(context)")
        } else {
            #expect(result.stdout.isEmpty, "printed on stdout for bad input: \(result.stdout.prefix(200)) — \(context)")
            #expect(!result.stderr.isEmpty, "no message: \(context)")
            // Data errors are one line, `error: FILE…: reason`; usage errors come from the option parser.
            if c.exit != 64 {
                #expect(result.stderr.hasPrefix("error: "), "\(context)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(context)")
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

/// Runs one command, checks the documented outcome, and returns the result.
@discardableResult
func expectCLIOutcome(_ arguments: [String], exit expected: Int32, stderr needles: [String], output: URL?,
                      stdinFile: URL? = nil, in directory: URL = BadInputCase.directory, timeout: TimeInterval = 60,
                      outputLimit: Int = .max, sourceLocation: SourceLocation = #_sourceLocation) throws -> MetapoolBinary.Result {
    let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
    let result = try MetapoolBinary.run(binary, arguments, in: directory, stdinFile: stdinFile, timeout: timeout, outputLimit: outputLimit)
    let context = "metapool \(arguments.joined(separator: " ").prefix(300)) -> status \(result.status)\nstderr: \(result.stderr.prefix(500))"
    #expect(!result.timedOut, "timed out: \(context)", sourceLocation: sourceLocation)
    #expect(!result.killedBySignal, "crashed (signal \(result.status)): \(context)", sourceLocation: sourceLocation)
    #expect(result.status == expected, "\(context)", sourceLocation: sourceLocation)
    for needle in needles {
        #expect(result.stderr.contains(needle), "stderr lacks \"\(needle)\": \(context)", sourceLocation: sourceLocation)
    }
    // The size of the -o file, nil if none was written (its contents are not needed here).
    let written = output.flatMap { (try? FileManager.default.attributesOfItem(atPath: $0.path))?[.size] as? NSNumber }?.intValue
    if expected == 0 {
        #expect(result.stderr.isEmpty, "\(context)", sourceLocation: sourceLocation)
        if let output {
            #expect(result.stdout.isEmpty, "printed on stdout although -o \(output.lastPathComponent) was given: \(context)", sourceLocation: sourceLocation)
            #expect((written ?? 0) > 100, "no output file written: \(context)", sourceLocation: sourceLocation)
        } else {
            #expect(!result.stdout.isEmpty, "no output: \(context)", sourceLocation: sourceLocation)
        }
    } else {
        #expect(result.stdout.isEmpty, "printed on stdout for bad input: \(result.stdout.prefix(200)) — \(context)", sourceLocation: sourceLocation)
        #expect(!result.stderr.isEmpty, "no message: \(context)", sourceLocation: sourceLocation)
        #expect(written == nil, "an output file was written for bad input: \(context)", sourceLocation: sourceLocation)
        if expected != 64 {
            #expect(result.stderr.hasPrefix("error: "), "\(context)", sourceLocation: sourceLocation)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(context)", sourceLocation: sourceLocation)
        }
    }
    return result
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-test-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
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

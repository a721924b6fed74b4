// Every bad input SPEC.md lists ("Errors") fails cleanly through the built `metapool` binary:
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
            return [BadInputCase(name: "cases.json cannot be read: \(error)", file: "cases.json", args: [], exit: -1, stderr: [])]
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
        var stdout: String
        var stderr: String
    }

    /// Runs `metapool` with `arguments` in `directory`, standard input from `stdinFile` (or
    /// empty), and captures both outputs through temporary files (no pipe can fill up).
    static func run(_ binary: URL, _ arguments: [String], in directory: URL, stdinFile: URL?, timeout: TimeInterval = 60) throws -> Result {
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
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return Result(status: process.terminationStatus, killedBySignal: process.terminationReason == .uncaughtSignal,
                      timedOut: timedOut, stdout: stdout, stderr: stderr)
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

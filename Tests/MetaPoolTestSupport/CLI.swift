// Running the built `metapool` binary from tests, and the bad-input corpus that drives the CLI
// and library error tests.

import Foundation
import MetaPool
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

    static let directory = FixtureFolder.url("bad")

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
                    outputLimit: Int = .max, environment: [String: String] = [:]) throws -> Result {
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
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
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
    // Notes about the input (a semicolon- or tab-separated file) come before any error, one line each.
    let messages = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("note: ") }
    if expected == 0 {
        // Quiet unless the case expects a note.
        #expect(needles.isEmpty ? result.stderr.isEmpty : messages.isEmpty, "\(context)", sourceLocation: sourceLocation)
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
            #expect(messages.first?.hasPrefix("error: ") == true, "\(context)", sourceLocation: sourceLocation)
            #expect(messages.count == 1, "\(context)", sourceLocation: sourceLocation)
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


// Output that cannot be written is a failure, never exit 0: standard output on a full device
// (/dev/full, where every write fails with ENOSPC), an -o file there, the JUnit report of
// `check`. Status 74 (EX_IOERR) when writing fails, 73 (EX_CANTCREAT) when the file cannot be
// created, and a message on standard error; a CI job cannot record an empty baseline silently.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("output that cannot be written fails (74, 73)", .enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "needs /dev/full (Linux)"))
struct OutputWriteFailureTests {
    static let root = FixtureFolder.root
    static let bcg = "Datasets/bcg-vaccine.csv"
    static let pritz = "Datasets/pritz1997-hyperdynamic-therapy.csv"

    struct Result {
        var status: Int32
        var signalled: Bool
        var stderr: String
    }

    /// Runs `metapool` with standard output on `stdoutPath` (e.g. /dev/full) and standard error captured.
    static func run(_ arguments: [String], stdoutPath: String = "/dev/full") throws -> Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = try #require(FileHandle(forWritingAtPath: stdoutPath)), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// /dev/full is still the character device (an atomic write must never rename a file over it).
    static func expectDevFullIntact(sourceLocation: SourceLocation = #_sourceLocation) {
        let type = (try? FileManager.default.attributesOfItem(atPath: "/dev/full"))?[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial, "/dev/full is now \(String(describing: type))", sourceLocation: sourceLocation)
    }

    @Test("pool to a full standard output exits 74 with a message, in every format",
          arguments: [["--format", "table"], ["--format", "json"], ["--format", "csv"], ["--by", "allocation"], ["--method", "MH"]])
    func poolToFullStandardOutput(_ options: [String]) throws {
        let result = try Self.run(["pool", Self.bcg] + options)
        #expect(!result.signalled)
        #expect(result.status == 74, "\(options): \(result.stderr)")
        #expect(result.stderr == "error: cannot write to standard output: No space left on device\n", "\(result.stderr)")
    }

    @Test("the same runs to /dev/null succeed (the control)")
    func poolToNullDevice() throws {
        for format in ["table", "json", "csv"] {
            let result = try Self.run(["pool", Self.bcg, "--format", format], stdoutPath: "/dev/null")
            #expect(result.status == 0 && result.stderr.isEmpty, "\(format): \(result.stderr)")
        }
    }

    @Test("regress, sensitivity, bias, --help and a batch to a full standard output exit 74",
          arguments: [["regress", bcg, "--mods", "latitude"], ["sensitivity", bcg], ["bias", bcg], ["pool", "--help"],
                      ["forest", bcg, "-o", "-"], ["report", bcg, "-o", "-"]])
    func otherCommandsToFullStandardOutput(_ arguments: [String]) throws {
        let result = try Self.run(arguments)
        #expect(result.status == 74, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasSuffix("error: cannot write to standard output: No space left on device\n"), "\(result.stderr)")
    }

    @Test("forest, funnel and report -o /dev/full exit 74; -o in a missing folder exits 73",
          arguments: [["forest", bcg], ["funnel", bcg], ["report", bcg]])
    func outputFileFails(_ arguments: [String]) throws {
        let full = try Self.run(arguments + ["-o", "/dev/full"], stdoutPath: "/dev/null")
        #expect(full.status == 74, "\(arguments): \(full.stderr)")
        #expect(full.stderr == "error: cannot write /dev/full: No space left on device\n", "\(full.stderr)")
        Self.expectDevFullIntact()
        let missing = "/nonexistent-\(UUID().uuidString)/plot.svg"
        let create = try Self.run(arguments + ["-o", missing], stdoutPath: "/dev/null")
        #expect(create.status == 73, "\(arguments): \(create.stderr)")
        #expect(create.stderr == "error: cannot create \(missing): No such file or directory\n", "\(create.stderr)")
    }

    @Test("check --junit /dev/full exits 74 and leaves /dev/full a device; check to a full standard output exits 74")
    func checkWrites() throws {
        let junit = try Self.run(["check", "Baselines/pritz1997-reml.json", "--junit", "/dev/full"], stdoutPath: "/dev/null")
        #expect(junit.status == 74, "\(junit.stderr)")
        #expect(junit.stderr == "error: the JUnit report: cannot write /dev/full: No space left on device\n", "\(junit.stderr)")
        Self.expectDevFullIntact()
        let check = try Self.run(["check", "Baselines/pritz1997-reml.json"])
        #expect(!check.signalled, "crashed writing to /dev/full")
        #expect(check.status == 74, "\(check.stderr)")
        #expect(check.stderr == "error: cannot write to standard output: No space left on device\n", "\(check.stderr)")
    }
}

// Endless or binary inputs (/dev/zero, /dev/urandom) as data, as a baseline and as a baseline's
// input: reading stops at the first byte that cannot be text, so the process fails cleanly
// (exit 65, the file named) instead of reading until memory runs out; a baseline larger than
// 64 MiB is refused.
//
// Each run is capped at 512 MiB of address space (`ulimit -v`): a reader that kept the stream
// in memory dies of a failed allocation (a signal) within a second, well before the timeout.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("CLI: devices and oversized baselines are refused without reading them whole")
struct DeviceInputTests {
    /// `metapool ARGS` with at most 512 MiB of address space, in `directory`.
    static func runCapped(_ arguments: [String], in directory: URL) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let shell = URL(fileURLWithPath: "/bin/sh")
        return try MetapoolBinary.run(shell, ["-c", "ulimit -v 524288; exec \"$0\" \"$@\"", binary.path] + arguments,
                                      in: directory, stdinFile: nil, timeout: 30)
    }

    static func expectRefused(_ result: MetapoolBinary.Result, naming file: String, _ context: String) {
        #expect(!result.timedOut && !result.killedBySignal, "\(context): \(result.stderr.prefix(300))")
        #expect(result.status == 65, "\(context): \(result.stderr.prefix(300))")
        #expect(result.stderr.contains(file), "\(context): \(result.stderr.prefix(300))")
    }

    @Test("/dev/zero and /dev/urandom as data: exit 65 at the first NUL or invalid byte, for pool, --batch, check and a plot",
          arguments: ["/dev/zero", "/dev/urandom"])
    func devicesAsData(_ device: String) throws {
        guard FileManager.default.fileExists(atPath: device) else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for arguments in [["pool", device], ["pool", "--batch", device], ["pool", device, "--format", "json"],
                          ["check", device], ["forest", device, "-o", folder.appendingPathComponent("f.svg").path]] {
            let result = try Self.runCapped(arguments, in: folder)
            Self.expectRefused(result, naming: device, arguments.joined(separator: " "))
            #expect(result.stderr.contains("NUL") || result.stderr.contains("not valid UTF-8"), "\(arguments): \(result.stderr.prefix(300))")
            #expect(result.stdout.isEmpty || arguments[0] == "check", "\(arguments)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("f.svg").path))
    }

    @Test("a baseline whose recorded input is /dev/zero: check and check --update fail with exit 65 naming the device")
    func deviceAsBaselineInput() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = BadInputCase.directory.appendingPathComponent("good.csv")
        let recorded = try Self.runCapped(["pool", good.path, "--format", "json"], in: folder)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        var baseline = try #require(try JSONSerialization.jsonObject(with: Data(recorded.stdout.utf8)) as? [String: Any])
        var input = try #require(baseline["input"] as? [String: Any])
        input["path"] = "/dev/zero"
        baseline["input"] = input
        try JSONSerialization.data(withJSONObject: baseline).write(to: folder.appendingPathComponent("zero.json"))
        for arguments in [["check", "zero.json"], ["check", "--update", "zero.json"]] {
            let result = try Self.runCapped(arguments, in: folder)
            Self.expectRefused(result, naming: "/dev/zero", arguments.joined(separator: " "))
            #expect(result.stderr.contains("NUL"), "\(result.stderr)")
        }
    }

    @Test("a baseline larger than 64 MiB is refused, naming the file and the limit")
    func oversizedBaseline() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Valid JSON text (an array padded with spaces) one byte over the limit.
        var writer = try StreamingFileWriter(creating: folder.appendingPathComponent("big.json"))
        try writer.write("[")
        try writer.write(repeating: 0x20, count: (64 << 20) - 1)
        try writer.write("]")
        try writer.close()
        let result = try Self.runCapped(["check", "big.json"], in: folder)
        Self.expectRefused(result, naming: "big.json", "check big.json")
        #expect(result.stderr.contains("larger than 64 MiB") && result.stderr.contains("baseline"), "\(result.stderr)")
    }
}

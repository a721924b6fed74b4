// Progress lines on standard error for long runs, off a terminal (the tests' stderr is a file):
// `METAPOOL_PROGRESS_INTERVAL=0` prints one at every update, so a small input shows them; the
// default (5 s) prints none for a run this short, and standard output is the same either way.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("progress lines on standard error")
struct ProgressLineTests {
    static func run(_ arguments: [String], in dir: URL, interval: String?) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: dir, stdinFile: nil,
                                      environment: interval.map { ["METAPOOL_PROGRESS_INTERVAL": $0] } ?? [:])
    }

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // 40 studies (the leave-one-out refits go through the power sums from 30 on), x = 1…40.
        var csv = "study,yi,vi,x\n"
        for i in 1...40 { csv += "s\(i),\(Double((i * 37) % 23) / 20 - 0.5),\(0.02 + Double(i % 7) / 50),\(i)\n" }
        try csv.write(to: dir.appendingPathComponent("data.csv"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test("sensitivity: 'N of 40 leave-one-out fits (S s)' lines, the output unchanged")
    func sensitivity() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let quiet = try Self.run(["sensitivity", "data.csv"], in: dir, interval: nil)
        let loud = try Self.run(["sensitivity", "data.csv"], in: dir, interval: "0")
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(loud.status == 0)
        #expect(loud.stdout == quiet.stdout)
        let lines = loud.stderr.split(separator: "\n").map(String.init)
        let fits = lines.filter { $0.hasPrefix("sensitivity: ") && $0.contains(" of 40 leave-one-out fits (") }
        #expect(fits.count >= 1, "\(loud.stderr)")
        #expect(fits.allSatisfy { $0.range(of: #"^sensitivity: \d+ of 40 leave-one-out fits \(\d+ s\)$"#, options: .regularExpression) != nil }, "\(fits)")
        #expect(lines.allSatisfy { $0.hasPrefix("sensitivity: ") }, "\(loud.stderr)")
    }

    @Test("regress --permutations: 'N of M permutations' lines, the output unchanged")
    func permutations() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = ["regress", "data.csv", "--mods", "x", "--permutations", "200"]
        let quiet = try Self.run(arguments, in: dir, interval: nil)
        let loud = try Self.run(arguments, in: dir, interval: "0")
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(loud.status == 0)
        #expect(loud.stdout == quiet.stdout)
        let lines = loud.stderr.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty && lines.allSatisfy { $0.range(of: #"^regress: .*permutations.* \(\d+ s\)$"#, options: .regularExpression) != nil }, "\(loud.stderr)")
    }
}

// `pool`'s table and `pool --format json`, now written as they are made (TextTable+Streaming.swift,
// JSONDocument.swift), against the text the whole-output code wrote before: fixtures recorded
// with the binary of commit 757e2a1 by Tests/Reference/record_streamed_output.sh, on two
// mid-size inputs (1,200 and 400 studies; outputs of 24 kB to 0.9 MB, many 64 KiB pieces)
// with labels in other scripts, a combining mark, a tab, repeated labels told apart by a
// column, -0, values beside rounding ties and beyond 10⁹ (scientific notation).

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("Streamed pool output: the same text as the whole-output code")
struct StreamedOutputTests {
    static let folder = FixtureFolder.url("streamed_output")

    static let cases: [(expected: String, arguments: [String])] = [
        ("generic.table.txt.z", ["pool", "generic.csv"]),
        ("generic.fe.table.txt.z", ["pool", "generic.csv", "--method", "FE"]),
        ("generic.json.txt.z", ["pool", "generic.csv", "--format", "json"]),
        ("proportions.table.txt.z", ["pool", "proportions.csv"]),
        ("proportions.json.txt.z", ["pool", "proportions.csv", "--format", "json"]),
    ]

    @Test("byte for byte the text recorded before streaming", arguments: cases.indices)
    func sameText(_ index: Int) throws {
        let (expectedFile, arguments) = Self.cases[index]
        let expected = try ZlibFixture.text(Self.folder.appendingPathComponent(expectedFile))
        let binary = try #require(MetapoolBinary.url, "metapool executable not found; build it (swift build)")
        let result = try MetapoolBinary.run(binary, arguments, in: Self.folder, stdinFile: nil, timeout: 120)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr.prefix(500))")
        #expect(expected.utf8.count > 20_000)
        #expect(result.stdout.utf8.count == expected.utf8.count, "\(arguments.joined(separator: " ")): length")
        if result.stdout != expected {
            // The first line that differs, to say where.
            let got = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
            Issue.record("\(arguments.joined(separator: " ")): line \(line + 1) differs: got \(line < got.count ? String(got[line]) : "<end>"), expected \(line < want.count ? String(want[line]) : "<end>")")
        }
    }
}

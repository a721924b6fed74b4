// `pool`'s table and `pool --format json`, now written as they are made (TextTable+Streaming.swift,
// JSONDocument.swift), against the text the whole-output code wrote before: fixtures recorded
// with the binary of commit 757e2a1 by Tests/Reference/record_streamed_output.sh, on two
// mid-size inputs (1,200 and 400 studies; outputs of 24 kB to 0.9 MB, many 64 KiB pieces)
// with labels in other scripts, a combining mark, a tab, repeated labels told apart by a
// column, -0, values beside rounding ties and beyond 10⁹ (scientific notation). Tables byte
// for byte; JSON byte for byte but for its numbers, equal to 1e-9 (full precision moves in the
// last place when the numeric core changes, which is not what this test is about).

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

    /// `json` with every number outside a string replaced by `#`, and the numbers in order.
    static func maskingNumbers(_ json: String) -> (String, [Double]) {
        var text: [UInt8] = [], numbers: [Double] = []
        let bytes = Array(json.utf8)
        var i = 0, inString = false
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                text.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < bytes.count { text.append(bytes[i + 1]); i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
            } else if b == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) {
                var j = i + 1
                while j < bytes.count, "0123456789.eE+-".utf8.contains(bytes[j]) { j += 1 }
                numbers.append(Double(String(decoding: bytes[i..<j], as: UTF8.self)) ?? .nan)
                text.append(UInt8(ascii: "#"))
                i = j
            } else {
                if b == UInt8(ascii: "\"") { inString = true }
                text.append(b)
                i += 1
            }
        }
        return (String(decoding: text, as: UTF8.self), numbers)
    }

    @Test("the text recorded before streaming (JSON: its numbers to 1e-9)", arguments: cases.indices)
    func sameText(_ index: Int) throws {
        let (expectedFile, arguments) = Self.cases[index]
        let expected = try ZlibFixture.text(Self.folder.appendingPathComponent(expectedFile))
        let binary = try #require(MetapoolBinary.url, "metapool executable not found; build it (swift build)")
        let result = try MetapoolBinary.run(binary, arguments, in: Self.folder, stdinFile: nil, timeout: 120)
        #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr.prefix(500))")
        #expect(expected.utf8.count > 20_000)
        if arguments.contains("json") {
            // JSON keeps every digit, which a change of the numeric core moves in the last place:
            // the text must be the same but for the numbers, and they the same to 1e-9 (as `check`).
            let (gotText, gotNumbers) = Self.maskingNumbers(result.stdout)
            let (wantText, wantNumbers) = Self.maskingNumbers(expected)
            #expect(gotText == wantText, "\(arguments.joined(separator: " ")): text apart from the numbers")
            #expect(gotNumbers.count == wantNumbers.count)
            for (g, w) in zip(gotNumbers, wantNumbers) where abs(g - w) > 1e-9 * max(abs(w), 1e-300) {
                Issue.record("\(arguments.joined(separator: " ")): \(g) vs \(w)")
                break
            }
            return
        }
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

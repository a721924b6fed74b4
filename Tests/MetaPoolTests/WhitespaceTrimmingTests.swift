// `trimmingWhitespace()` (DataTable.swift), which the CLI uses for `--mods` and `--order-by`
// instead of Foundation's `trimmingCharacters(in: .whitespaces)`: the same result as Foundation's
// on every Unicode scalar at either end, and on random strings of spaces, line breaks,
// combining marks and letters.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("trimmingWhitespace: Foundation's CharacterSet.whitespaces trimming")
struct WhitespaceTrimmingTests {
    @Test("every scalar at either end is trimmed or kept as Foundation does")
    func everyScalar() {
        var trimmed = 0
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar) + "x" + String(scalar)
            let expected = text.trimmingCharacters(in: .whitespaces)
            if text.trimmingWhitespace() != expected {
                Issue.record("U+\(String(value, radix: 16, uppercase: true)): \(expected.debugDescription) expected")
            }
            if expected == "x" { trimmed += 1 }
        }
        // Tab, space and the space separators (and, on Linux, U+200B).
        #expect(trimmed >= 18)
    }

    @Test("known cases: line breaks kept, combining marks kept, all-space strings empty")
    func knownCases() {
        #expect(" a, b ".trimmingWhitespace() == "a, b")
        #expect("\u{3000}\tyear\u{00A0}".trimmingWhitespace() == "year")
        #expect("\n dose \r\n".trimmingWhitespace() == "\n dose \r\n")
        #expect(" \u{301}x".trimmingWhitespace().unicodeScalars.map(\.value) == [0x301, 0x78])
        #expect(" \t\u{2000}".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace() == "")
    }

    @Test("random strings trim as Foundation trims them")
    func randomStrings() {
        let pieces: [String] = [" ", "\t", "\n", "\r\n", "\u{00A0}", "\u{2003}", "\u{200B}", "\u{3000}", "\u{301}", "a", "é", "1", ",", "\u{1F600}"]
        var generator = SplitMix64(seed: 15_015)
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        }
    }
}

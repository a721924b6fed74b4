// JSONValue's byte writer (serialize(into:indent:depth:), used by pool --format json to stream
// 10⁶ studies) against its String writer (serialized(indent:)), the definition it replaces.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("JSON bytes: the text of serialized(indent:)")
struct JSONValueBytesTests {
    static let strings = ["", "plain", "quote \" and \\ backslash", "line\nbreak\r\ttab", "\u{1}\u{1F}\u{7F}", "Müller Ωmega 北京 🧪",
                          "e\u{301}tude", "\u{202E}bidi", "/slash", "null"]

    /// A random value of at most `depth` levels.
    static func value(_ g: inout MetaPoolTestSupport.SplitMix64, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 5), using: &g) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &g))
        case 2: return .integer(Int.random(in: -1_000_000...1_000_000, using: &g))
        case 3:
            let special: [Double] = [0, -0.0, .nan, .infinity, -.infinity, 1e15, 1e-300, 0.1, 123_456_789.5, 5e-324]
            return .number(Bool.random(using: &g) ? special.randomElement(using: &g)! : Double.random(in: -1e6...1e6, using: &g))
        case 4: return .string(strings.randomElement(using: &g)!)
        case 5, 6:
            let n = Int.random(in: 0...4, using: &g)
            return .array((0..<n).map { _ in value(&g, depth: depth - 1) })
        default:
            let n = Int.random(in: 0...4, using: &g)
            return .object((0..<n).map { _ in (strings.randomElement(using: &g)!, value(&g, depth: depth - 1)) })
        }
    }

    @Test("2,000 random values at indents 0, 2, 4 and depths 0 to 3 give the same text")
    func randomValues() {
        var g = MetaPoolTestSupport.SplitMix64(seed: 15_003)
        for _ in 0..<2_000 {
            let v = Self.value(&g, depth: 4)
            for indent in [0, 2, 4] {
                let text = v.serialized(indent: indent)
                for depth in 0...3 {
                    // At depth d every line after the first is indented d levels more.
                    let expected = indent == 0 ? text : text.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: indent * depth))
                    var bytes: [UInt8] = []
                    v.serialize(into: &bytes, indent: indent, depth: depth)
                    #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(v) at indent \(indent), depth \(depth)")
                }
            }
        }
    }
}

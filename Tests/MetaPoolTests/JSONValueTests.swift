// JSONValue.parse, which `metapool check` uses to read baselines: exact numbers, key order,
// and located syntax errors.

import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("JSONValue.parse")
struct JSONValueTests {
    @Test("numbers are read exactly (correctly rounded) and integers stay integers")
    func numbers() throws {
        let value = try JSONValue.parse(#"{"a": 0.36458781506797405, "b": 14, "c": -2.5e-300, "d": 1e400, "e": 12345678901234567890}"#, source: "x.json")
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["a", "b", "c", "d", "e"])
        #expect(members[0].1 == .number(0.36458781506797405))
        #expect(members[0].1 != .number(0.3645878150679741))
        #expect(members[1].1 == .integer(14))
        #expect(members[2].1 == .number(-2.5e-300))
        #expect(members[3].1 == .number(.infinity))
        #expect(members[4].1 == .number(12345678901234567890.0))
    }

    @Test("a serialized value parses back to itself")
    func roundTrip() throws {
        let value = JSONValue.object([("s", .string("a \"q\" \\ é\n")), ("n", .null), ("t", .bool(true)),
                                      ("arr", .array([.integer(-3), .number(1.0000000000000002), .object([])]))])
        #expect(try JSONValue.parse(value.serialized(), source: nil) == value)
    }

    @Test("syntax errors name the file and line", arguments: [
        ("{\"a\": 1,\n \"a\": 2}", "appears twice", 2),
        ("{\"a\": 1} x", "after the JSON value", 1),
        ("[1, 2,\n\n]", "expected a value", 3),
        ("{\"a\": tru}", "expected true", 1),
    ])
    func syntaxErrors(_ text: String, _ message: String, _ line: Int) {
        #expect {
            _ = try JSONValue.parse(text, source: "b.json")
        } throws: { error in
            guard let e = error as? MetaPoolError else { return false }
            return e.kind == .malformedInput && e.location.file == "b.json" && e.location.line == line && e.reason.contains(message)
        }
    }

    @Test("deep nesting is an error, not a stack overflow")
    func depth() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: MetaPoolError.self) { _ = try JSONValue.parse(text, source: nil) }
    }

    @Test("serialize(chunk:) hands over the text of serialized() in pieces of about 64 KiB")
    func streamed() {
        // 20,000 study objects: about 1.3 MB of text, so many chunks.
        let studies = (0..<20_000).map { i in
            JSONValue.object([("study", .string("S\(i) \"q\"\n")), ("yi", .number(Double(i) / 7)), ("vi", .number(0.01)), ("k", .integer(i))])
        }
        let value = JSONValue.object([("k", .integer(studies.count)), ("studies", .array(studies)), ("empty", .array([]))])
        for indent in [0, 2] {
            var chunks: [String] = []
            value.serialize(indent: indent) { chunks.append($0) }
            #expect(chunks.joined() == value.serialized(indent: indent))
            #expect(chunks.count > 10, "\(chunks.count) chunks")
            #expect(chunks.dropLast().allSatisfy { $0.utf8.count >= 1 << 16 && $0.utf8.count < (1 << 16) + 4096 })
        }
    }
}

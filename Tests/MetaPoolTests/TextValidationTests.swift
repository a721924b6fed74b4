// The UTF-8 check that runs while input is read (TextValidator): read in pieces of any size it
// accepts and refuses exactly what it accepts and refuses on the whole input, so a character
// split across two reads is never taken for an error, and an error names the same byte and line.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Input: UTF-8 checked while reading")
struct TextValidationTests {
    /// The outcome of checking `bytes` fed in pieces of `step` bytes (the whole at once for 0).
    static func check(_ bytes: [UInt8], step: Int) -> MetaPoolError? {
        var validator = TextValidator(source: "t.csv")
        do {
            if step > 0 {
                var end = 0
                while end < bytes.count {
                    end = min(bytes.count, end + step)
                    try validator.check(Array(bytes[0..<end]), final: false)
                }
            }
            try validator.check(bytes, final: true)
            return nil
        } catch {
            return error
        }
    }

    static let texts: [[UInt8]] = [
        Array("study,yi,vi\nZürich €,0.1,0.1\n😀 B,0.2,0.2\n".utf8),
        Array("\u{FEFF}study,yi,vi\r\nÅ,0.1,0.1\r\n".utf8),
        Array("study,yi,vi\nA,0.1,0.1\nB".utf8) + [0xC3],                  // cut off at the end
        Array("study,yi,vi\nA".utf8) + [0xED, 0xA0, 0x80] + Array(",0.1,0.1\n".utf8),  // a surrogate
        Array("study,yi,vi\n".utf8) + [0xC0, 0xAF] + Array(",0.2,0.1\n".utf8),        // overlong
        Array("study,yi,vi\n".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("\n".utf8),    // past U+10FFFF
        Array("study,yi,vi\nÉ\n".utf8) + [0xE9] + Array("\nx".utf8) + [0] + Array("\n".utf8),  // Latin-1, then NUL
        Array("study,yi,vi\nA,0.1,0.1\nB,0".utf8) + [0] + Array(",0.1\n".utf8),
        Array("study,yi,vi\n".utf8) + [0xE2, 0x82] + Array("A\n".utf8),                // a character missing its last byte
    ]

    /// The text with a line of 100 bytes after its first line, longer than the UTF-16 test's 64
    /// bytes, so that pieces are checked as they come.
    static func padded(_ text: [UInt8]) -> [UInt8] {
        let end = text.firstIndex(of: 0x0A)! + 1
        return Array(text[..<end]) + Array(repeating: UInt8(ascii: "x"), count: 99) + [0x0A] + Array(text[end...])
    }

    @Test("checking in pieces of any size gives the outcome of checking the whole", arguments: 0..<texts.count)
    func pieces(_ index: Int) {
        let bytes = Self.padded(Self.texts[index])
        let whole = Self.check(bytes, step: 0)
        for step in [1, 2, 3, 5, 7, 9, 64, 1000] {
            let chunked = Self.check(bytes, step: step)
            #expect(chunked?.reason == whole?.reason && chunked?.location == whole?.location && chunked?.kind == whole?.kind,
                    "text \(index), pieces of \(step): \(chunked?.reason ?? "ok") vs \(whole?.reason ?? "ok")")
        }
        // The valid texts are exactly those Swift's own UTF-8 validation accepts (after the BOM).
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        #expect((whole == nil) == (String(validating: body, as: UTF8.self) != nil && !body.contains(0)), "text \(index)")
    }

    @Test("the error names the first bad byte (1-based, counting from the file's first byte) and its line")
    func location() throws {
        let latin = try #require(Self.check(Self.texts[4], step: 0))
        #expect(latin.kind == .notUTF8 && latin.location.line == 2 && latin.reason.hasPrefix("byte 13 (0xC0) is not valid UTF-8"), "\(latin.reason)")
        // An invalid byte with a NUL after it among the bytes read is named as binary.
        let binary = try #require(Self.check(Self.texts[6], step: 0))
        #expect(binary.reason.contains("NUL bytes (the first is byte 19)") && binary.location.line == 4, "\(binary.reason)")
        let nul = try #require(Self.check(Self.texts[7], step: 0))
        #expect(nul.reason.contains("the first is byte 26") && nul.location.line == 3, "\(nul.reason)")
        // A NUL more than 1 KiB past the invalid byte does not make it binary.
        let far = Array("study\n".utf8) + [0xE9] + Array(repeating: UInt8(ascii: "x"), count: 2000) + [0]
        for step in [0, 100, 1 << 16] {
            let error = try #require(Self.check(far, step: step))
            #expect(error.reason.hasPrefix("byte 7 (0xE9) is not valid UTF-8") && error.location.line == 2, "\(step): \(error.reason)")
        }
    }

    @Test("readBytes reads a character split across its 64 KiB reads, and the table is the same as read from memory")
    func splitAcrossReads() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-utf8-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for offset in 0..<4 {
            // "😀" (4 bytes) starts 1–4 bytes before the end of the first 65,536-byte read.
            let header = Array("study,yi,vi\n".utf8)
            let padding = (1 << 16) - header.count - 1 - offset
            var bytes = header + Array(repeating: UInt8(ascii: "x"), count: padding) + Array("😀,0.1,0.1\n".utf8)
            bytes += Array("B,0.2,0.2\n".utf8)
            let url = folder.appendingPathComponent("split\(offset).csv")
            try Data(bytes).write(to: url)
            #expect(try DataTable.readBytes(path: url.path) == bytes)
            let table = try DataTable.read(path: url.path)
            #expect(table.rows.count == 2 && table.rows[0][0]?.hasSuffix("😀") == true)
        }
    }

    @Test("JSON with CRLF line ends (a baseline or data saved on Windows) reads as with LF; syntax errors name the same line")
    func crlfJSON() throws {
        let lf = "{\n  \"k\": 3,\n  \"estimate\": 0.25,\n  \"studies\": [1, 2]\n}\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try JSONValue.parse(crlf, source: "b.json") == JSONValue.parse(lf, source: "b.json"))
        let table = try DataTable.read(bytes: Array("[\r\n{\"yi\": 0.1, \"vi\": 0.01},\r\n{\"yi\": 0.2, \"vi\": 0.02}\r\n]\r\n".utf8), source: "d.json")
        #expect(table.rows == [["0.1", "0.01"], ["0.2", "0.02"]])
        for text in [lf, crlf] {
            let broken = text.replacingOccurrences(of: "0.25", with: "0.25.")
            do {
                _ = try JSONValue.parse(broken, source: "b.json")
                Issue.record("expected a syntax error")
            } catch {
                #expect(error.location.line == 3, "\(error.reason)")
            }
        }
    }
}

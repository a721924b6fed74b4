// Splitting CSV bytes into records and fields (RFC 4180, Shafranovich 2005, section 2), with no
// String and no allocation per record: the fields of a record are byte ranges into the input.

/// A byte-level RFC 4180 scanner over UTF-8 text: `"` quoting with `""` escapes, records ended by
/// LF, CRLF or CR. It rejects what the RFC does not allow: an unterminated quoted field, a quote
/// inside an unquoted field and text after a closing quote (rules 5–7). The separators, quote and
/// line ends are ASCII, so a multi-byte UTF-8 sequence can never be mistaken for one of them.
struct CSVScanner {
    /// One field of the current record: `bytes[start..<end]`, inside the quotes when quoted;
    /// `escaped` when it holds `""` pairs that stand for one quote.
    struct Field {
        var start: Int
        var end: Int
        var escaped: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    let separator: UInt8
    /// The fields of the record last returned by ``nextRecord(source:delimiter:)`` (reused).
    private(set) var fields: [Field] = []
    /// The next byte to read.
    private(set) var position = 0
    /// The 1-based line of `position`.
    private(set) var line = 1

    init(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8, start: Int = 0) {
        self.bytes = bytes
        self.separator = separator
        position = start
        fields.reserveCapacity(16)
    }

    private static let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Reads the next record into ``fields`` and returns the line it starts on, or `nil` at the end.
    mutating func nextRecord(source: String?, delimiter: CSVDelimiter) throws(MetaPoolError) -> Int? {
        fields.removeAll(keepingCapacity: true)
        let count = bytes.count
        guard position < count else { return nil }
        let startLine = line
        while true {
            if position < count && bytes[position] == Self.quote {
                let openedLine = line
                position += 1
                let contentStart = position
                var escaped = false
                while true {
                    guard position < count else {
                        throw MetaPoolError(.malformedInput, "a quoted field opened here is never closed; add the closing quote",
                                            at: InputLocation(file: source, line: openedLine))
                    }
                    let b = bytes[position]
                    if b == Self.quote {
                        if position + 1 < count && bytes[position + 1] == Self.quote {
                            escaped = true
                            position += 2
                            continue
                        }
                        break
                    }
                    if b == Self.lf { line += 1 }
                    position += 1
                }
                fields.append(Field(start: contentStart, end: position, escaped: escaped))
                position += 1  // the closing quote
                guard position < count else { return startLine }
                let b = bytes[position]
                if b == separator { position += 1; continue }
                if b == Self.lf || b == Self.cr { endLine(); return startLine }
                throw MetaPoolError(.malformedInput,
                                    "text follows a closing quote; a quoted field must end at a \(delimiter.fieldWord) or the end of the line (write a literal quote as \"\")",
                                    at: InputLocation(file: source, line: line))
            }
            let start = position
            while position < count {
                let b = bytes[position]
                if b == separator || b == Self.lf || b == Self.cr { break }
                if b == Self.quote {
                    throw MetaPoolError(.malformedInput,
                                        "a quote appears inside an unquoted field; enclose the field in quotes and double the inner quote (\"\")",
                                        at: InputLocation(file: source, line: line))
                }
                position += 1
            }
            fields.append(Field(start: start, end: position, escaped: false))
            guard position < count else { return startLine }
            if bytes[position] == separator { position += 1; continue }
            endLine()
            return startLine
        }
    }

    /// Steps over LF, CRLF or CR at `position`.
    private mutating func endLine() {
        if bytes[position] == Self.cr && position + 1 < bytes.count && bytes[position + 1] == Self.lf { position += 1 }
        position += 1
        line += 1
    }

    /// The text of a field, with `""` read as `"`.
    func string(_ field: Field) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[field.start..<field.end])
        guard field.escaped else { return String(decoding: raw, as: UTF8.self) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            unescaped.append(raw[i])
            i += raw[i] == Self.quote ? 2 : 1
        }
        return String(decoding: unescaped, as: UTF8.self)
    }

    /// Whether the field holds only ASCII bytes (then spaces can be trimmed byte by byte; other
    /// text is trimmed by Character, as ``StringProtocol/trimmingSpaces()`` does, because a space
    /// followed by a combining mark is one Character that is not a space).
    func isASCII(_ field: Field) -> Bool {
        var i = field.start
        while i < field.end {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// The field's range without leading and trailing spaces, tabs, CR and LF (ASCII fields).
    func trimmed(_ field: Field) -> Range<Int> {
        var a = field.start, b = field.end
        while a < b, Self.isSpace(bytes[a]) { a += 1 }
        while b > a, Self.isSpace(bytes[b - 1]) { b -= 1 }
        return a..<b
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// Whether the field is empty once spaces are trimmed.
    func isBlank(_ field: Field) -> Bool {
        isASCII(field) ? trimmed(field).isEmpty : string(field).trimmingSpaces().isEmpty
    }

    /// A data cell: `nil` when empty or `NA` once spaces are trimmed; with `decimalComma` a number
    /// written with a decimal comma comes back trimmed, with a point (``DataTable/decimalPoint(_:)``);
    /// otherwise the field as written.
    func cell(_ field: Field, decimalComma: Bool) -> String? {
        guard isASCII(field) else {
            let s = string(field)
            let t = s.trimmingSpaces()
            if t.isEmpty || t == "NA" { return nil }
            return decimalComma ? DataTable.decimalPoint(s) : s
        }
        let t = trimmed(field)
        if t.isEmpty || (t.count == 2 && bytes[t.lowerBound] == UInt8(ascii: "N") && bytes[t.lowerBound + 1] == UInt8(ascii: "A")) {
            return nil
        }
        if decimalComma, !field.escaped {
            var text = Array(bytes[t])
            if let comma = DataTable.decimalCommaIndex(text[...]) {
                text[comma] = UInt8(ascii: ".")
                return String(decoding: text, as: UTF8.self)
            }
        }
        return string(field)
    }
}

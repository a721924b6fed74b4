// Reading a JSON array of flat objects into a DataTable.
//
// A small RFC 8259 parser rather than JSONDecoder: it names the line and column of a syntax
// error, keeps the keys in input order, rejects duplicate keys, and keeps numbers as written
// so that `1e999` is reported as too large (by the numeric column reader) instead of failing
// the whole document.

/// One JSON cell: numbers (as written) and strings become text cells; `null` is missing.
enum JSONCell {
    case text(String)
    case missing
    case unsupported(String)
}

extension DataTable {
    /// Reads a JSON array of objects, one object per study; keys are column names.
    /// Columns are ordered by first appearance (`study` first); a key absent from a row is a
    /// missing value. Cells must be numbers, strings or `null`.
    public static func readJSON(_ text: String, source: String?) throws(MetaPoolError) -> DataTable {
        var parser = JSONRowParser(text: text, source: source)
        let objects = try parser.parseDocument()
        if objects.isEmpty {
            throw MetaPoolError(.emptyInput, "the JSON array has no objects; expected one object per study", at: InputLocation(file: source))
        }
        var columns: [String] = []
        var seen = Set<String>()
        for object in objects {
            for (key, _) in object.cells where !seen.contains(key) {
                seen.insert(key)
                columns.append(key)
            }
        }
        if let s = columns.firstIndex(where: { $0.lowercased() == "study" }) {
            columns.insert(columns.remove(at: s), at: 0)
        }
        try validateHeader(columns, source: source, line: nil)
        // One array per column (DataTable.storage).
        var cells: [[String?]] = columns.map { _ in
            var column: [String?] = []
            column.reserveCapacity(objects.count)
            return column
        }
        for (r, object) in objects.enumerated() {
            var byKey: [String: JSONCell] = [:]
            for (key, cell) in object.cells { byKey[key] = cell }
            for (c, column) in columns.enumerated() {
                switch byKey[column] {
                case .text(let t)?: cells[c].append(t)
                case .missing?, nil: cells[c].append(nil)
                case .unsupported(let what)?:
                    var location = InputLocation(file: source, row: r + 1, column: column)
                    if case .text(let s)? = byKey.first(where: { $0.key.lowercased() == "study" })?.value { location.study = s }
                    throw MetaPoolError(.invalidValue, "\(what) is not a number or text; give a number, a string or null", at: location)
                }
            }
        }
        return DataTable(source: source, columns: columns, columnCells: cells, count: objects.count,
                         lines: Array(repeating: nil, count: objects.count))
    }
}

/// One parsed object: its keys in input order with their cells.
struct JSONRow {
    var cells: [(String, JSONCell)] = []
}

/// Parses `[ {…}, {…} ]` over the Unicode scalars of the text, tracking line and column.
struct JSONRowParser {
    let scalars: [Unicode.Scalar]
    let source: String?
    var index = 0
    var line = 1
    var lineStart = 0
    /// Nesting limit for values inside cells (they are rejected anyway; this bounds recursion).
    static let maxDepth = 256

    init(text: String, source: String?) {
        scalars = Array(text.unicodeScalars)
        self.source = source
    }

    func error(_ reason: String, row: Int? = nil) -> MetaPoolError {
        let column = index - lineStart + 1
        return MetaPoolError(.malformedInput, "the JSON is malformed at character \(column) of the line: \(reason)",
                             at: InputLocation(file: source, row: row, line: line))
    }

    var atEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { atEnd ? nil : scalars[index] }

    mutating func advance() {
        if scalars[index] == "\n" { line += 1; lineStart = index + 1 }
        index += 1
    }

    mutating func skipSpace() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
    }

    func describe(_ c: Unicode.Scalar?) -> String {
        guard let c else { return "the end of the input" }
        if c.value < 0x20 { return "a control character (U+\(String(c.value, radix: 16, uppercase: true)))" }
        return "'\(Character(c))'"
    }

    mutating func expect(_ c: Unicode.Scalar, _ what: String, row: Int? = nil) throws(MetaPoolError) {
        skipSpace()
        guard current == c else { throw error("expected \(what) but found \(describe(current))", row: row) }
        advance()
    }

    mutating func parseDocument() throws(MetaPoolError) -> [JSONRow] {
        skipSpace()
        guard current == "[" else {
            throw MetaPoolError(.malformedInput,
                                "expected an array of objects, one per study, e.g. [{\"study\": \"A\", \"events\": 3, \"total\": 20}]; the input starts with \(describe(current))",
                                at: InputLocation(file: source, line: line))
        }
        advance()
        var rows: [JSONRow] = []
        skipSpace()
        if current == "]" {
            advance()
        } else {
            while true {
                skipSpace()
                let row = rows.count + 1
                guard current == "{" else {
                    throw MetaPoolError(.malformedInput,
                                        "element \(row) of the array is not an object; expected one object per study, e.g. {\"study\": \"A\", \"events\": 3, \"total\": 20}",
                                        at: InputLocation(file: source, row: row, line: line))
                }
                rows.append(try parseRow(row))
                skipSpace()
                if current == "," { advance(); continue }
                if current == "]" { advance(); break }
                throw error("expected ',' or ']' after object \(row) but found \(describe(current))", row: row)
            }
        }
        skipSpace()
        if !atEnd { throw error("unexpected \(describe(current)) after the closing ']'") }
        return rows
    }

    mutating func parseRow(_ row: Int) throws(MetaPoolError) -> JSONRow {
        advance()  // {
        var result = JSONRow()
        var keys = Set<String>()
        skipSpace()
        if current == "}" { advance(); return result }
        while true {
            skipSpace()
            guard current == "\"" else { throw error("expected a quoted key but found \(describe(current))", row: row) }
            let key = try parseString(row: row)
            if keys.contains(key) {
                throw MetaPoolError(.malformedInput, "the key \"\(key)\" appears twice in this object; keep one",
                                    at: InputLocation(file: source, row: row, line: line, column: key))
            }
            keys.insert(key)
            try expect(":", "':' after the key \"\(key)\"", row: row)
            skipSpace()
            result.cells.append((key, try parseCell(row: row)))
            skipSpace()
            if current == "," { advance(); continue }
            if current == "}" { advance(); return result }
            throw error("expected ',' or '}' but found \(describe(current))", row: row)
        }
    }

    mutating func parseCell(row: Int?) throws(MetaPoolError) -> JSONCell {
        switch current {
        case "\""?: return .text(try parseString(row: row))
        case "{"?, "["?:
            try skipValue(row: row, depth: 0)
            return .unsupported("a nested array or object")
        case "t"?: try literal("true", row: row); return .unsupported("the boolean true")
        case "f"?: try literal("false", row: row); return .unsupported("the boolean false")
        case "n"?: try literal("null", row: row); return .missing
        default: return .text(try parseNumber(row: row))
        }
    }

    mutating func literal(_ word: String, row: Int?) throws(MetaPoolError) {
        for s in word.unicodeScalars {
            guard current == s else { throw error("expected \(word) but found \(describe(current))", row: row) }
            advance()
        }
    }

    /// A number exactly as RFC 8259 writes it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func parseNumber(row: Int?) throws(MetaPoolError) -> String {
        let start = index
        func isDigit(_ c: Unicode.Scalar?) -> Bool { c.map { $0 >= "0" && $0 <= "9" } ?? false }
        if current == "-" { advance() }
        guard isDigit(current) else { throw error("expected a value (number, string, null) but found \(describe(current))", row: row) }
        if current == "0" { advance() } else { while isDigit(current) { advance() } }
        if current == "." {
            advance()
            guard isDigit(current) else { throw error("expected a digit after the decimal point", row: row) }
            while isDigit(current) { advance() }
        }
        if current == "e" || current == "E" {
            advance()
            if current == "+" || current == "-" { advance() }
            guard isDigit(current) else { throw error("expected a digit in the exponent", row: row) }
            while isDigit(current) { advance() }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<index])
        return String(text)
    }

    mutating func parseString(row: Int?) throws(MetaPoolError) -> String {
        advance()  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard let c = current else { throw error("a string is never closed; add the closing quote", row: row) }
            if c == "\"" { advance(); return String(out) }
            if c.value < 0x20 { throw error("\(describe(c)) inside a string; write it as an escape such as \\n", row: row) }
            if c != "\\" { out.append(c); advance(); continue }
            advance()
            guard let e = current else { throw error("a string is never closed; add the closing quote", row: row) }
            advance()
            switch e {
            case "\"": out.append("\"")
            case "\\": out.append("\\")
            case "/": out.append("/")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                let high = try hex4(row: row)
                if (0xD800...0xDBFF).contains(high) {
                    guard current == "\\" else { throw error("an unpaired surrogate \\u\(String(high, radix: 16)) in a string", row: row) }
                    advance()
                    guard current == "u" else { throw error("an unpaired surrogate \\u\(String(high, radix: 16)) in a string", row: row) }
                    advance()
                    let low = try hex4(row: row)
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("an unpaired surrogate \\u\(String(high, radix: 16)) in a string", row: row) }
                    out.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!)
                } else if let s = Unicode.Scalar(high) {
                    out.append(s)
                } else {
                    throw error("an unpaired surrogate \\u\(String(high, radix: 16)) in a string", row: row)
                }
            default:
                throw error("\\\(Character(e)) is not a valid escape in a string", row: row)
            }
        }
    }

    mutating func hex4(row: Int?) throws(MetaPoolError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let d = Int(String(Character(c)), radix: 16) else {
                throw error("expected four hexadecimal digits after \\u", row: row)
            }
            value = value * 16 + UInt32(d)
            advance()
        }
        return value
    }

    /// Parses any JSON value (validating its syntax); objects keep their key order and reject
    /// duplicate keys; numbers without a fraction or exponent that fit an Int stay integers.
    mutating func parseValue(row: Int?, depth: Int) throws(MetaPoolError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("values are nested more than \(Self.maxDepth) levels deep", row: row) }
        skipSpace()
        switch current {
        case "{"?:
            advance()
            var members: [(String, JSONValue)] = []
            var keys = Set<String>()
            skipSpace()
            if current == "}" { advance(); return .object(members) }
            while true {
                skipSpace()
                guard current == "\"" else { throw error("expected a quoted key but found \(describe(current))", row: row) }
                let key = try parseString(row: row)
                guard keys.insert(key).inserted else { throw error("the key \"\(key)\" appears twice in one object", row: row) }
                try expect(":", "':'", row: row)
                members.append((key, try parseValue(row: row, depth: depth + 1)))
                skipSpace()
                if current == "," { advance(); continue }
                if current == "}" { advance(); return .object(members) }
                throw error("expected ',' or '}' but found \(describe(current))", row: row)
            }
        case "["?:
            advance()
            var items: [JSONValue] = []
            skipSpace()
            if current == "]" { advance(); return .array(items) }
            while true {
                items.append(try parseValue(row: row, depth: depth + 1))
                skipSpace()
                if current == "," { advance(); continue }
                if current == "]" { advance(); return .array(items) }
                throw error("expected ',' or ']' but found \(describe(current))", row: row)
            }
        case "\""?: return .string(try parseString(row: row))
        case "t"?: try literal("true", row: row); return .bool(true)
        case "f"?: try literal("false", row: row); return .bool(false)
        case "n"?: try literal("null", row: row); return .null
        default:
            let text = try parseNumber(row: row)
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int(text) { return .integer(i) }
            // Swift's Double(String) rounds correctly (IEEE 754 round to nearest).
            guard let d = Double(text) else { throw error("the number \(text) cannot be read", row: row) }
            return .number(d)
        }
    }

    /// Skips a nested array or object (validating its syntax).
    mutating func skipValue(row: Int?, depth: Int) throws(MetaPoolError) {
        _ = try parseValue(row: row, depth: depth)
    }

    /// One whole document holding a single value.
    mutating func parseSingleValue() throws(MetaPoolError) -> JSONValue {
        let value = try parseValue(row: nil, depth: 0)
        skipSpace()
        if !atEnd { throw error("unexpected \(describe(current)) after the JSON value") }
        return value
    }
}

/// One member of a JSON Lines object: a cell, or an array of cells (one per study).
enum JSONLineMember {
    case cell(JSONCell)
    case array([JSONCell])
}

extension JSONRowParser {
    /// One JSON Lines object, `{"analysis": "sim1", "yi": [0.1, 0.3], ...}`: each member a cell or
    /// an array of cells, numbers kept as written (so `1e2` and `100.0` stay two identifiers, and
    /// `1e999` is reported as too large by the numeric column reader, as in a JSON array).
    mutating func parseLineObject() throws(MetaPoolError) -> [(String, JSONLineMember)] {
        skipSpace()
        guard current == "{" else { throw error("expected an object {\"analysis\": ..., \"yi\": [...], ...} but found \(describe(current))") }
        advance()
        var members: [(String, JSONLineMember)] = []
        var keys = Set<String>()
        skipSpace()
        if current == "}" {
            advance()
        } else {
            while true {
                skipSpace()
                guard current == "\"" else { throw error("expected a quoted key but found \(describe(current))") }
                let key = try parseString(row: nil)
                guard keys.insert(key).inserted else { throw error("the key \"\(key)\" appears twice in this object; keep one") }
                try expect(":", "':' after the key \"\(key)\"")
                skipSpace()
                if current == "[" {
                    advance()
                    var items: [JSONCell] = []
                    skipSpace()
                    if current == "]" {
                        advance()
                    } else {
                        while true {
                            skipSpace()
                            items.append(try parseCell(row: items.count + 1))
                            skipSpace()
                            if current == "," { advance(); continue }
                            if current == "]" { advance(); break }
                            throw error("expected ',' or ']' in the array \"\(key)\" but found \(describe(current))")
                        }
                    }
                    members.append((key, .array(items)))
                } else {
                    members.append((key, .cell(try parseCell(row: nil))))
                }
                skipSpace()
                if current == "," { advance(); continue }
                if current == "}" { advance(); break }
                throw error("expected ',' or '}' but found \(describe(current))")
            }
        }
        skipSpace()
        if !atEnd { throw error("unexpected \(describe(current)) after the object; give one object per line") }
        return members
    }
}

extension JSONValue {
    /// Parses a JSON document (RFC 8259) with exact number reading and key order kept; a syntax
    /// error names the source and the line and character.
    public static func parse(_ text: String, source: String?) throws(MetaPoolError) -> JSONValue {
        var parser = JSONRowParser(text: text, source: source)
        return try parser.parseSingleValue()
    }
}

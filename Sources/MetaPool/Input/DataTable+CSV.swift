// Reading RFC 4180 CSV into a DataTable: yaslab/CSV.swift splits the fields; a structural
// pass first finds where each record starts and rejects what CSV.swift would silently accept.
// Semicolon- and tab-separated files are read too: the delimiter is taken from the header line.

import CSV

/// The character between the fields of a CSV file.
public enum CSVDelimiter: String, Sendable, Hashable, CaseIterable {
    /// `,`: RFC 4180, R's `read.csv`.
    case comma = ","
    /// `;`: spreadsheets in locales whose decimal mark is a comma; `0,42` is read as 0.42, as R's
    /// `read.csv2` (`sep = ";", dec = ","`) reads it.
    case semicolon = ";"
    /// A tab: R's `read.delim`.
    case tab = "\t"

    /// The delimiter as a command line names it: `,`, `;` or `tab`.
    public var name: String { self == .tab ? "tab" : rawValue }

    /// The delimiter named `,`, `;`, `tab` (any case) or a literal tab character.
    public init?(name: String) {
        switch name.lowercased() {
        case ",", "comma": self = .comma
        case ";", "semicolon": self = .semicolon
        case "tab", "\t", "\\t": self = .tab
        default: return nil
        }
    }

    var scalar: Unicode.Scalar { rawValue.unicodeScalars.first! }
}

extension DataTable {
    /// Reads CSV text (RFC 4180: `"` quoting with `""` escapes, LF or CRLF line ends, a header
    /// row) separated by `delimiter`, or, when it is `nil`, by the one of comma, semicolon and tab
    /// that the header line holds most often outside quotes (a comma on a tie or when it holds
    /// none). Blank lines are skipped. With semicolons, cells written as numbers with a decimal
    /// comma (`0,42`, `-1,5e-3`) are read with a decimal point, as R's `read.csv2` reads them.
    public static func readCSV(_ text: String, source: String?, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        let delimiter = delimiter ?? sniffDelimiter(text)
        let records = try csvRecordLines(text, source: source, delimiter: delimiter)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: delimiter.scalar)
        } catch {
            throw MetaPoolError(.malformedInput, "the CSV could not be read (\(error))", at: InputLocation(file: source))
        }
        var header: [String]?
        var headerLine = 1
        var rows: [[String?]] = []
        var lines: [Int?] = []
        var recordIndex = 0
        while let fields = reader.next() {
            let line = recordIndex < records.count ? records[recordIndex] : nil
            recordIndex += 1
            if fields.count == 1 && fields[0].trimmingSpaces().isEmpty { continue }  // blank line
            guard let columns = header else {
                header = fields.map { $0.trimmingSpaces() }
                headerLine = line ?? 1
                continue
            }
            if fields.count != columns.count {
                let what = fields.count < columns.count ? "only \(fields.count)" : "\(fields.count)"
                throw MetaPoolError(.malformedInput,
                                    "this row has \(what) fields but the header has \(columns.count); check for a missing or extra \(delimiter.fieldWord), or quote fields that contain \(delimiter.fieldWord)s",
                                    at: InputLocation(file: source, row: rows.count + 1, line: line))
            }
            rows.append(fields.map { field in
                let t = field.trimmingSpaces()
                if t.isEmpty || t == "NA" { return nil }
                return delimiter == .semicolon ? Self.decimalPoint(field) : field
            })
            lines.append(line)
        }
        guard let columns = header else {
            throw MetaPoolError(.emptyInput, "the input has no header row", at: InputLocation(file: source))
        }
        try validateHeader(columns, source: source, line: headerLine)
        if rows.isEmpty {
            throw MetaPoolError(.emptyInput, "the input has a header row but no data rows", at: InputLocation(file: source, line: headerLine))
        }
        var table = DataTable(source: source, columns: columns, rows: rows, lines: lines)
        table.delimiter = delimiter
        return table
    }

    /// The delimiter of the header line (its first non-blank line): the one of comma, semicolon
    /// and tab it holds most often outside quotes; a comma on a tie or when it holds none.
    static func sniffDelimiter(_ text: String) -> CSVDelimiter {
        var counts: [CSVDelimiter: Int] = [:]
        var inQuotes = false
        var sawText = false
        for c in text.unicodeScalars {
            if c == "\"" { inQuotes.toggle(); sawText = true; continue }
            if inQuotes { continue }
            if c == "\n" || c == "\r" {
                if sawText { break }
                continue
            }
            if c != " " && c != "\t" { sawText = true }
            if let d = CSVDelimiter.allCases.first(where: { $0.scalar == c }) { counts[d, default: 0] += 1 }
        }
        // The first of the most frequent in the order comma, semicolon, tab.
        return CSVDelimiter.allCases.max { counts[$0, default: 0] < counts[$1, default: 0] || (counts[$0, default: 0] == counts[$1, default: 0] && $0.rank > $1.rank) }
            .flatMap { counts[$0, default: 0] > 0 ? $0 : nil } ?? .comma
    }

    /// A cell of a semicolon-separated file with its decimal comma written as a point when it is a
    /// number written with one (an optional sign, digits, a comma, digits, an optional exponent),
    /// as R's `read.csv2` (`dec = ","`) reads it; other cells unchanged.
    static func decimalPoint(_ cell: String) -> String {
        let t = cell.trimmingSpaces()
        var bytes = Array(t.utf8)
        guard let comma = bytes.firstIndex(of: UInt8(ascii: ",")) else { return cell }
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        var i = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        let integerStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        guard i == comma, i > integerStart else { return cell }
        i += 1
        let fractionStart = i
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        guard i > fractionStart else { return cell }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let exponentStart = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            guard i > exponentStart else { return cell }
        }
        guard i == bytes.count else { return cell }
        bytes[comma] = UInt8(ascii: ".")
        return String(decoding: bytes, as: UTF8.self)
    }

    static func validateHeader(_ columns: [String], source: String?, line: Int?) throws(MetaPoolError) {
        var seen: [String: Int] = [:]
        for (i, name) in columns.enumerated() {
            if name.isEmpty {
                throw MetaPoolError(.missingColumn, "header column \(i + 1) has no name; every column needs a name", at: InputLocation(file: source, line: line))
            }
            if let first = seen[name.lowercased()] {
                throw MetaPoolError(.missingColumn, "the header names column \"\(name)\" twice (columns \(first + 1) and \(i + 1)); rename one", at: InputLocation(file: source, line: line, column: name))
            }
            seen[name.lowercased()] = i
        }
    }

    /// One pass over the text that returns the 1-based line where each record starts and
    /// rejects quoting errors: an unterminated quoted field, a quote inside an unquoted
    /// field, or text after a closing quote (RFC 4180, section 2, rules 5–7).
    static func csvRecordLines(_ text: String, source: String?, delimiter: CSVDelimiter = .comma) throws(MetaPoolError) -> [Int] {
        let separator = delimiter.scalar
        var starts: [Int] = []
        var line = 1
        var inQuotes = false
        var atFieldStart = true
        var atRecordStart = true
        var quoteOpenedLine = 1
        var justClosedQuote = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return scalars.next()
        }
        while let c = next() {
            if atRecordStart { starts.append(line); atRecordStart = false }
            if inQuotes {
                if c == "\"" {
                    let after = next()
                    if after == "\"" { continue }  // escaped quote
                    inQuotes = false
                    justClosedQuote = true
                    if let a = after { pending = a }
                    continue
                }
                if c == "\n" { line += 1 }
                continue
            }
            if justClosedQuote {
                justClosedQuote = false
                if c != separator && c != "\n" && c != "\r" {
                    throw MetaPoolError(.malformedInput, "text follows a closing quote; a quoted field must end at a \(delimiter.fieldWord) or the end of the line (write a literal quote as \"\")", at: InputLocation(file: source, line: line))
                }
            }
            switch c {
            case "\"":
                guard atFieldStart else {
                    throw MetaPoolError(.malformedInput, "a quote appears inside an unquoted field; enclose the field in quotes and double the inner quote (\"\")", at: InputLocation(file: source, line: line))
                }
                inQuotes = true
                quoteOpenedLine = line
                atFieldStart = false
            case separator:
                atFieldStart = true
            case "\r":
                let after = next()
                if after != "\n", let a = after { pending = a }
                line += 1
                atFieldStart = true
                atRecordStart = true
            case "\n":
                line += 1
                atFieldStart = true
                atRecordStart = true
            default:
                atFieldStart = false
            }
        }
        if inQuotes {
            throw MetaPoolError(.malformedInput, "a quoted field opened here is never closed; add the closing quote", at: InputLocation(file: source, line: quoteOpenedLine))
        }
        return starts
    }
}

extension CSVDelimiter {
    /// The delimiter in a sentence: comma, semicolon, tab.
    var fieldWord: String {
        switch self {
        case .comma: "comma"
        case .semicolon: "semicolon"
        case .tab: "tab"
        }
    }

    /// The order in which ties are broken when sniffing.
    var rank: Int { Self.allCases.firstIndex(of: self)! }
}

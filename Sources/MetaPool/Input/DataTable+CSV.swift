// Reading RFC 4180 CSV into a DataTable, byte by byte (CSVScanner): no String of the whole input,
// one String per cell, kept in one array per column. Semicolon- and tab-separated files are read too: the delimiter is taken
// from the header line.

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

    /// The delimiter's byte (all three are ASCII).
    var byte: UInt8 { rawValue.utf8.first! }
}

extension DataTable {
    /// Reads CSV text (RFC 4180: `"` quoting with `""` escapes, LF or CRLF line ends, a header
    /// row) separated by `delimiter`, or, when it is `nil`, by the one of comma, semicolon and tab
    /// that the header line holds most often outside quotes (a comma on a tie or when it holds
    /// none). Blank lines are skipped. With semicolons, cells written as numbers with a decimal
    /// comma (`0,42`, `-1,5e-3`) are read with a decimal point, as R's `read.csv2` reads them.
    public static func readCSV(_ text: String, source: String?, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        try readCSV(bytes: Array(text.utf8), source: source, delimiter: delimiter)
    }

    /// ``readCSV(_:source:delimiter:)`` on UTF-8 bytes already checked as text (no byte-order mark),
    /// split by ``CSVScanner`` without building a `String` of the whole input.
    public static func readCSV(bytes: [UInt8], source: String?, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        try bytes.withUnsafeBufferPointer { (buffer) throws(MetaPoolError) -> DataTable in
            try readCSV(buffer, source: source, delimiter: delimiter)
        }
    }

    static func readCSV(_ bytes: UnsafeBufferPointer<UInt8>, source: String?, delimiter: CSVDelimiter?) throws(MetaPoolError) -> DataTable {
        let delimiter = delimiter ?? sniffDelimiter(bytes)
        var scanner = CSVScanner(bytes, separator: delimiter.byte)
        var header: [String]?
        var headerLine = 1
        // One array per column (DataTable.storage), each reserved for a row per line of input.
        var cells: [[String?]] = []
        var count = 0
        var lines: [Int?] = []
        let lineEnds = bytes.reduce(0) { $0 &+ ($1 == UInt8(ascii: "\n") ? 1 : 0) } + 1
        lines.reserveCapacity(lineEnds)
        // A row of the wrong length is reported after the structure of the whole file has been
        // checked: a quoting error anywhere comes first, as when the file cannot be split at all.
        var lengthError: MetaPoolError?
        while let line = try scanner.nextRecord(source: source, delimiter: delimiter) {
            let fields = scanner.fields
            if fields.count == 1 && scanner.isBlank(fields[0]) { continue }  // blank line
            guard let columns = header else {
                header = fields.map { scanner.string($0).trimmingSpaces() }
                headerLine = line
                cells = fields.map { _ in
                    var column: [String?] = []
                    column.reserveCapacity(lineEnds)
                    return column
                }
                continue
            }
            if lengthError != nil { continue }
            if fields.count != columns.count {
                let what = fields.count < columns.count ? "only \(fields.count)" : "\(fields.count)"
                lengthError = MetaPoolError(.malformedInput,
                                            "this row has \(what) fields but the header has \(columns.count); check for a missing or extra \(delimiter.fieldWord), or quote fields that contain \(delimiter.fieldWord)s",
                                            at: InputLocation(file: source, row: count + 1, line: line))
                continue
            }
            for (c, field) in fields.enumerated() { cells[c].append(scanner.cell(field, decimalComma: delimiter == .semicolon)) }
            count += 1
            lines.append(line)
        }
        if let lengthError { throw lengthError }
        guard let columns = header else {
            throw MetaPoolError(.emptyInput, "the input has no header row", at: InputLocation(file: source))
        }
        try validateHeader(columns, source: source, line: headerLine)
        if count == 0 {
            throw MetaPoolError(.emptyInput, "the input has a header row but no data rows", at: InputLocation(file: source, line: headerLine))
        }
        var table = DataTable(source: source, columns: columns, columnCells: cells, count: count, lines: lines)
        table.delimiter = delimiter
        return table
    }

    /// The delimiter of the header line (its first non-blank line): the one of comma, semicolon
    /// and tab it holds most often outside quotes; a comma on a tie or when it holds none.
    static func sniffDelimiter(_ text: String) -> CSVDelimiter {
        Array(text.utf8).withUnsafeBufferPointer { sniffDelimiter($0) }
    }

    static func sniffDelimiter(_ bytes: UnsafeBufferPointer<UInt8>) -> CSVDelimiter {
        var counts = [0, 0, 0]  // comma, semicolon, tab
        var inQuotes = false
        var sawText = false
        for c in bytes {
            if c == UInt8(ascii: "\"") { inQuotes.toggle(); sawText = true; continue }
            if inQuotes { continue }
            if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                if sawText { break }
                continue
            }
            switch c {
            case UInt8(ascii: ","): counts[0] += 1; sawText = true
            case UInt8(ascii: ";"): counts[1] += 1; sawText = true
            case UInt8(ascii: "\t"): counts[2] += 1
            case UInt8(ascii: " "): break
            default: sawText = true
            }
        }
        // The first of the most frequent in the order comma, semicolon, tab.
        var best = 0
        for i in 1..<3 where counts[i] > counts[best] { best = i }
        return counts[best] == 0 ? .comma : CSVDelimiter.allCases[best]
    }

    /// A cell of a semicolon-separated file with its decimal comma written as a point when it is a
    /// number written with one (an optional sign, digits, a comma, digits, an optional exponent),
    /// as R's `read.csv2` (`dec = ","`) reads it; other cells unchanged.
    static func decimalPoint(_ cell: String) -> String {
        let t = cell.trimmingSpaces()
        var bytes = Array(t.utf8)
        guard let comma = decimalCommaIndex(bytes[...]) else { return cell }
        bytes[comma] = UInt8(ascii: ".")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Where the decimal comma of a number written with one is (see ``decimalPoint(_:)``), or `nil`.
    static func decimalCommaIndex(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard let comma = bytes.firstIndex(of: UInt8(ascii: ",")) else { return nil }
        let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        var i = bytes.startIndex
        let end = bytes.endIndex
        if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        let integerStart = i
        while i < end, isDigit(bytes[i]) { i += 1 }
        guard i == comma, i > integerStart else { return nil }
        i += 1
        let fractionStart = i
        while i < end, isDigit(bytes[i]) { i += 1 }
        guard i > fractionStart else { return nil }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            let exponentStart = i
            while i < end, isDigit(bytes[i]) { i += 1 }
            guard i > exponentStart else { return nil }
        }
        return i == end ? comma : nil
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

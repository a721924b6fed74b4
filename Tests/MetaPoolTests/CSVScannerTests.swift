// The byte-level CSV reader (CSVScanner) against the reader it replaced: yaslab/CSV.swift splitting
// the fields after a structural pass over the Unicode scalars. On random texts built from the bytes
// that matter (separators, quotes, CR, LF, spaces, NA, non-ASCII letters) both must give the same
// table, or the same error (kind, message, file, row, line).

import Testing
import CSV
@testable import MetaPool

/// The CSV reader as it was before the byte-level one (kept here as the reference).
enum ReferenceCSVReader {
    static func read(_ text: String, source: String?, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        let delimiter = delimiter ?? DataTable.sniffDelimiter(text)
        let records = try csvRecordLines(text, source: source, delimiter: delimiter)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false, delimiter: delimiter.rawValue.unicodeScalars.first!)
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
                return delimiter == .semicolon ? DataTable.decimalPoint(field) : field
            })
            lines.append(line)
        }
        guard let columns = header else {
            throw MetaPoolError(.emptyInput, "the input has no header row", at: InputLocation(file: source))
        }
        try DataTable.validateHeader(columns, source: source, line: headerLine)
        if rows.isEmpty {
            throw MetaPoolError(.emptyInput, "the input has a header row but no data rows", at: InputLocation(file: source, line: headerLine))
        }
        var table = DataTable(source: source, columns: columns, rows: rows, lines: lines)
        table.delimiter = delimiter
        return table
    }

    static func csvRecordLines(_ text: String, source: String?, delimiter: CSVDelimiter = .comma) throws(MetaPoolError) -> [Int] {
        let separator = delimiter.rawValue.unicodeScalars.first!
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

@Suite("CSV: the byte-level reader against yaslab/CSV.swift")
struct CSVScannerTests {
    typealias Outcome = Result<DataTable, MetaPoolError>

    static func outcome(_ body: () throws(MetaPoolError) -> DataTable) -> Outcome {
        do { return .success(try body()) } catch { return .failure(error) }
    }

    static func same(_ a: Outcome, _ b: Outcome) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)):
            return x.columns == y.columns && x.rows == y.rows && x.lines == y.lines && x.delimiter == y.delimiter && x.rowNumbers == y.rowNumbers
        case (.failure(let x), .failure(let y)):
            return x.kind == y.kind && x.reason == y.reason && x.location == y.location
        default:
            return false
        }
    }

    /// Pieces the random texts are made of: every byte class the reader treats specially.
    static let pieces = [",", ",", ";", "\t", "\"", "\"\"", "\n", "\n", "\r\n", "\r", " ", "a", "b1", "0,5", "NA", "é", " \u{301}", "x y"]

    @Test("20,000 random texts: the same table or the same error as the reference reader")
    func randomTexts() {
        var state: UInt64 = 20261207
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var differences: [String] = []
        var successes = 0
        let plain = ["a", "b1", "0,5", "NA", "é", " \u{301}", "x y", " ", "", "3", "1e-2"]
        let inside = plain + [",", ";", "\t", "\"\"", "\n", "\r\n"]
        for round in 0..<20_000 {
            let headers: [(text: String, separator: String, count: Int)] = [("a,b,c\n", ",", 3), ("x;y;z\n", ";", 3), ("p\tq\n", "\t", 2), ("\"h,1\",h2\n", ",", 2), ("", ",", 2)]
            let header = headers[next(headers.count)]
            var text = header.text
            let separator = next(8) == 0 ? [",", ";", "\t"][next(3)] : header.separator
            // Rows of fields, plain or quoted, with one raw piece now and then (most rows well formed).
            for _ in 0..<next(6) {
                let fields = (0..<(next(6) == 0 ? 1 + next(4) : header.count)).map { _ -> String in
                    if next(4) == 0 { return "\"" + (0..<next(3)).map { _ in inside[next(inside.count)] }.joined() + "\"" }
                    return (0..<next(3)).map { _ in plain[next(plain.count)] }.joined()
                }
                text += fields.joined(separator: separator)
                if next(20) == 0 { text += Self.pieces[next(Self.pieces.count)] }
                text += ["\n", "\r\n", "\r", "\n\n", ""][next(5)]
            }
            let delimiter: CSVDelimiter? = round % 7 == 0 ? CSVDelimiter.allCases[next(3)] : nil
            let new = Self.outcome { () throws(MetaPoolError) in try DataTable.readCSV(text, source: "r.csv", delimiter: delimiter) }
            let old = Self.outcome { () throws(MetaPoolError) in try ReferenceCSVReader.read(text, source: "r.csv", delimiter: delimiter) }
            if case .success = new { successes += 1 }
            if !Self.same(new, old), differences.count < 5 { differences.append("\(text.debugDescription): \(new) vs \(old)") }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        // The texts reach both outcomes often enough for the comparison to mean something.
        #expect(successes > 2_000 && successes < 18_000, "\(successes) of 20,000 read")
    }

    @Test("the shipped datasets read to the same tables", arguments: ["her2-bm-intracranial-response.csv", "her2-bm-hazard-ratios.csv"])
    func datasets(_ name: String) throws {
        let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let bytes = try DataTable.readBytes(path: "/" + path + "/Datasets/" + name)
        let text = try DataTable.decodeText(bytes, source: name)
        let new = try DataTable.read(bytes: bytes, source: name)
        let old = try ReferenceCSVReader.read(text, source: name)
        #expect(new.rows.count > 5)
        #expect(Self.same(.success(new), .success(old)))
    }
}

// Reading RFC 4180 CSV into a DataTable: yaslab/CSV.swift splits the fields; a structural
// pass first finds where each record starts and rejects what CSV.swift would silently accept.

import CSV

extension DataTable {
    /// Reads CSV text (RFC 4180: comma separator, `"` quoting with `""` escapes, LF or CRLF
    /// line ends, a header row). Blank lines are skipped.
    public static func readCSV(_ text: String, source: String?) throws(MetaPoolError) -> DataTable {
        let records = try csvRecordLines(text, source: source)
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false)
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
                                    "this row has \(what) fields but the header has \(columns.count); check for a missing or extra comma, or quote fields that contain commas",
                                    at: InputLocation(file: source, row: rows.count + 1, line: line))
            }
            rows.append(fields.map { field in
                let t = field.trimmingSpaces()
                return t.isEmpty || t == "NA" ? nil : field
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
        return DataTable(source: source, columns: columns, rows: rows, lines: lines)
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
    static func csvRecordLines(_ text: String, source: String?) throws(MetaPoolError) -> [Int] {
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
                if c != "," && c != "\n" && c != "\r" {
                    throw MetaPoolError(.malformedInput, "text follows a closing quote; a quoted field must end at a comma or the end of the line (write a literal quote as \"\")", at: InputLocation(file: source, line: line))
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
            case ",":
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

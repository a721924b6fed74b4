// Reading JSON Lines (one analysis per line) into one table, so that a batch read from JSON Lines
// selects rows (--where), names studies (--label) and guards against mixed outcomes exactly as a
// batch read from CSV does.

/// JSON Lines input for a batch: the studies of every line as the rows of one table, and the keys
/// each line has.
///
/// Each line is an object with an identifier and one array per column, e.g.
/// `{"analysis": "sim1", "yi": [0.1, 0.3], "vi": [0.02, 0.05], "arm": ["x", "y"]}`. Lines may hold
/// different columns (one `yi`/`vi`, the next `events`/`total`): ``keys`` keeps what each had, so
/// that each analysis's effect sizes are computed from its own columns
/// (``BatchAnalysis/analyses(jsonLines:keys:column:measure:options:)``).
public struct JSONLinesTable: Sendable {
    /// All studies: the identifier column first, then the other keys in order of first appearance
    /// (matched case-insensitively, named as first written). A key a line lacks is a missing
    /// cell. `lines` gives each row's line in the input, `rowNumbers` its study number within the line.
    public var table: DataTable
    /// The identifier column as it is named in ``table``.
    public var idColumn: String
    /// For the line of each analysis, the columns of ``table`` it has (the identifier first).
    public var keys: [Int: [String]]
}

extension DataTable {
    /// Reads JSON Lines: one analysis per line, an object with an identifier under `idColumn`
    /// (matched case-insensitively; a string or a number, kept as written, so `1e2` and `100.0`
    /// are two identifiers) and one array per column, one value per study. Blank lines are
    /// skipped; lines may end in LF or CRLF.
    ///
    /// - Throws: ``MetaPoolError`` naming the line (and for a bad cell the study and column): a
    ///   line that is not a JSON object, no identifier, arrays of different lengths, and two lines
    ///   with the same identifier (compared with spaces trimmed and case ignored, as a CSV batch
    ///   groups its rows: two lines would otherwise give two results under one name).
    public static func readJSONLines(_ text: String, source: String?, idColumn: String = "analysis") throws(MetaPoolError) -> JSONLinesTable {
        let wantedID = idColumn.trimmingSpaces().lowercased()
        var columns: [String] = [idColumn.trimmingSpaces()]
        var columnOf: [String: Int] = [wantedID: 0]
        var rows: [[String?]] = []
        var lines: [Int?] = []
        var rowNumbers: [Int] = []
        var keys: [Int: [String]] = [:]
        var firstLineOfID: [String: (line: Int, id: String)] = [:]
        var lineNumber = 0
        // Split on LF; a CR before it (CRLF) is trimmed with the other spaces. Splitting the
        // scalars, not the Characters: "\r\n" is one Character and would never equal "\n".
        for piece in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(String.UnicodeScalarView(piece)).trimmingSpaces()
            if line.isEmpty { continue }
            let here = lineNumber
            func fail(_ reason: String, row: Int? = nil, column: String? = nil) -> MetaPoolError {
                MetaPoolError(.malformedInput, reason, at: InputLocation(file: source, row: row, line: here, column: column))
            }
            var parser = JSONRowParser(text: line, source: source)
            let members: [(String, JSONLineMember)]
            do {
                members = try parser.parseLineObject()
            } catch {
                throw fail("line \(here) is not valid JSON Lines: \(error.reason); each line must be one object with \"\(idColumn)\" and one array per column")
            }
            var id: String?
            var lineColumns: [Int] = [0]
            var arrays: [(column: Int, cells: [String?])] = []
            for (key, member) in members {
                let name = key.trimmingSpaces()
                let folded = name.lowercased()
                if folded == wantedID {
                    guard id == nil else { throw fail("the line has \"\(idColumn)\" twice (keys differing only in case); keep one", column: name) }
                    switch member {
                    case .cell(.text(let s)): id = s
                    case .cell(.missing): throw fail("\"\(key)\" is null; every line needs an identifier (a string or a number)", column: name)
                    default: throw fail("\"\(key)\" must be a string or a number naming the analysis", column: name)
                    }
                    continue
                }
                guard case .array(let items) = member else {
                    throw fail("\"\(key)\" must be an array with one value per study, e.g. \"\(key)\": [0.1, 0.3]; the identifier is \"\(idColumn)\" (--batch-column names another key)", column: name)
                }
                if name.isEmpty { throw fail("a key is empty; every column needs a name") }
                var cells: [String?] = []
                cells.reserveCapacity(items.count)
                for (i, item) in items.enumerated() {
                    switch item {
                    case .text(let t): cells.append(t)
                    case .missing: cells.append(nil)
                    case .unsupported(let what): throw fail("\(what) in \"\(key)\"; give a number, a string or null", row: i + 1, column: name)
                    }
                }
                let column: Int
                if let c = columnOf[folded] {
                    column = c
                } else {
                    column = columns.count
                    columns.append(name)
                    columnOf[folded] = column
                }
                if lineColumns.contains(column) { throw fail("the line has \"\(key)\" twice (keys differing only in case); keep one", column: name) }
                lineColumns.append(column)
                arrays.append((column, cells))
            }
            guard let id, !id.trimmingSpaces().isEmpty else {
                throw fail("the line has no \"\(idColumn)\" identifier; give each line one, e.g. {\"\(idColumn)\": \"sim1\", \"yi\": [...], \"vi\": [...]}", column: columns[0])
            }
            let idKey = id.trimmingSpaces().lowercased()
            if let first = firstLineOfID[idKey] {
                let same = first.id == id ? "" : " (\"\(first.id)\" there; identifiers are compared with spaces trimmed and case ignored)"
                throw MetaPoolError(.invalidValue,
                                    "analysis \"\(id)\" is also on line \(first.line)\(same); give each line its own identifier, or merge the two lines into one analysis",
                                    at: InputLocation(file: source, line: here, column: columns[0]))
            }
            firstLineOfID[idKey] = (here, id)
            guard let k = arrays.first?.cells.count, k > 0, arrays.allSatisfy({ $0.cells.count == k }) else {
                let counts = arrays.map { "\(columns[$0.column]): \($0.cells.count)" }.joined(separator: ", ")
                throw fail("analysis \(id): the column arrays must be non-empty and of equal length (\(counts.isEmpty ? "no arrays" : counts))")
            }
            keys[here] = lineColumns.map { columns[$0] }
            for i in 0..<k {
                var row = [String?](repeating: nil, count: 0)
                row.reserveCapacity(columns.count)
                row.append(id)
                rows.append(row)
                lines.append(here)
                rowNumbers.append(i + 1)
            }
            // Fill the line's rows once its columns are known (columns may have grown).
            let start = rows.count - k
            for (column, cells) in arrays {
                for i in 0..<k {
                    if rows[start + i].count <= column { rows[start + i] += [String?](repeating: nil, count: column + 1 - rows[start + i].count) }
                    rows[start + i][column] = cells[i]
                }
            }
        }
        guard !rows.isEmpty else {
            throw MetaPoolError(.emptyInput, "no analyses: the JSON Lines input has no objects", at: InputLocation(file: source))
        }
        for r in rows.indices where rows[r].count < columns.count {
            rows[r] += [String?](repeating: nil, count: columns.count - rows[r].count)
        }
        try validateHeader(columns, source: source, line: nil)
        var table = DataTable(source: source, columns: columns, rows: rows, lines: lines)
        table.rowNumbers = rowNumbers
        return JSONLinesTable(table: table, idColumn: columns[0], keys: keys)
    }
}

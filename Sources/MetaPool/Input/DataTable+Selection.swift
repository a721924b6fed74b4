// Row selection (`--where column=value`): analyse part of a file without editing it.

/// One `column=value` condition on the rows of a ``DataTable``.
public struct RowCondition: Sendable, Hashable, CustomStringConvertible {
    /// The column, matched like every column name (case-insensitive, spaces trimmed).
    public var column: String
    /// The value a cell must equal, compared with spaces trimmed and case ignored.
    public var value: String

    /// The condition `column=value`.
    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    /// Parses `column=value`; `nil` when there is no `=` or the column name is empty.
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let column = String(text[..<equals]).trimmingSpaces()
        guard !column.isEmpty else { return nil }
        self.init(column: column, value: String(text[text.index(after: equals)...]).trimmingSpaces())
    }

    /// The condition as `column=value`.
    public var description: String { "\(column)=\(value)" }
}

extension DataTable {
    /// The rows that satisfy the conditions: conditions on the same column are alternatives
    /// (any may hold), conditions on different columns must all hold, as in
    /// `subset = col1 %in% c(...) & col2 == ...` in R. Rows keep their original numbers.
    ///
    /// - Throws: ``MetaPoolError`` `.missingColumn` for a column the table lacks, and
    ///   `.insufficientData` when no row is left.
    public func selecting(_ conditions: [RowCondition]) throws(MetaPoolError) -> DataTable {
        guard !conditions.isEmpty else { return self }
        var byColumn: [(index: Int, values: Set<String>)] = []
        for condition in conditions {
            guard let index = columnIndex(condition.column) else {
                throw MetaPoolError(.missingColumn,
                                    "{setting} names column \"\(condition.column)\", which the input does not have (columns: \(columns.joined(separator: ", ")))",
                                    at: InputLocation(file: source, column: condition.column), setting: .rowSelection)
            }
            let value = condition.value.lowercased()
            if let existing = byColumn.firstIndex(where: { $0.index == index }) {
                byColumn[existing].values.insert(value)
            } else {
                byColumn.append((index, [value]))
            }
        }
        var selected = self
        selected.rows = []
        selected.lines = []
        selected.rowNumbers = []
        for (i, row) in rows.enumerated() {
            let keep = byColumn.allSatisfy { column in
                guard column.index < row.count, let cell = row[column.index] else { return false }
                return column.values.contains(cell.trimmingSpaces().lowercased())
            }
            if keep {
                selected.rows.append(row)
                selected.lines.append(i < lines.count ? lines[i] : nil)
                selected.rowNumbers.append(i < rowNumbers.count ? rowNumbers[i] : i + 1)
            }
        }
        if selected.rows.isEmpty {
            let described = conditions.map { "{setting} \($0)" }.joined(separator: " ")
            throw MetaPoolError(.insufficientData, "no row matches \(described) (of \(rows.count) rows)",
                                at: InputLocation(file: source), setting: .rowSelection)
        }
        return selected
    }
}

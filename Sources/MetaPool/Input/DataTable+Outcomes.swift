// The mixed-outcome guard: rows that measure different things are not pooled into one number
// unless the analysis says so.

extension DataTable {
    /// The columns that say what a row measured, in the order they are checked: `endpoint`,
    /// `outcome` (a review's endpoint column) and `measure` (a row's effect measure), matched
    /// like every column name.
    public static let outcomeColumns = ["endpoint", "outcome", "measure"]

    /// The distinct values of a column among the rows, in order of first appearance, each with
    /// its number of rows; values are compared as ``RowCondition`` compares them (spaces trimmed,
    /// case ignored) and shown as first written. Missing cells are not counted.
    public func distinctValues(ofColumn name: String) -> [(value: String, count: Int)] {
        guard let index = columnIndex(name) else { return [] }
        return Self.distinct(cells(inColumn: index).compactMap { $0 })
    }

    static func distinct(_ cells: [String]) -> [(value: String, count: Int)] {
        var order: [String] = []
        var seen: [String: (value: String, count: Int)] = [:]
        for cell in cells {
            let shown = cell.trimmingSpaces()
            guard !shown.isEmpty else { continue }
            let key = shown.lowercased()
            if let entry = seen[key] {
                seen[key] = (entry.value, entry.count + 1)
            } else {
                seen[key] = (shown, 1)
                order.append(key)
            }
        }
        return order.map { seen[$0]! }
    }

    /// The outcome columns (see ``outcomeColumns``) whose values differ among the rows, or within
    /// a group of rows when `groupColumn` is given (the analyses of a batch), leaving out the
    /// columns in `exempt` (those the analysis selects or compares by). Each with its values.
    public func mixedOutcomes(exempting exempt: [String], within groupColumn: String? = nil)
        -> [(column: String, values: [(value: String, count: Int)])] {
        let exemptIndices = Set(exempt.compactMap { columnIndex($0) })
        let groupIndex = groupColumn.flatMap { columnIndex($0) }
        var mixed: [(column: String, values: [(value: String, count: Int)])] = []
        for name in Self.outcomeColumns {
            guard let index = columnIndex(name), !exemptIndices.contains(index), index != groupIndex else { continue }
            // Group the rows (one group without a group column) and look for a group that mixes.
            var groups: [String: [String]] = [:]
            var groupOrder: [String] = []
            for row in 0..<rowCount {
                let group = groupIndex.flatMap { cell(row: row, column: $0) }?.trimmingSpaces().lowercased() ?? ""
                guard let cell = cell(row: row, column: index) else { continue }
                if groups[group] == nil { groupOrder.append(group) }
                groups[group, default: []].append(cell)
            }
            for group in groupOrder {
                let values = Self.distinct(groups[group]!)
                if values.count > 1 {
                    mixed.append((columns[index].trimmingSpaces(), values))
                    break
                }
            }
        }
        return mixed
    }

    /// Refuses rows that mix outcomes: when an outcome column (``outcomeColumns``) that the
    /// analysis neither selects on nor compares by holds more than one value, pooling would give
    /// one number for different outcomes, and may count the same patients more than once.
    ///
    /// - Parameters:
    ///   - exempt: the columns the analysis selects rows by or fits subgroups of.
    ///   - groupColumn: the column naming separate analyses (a batch): values must agree within each.
    /// - Throws: ``MetaPoolError`` `.mixedOutcomes`, naming the column and listing its values with
    ///   their row counts.
    public func requireSingleOutcome(exempting exempt: [String], within groupColumn: String? = nil) throws(MetaPoolError) {
        guard let (column, values) = mixedOutcomes(exempting: exempt, within: groupColumn).first else { return }
        let listed = values.prefix(20).map { "\($0.value) (\($0.count) row\($0.count == 1 ? "" : "s"))" }.joined(separator: ", ")
            + (values.count > 20 ? ", and \(values.count - 20) more" : "")
        let scope = groupColumn.map { " within one \($0)" } ?? ""
        throw MetaPoolError(.mixedOutcomes,
                            "the rows\(scope) mix \(values.count) values of \(column): \(listed); pooling them gives one number for different outcomes and may count the same patients more than once",
                            at: InputLocation(file: source, column: column),
                            remedy: .outcome(column: column, example: values[0].value))
    }
}

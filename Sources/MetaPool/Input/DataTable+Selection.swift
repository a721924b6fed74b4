// Row selection (`--where column=value`, `--where column!=value`): analyse part of a file
// without editing it, e.g. a sensitivity analysis without one study.

/// One `column=value` (keep) or `column!=value` (leave out) condition on the rows of a ``DataTable``.
public struct RowCondition: Sendable, Hashable, CustomStringConvertible {
    /// The column, matched like every column name (case-insensitive, spaces trimmed).
    public var column: String
    /// The value a cell must equal (or, with `excludes`, must not equal), compared with spaces
    /// trimmed and case ignored.
    public var value: String
    /// Whether rows holding `value` are left out (`column!=value`) rather than kept.
    public var excludes: Bool

    /// The condition `column=value`, or `column!=value` when `excludes`.
    public init(column: String, value: String, excludes: Bool = false) {
        self.column = column
        self.value = value
        self.excludes = excludes
    }

    /// Parses `column=value` or `column!=value`; `nil` when there is no `=` or the column name is empty.
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        var name = text[..<equals]
        let excludes = name.hasSuffix("!")
        if excludes { name = name.dropLast() }
        let column = String(name).trimmingSpaces()
        guard !column.isEmpty else { return nil }
        self.init(column: column, value: String(text[text.index(after: equals)...]).trimmingSpaces(), excludes: excludes)
    }

    /// The condition as `column=value` or `column!=value`.
    public var description: String { "\(column)\(excludes ? "!=" : "=")\(value)" }
}

extension DataTable {
    /// The rows that satisfy the conditions: `column=value` conditions on the same column are
    /// alternatives (any may hold), conditions on different columns must all hold, and a row
    /// whose cell equals a `column!=value` is left out, as in
    /// `subset = col1 %in% c(...) & col2 == ... & !(col3 %in% c(...))` in R. Rows keep their
    /// original numbers.
    ///
    /// - Throws: ``MetaPoolError`` `.missingColumn` for a column the table lacks, and
    ///   `.insufficientData` when no row is left or a `column!=value` matches no row (a
    ///   misspelt exclusion would otherwise silently leave everything in).
    public func selecting(_ conditions: [RowCondition]) throws(MetaPoolError) -> DataTable {
        guard !conditions.isEmpty else { return self }
        var byColumn: [(index: Int, values: Set<String>, excluded: Set<String>)] = []
        for condition in conditions {
            guard let index = columnIndex(condition.column) else {
                throw MetaPoolError(.missingColumn,
                                    "{setting} names column \"\(condition.column)\", which the input does not have (columns: \(columns.joined(separator: ", ")))",
                                    at: InputLocation(file: source, column: condition.column), setting: .rowSelection)
            }
            let value = condition.value.trimmingSpaces().lowercased()
            let existing = byColumn.firstIndex(where: { $0.index == index }) ?? {
                byColumn.append((index, [], []))
                return byColumn.count - 1
            }()
            if condition.excludes {
                byColumn[existing].excluded.insert(value)
            } else {
                byColumn[existing].values.insert(value)
            }
        }
        for condition in conditions where condition.excludes {
            let present = distinctValues(ofColumn: condition.column)
            let wanted = condition.value.trimmingSpaces().lowercased()
            if !present.contains(where: { $0.value.trimmingSpaces().lowercased() == wanted }) {
                let name = columns[columnIndex(condition.column) ?? 0].trimmingSpaces()
                let listed = present.prefix(20).map(\.value).joined(separator: ", ") + (present.count > 20 ? ", and \(present.count - 20) more" : "")
                let near = Self.nearest(to: [condition.value], among: present.map(\.value))
                let suggestion = near.isEmpty ? "" : "; did you mean \(near.joined(separator: " or "))?"
                throw MetaPoolError(.insufficientData,
                                    "{setting} \(condition) leaves out no row: no \(name) cell holds \"\(condition.value)\" (\(name) holds \(listed))\(suggestion)",
                                    at: InputLocation(file: source, column: name), setting: .rowSelection)
            }
        }
        var kept: [Int] = []
        for i in 0..<rowCount {
            let keep = byColumn.allSatisfy { column in
                let cell = cell(row: i, column: column.index)?.trimmingSpaces().lowercased()
                if let cell, column.excluded.contains(cell) { return false }
                guard !column.values.isEmpty else { return true }
                guard let cell else { return false }
                return column.values.contains(cell)
            }
            if keep { kept.append(i) }
        }
        if kept.isEmpty {
            let described = conditions.map { "{setting} \($0)" }.joined(separator: " ")
            throw MetaPoolError(.insufficientData, "no row matches \(described) (of \(rowCount) rows)\(unmatchedHint(conditions))",
                                at: InputLocation(file: source), setting: .rowSelection)
        }
        return selectingRows(kept)
    }

    /// For the first condition's column none of whose values any row has: the values the column
    /// holds (up to 20, with their row counts) and the nearest to what was asked; empty when each
    /// column matches some row (it is their combination that matches none).
    func unmatchedHint(_ conditions: [RowCondition]) -> String {
        var columnsSeen: [Int] = []
        for condition in conditions {
            guard let index = columnIndex(condition.column), !columnsSeen.contains(index) else { continue }
            columnsSeen.append(index)
            let asked = conditions.filter { columnIndex($0.column) == index && !$0.excludes }.map(\.value)
            guard !asked.isEmpty else { continue }
            let present = distinctValues(ofColumn: condition.column)
            let presentKeys = Set(present.map { $0.value.lowercased() })
            guard !asked.contains(where: { presentKeys.contains($0.trimmingSpaces().lowercased()) }) else { continue }
            let name = columns[index].trimmingSpaces()
            guard !present.isEmpty else { return "; column \(name) has no values" }
            let listed = present.prefix(20).map { "\($0.value) (\($0.count) row\($0.count == 1 ? "" : "s"))" }.joined(separator: ", ")
                + (present.count > 20 ? ", and \(present.count - 20) more" : "")
            let near = Self.nearest(to: asked, among: present.map(\.value))
            let suggestion = near.isEmpty ? "" : "; did you mean \(near.joined(separator: " or "))?"
            return "; \(name) holds \(listed)\(suggestion)"
        }
        return ""
    }

    /// The values nearest to any of `asked`, ignoring case and surrounding spaces: those at the
    /// smallest edit distance (optimal string alignment: insertions, deletions, substitutions and
    /// transpositions of adjacent characters; Damerau 1964) when it is at most a third of the
    /// asked value's length (at least 1, at most 3), together with values that contain the asked
    /// one or are contained in it. At most three, in the column's order.
    static func nearest(to asked: [String], among values: [String]) -> [String] {
        var best = Int.max
        var scored: [(value: String, distance: Int)] = []
        for value in values {
            let v = value.trimmingSpaces().lowercased()
            var distance = Int.max
            for a in asked {
                let w = a.trimmingSpaces().lowercased()
                guard !w.isEmpty else { continue }
                let limit = min(3, max(1, w.count / 3))
                let d = editDistance(w, v)
                if d <= limit { distance = min(distance, d) }
                if w.count >= 2 && (v.contains(w) || (v.count >= 2 && w.contains(v))) { distance = min(distance, limit) }
            }
            guard distance != Int.max else { continue }
            scored.append((value, distance))
            best = min(best, distance)
        }
        return Array(scored.filter { $0.distance == best }.map(\.value).prefix(3))
    }

    /// The optimal string alignment distance between two strings (Damerau 1964, restricted so
    /// that no substring is edited twice): the fewest insertions, deletions, substitutions and
    /// adjacent transpositions of characters turning `a` into `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }
}

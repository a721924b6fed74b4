// From a table read from a file to effect sizes: the columns present decide the data family.

extension DataFamily {
    /// The families whose columns are all present in the table, in the documented order of the input families.
    static func detect(in table: DataTable) -> [DataFamily] {
        var found: [DataFamily] = []
        let has = { (name: String) in table.columnIndex(name) != nil }
        if has("events") && has("total") { found.append(.proportion) }
        if has("treat_events") && has("treat_total") && has("control_events") && has("control_total") { found.append(.twoGroup) }
        if (has("hr") && has("hr_lower") && has("hr_upper")) || (has("log_hr") && has("se")) { found.append(.hazardRatio) }
        if has("yi") && (has("vi") || has("se")) { found.append(.generic) }
        return found
    }
}

extension EffectSizes {
    /// Computes effect sizes from a table. Without `measure`, the columns decide the family
    /// and the family's default measure is used (PLO, OR, HR or GEN).
    public init(table: DataTable, measure: EffectMeasure? = nil) throws(MetaPoolError) {
        let families = DataFamily.detect(in: table)
        let family: DataFamily
        if let measure {
            guard families.contains(measure.family) else {
                throw MetaPoolError(.missingColumn,
                                    "measure \(measure.rawValue) needs the columns \(measure.family.columnsDescription); the input has \(Self.listColumns(table))",
                                    at: InputLocation(file: table.source))
            }
            family = measure.family
        } else {
            guard let first = families.first else {
                throw MetaPoolError(.missingColumn,
                                    "no known set of columns: the input has \(Self.listColumns(table)); give \(DataFamily.allCases.map(\.columnsDescription).joined(separator: "; or "))",
                                    at: InputLocation(file: table.source))
            }
            guard families.count == 1 else {
                throw MetaPoolError(.invalidArgument,
                                    "the columns fit more than one kind of data (\(families.map(\.rawValue).joined(separator: ", ")))",
                                    at: InputLocation(file: table.source), remedy: .measure)
            }
            family = first
        }
        let measure = measure ?? family.measures[0]
        let reader = ColumnReader(table: table)
        let labels = reader.labels()
        let locations = (0..<table.rows.count).map { table.location(row: $0) }
        switch family {
        case .proportion:
            self = try .proportions(events: reader.numbers("events"), totals: reader.numbers("total"), measure: measure, labels: labels, locations: locations)
        case .twoGroup:
            self = try .twoGroup(treatEvents: reader.numbers("treat_events"), treatTotals: reader.numbers("treat_total"),
                                 controlEvents: reader.numbers("control_events"), controlTotals: reader.numbers("control_total"),
                                 measure: measure, labels: labels, locations: locations)
        case .hazardRatio:
            if table.columnIndex("hr") != nil, table.columnIndex("hr_lower") != nil, table.columnIndex("hr_upper") != nil {
                self = try .hazardRatios(reader.numbers("hr"), lower: reader.numbers("hr_lower"), upper: reader.numbers("hr_upper"), labels: labels, locations: locations)
            } else {
                self = try .logHazardRatios(reader.numbers("log_hr"), standardErrors: reader.numbers("se"), labels: labels, locations: locations)
            }
        case .generic:
            let yi = try reader.numbers("yi")
            let vi: [Double]
            if table.columnIndex("vi") != nil {
                vi = try reader.numbers("vi")
            } else {
                let se = try reader.numbers("se")
                try EffectSizes.validateStandardErrors(se, column: table.columns[table.columnIndex("se")!], locations: locations)
                vi = se.map { $0 * $0 }
            }
            self = try EffectSizes(measure: .generic, yi: yi, vi: vi, labels: labels, totals: nil,
                                   locations: locations.map { var l = $0; l.column = nil; return l })
        }
    }

    private static func listColumns(_ table: DataTable) -> String {
        table.columns.isEmpty ? "no columns" : "columns " + table.columns.map { "`\($0)`" }.joined(separator: ", ")
    }
}

/// Reads typed columns out of a DataTable, naming the cell in every error.
struct ColumnReader {
    let table: DataTable

    /// The label column (``DataTable/labelColumn``), or "Study i" where it is absent or empty.
    func labels() -> [String] {
        guard let c = table.labelColumnIndex else { return (0..<table.rows.count).map { "Study \($0 + 1)" } }
        return table.rows.enumerated().map { i, row in
            let t = (c < row.count ? row[c] : nil)?.trimmingSpaces() ?? ""
            return t.isEmpty ? "Study \(i + 1)" : t
        }
    }

    /// A numeric column; every cell must be a finite decimal number.
    func numbers(_ name: String) throws(MetaPoolError) -> [Double] {
        guard let c = table.columnIndex(name) else {
            throw MetaPoolError(.missingColumn, "the column is missing", at: InputLocation(file: table.source, column: name))
        }
        let column = table.columns[c]
        var values: [Double] = []
        values.reserveCapacity(table.rows.count)
        for (i, row) in table.rows.enumerated() {
            // A table built in code can have rows shorter than its header (CSV and JSON reading never make one).
            guard c < row.count else {
                throw MetaPoolError(.malformedInput, "this row has \(row.count) cells but the table has \(table.columns.count) columns; every row needs one cell per column", at: table.location(row: i, column: column))
            }
            guard let cell = row[c] else {
                throw MetaPoolError(.invalidValue, "the cell is empty; every study needs a value here (remove the row to leave the study out)", at: table.location(row: i, column: column))
            }
            values.append(try Self.parseNumber(cell, at: table.location(row: i, column: column)))
        }
        return values
    }

    /// Parses a plain decimal number (`12`, `-0.5`, `1.2e-3`); rejects hex, comma decimals and
    /// thousands separators (named by `DataTable.commaHint`),
    /// NaN, infinities and values that overflow a Double.
    static func parseNumber(_ text: String, at location: InputLocation) throws(MetaPoolError) -> Double {
        let t = text.trimmingSpaces()
        let shown = t.count > 40 ? String(t.prefix(40)) + "…" : t
        var sawDigit = false, sawDot = false, sawExp = false, expDigit = true
        var previous: UInt8 = 0
        for (n, b) in t.utf8.enumerated() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if sawExp { expDigit = true } else { sawDigit = true }
            case UInt8(ascii: "."):
                if sawDot || sawExp { return try fail() }
                sawDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                if sawExp || !sawDigit { return try fail() }
                sawExp = true
                expDigit = false
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                if !(n == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E")) { return try fail() }
            default:
                return try fail()
            }
            previous = b
        }
        guard sawDigit, expDigit, let value = Double(t) else { return try fail() }
        guard value.isFinite else {
            throw MetaPoolError(.invalidValue, "\(shown) is too large to represent as a number", at: location)
        }
        return value

        func fail() throws(MetaPoolError) -> Double {
            let lower = t.lowercased()
            if ["nan", "inf", "-inf", "+inf", "infinity", "-infinity"].contains(lower) {
                throw MetaPoolError(.invalidValue, "\(shown) is not a finite number", at: location)
            }
            if let hint = DataTable.commaHint(t) { throw MetaPoolError(.invalidValue, hint, at: location) }
            throw MetaPoolError(.invalidValue, "\"\(shown)\" is not a number", at: location)
        }
    }
}

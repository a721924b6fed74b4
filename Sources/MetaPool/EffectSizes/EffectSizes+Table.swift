// From a table read from a file to effect sizes: the columns present decide the data family.

extension DataFamily {
    /// The families whose columns are all present in the table, in the documented order of the input families.
    static func detect(in table: DataTable) -> [DataFamily] {
        var found: [DataFamily] = []
        let has = { (name: String) in table.columnIndex(name) != nil }
        if has("events") && has("total") { found.append(.proportion) }
        if has("treat_events") && has("treat_total") && has("control_events") && has("control_total") { found.append(.twoGroup) }
        if HazardRatioSource.detect(in: table) != nil { found.append(.hazardRatio) }
        if has("yi") && (has("vi") || has("se")) { found.append(.generic) }
        return found
    }
}

/// Where the log hazard ratios of a table come from, in the order the columns are looked for.
enum HazardRatioSource: CaseIterable {
    /// `hr`, `hr_lower`, `hr_upper` (and optionally `hr_level`).
    case interval
    /// `log_hr` and `se`.
    case logScale
    /// `o_minus_e` and `v` (the log-rank O − E and its variance V).
    case observedMinusExpected
    /// `hr` and a two-sided `p_value`.
    case pValue

    /// The columns this source needs.
    var columns: [String] {
        switch self {
        case .interval: ["hr", "hr_lower", "hr_upper"]
        case .logScale: ["log_hr", "se"]
        case .observedMinusExpected: ["o_minus_e", "v"]
        case .pValue: ["hr", "p_value"]
        }
    }

    /// The first source whose columns the table has.
    static func detect(in table: DataTable) -> HazardRatioSource? {
        allCases.first { $0.columns.allSatisfy { table.columnIndex($0) != nil } }
    }
}

extension EffectSizes {
    /// The family of a table for `measure` (or from its columns) and the columns its effect sizes are computed from.
    static func source(of table: DataTable, measure: EffectMeasure?) throws(MetaPoolError) -> (family: DataFamily, columns: [String]) {
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
        switch family {
        case .proportion: return (family, ["events", "total"])
        case .twoGroup: return (family, ["treat_events", "treat_total", "control_events", "control_total"])
        case .hazardRatio: return (family, HazardRatioSource.detect(in: table)?.columns ?? [])
        case .generic: return (family, ["yi", table.columnIndex("vi") != nil ? "vi" : "se"])
        }
    }

    /// Computes effect sizes from a table. Without `measure`, the columns decide the family
    /// and the family's default measure is used (PLO, OR, HR or GEN).
    ///
    /// `options` set the continuity correction of counts (escalc's `add`, `to`, `drop00`), the
    /// level of hazard-ratio intervals without an `hr_level` column, and whether rows with an
    /// empty cell are left out (listed in ``excluded``) rather than refused.
    public init(table: DataTable, measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions()) throws(MetaPoolError) {
        try options.continuityCorrection.validate()
        let (family, _) = try Self.source(of: table, measure: measure)
        let (table, excluded) = try table.excludingStudies(measure: measure, options: options)
        let measure = measure ?? family.measures[0]
        let reader = ColumnReader(table: table)
        let labels = reader.labels()
        let locations = StudyLocations(table: table)
        let correction = options.continuityCorrection
        switch family {
        case .proportion:
            self = try .proportions(events: reader.numbers("events"), totals: reader.numbers("total"), measure: measure, labels: labels,
                                    locations: locations, correction: correction)
        case .twoGroup:
            self = try .twoGroup(treatEvents: reader.numbers("treat_events"), treatTotals: reader.numbers("treat_total"),
                                 controlEvents: reader.numbers("control_events"), controlTotals: reader.numbers("control_total"),
                                 measure: measure, labels: labels, locations: locations, correction: correction)
        case .hazardRatio:
            switch HazardRatioSource.detect(in: table) {
            case .interval?:
                let levels = try reader.levels("hr_level", default: options.hazardRatioLevel)
                self = try .hazardRatios(reader.numbers("hr"), lower: reader.numbers("hr_lower"), upper: reader.numbers("hr_upper"),
                                         levels: levels, labels: labels, locations: locations)
            case .observedMinusExpected?:
                self = try .observedMinusExpected(reader.numbers("o_minus_e"), variances: reader.numbers("v"), labels: labels, locations: locations)
            case .pValue?:
                self = try .hazardRatios(reader.numbers("hr"), pValues: reader.pValues("p_value"), labels: labels, locations: locations)
            case .logScale?, nil:
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
                                   locations: locations)
        }
        self.excluded = excluded
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
        guard let c = table.labelColumnIndex else { return (0..<table.rowCount).map { "Study \($0 + 1)" } }
        return table.cells(inColumn: c).enumerated().map { i, cell in
            let t = cell?.trimmingSpaces() ?? ""
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
        values.reserveCapacity(table.rowCount)
        for (i, cell) in table.cells(inColumn: c).enumerated() {
            // A table built in code can have rows shorter than its header (CSV and JSON reading never make one).
            let count = table.cellCount(ofRow: i)
            guard c < count else {
                throw MetaPoolError(.malformedInput, "this row has \(count) cells but the table has \(table.columns.count) columns; every row needs one cell per column", at: table.location(row: i, column: column))
            }
            guard let cell else {
                throw MetaPoolError(.invalidValue, "the cell is empty; every study needs a value here", at: table.location(row: i, column: column), remedy: .dropMissing)
            }
            // Good cells without building an error's location; a bad one gets its message from parseNumber.
            if let value = Self.plainNumber(cell) { values.append(value); continue }
            values.append(try Self.parseNumber(cell, at: table.location(row: i, column: column)))
        }
        return values
    }

    /// A column of p-values: numbers, with a hint for bounds such as "<0.001", which give no standard error.
    func pValues(_ name: String) throws(MetaPoolError) -> [Double] {
        if let c = table.columnIndex(name) {
            for (i, cell) in table.cells(inColumn: c).enumerated() {
                guard let cell = cell?.trimmingSpaces(), let first = cell.first, "<>≤≥".contains(first) else { continue }
                throw MetaPoolError(.invalidValue, "\"\(cell)\" is a bound, not a p-value; the standard error needs the exact p-value (or give hr_lower and hr_upper)",
                                    at: table.location(row: i, column: table.columns[c]))
            }
        }
        return try numbers(name)
    }

    /// Confidence levels from an optional column (a proportion such as 0.9, or a percentage such
    /// as 90 or "90%"; see ``EffectSizeOptions/parseLevel(_:)``); an absent column or an empty
    /// cell gives `fallback`.
    func levels(_ name: String, default fallback: Double) throws(MetaPoolError) -> [Double] {
        guard let c = table.columnIndex(name) else { return Array(repeating: fallback, count: table.rowCount) }
        var values: [Double] = []
        for (i, cell) in table.cells(inColumn: c).enumerated() {
            guard let cell, !cell.trimmingSpaces().isEmpty else { values.append(fallback); continue }
            switch EffectSizeOptions.parseLevel(cell) {
            case .success(let level): values.append(level)
            case .failure(let e): throw MetaPoolError(.invalidValue, e.reason, at: table.location(row: i, column: table.columns[c]))
            }
        }
        return values
    }

    /// `text` as ``parseNumber(_:at:)`` reads it where that succeeds, else `nil` (and no message).
    static func plainNumber(_ text: String) -> Double? {
        let t = text.trimmingSpaces()
        guard isPlainDecimal(t), let value = Double(t), value.isFinite else { return nil }
        return value
    }

    /// Whether `t` is written as a plain decimal number: digits with at most one point, an
    /// optional sign, an optional exponent with its own sign and digits.
    private static func isPlainDecimal(_ t: String) -> Bool {
        var sawDigit = false, sawDot = false, sawExp = false, expDigit = true
        var previous: UInt8 = 0
        for (n, b) in t.utf8.enumerated() {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if sawExp { expDigit = true } else { sawDigit = true }
            case UInt8(ascii: "."):
                if sawDot || sawExp { return false }
                sawDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                if sawExp || !sawDigit { return false }
                sawExp = true
                expDigit = false
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                if !(n == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E")) { return false }
            default:
                return false
            }
            previous = b
        }
        return sawDigit && expDigit
    }

    /// Parses a plain decimal number (`12`, `-0.5`, `1.2e-3`); rejects hex, comma decimals and
    /// thousands separators (named by `DataTable.commaHint`),
    /// NaN, infinities and values that overflow a Double.
    /// `location` is only built for an error (a column of 10⁶ good cells builds none).
    static func parseNumber(_ text: String, at location: @autoclosure () -> InputLocation) throws(MetaPoolError) -> Double {
        let t = text.trimmingSpaces()
        var shown: String { t.count > 40 ? String(t.prefix(40)) + "…" : t }
        guard isPlainDecimal(t), let value = Double(t) else { return try fail() }
        guard value.isFinite else {
            throw MetaPoolError(.invalidValue, "\(shown) is too large to represent as a number", at: location())
        }
        return value

        func fail() throws(MetaPoolError) -> Double {
            let lower = t.lowercased()
            if ["nan", "inf", "-inf", "+inf", "infinity", "-infinity"].contains(lower) {
                throw MetaPoolError(.invalidValue, "\(shown) is not a finite number", at: location())
            }
            if let hint = DataTable.commaHint(t) { throw MetaPoolError(.invalidValue, hint, at: location()) }
            throw MetaPoolError(.invalidValue, "\"\(shown)\" is not a number", at: location())
        }
    }
}

extension DataTable {
    /// Reads `text` by the number rules of the effect columns: a plain finite decimal number
    /// (`12`, `-0.5`, `1.2e-3`); hex, NaN, infinities, overflowing values, decimal commas and
    /// thousands separators are errors at `location`. For columns other than the effect columns
    /// that must be numeric (`--order-by`), so that every number in the input is read alike.
    public static func number(_ text: String, at location: InputLocation) throws(MetaPoolError) -> Double {
        try ColumnReader.parseNumber(text, at: location)
    }
}

// How effect sizes are derived from a table's columns, beyond the measure: metafor escalc()'s
// continuity correction (add, to, drop00), the level of hazard-ratio intervals, and leaving out
// rows with missing cells (rma()'s na.omit).

/// The continuity correction of counts, as metafor's `escalc(add, to, drop00)`.
///
/// `to` says which studies get `add` added to their cells: `only0` those with a zero cell (the
/// default), `all` every study, `if0all` every study when any has a zero cell, `none` no study.
/// For two-group counts the cells are a, b, c, d; for single proportions the events and the
/// non-events. As in escalc, the default `add` is ½, and 0 for the variance-stabilising `PAS` and
/// `PFT`, which need no correction (an explicit `add` applies to them too).
/// `dropDoubleZero` leaves out two-group studies with no events in either group, or only events
/// in both (escalc's `drop00`, which applies to the two-group measures only).
public struct ContinuityCorrection: Sendable, Hashable {
    /// Which studies are corrected (escalc's `to`).
    public enum Target: String, Sendable, Hashable, CaseIterable {
        /// Studies with a zero cell (escalc's default).
        case onlyZero = "only0"
        /// Every study.
        case all
        /// Every study, when any study has a zero cell.
        case ifAnyZeroAll = "if0all"
        /// No study.
        case none
    }

    /// The value added to the cells (escalc's `add`); `nil` for escalc's default (½, 0 for PAS and PFT).
    public var add: Double?
    /// Which studies get it.
    public var to: Target
    /// Leave out two-group studies without events in either group, or with only events in both.
    public var dropDoubleZero: Bool

    /// escalc's defaults: `add = 1/2`, `to = "only0"`, `drop00 = FALSE`.
    public init(add: Double? = nil, to: Target = .onlyZero, dropDoubleZero: Bool = false) {
        self.add = add
        self.to = to
        self.dropDoubleZero = dropDoubleZero
    }

    /// The value added for `measure`: `add`, or escalc's default for it.
    func amount(for measure: EffectMeasure) -> Double {
        if let add { return add }
        return measure == .arcsineProportion || measure == .freemanTukeyProportion ? 0 : 0.5
    }

    /// Whether a study with (or without) a zero cell is corrected, given whether any study has one.
    func corrects(hasZero: Bool, anyZero: Bool) -> Bool {
        switch to {
        case .onlyZero: hasZero
        case .all: true
        case .ifAnyZeroAll: anyZero
        case .none: false
        }
    }

    /// Checks `add`: finite and ≥ 0.
    public func validate() throws(MetaPoolError) {
        if let add, !(add.isFinite && add >= 0) {
            throw MetaPoolError(.invalidArgument, "the continuity correction added to the cells must be a finite number ≥ 0; got \(add)")
        }
    }
}

/// Settings for deriving effect sizes from a table (``EffectSizes/init(table:measure:options:)``).
public struct EffectSizeOptions: Sendable, Hashable {
    /// The continuity correction of counts.
    public var continuityCorrection: ContinuityCorrection
    /// The confidence level of the `hr_lower`/`hr_upper` intervals, where no `hr_level` column gives it per row.
    public var hazardRatioLevel: Double
    /// Leave out rows with an empty (or `NA`) cell in a column the measure needs, as metafor's
    /// `na.omit`, instead of refusing them.
    public var dropMissing: Bool

    /// The defaults: escalc's continuity correction, 95% hazard-ratio intervals, rows with empty cells refused.
    public init(continuityCorrection: ContinuityCorrection = ContinuityCorrection(), hazardRatioLevel: Double = 0.95,
                dropMissing: Bool = false) {
        self.continuityCorrection = continuityCorrection
        self.hazardRatioLevel = hazardRatioLevel
        self.dropMissing = dropMissing
    }

    /// Whether every setting is the default (the output then records none of them).
    public var isDefault: Bool { self == EffectSizeOptions() }

    /// Reads a confidence level given as a proportion (0.9) or a percentage (90, or "90%").
    ///
    /// Accepted: proportions from 0.5 to below 1, percentages from 50 to below 100. Refused as
    /// ambiguous or mistaken: values below 0.5 (0.05 looks like a significance level α), from 1 to
    /// below 50 (5 could be α in percent or a mistyped proportion), and 100 or more.
    /// - Returns: the level as a proportion, or a sentence saying why the text is refused.
    public static func parseLevel(_ text: String) -> Result<Double, LevelError> {
        var t = text.trimmingSpaces()
        var percent = false
        if t.hasSuffix("%") {
            percent = true
            t = String(t.dropLast()).trimmingSpaces()
        }
        guard let v = Double(t), v.isFinite else { return .failure(LevelError("\"\(text)\" is not a confidence level; give it as 0.95 or 95")) }
        if percent || v >= 1 {
            if v >= 50 && v < 100 { return .success(v / 100) }
            if v >= 100 { return .failure(LevelError("\(text) is not a confidence level: a level must be below 100% (give 0.95 or 95)")) }
            if percent { return .failure(LevelError("\(text) is not a usable confidence level: give one from 50% to below 100%, e.g. 95%")) }
            return .failure(LevelError("\(text) is ambiguous as a confidence level: give a proportion below 1 (0.95) or a percentage from 50 to below 100 (95); a value like 5 may be α in percent"))
        }
        if v >= 0.5 { return .success(v) }
        if v > 0 { return .failure(LevelError("\(text) looks like a significance level α, not a confidence level; give the level of the interval, e.g. 0.95 (or 95) for α = 0.05")) }
        return .failure(LevelError("\(text) is not a confidence level; give it as 0.95 or 95"))
    }

    /// Why a confidence level was refused.
    public struct LevelError: Error, Sendable, Hashable {
        /// The sentence saying so.
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

/// A row left out of the analysis: for an empty cell (`dropMissing`) or as a double-zero study (`drop00`).
public struct ExcludedRow: Sendable, Hashable {
    /// The 1-based data row of the input.
    public var row: Int?
    /// The study label of the row.
    public var study: String
    /// The empty column, for a row left out for a missing value; `nil` for a double-zero study.
    public var column: String?
    /// Why the row was left out, in words.
    public var reason: String

    /// The row as the note on standard error says it: `row 3 (study "X"): column "events" is empty`.
    public var description: String {
        "row \(row.map(String.init) ?? "?") (study \"\(study)\"): " + (column.map { "column \"\($0)\" is empty" } ?? reason)
    }
}

extension DataTable {
    /// The rows the effect sizes are computed from, and the rows left out: with `dropMissing`
    /// those with an empty or `NA` cell in a column the measure needs (metafor's `na.omit`), with
    /// `dropDoubleZero` the two-group studies without events in either group or with only
    /// events in both (escalc's `drop00`). Other settings leave every row in.
    ///
    /// Row numbers and lines stay those of the input, so later errors still name the right row.
    /// - Throws: ``MetaPoolError`` as ``EffectSizes/init(table:measure:options:)`` does for
    ///   columns that fit no measure, `.invalidArgument` for `drop00` with single proportions,
    ///   and `.insufficientData` when no row is left.
    public func excludingStudies(measure: EffectMeasure?, options: EffectSizeOptions) throws(MetaPoolError)
        -> (table: DataTable, excluded: [ExcludedRow]) {
        let (kept, excluded) = try partitioningStudies(measure: measure, options: options)
        guard kept.rowCount == 0, options.dropMissing || options.continuityCorrection.dropDoubleZero else { return (kept, excluded) }
        throw Self.noRowLeft(excluded, of: rowCount, source: source)
    }

    /// The error of ``excludingStudies(measure:options:)`` when every row was left out.
    static func noRowLeft(_ excluded: [ExcludedRow], of count: Int, source: String?) -> MetaPoolError {
        MetaPoolError(.insufficientData,
                      "every row was left out (\(excluded.count) of \(count): \(excluded.prefix(3).map(\.description).joined(separator: "; "))\(excluded.count > 3 ? "; …" : "")); there are no studies",
                      at: InputLocation(file: source))
    }

    /// ``excludingStudies(measure:options:)`` without the error when no row is left (a batch
    /// drops such an analysis, as a CSV batch does).
    func partitioningStudies(measure: EffectMeasure?, options: EffectSizeOptions) throws(MetaPoolError)
        -> (table: DataTable, excluded: [ExcludedRow]) {
        guard options.dropMissing || options.continuityCorrection.dropDoubleZero else { return (self, []) }
        let source = try EffectSizes.source(of: self, measure: measure)
        if options.continuityCorrection.dropDoubleZero && source.family != .twoGroup {
            throw MetaPoolError(.invalidArgument,
                                "{setting} applies to two-group counts (studies with no events, or only events, in both groups); escalc ignores it for \(source.family == .proportion ? "single proportions" : "these columns")",
                                at: InputLocation(file: self.source), setting: .dropDoubleZero)
        }
        let needed = source.columns.compactMap { name in columnIndex(name).map { (name: columns[$0], index: $0) } }
        let labels = ColumnReader(table: self).labels()
        var keep: [Int] = []
        var excluded: [ExcludedRow] = []
        for r in 0..<rowCount {
            let number = r < rowNumbers.count ? rowNumbers[r] : r + 1
            if options.dropMissing, let empty = needed.first(where: { cell(row: r, column: $0.index) == nil }) {
                excluded.append(ExcludedRow(row: number, study: labels[r], column: empty.name, reason: "column \"\(empty.name)\" is empty"))
                continue
            }
            if options.continuityCorrection.dropDoubleZero, isDoubleZero(row: r, columns: needed.map(\.index)) {
                excluded.append(ExcludedRow(row: number, study: labels[r], column: nil,
                                            reason: "no events in either group, or only events in both (drop00)"))
                continue
            }
            keep.append(r)
        }
        return (selectingRows(keep), excluded)
    }

    /// Whether the counts treat_events, treat_total, control_events, control_total (at `columns`)
    /// have a = c = 0 or b = d = 0; cells that are not plain numbers count as not double-zero
    /// (the effect sizes then report them).
    private func isDoubleZero(row: Int, columns: [Int]) -> Bool {
        guard columns.count == 4 else { return false }
        let values = columns.map { c -> Double? in cell(row: row, column: c).flatMap { Double($0.trimmingSpaces()) } }
        guard let a = values[0], let n1 = values[1], let c = values[2], let n2 = values[3] else { return false }
        return (a == 0 && c == 0) || (a == n1 && c == n2 && n1 > 0 && n2 > 0)
    }
}

// The raw 2×2 tables of two-group binary studies, for the methods that pool counts directly
// (Mantel–Haenszel, Peto) rather than per-study effect sizes.

/// The 2×2 table of each study: aᵢ events of n₁ᵢ treated and cᵢ events of n₂ᵢ controls,
/// with bᵢ = n₁ᵢ − aᵢ and dᵢ = n₂ᵢ − cᵢ, as metafor's `ai`, `n1i`, `ci`, `n2i`.
///
/// Built from a table with the columns `treat_events`, `treat_total`, `control_events` and
/// `control_total` (the two-group family of the input columns), or from arrays. Every count is validated as
/// ``EffectSizes/twoGroup(treatEvents:treatTotals:controlEvents:controlTotals:measure:labels:)``
/// validates it: a finite whole number ≥ 0, each group with at least one patient and no more
/// events than patients. No continuity correction is applied here.
public struct TwoGroupCounts: Sendable, Equatable {
    /// Events in the treatment group, aᵢ.
    public let treatEvents: [Double]
    /// Size of the treatment group, n₁ᵢ.
    public let treatTotals: [Double]
    /// Events in the control group, cᵢ.
    public let controlEvents: [Double]
    /// Size of the control group, n₂ᵢ.
    public let controlTotals: [Double]
    /// Study labels.
    public let labels: [String]
    /// Where each study came from in the input (for error messages).
    public let locations: StudyLocations

    /// The number of studies k.
    public var count: Int { treatEvents.count }

    /// Non-events in the treatment group, bᵢ = n₁ᵢ − aᵢ.
    public var treatNonEvents: [Double] { zip(treatTotals, treatEvents).map { $0 - $1 } }

    /// Non-events in the control group, dᵢ = n₂ᵢ − cᵢ.
    public var controlNonEvents: [Double] { zip(controlTotals, controlEvents).map { $0 - $1 } }

    /// Whether study `i` has no events in either group, or only events in both (aᵢ = cᵢ = 0 or
    /// bᵢ = dᵢ = 0): metafor's `drop00` studies, whose table carries no information on the effect.
    /// - Throws: ``MetaPoolError`` (`.invalidArgument`) for an index outside `0..<count`.
    public func isDoubleZero(_ i: Int) throws(MetaPoolError) -> Bool {
        guard i >= 0, i < count else {
            throw MetaPoolError(.invalidArgument, "study index \(i) is out of range; the \(count) studies have indices 0 to \(count - 1)")
        }
        return doubleZero(i)
    }

    /// ``isDoubleZero(_:)`` for an index known to be valid.
    func doubleZero(_ i: Int) -> Bool {
        (treatEvents[i] == 0 && controlEvents[i] == 0)
            || (treatEvents[i] == treatTotals[i] && controlEvents[i] == controlTotals[i])
    }

    /// Counts from arrays, one value per study.
    /// - Throws: ``MetaPoolError`` (`.invalidArgument`) for arrays of different lengths,
    ///   (`.insufficientData`) for no studies, (`.invalidValue`) naming the row and column of
    ///   a count that is negative, fractional, not finite, a group of size 0, or events above the total.
    public init(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double],
                labels: [String]? = nil) throws(MetaPoolError) {
        try self.init(treatEvents: treatEvents, treatTotals: treatTotals, controlEvents: controlEvents,
                      controlTotals: controlTotals, labels: labels, locations: nil)
    }

    /// Counts from a table with the columns `treat_events`, `treat_total`, `control_events` and
    /// `control_total` (and optionally `study` for the labels); other columns are ignored.
    /// - Throws: ``MetaPoolError`` (`.missingColumn`) naming an absent column, (`.insufficientData`)
    ///   for a table without rows, or (`.invalidValue`) naming the row and column of a bad cell.
    public init(table: DataTable) throws(MetaPoolError) {
        guard table.rowCount > 0 else {
            throw MetaPoolError(.insufficientData, "the input has no data rows; there are no studies", at: InputLocation(file: table.source))
        }
        let reader = ColumnReader(table: table)
        let a = try reader.numbers("treat_events")
        let n1 = try reader.numbers("treat_total")
        let c = try reader.numbers("control_events")
        let n2 = try reader.numbers("control_total")
        let locations = StudyLocations(table: table)
        try self.init(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2,
                      labels: reader.labels(), locations: locations)
    }

    init(treatEvents a: [Double], treatTotals n1: [Double], controlEvents c: [Double], controlTotals n2: [Double],
         labels: [String]?, locations: StudyLocations?) throws(MetaPoolError) {
        let k = a.count
        guard n1.count == k, c.count == k, n2.count == k else {
            throw MetaPoolError(.invalidArgument, "the four count arrays must have the same length (they have \(k), \(n1.count), \(c.count) and \(n2.count) values)")
        }
        guard k > 0 else {
            throw MetaPoolError(.insufficientData, "there are no studies")
        }
        if let labels, labels.count != k {
            throw MetaPoolError(.invalidArgument, "there are \(labels.count) labels for \(k) studies")
        }
        if let locations, locations.count != k {
            throw MetaPoolError(.invalidArgument, "there are \(locations.count) locations for \(k) studies")
        }
        let place = { (i: Int, column: String) -> InputLocation in
            var l = locations?[i] ?? InputLocation(row: i + 1)
            l.column = column
            return l
        }
        for i in 0..<k {
            try EffectSizes.validateCount(a[i], at: place(i, "treat_events"), total: n1[i])
            try EffectSizes.validateCount(n1[i], at: place(i, "treat_total"))
            try EffectSizes.validateCount(c[i], at: place(i, "control_events"), total: n2[i])
            try EffectSizes.validateCount(n2[i], at: place(i, "control_total"))
            guard n1[i] > 0 else { throw MetaPoolError(.invalidValue, "treat_total is 0; each group needs at least one patient", at: place(i, "treat_total")) }
            guard n2[i] > 0 else { throw MetaPoolError(.invalidValue, "control_total is 0; each group needs at least one patient", at: place(i, "control_total")) }
            guard a[i] <= n1[i] else {
                throw MetaPoolError(.invalidValue, "treat_events (\(EffectSizes.formatCount(a[i]))) exceed treat_total (\(EffectSizes.formatCount(n1[i])))", at: place(i, "treat_events"))
            }
            guard c[i] <= n2[i] else {
                throw MetaPoolError(.invalidValue, "control_events (\(EffectSizes.formatCount(c[i]))) exceed control_total (\(EffectSizes.formatCount(n2[i])))", at: place(i, "control_events"))
            }
        }
        treatEvents = a
        treatTotals = n1
        controlEvents = c
        controlTotals = n2
        self.labels = labels ?? (0..<k).map { "Study \($0 + 1)" }
        self.locations = locations ?? StudyLocations(numbered: k)
    }

    /// The escalc() effect sizes (add ½ to every cell of a table with a zero cell) of the
    /// studies that are not double-zero (metafor's `drop00 = TRUE`); `nil` when every study is double-zero.
    func effectSizesDroppingDoubleZero(_ measure: EffectMeasure) throws(MetaPoolError) -> EffectSizes? {
        var kept: [Int] = []
        kept.reserveCapacity(count)
        for i in 0..<count where !doubleZero(i) { kept.append(i) }
        guard !kept.isEmpty else { return nil }
        return try EffectSizes.twoGroup(
            treatEvents: kept.map { treatEvents[$0] }, treatTotals: kept.map { treatTotals[$0] },
            controlEvents: kept.map { controlEvents[$0] }, controlTotals: kept.map { controlTotals[$0] },
            measure: measure, labels: kept.map { labels[$0] }, locations: locations.subset(kept))
    }
}

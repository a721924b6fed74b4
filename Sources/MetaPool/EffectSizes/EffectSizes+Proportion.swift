// Single-arm proportions (PR, PLO, PAS, PFT, PLN) from events and totals, as metafor's escalc().

import RealModule

extension EffectSizes {
    /// Effect sizes for single-arm proportions xᵢ/nᵢ.
    ///
    /// Continuity correction by default as `escalc(add = 1/2, to = "only0")`: ½ is added to the events
    /// and the non-events of a study with 0 events or with all events, for `PR`, `PLO` and
    /// `PLN`; the variance-stabilising `PAS` and `PFT` need none and get none unless `correction` sets `add`.
    /// Formulas (e.g. Viechtbauer 2010, metafor manual, escalc "Outcome Measures for Individual Groups"):
    /// PR p, p(1−p)/n; PLO log(p/(1−p)), 1/x + 1/(n−x); PLN log p, 1/x − 1/n;
    /// PAS asin √p, 1/(4n); PFT ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))], 1/(4n+2).
    ///
    /// `correction` sets escalc's `add` and `to` (its `drop00` does not apply to single groups).
    public static func proportions(events: [Double], totals: [Double], measure: EffectMeasure = .logitProportion, labels: [String]? = nil,
                                   correction: ContinuityCorrection = ContinuityCorrection()) throws(MetaPoolError) -> EffectSizes {
        try proportions(events: events, totals: totals, measure: measure, labels: labels, locations: nil, correction: correction)
    }

    static func proportions(events: [Double], totals: [Double], measure: EffectMeasure, labels: [String]?, locations: StudyLocations?,
                            correction: ContinuityCorrection = ContinuityCorrection()) throws(MetaPoolError) -> EffectSizes {
        try correction.validate()
        guard measure.family == .proportion else {
            throw MetaPoolError(.invalidArgument, "measure \(measure.rawValue) is not a proportion measure; use one of PLO, PR, PAS, PFT, PLN")
        }
        guard events.count == totals.count else {
            throw MetaPoolError(.invalidArgument, "there are \(events.count) event counts but \(totals.count) totals")
        }
        let place = { (i: Int, column: String) -> InputLocation in
            var l = locations?[i] ?? InputLocation(row: i + 1)
            l.column = column
            return l
        }
        var yi = [Double](repeating: 0, count: events.count)
        var vi = [Double](repeating: 0, count: events.count)
        let add = correction.amount(for: measure)
        var anyZero = false
        for i in events.indices where events[i] == 0 || events[i] == totals[i] { anyZero = true }
        for i in events.indices {
            try validateCount(events[i], at: place(i, "events"), total: totals[i])
            try validateCount(totals[i], at: place(i, "total"))
            guard totals[i] > 0 else { throw MetaPoolError(.invalidValue, "total is 0; a proportion needs at least one patient", at: place(i, "total")) }
            guard events[i] <= totals[i] else {
                throw MetaPoolError(.invalidValue, "events (\(formatCount(events[i]))) exceed total (\(formatCount(totals[i])))", at: place(i, "events"))
            }
            var x = events[i]
            var m = totals[i] - events[i]
            // escalc: `add` to the events and non-events of the studies `to` selects.
            if correction.corrects(hasZero: x == 0 || m == 0, anyZero: anyZero) {
                x += add
                m += add
            }
            let n = x + m
            let p = x / n
            switch measure {
            case .rawProportion:
                yi[i] = p
                vi[i] = p * (1 - p) / n
            case .logitProportion:
                yi[i] = Double.log(x / m)
                vi[i] = 1 / x + 1 / m
            case .logProportion:
                yi[i] = Double.log(p)
                vi[i] = 1 / x - 1 / n
            case .arcsineProportion:
                yi[i] = Double.asin(p.squareRoot())
                vi[i] = 1 / (4 * n)
            case .freemanTukeyProportion:
                yi[i] = BackTransform.freemanTukey(events: x, total: n)
                vi[i] = 1 / (4 * n + 2)
            default:
                break
            }
        }
        return try EffectSizes(measure: measure, yi: yi, vi: vi, labels: labels, totals: totals,
                               locations: locations)
    }

    /// A count must be a finite whole number ≥ 0. A fractional value up to 100 gets the hint that it
    /// looks like a percentage (with the count it would be of `total`, where given).
    static func validateCount(_ value: Double, at location: InputLocation, total: Double? = nil) throws(MetaPoolError) {
        guard value.isFinite else { throw MetaPoolError(.invalidValue, "\(value) is not a finite count", at: location) }
        guard value >= 0 else { throw MetaPoolError(.invalidValue, "\(formatCount(value)) is negative; counts must be 0 or more", at: location) }
        guard value < 1e15 else {
            throw MetaPoolError(.invalidValue, "\(formatCount(value)) is too large for a count of patients (at most 10^15)", at: location)
        }
        guard value == value.rounded() else {
            if value <= 100 {
                var example = ""
                if let total, total.isFinite, total > 0, total == total.rounded(), total < 1e15 {
                    example = " (\(value)% of \(formatCount(total)) is \(formatCount((value / 100 * total).rounded())))"
                }
                throw MetaPoolError(.invalidValue, "\(value) is not a whole number; it looks like a percentage: give the \(location.column?.hasSuffix("events") == true ? "count of events" : "number of patients"), not the percent\(example)", at: location)
            }
            throw MetaPoolError(.invalidValue, "\(value) is not a whole number; counts of patients must be whole numbers", at: location)
        }
    }

    static func formatCount(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}

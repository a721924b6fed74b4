// Two-group binary outcomes (OR, RR, RD) from 2×2 counts, as metafor's escalc().

import RealModule

extension EffectSizes {
    /// Effect sizes for two-group binary data: aᵢ events of n₁ᵢ treated, cᵢ events of n₂ᵢ controls.
    ///
    /// Continuity correction by default as `escalc(add = 1/2, to = "only0", drop00 = FALSE)`: ½ is added
    /// to all four cells of a study with any zero cell; `correction` sets `add` and `to`. Formulas (e.g. Fleiss & Berlin 2009):
    /// OR log(ad/bc), 1/a + 1/b + 1/c + 1/d; RR log((a/n₁)/(c/n₂)), 1/a − 1/n₁ + 1/c − 1/n₂;
    /// RD a/n₁ − c/n₂, p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂.
    public static func twoGroup(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double],
                                measure: EffectMeasure = .oddsRatio, labels: [String]? = nil,
                                correction: ContinuityCorrection = ContinuityCorrection()) throws(MetaPoolError) -> EffectSizes {
        try twoGroup(treatEvents: treatEvents, treatTotals: treatTotals, controlEvents: controlEvents, controlTotals: controlTotals,
                     measure: measure, labels: labels, locations: nil, correction: correction)
    }

    static func twoGroup(treatEvents a: [Double], treatTotals n1: [Double], controlEvents c: [Double], controlTotals n2: [Double],
                         measure: EffectMeasure, labels: [String]?, locations: StudyLocations?,
                         correction: ContinuityCorrection = ContinuityCorrection()) throws(MetaPoolError) -> EffectSizes {
        try correction.validate()
        guard measure.family == .twoGroup else {
            throw MetaPoolError(.invalidArgument, "measure \(measure.rawValue) is not a two-group measure; use one of OR, RR, RD")
        }
        let k = a.count
        guard n1.count == k, c.count == k, n2.count == k else {
            throw MetaPoolError(.invalidArgument, "the four count arrays must have the same length")
        }
        let place = { (i: Int, column: String) -> InputLocation in
            var l = locations?[i] ?? InputLocation(row: i + 1)
            l.column = column
            return l
        }
        // escalc's drop00: studies with no events (or only events) in both groups are left out
        // and listed in `excluded`; the correction's `to = if0all` then looks at the others only.
        if correction.dropDoubleZero {
            var drop: [Int] = []
            var keep: [Int] = []
            for i in 0..<k {
                let noEvents: Bool = a[i] == 0 && c[i] == 0
                let allEvents: Bool = a[i] == n1[i] && c[i] == n2[i] && n1[i] > 0 && n2[i] > 0
                if noEvents || allEvents { drop.append(i) } else { keep.append(i) }
            }
            if !drop.isEmpty {
                let names: [String] = labels ?? (0..<k).map { "Study \($0 + 1)" }
                var excluded: [ExcludedRow] = []
                for i in drop {
                    let row: Int = locations?[i].row ?? i + 1
                    excluded.append(ExcludedRow(row: row, study: names[i], column: nil,
                                                reason: "no events in either group, or only events in both (drop00)"))
                }
                guard !keep.isEmpty else {
                    throw MetaPoolError(.insufficientData, "every study has no events (or only events) in both groups; {setting} leaves no study",
                                        at: InputLocation(file: locations?.first?.file), setting: .dropDoubleZero)
                }
                var kept = correction
                kept.dropDoubleZero = false
                let ka: [Double] = keep.map { a[$0] }, kn1: [Double] = keep.map { n1[$0] }
                let kc: [Double] = keep.map { c[$0] }, kn2: [Double] = keep.map { n2[$0] }
                let keptLabels: [String] = keep.map { names[$0] }
                let keptLocations = (locations ?? StudyLocations(numbered: a.count)).subset(keep)
                var effects = try twoGroup(treatEvents: ka, treatTotals: kn1, controlEvents: kc, controlTotals: kn2, measure: measure,
                                           labels: keptLabels, locations: keptLocations, correction: kept)
                effects.excluded = excluded
                return effects
            }
        }
        let add = correction.amount(for: measure)
        var anyZero = false
        for i in 0..<k where a[i] == 0 || c[i] == 0 || a[i] == n1[i] || c[i] == n2[i] { anyZero = true }
        var yi = [Double](repeating: 0, count: k)
        var vi = [Double](repeating: 0, count: k)
        for i in 0..<k {
            try validateCount(a[i], at: place(i, "treat_events"), total: n1[i])
            try validateCount(n1[i], at: place(i, "treat_total"))
            try validateCount(c[i], at: place(i, "control_events"), total: n2[i])
            try validateCount(n2[i], at: place(i, "control_total"))
            guard n1[i] > 0 else { throw MetaPoolError(.invalidValue, "treat_total is 0; each group needs at least one patient", at: place(i, "treat_total")) }
            guard n2[i] > 0 else { throw MetaPoolError(.invalidValue, "control_total is 0; each group needs at least one patient", at: place(i, "control_total")) }
            guard a[i] <= n1[i] else {
                throw MetaPoolError(.invalidValue, "treat_events (\(formatCount(a[i]))) exceed treat_total (\(formatCount(n1[i])))", at: place(i, "treat_events"))
            }
            guard c[i] <= n2[i] else {
                throw MetaPoolError(.invalidValue, "control_events (\(formatCount(c[i]))) exceed control_total (\(formatCount(n2[i])))", at: place(i, "control_events"))
            }
            var ai = a[i], bi = n1[i] - a[i], ci = c[i], di = n2[i] - c[i]
            if correction.corrects(hasZero: ai == 0 || bi == 0 || ci == 0 || di == 0, anyZero: anyZero) {
                ai += add; bi += add; ci += add; di += add
            }
            let m1 = ai + bi, m2 = ci + di
            switch measure {
            case .oddsRatio:
                yi[i] = Double.log(ai * di / (bi * ci))
                vi[i] = 1 / ai + 1 / bi + 1 / ci + 1 / di
            case .riskRatio:
                yi[i] = Double.log(ai / m1) - Double.log(ci / m2)
                vi[i] = 1 / ai - 1 / m1 + 1 / ci - 1 / m2
            case .riskDifference:
                let p1 = ai / m1, p2 = ci / m2
                yi[i] = p1 - p2
                vi[i] = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
            default:
                break
            }
        }
        return try EffectSizes(measure: measure, yi: yi, vi: vi, labels: labels, totals: nil, locations: locations,
                               sampleSizes: zip(n1, n2).map { $0 + $1 })
    }
}

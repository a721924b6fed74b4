// Two-group binary outcomes (OR, RR, RD) from 2×2 counts, as metafor's escalc().

import RealModule

extension EffectSizes {
    /// Effect sizes for two-group binary data: aᵢ events of n₁ᵢ treated, cᵢ events of n₂ᵢ controls.
    ///
    /// Continuity correction as `escalc(add = 1/2, to = "only0", drop00 = FALSE)`: ½ is added
    /// to all four cells of a study with any zero cell. Formulas (e.g. Fleiss & Berlin 2009):
    /// OR log(ad/bc), 1/a + 1/b + 1/c + 1/d; RR log((a/n₁)/(c/n₂)), 1/a − 1/n₁ + 1/c − 1/n₂;
    /// RD a/n₁ − c/n₂, p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂.
    public static func twoGroup(treatEvents: [Double], treatTotals: [Double], controlEvents: [Double], controlTotals: [Double],
                                measure: EffectMeasure = .oddsRatio, labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try twoGroup(treatEvents: treatEvents, treatTotals: treatTotals, controlEvents: controlEvents, controlTotals: controlTotals,
                     measure: measure, labels: labels, locations: nil)
    }

    static func twoGroup(treatEvents a: [Double], treatTotals n1: [Double], controlEvents c: [Double], controlTotals n2: [Double],
                         measure: EffectMeasure, labels: [String]?, locations: [InputLocation]?) throws(MetaPoolError) -> EffectSizes {
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
        var yi = [Double](repeating: 0, count: k)
        var vi = [Double](repeating: 0, count: k)
        for i in 0..<k {
            try validateCount(a[i], at: place(i, "treat_events"))
            try validateCount(n1[i], at: place(i, "treat_total"))
            try validateCount(c[i], at: place(i, "control_events"))
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
            if ai == 0 || bi == 0 || ci == 0 || di == 0 {
                ai += 0.5; bi += 0.5; ci += 0.5; di += 0.5
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

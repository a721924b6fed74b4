// Log hazard ratios: from a hazard ratio with its confidence interval (at any level), from log HR
// and SE, from a hazard ratio and its two-sided p-value, or from the log-rank O − E and V.

import RealModule

extension EffectSizes {
    /// z₀.₉₇₅ = Φ⁻¹(0.975), the half-width multiplier of a 95% Wald interval.
    static let z975 = 1.959963984540054

    /// Log hazard ratios from HRs with confidence intervals at `level` (0.95 by default):
    /// yᵢ = log HRᵢ and SEᵢ = (log upperᵢ − log lowerᵢ)/(2·z₍₁₊L₎/₂)
    /// (Parmar, Torri & Stewart 1998; Tierney et al. 2007, eq. 5, with z for the level L).
    public static func hazardRatios(_ hr: [Double], lower: [Double], upper: [Double], level: Double = 0.95,
                                    labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        guard level.isFinite, level > 0, level < 1 else {
            throw MetaPoolError(.invalidArgument, "the confidence level of the hazard-ratio intervals must be between 0 and 1 (exclusive); got \(level)")
        }
        return try hazardRatios(hr, lower: lower, upper: upper, levels: Array(repeating: level, count: hr.count), labels: labels, locations: nil)
    }

    static func hazardRatios(_ hr: [Double], lower: [Double], upper: [Double], levels: [Double], labels: [String]?,
                             locations: StudyLocations?) throws(MetaPoolError) -> EffectSizes {
        guard hr.count == lower.count, hr.count == upper.count, hr.count == levels.count else {
            throw MetaPoolError(.invalidArgument, "hr, hr_lower and hr_upper must have the same length")
        }
        var yi = [Double](repeating: 0, count: hr.count)
        var vi = [Double](repeating: 0, count: hr.count)
        for i in hr.indices {
            for (value, column) in [(hr[i], "hr"), (lower[i], "hr_lower"), (upper[i], "hr_upper")] {
                try validateHazardRatio(value, at: place(locations, i, column))
            }
            guard lower[i] < upper[i] else {
                throw MetaPoolError(.invalidValue, "hr_lower (\(lower[i])) is not below hr_upper (\(upper[i]))", at: place(locations, i, "hr_lower"))
            }
            guard lower[i] <= hr[i], hr[i] <= upper[i] else {
                throw MetaPoolError(.invalidValue, "the confidence interval [\(lower[i]), \(upper[i])] does not contain the hazard ratio \(hr[i])", at: place(locations, i, "hr"))
            }
            yi[i] = Double.log(hr[i])
            let z = levels[i] == 0.95 ? z975 : Normal.standard.survivalQuantile((1 - levels[i]) / 2)
            let se = (Double.log(upper[i]) - Double.log(lower[i])) / (2 * z)
            vi[i] = se * se
        }
        return try EffectSizes(measure: .hazardRatio, yi: yi, vi: vi, labels: labels, totals: nil, locations: locations)
    }

    /// Log hazard ratios from HRs and their two-sided p-values: yᵢ = log HRᵢ and
    /// SEᵢ = |log HRᵢ| / z₁₋ₚ/₂ (Tierney et al. 2007, eq. 6; Altman & Bland 2011), the Wald test
    /// z = log HR / SE solved for SE.
    /// - Throws: ``MetaPoolError`` `.invalidValue` for p outside (0, 1) or HR = 1, where the SE is undefined.
    public static func hazardRatios(_ hr: [Double], pValues: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try hazardRatios(hr, pValues: pValues, labels: labels, locations: nil)
    }

    static func hazardRatios(_ hr: [Double], pValues p: [Double], labels: [String]?, locations: StudyLocations?) throws(MetaPoolError) -> EffectSizes {
        guard hr.count == p.count else {
            throw MetaPoolError(.invalidArgument, "hr and p_value must have the same length")
        }
        var yi = [Double](repeating: 0, count: hr.count)
        var vi = [Double](repeating: 0, count: hr.count)
        for i in hr.indices {
            try validateHazardRatio(hr[i], at: place(locations, i, "hr"))
            guard p[i].isFinite, p[i] >= 0, p[i] <= 1 else {
                throw MetaPoolError(.invalidValue, "\(p[i]) is not a p-value; it must be between 0 and 1", at: place(locations, i, "p_value"))
            }
            guard p[i] < 1 else {
                throw MetaPoolError(.invalidValue, "p = 1 gives z = 0, so the standard error |log HR|/z is undefined; give the confidence interval (hr_lower, hr_upper) instead", at: place(locations, i, "p_value"))
            }
            guard p[i] > 0 else {
                throw MetaPoolError(.invalidValue, "p = 0 gives an infinite z and a standard error of 0; give the exact p-value or the confidence interval (hr_lower, hr_upper)", at: place(locations, i, "p_value"))
            }
            guard hr[i] != 1 else {
                throw MetaPoolError(.invalidValue, "a hazard ratio of 1 has log HR = 0, so |log HR|/z gives a standard error of 0 whatever the p-value; give the confidence interval (hr_lower, hr_upper) or log_hr and se instead", at: place(locations, i, "hr"))
            }
            yi[i] = Double.log(hr[i])
            let se = abs(yi[i]) / Normal.standard.survivalQuantile(p[i] / 2)
            vi[i] = se * se
        }
        return try EffectSizes(measure: .hazardRatio, yi: yi, vi: vi, labels: labels, totals: nil, locations: locations)
    }

    /// Log hazard ratios from the log-rank observed minus expected events O − E and its variance V
    /// (the "O − E and Variance" data of RevMan and individual-patient-data meta-analyses):
    /// yᵢ = (O − E)ᵢ / Vᵢ and SEᵢ = 1/√Vᵢ (Peto's one-step estimate; Yusuf et al. 1985; Tierney et al. 2007, eq. 1–2).
    /// - Throws: ``MetaPoolError`` `.invalidValue` for a V that is not > 0 or an O − E that is not finite.
    public static func observedMinusExpected(_ oMinusE: [Double], variances v: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try observedMinusExpected(oMinusE, variances: v, labels: labels, locations: nil)
    }

    static func observedMinusExpected(_ oMinusE: [Double], variances v: [Double], labels: [String]?, locations: StudyLocations?) throws(MetaPoolError) -> EffectSizes {
        guard oMinusE.count == v.count else {
            throw MetaPoolError(.invalidArgument, "o_minus_e and v must have the same length")
        }
        for i in v.indices {
            guard oMinusE[i].isFinite else {
                throw MetaPoolError(.invalidValue, "\(oMinusE[i]) is not a finite number", at: place(locations, i, "o_minus_e"))
            }
            guard v[i].isFinite, v[i] > 0 else {
                throw MetaPoolError(.invalidValue, "the log-rank variance V is \(v[i]); it must be a finite number greater than 0", at: place(locations, i, "v"))
            }
        }
        return try EffectSizes(measure: .hazardRatio, yi: zip(oMinusE, v).map { $0 / $1 }, vi: v.map { 1 / $0 },
                               labels: labels, totals: nil, locations: locations)
    }

    /// Log hazard ratios given directly with their standard errors; vᵢ = SEᵢ².
    public static func logHazardRatios(_ logHR: [Double], standardErrors se: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try logHazardRatios(logHR, standardErrors: se, labels: labels, locations: nil)
    }

    static func logHazardRatios(_ logHR: [Double], standardErrors se: [Double], labels: [String]?, locations: StudyLocations?) throws(MetaPoolError) -> EffectSizes {
        guard logHR.count == se.count else {
            throw MetaPoolError(.invalidArgument, "log_hr and se must have the same length")
        }
        try validateStandardErrors(se, column: "se", locations: locations)
        return try EffectSizes(measure: .hazardRatio, yi: logHR, vi: se.map { $0 * $0 }, labels: labels, totals: nil, locations: locations)
    }

    /// A hazard ratio (or a limit of its interval) must be finite and > 0; a value ≤ 0 gets the hint
    /// that it may be a log hazard ratio.
    static func validateHazardRatio(_ value: Double, at location: InputLocation) throws(MetaPoolError) {
        guard value.isFinite, value > 0 else {
            let hint = value.isFinite ? "; \(value) may be on the log scale: give log hazard ratios in a log_hr column with their standard errors in se" : ""
            throw MetaPoolError(.invalidValue, "\(value) is not a positive finite number; hazard ratios and their limits must be > 0\(hint)", at: location)
        }
    }

    /// The location of study `i`'s cell in `column`.
    static func place(_ locations: StudyLocations?, _ i: Int, _ column: String) -> InputLocation {
        var l = locations?[i] ?? InputLocation(row: i + 1)
        l.column = column
        return l
    }
}

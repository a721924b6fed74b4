// Log hazard ratios from a hazard ratio with its 95% confidence interval, or from log HR and SE.

import RealModule

extension EffectSizes {
    /// z₀.₉₇₅ = Φ⁻¹(0.975), the half-width multiplier of a 95% Wald interval.
    static let z975 = 1.959963984540054

    /// Log hazard ratios from HRs with 95% CIs: yᵢ = log HRᵢ and
    /// SEᵢ = (log upperᵢ − log lowerᵢ)/(2·z₀.₉₇₅) (Parmar, Torri & Stewart 1998; Tierney et al. 2007, eq. 5).
    public static func hazardRatios(_ hr: [Double], lower: [Double], upper: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try hazardRatios(hr, lower: lower, upper: upper, labels: labels, locations: nil)
    }

    static func hazardRatios(_ hr: [Double], lower: [Double], upper: [Double], labels: [String]?, locations: [InputLocation]?) throws(MetaPoolError) -> EffectSizes {
        guard hr.count == lower.count, hr.count == upper.count else {
            throw MetaPoolError(.invalidArgument, "hr, hr_lower and hr_upper must have the same length")
        }
        let place = { (i: Int, column: String) -> InputLocation in
            var l = locations?[i] ?? InputLocation(row: i + 1)
            l.column = column
            return l
        }
        var yi = [Double](repeating: 0, count: hr.count)
        var vi = [Double](repeating: 0, count: hr.count)
        for i in hr.indices {
            for (value, column) in [(hr[i], "hr"), (lower[i], "hr_lower"), (upper[i], "hr_upper")] {
                guard value.isFinite, value > 0 else {
                    throw MetaPoolError(.invalidValue, "\(value) is not a positive finite number; hazard ratios and their limits must be > 0", at: place(i, column))
                }
            }
            guard lower[i] < upper[i] else {
                throw MetaPoolError(.invalidValue, "hr_lower (\(lower[i])) is not below hr_upper (\(upper[i]))", at: place(i, "hr_lower"))
            }
            guard lower[i] <= hr[i], hr[i] <= upper[i] else {
                throw MetaPoolError(.invalidValue, "the confidence interval [\(lower[i]), \(upper[i])] does not contain the hazard ratio \(hr[i])", at: place(i, "hr"))
            }
            yi[i] = Double.log(hr[i])
            let se = (Double.log(upper[i]) - Double.log(lower[i])) / (2 * z975)
            vi[i] = se * se
        }
        return try EffectSizes(measure: .hazardRatio, yi: yi, vi: vi, labels: labels, totals: nil, locations: locations)
    }

    /// Log hazard ratios given directly with their standard errors; vᵢ = SEᵢ².
    public static func logHazardRatios(_ logHR: [Double], standardErrors se: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try logHazardRatios(logHR, standardErrors: se, labels: labels, locations: nil)
    }

    static func logHazardRatios(_ logHR: [Double], standardErrors se: [Double], labels: [String]?, locations: [InputLocation]?) throws(MetaPoolError) -> EffectSizes {
        guard logHR.count == se.count else {
            throw MetaPoolError(.invalidArgument, "log_hr and se must have the same length")
        }
        try validateStandardErrors(se, column: "se", locations: locations)
        return try EffectSizes(measure: .hazardRatio, yi: logHR, vi: se.map { $0 * $0 }, labels: labels, totals: nil, locations: locations)
    }
}

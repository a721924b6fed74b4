// The population-averaged (marginal) proportion of the GLMM for proportions, as every output
// reports it beside the conditional (median-study) proportion expit(μ̂).

/// The population-averaged proportion ∫ expit(μ̂ + τ̂z) φ(z) dz with its interval, the
/// `population_averaged` member of the GLMM's JSON (keys in snake_case).
public struct PopulationAveragedSummary: Codable, Sendable, Equatable {
    /// The population-averaged proportion at μ̂ and τ̂².
    public var estimate: Double
    /// The same integral at the lower and upper bounds of μ's confidence interval, τ̂² held fixed.
    public var ciLower: Double
    public var ciUpper: Double
    /// How the interval is formed, in words.
    public var interval: String

    /// What ``interval`` says.
    public static let intervalDescription = "the integral at the bounds of mu's confidence interval, tau^2 held at its estimate"

    enum CodingKeys: String, CodingKey {
        case estimate, ciLower = "ci_lower", ciUpper = "ci_upper", interval
    }
}

extension GeneralizedLinearMixedModel {
    /// ``populationAveragedRate`` as the JSON reports it.
    public var populationAveragedSummary: PopulationAveragedSummary {
        let r = populationAveragedRate
        return PopulationAveragedSummary(estimate: r.estimate, ciLower: r.lower, ciUpper: r.upper,
                                         interval: PopulationAveragedSummary.intervalDescription)
    }

    /// "Population-averaged rate: 0.6981 [0.5781, 0.7963] (mean of expit(mu + tau*z), z ~ N(0, 1);
    /// interval from mu's CI with tau^2 fixed)", ASCII for terminals; `unicode` writes μ, τ, τ².
    public func populationAveragedLine(unicode: Bool = false, digits: Int = 4) -> String {
        let r = populationAveragedRate
        func n(_ x: Double) -> String { NumberFormat.decimal(x, digits: digits) }
        let how = unicode ? "mean of expit(μ + τz) over z ~ N(0, 1); interval from μ's CI with τ² fixed"
                          : "mean of expit(mu + tau*z) over z ~ N(0, 1); interval from mu's CI with tau^2 fixed"
        return "Population-averaged rate: \(n(r.estimate)) [\(n(r.lower)), \(n(r.upper))] (\(how))"
    }
}

extension FittedModel {
    /// ``GeneralizedLinearMixedModel/populationAveragedLine(unicode:digits:)`` for a GLMM of proportions; `nil` for every other model
    /// (the odds-ratio GLMM has no marginal rate to report).
    public func populationAveragedText(unicode: Bool = false, digits: Int = 4) -> String? {
        (self as? GeneralizedLinearMixedModel)?.populationAveragedLine(unicode: unicode, digits: digits)
    }
}

extension SubgroupFits {
    /// The population-averaged rate line of each subgroup's GLMM and of the overall one, prefixed
    /// with the subgroup's label ("active: Population-averaged rate: …"); empty unless the model
    /// is the GLMM for proportions.
    public func populationAveragedLines(unicode: Bool = false) -> [String] {
        var lines: [String] = []
        for g in groups {
            if let text = g.fit.populationAveragedText(unicode: unicode) { lines.append("\(g.label): \(text)") }
        }
        if let text = overall.populationAveragedText(unicode: unicode) { lines.append("overall: \(text)") }
        return lines
    }
}

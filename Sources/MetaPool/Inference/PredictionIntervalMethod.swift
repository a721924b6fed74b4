// Prediction intervals for a new study's true effect, and predictive probabilities beyond a threshold.

/// The distribution a prediction interval μ̂ ± c·√(SE² + τ̂²) takes its critical value c from.
///
/// metafor's `predict()` uses the model's own distribution (z under Wald tests, t on k − p df
/// under `test = "t"` or Knapp–Hartung); with few studies that understates the uncertainty of τ̂²,
/// and Higgins, Thompson & Spiegelhalter (2009, J R Stat Soc A 172:137, §3.2) and Riley, Higgins
/// & Deeks (2011, BMJ 342:d549) use t on k − 2 df. metafor 3.8 exposes these as
/// `predict(fit, pi.type = "z" | "t" | "riley")`.
public enum PredictionIntervalMethod: String, CaseIterable, Sendable, Hashable {
    /// The standard normal quantile.
    case z
    /// Student's t on k − p df (k studies, p coefficients; k − 1 for a pooled mean).
    case t
    /// Student's t on k − p − 1 df (k − 2 for a pooled mean), Riley et al. (2011).
    case riley

    /// The method's name as printed beside the interval.
    public var displayName: String {
        switch self {
        case .z: "z"
        case .t: "t, k - 1 df"
        case .riley: "t, k - 2 df (Riley et al. 2011)"
        }
    }

    /// The degrees of freedom for `studies` studies and `coefficients` fixed effects: `nil` for
    /// the normal, and `nil` too when t has fewer than 1 df (the interval is then undefined).
    func degreesOfFreedom(studies: Int, coefficients: Int) -> Int?? {
        switch self {
        case .z: return .some(nil)
        case .t: return studies - coefficients >= 1 ? .some(studies - coefficients) : nil
        case .riley: return studies - coefficients - 1 >= 1 ? .some(studies - coefficients - 1) : nil
        }
    }
}

/// The predictive distribution of a new study's true effect and the probabilities it implies.
public struct Prediction: Sendable, Hashable {
    /// The prediction interval on the analysis scale.
    public let interval: Interval
    /// The method the critical value came from.
    public let method: PredictionIntervalMethod
    /// Its df (`nil` for z).
    public let degreesOfFreedom: Int?
    /// The pooled estimate, its SE, the model's df and τ̂² the interval was formed from.
    let estimate: Double, standardError: Double, modelDegreesOfFreedom: Int?, tauSquared: Double

    /// P(θ_new > c): the new study's true effect beyond `threshold` (on the analysis scale), from
    /// (θ_new − μ̂)/√(SE² + τ̂²) on the interval's distribution (Higgins et al. 2009, §3.2).
    public func probabilityNewStudyExceeds(_ threshold: Double) -> Double {
        let scale = (standardError * standardError + tauSquared).squareRoot()
        return upperTail((threshold - estimate) / scale, degreesOfFreedom)
    }

    /// P(μ > c) in the same frequentist sense: the confidence distribution of the pooled mean,
    /// (μ − μ̂)/SE on the model's z or t (the one-sided p-value of H₀: μ ≤ c, reversed).
    public func probabilityMeanExceeds(_ threshold: Double) -> Double {
        upperTail((threshold - estimate) / standardError, modelDegreesOfFreedom)
    }

    private func upperTail(_ x: Double, _ df: Int?) -> Double {
        guard !x.isNaN else { return .nan }
        if let df { return StudentT(degreesOfFreedom: Double(df)).survival(x) }
        return Normal.standard.survival(x)
    }
}

extension EstimateInference {
    /// The prediction for a new study with `method`'s critical value, for a fit of `studies`
    /// studies with `coefficients` fixed effects and heterogeneity τ̂²; `nil` when t would have
    /// no degrees of freedom or the inputs are not finite.
    public func prediction(tauSquared: Double, studies: Int, coefficients: Int = 1,
                           method: PredictionIntervalMethod) -> Prediction? {
        guard tauSquared >= 0, tauSquared.isFinite, standardError.isFinite,
              let df = method.degreesOfFreedom(studies: studies, coefficients: coefficients) else { return nil }
        let crit = Self.criticalValue(level: level, degreesOfFreedom: df)
        let half = crit * (standardError * standardError + tauSquared).squareRoot()
        return Prediction(interval: Interval(estimate - half, estimate + half), method: method, degreesOfFreedom: df,
                          estimate: estimate, standardError: standardError, modelDegreesOfFreedom: degreesOfFreedom,
                          tauSquared: tauSquared)
    }
}

extension FittedModel {
    /// The prediction for a new study's true effect by `method`, `nil` for a model without τ²
    /// (common effect, Mantel–Haenszel, Peto) or when the method's t has no df.
    public func prediction(_ method: PredictionIntervalMethod) -> Prediction? {
        guard let tau2 = heterogeneity.tauSquared else { return nil }
        return pooled.prediction(tauSquared: tau2, studies: studies.effects.count, method: method)
    }
}

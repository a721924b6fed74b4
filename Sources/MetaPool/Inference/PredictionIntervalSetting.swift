// Which prediction interval a fit reports (`--pi`), the default by measure, and a threshold on the
// natural scale taken to the analysis scale (`--threshold`).

import RealModule

/// The prediction interval a fit reports: metafor's (the model's own distribution) or one of the
/// ``PredictionIntervalMethod``s whatever the model's test.
///
/// - `metafor`: `predict()`'s default, z under Wald tests and t on k − p df under `test = "t"`
///   or Knapp–Hartung (the numbers metafor prints).
/// - `z`: always the normal quantile (the same as `metafor` under Wald tests).
/// - `t`: t on k − p df (k − 1 for a pooled mean; R meta's default since version 7).
/// - `riley`: t on k − p − 1 df (k − 2; Riley, Higgins & Deeks 2011, R meta's "HTS").
///
/// The interval is μ̂ ± c·√(SE² + τ̂²) with the model's SE in every case (Knapp–Hartung's under
/// `hksj`), as metafor's `predict(fit, pi.type = "z" | "t" | "riley")` forms it.
public enum PredictionIntervalSetting: String, CaseIterable, Sendable, Hashable {
    case metafor, z, t, riley

    /// The method this setting uses for a model whose test has `modelDegreesOfFreedom` (`nil`: z).
    public func method(modelDegreesOfFreedom: Int?) -> PredictionIntervalMethod {
        switch self {
        case .metafor: modelDegreesOfFreedom == nil ? .z : .t
        case .z: .z
        case .t: .t
        case .riley: .riley
        }
    }

    /// The default for `measure`: t on k − 1 df for proportions (events/total) and hazard ratios,
    /// the few-study settings where z prediction intervals are too narrow (Higgins, Thompson &
    /// Spiegelhalter 2009; IntHout et al. 2016; Partlett & Riley 2017); metafor's otherwise.
    public static func `default`(for measure: EffectMeasure) -> PredictionIntervalSetting {
        switch measure.family {
        case .proportion, .hazardRatio: .t
        case .twoGroup, .generic: .metafor
        }
    }
}

extension Prediction {
    /// "z" or "t on 3 df" or "t on 2 df, Riley et al. 2011": the method as printed beside an interval.
    public var label: String {
        switch (method, degreesOfFreedom) {
        case (.z, _), (_, nil): "z"
        case (.t, let df?): "t on \(df) df"
        case (.riley, let df?): "t on \(df) df, Riley et al. 2011"
        }
    }
}

extension FittedModel {
    /// metafor's prediction (the model's own z or t), for models that have no setting of their own.
    public var newStudyPrediction: Prediction? { prediction(setting: .metafor) }

    /// The prediction a setting gives for this fit (`nil` without τ², or when t has no df).
    public func prediction(setting: PredictionIntervalSetting) -> Prediction? {
        prediction(setting.method(modelDegreesOfFreedom: pooled.degreesOfFreedom))
    }
}

extension EffectMeasure {
    /// A value `c` on the natural scale (a proportion for the proportion measures, a ratio for
    /// OR, RR, HR) on the analysis scale, by the measure's own transformation (logit for PLO,
    /// log for ratios and PLN, asin √c for PAS, Freeman–Tukey at the harmonic mean total `n` for
    /// PFT, Miller 1978), the inverse of ``backTransform``.
    /// - Throws: ``MetaPoolError`` `.invalidArgument` when `c` is outside the measure's range.
    public func analysisValue(ofNatural c: Double, harmonicMeanTotal n: Double = .nan) throws(MetaPoolError) -> Double {
        func refuse(_ range: String) -> MetaPoolError {
            MetaPoolError(.invalidArgument, "the threshold \(c) is outside the range of the \(naturalScaleName) (\(rawValue)): it must be \(range)")
        }
        guard c.isFinite else { throw refuse("a finite number") }
        switch self {
        case .logitProportion:
            guard c > 0, c < 1 else { throw refuse("strictly between 0 and 1 (a proportion; its logit is the analysis scale)") }
            return Double.log(c / (1 - c))
        case .logProportion:
            guard c > 0, c <= 1 else { throw refuse("a proportion above 0 and at most 1 (its log is the analysis scale)") }
            return Double.log(c)
        case .rawProportion:
            guard c >= 0, c <= 1 else { throw refuse("a proportion between 0 and 1") }
            return c
        case .arcsineProportion:
            guard c >= 0, c <= 1 else { throw refuse("a proportion between 0 and 1") }
            return Double.asin(c.squareRoot())
        case .freemanTukeyProportion:
            guard c >= 0, c <= 1 else { throw refuse("a proportion between 0 and 1") }
            return BackTransform.freemanTukey(events: c * n, total: n)
        case .oddsRatio, .riskRatio, .hazardRatio:
            guard c > 0 else { throw refuse("a ratio above 0 (its log is the analysis scale)") }
            return Double.log(c)
        case .riskDifference:
            guard c >= -1, c <= 1 else { throw refuse("a risk difference between -1 and 1") }
            return c
        case .generic:
            return c
        }
    }
}

extension EstimateInference {
    /// P(μ > c) for a threshold `c` on the analysis scale: the confidence distribution of the
    /// estimate, (μ − μ̂)/SE on the model's z or t (as ``Prediction/probabilityMeanExceeds(_:)``).
    public func probabilityExceeds(_ c: Double) -> Double {
        let x = (c - estimate) / standardError
        guard !x.isNaN else { return .nan }
        if let degreesOfFreedom { return StudentT(degreesOfFreedom: Double(degreesOfFreedom)).survival(x) }
        return Normal.standard.survival(x)
    }
}

/// A threshold on the natural scale and the probabilities of a fit beyond it (`--threshold`).
public struct ThresholdProbabilities: Sendable, Hashable {
    /// The threshold as given (natural scale) and on the analysis scale.
    public let natural: Double, analysis: Double
    /// P(a new study's true effect > c) by the fit's prediction (`nil` without τ²: a common-effect model).
    public let newStudy: Double?
    /// P(μ > c), the pooled mean beyond c.
    public let mean: Double

    /// The probabilities of `fit` beyond `threshold` (natural scale, taken to the analysis scale by
    /// the measure's transformation; for PFT at the fit's harmonic mean total).
    /// - Throws: ``MetaPoolError`` `.invalidArgument` for a threshold outside the measure's range.
    public init(_ fit: some FittedModel, threshold: Double) throws(MetaPoolError) {
        natural = threshold
        analysis = try fit.measure.analysisValue(ofNatural: threshold, harmonicMeanTotal: fit.studies.effects.harmonicMeanTotal)
        newStudy = fit.newStudyPrediction?.probabilityNewStudyExceeds(analysis)
        mean = fit.pooled.probabilityExceeds(analysis)
    }

    /// The JSON members: `threshold`, `threshold_analysis_scale`, `p_new_study_exceeds` (null
    /// without a prediction), `p_mean_exceeds`.
    public var jsonMembers: [(String, JSONValue)] {
        func n(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        return [("threshold", n(natural)), ("threshold_analysis_scale", n(analysis)),
                ("p_new_study_exceeds", newStudy.map(n) ?? .null), ("p_mean_exceeds", n(mean))]
    }
}

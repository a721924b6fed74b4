// The effect measures MetaPool computes, named as metafor's escalc() names them.

/// The kind of data a row holds, decided by the columns present.
public enum DataFamily: String, Sendable, Hashable, CaseIterable {
    /// Single-arm counts: `events`, `total`.
    case proportion
    /// Two-group binary counts: `treat_events`, `treat_total`, `control_events`, `control_total`.
    case twoGroup = "two_group"
    /// Hazard ratios: `hr`, `hr_lower`, `hr_upper` (95% CI), or `log_hr`, `se`.
    case hazardRatio = "hazard_ratio"
    /// Generic effects: `yi` with `vi` or `se`.
    case generic

    /// The measures valid for this family, the default first.
    public var measures: [EffectMeasure] {
        switch self {
        case .proportion: [.logitProportion, .rawProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion]
        case .twoGroup: [.oddsRatio, .riskRatio, .riskDifference]
        case .hazardRatio: [.hazardRatio]
        case .generic: [.generic]
        }
    }

    /// A sentence naming the columns this family needs.
    public var columnsDescription: String {
        switch self {
        case .proportion: "`events` and `total`"
        case .twoGroup: "`treat_events`, `treat_total`, `control_events` and `control_total`"
        case .hazardRatio: "`hr`, `hr_lower` and `hr_upper` (a CI, 95% unless `hr_level` says otherwise), or `log_hr` and `se`, or `o_minus_e` and `v`, or `hr` and `p_value`"
        case .generic: "`yi` and `vi` (or `yi` and `se`)"
        }
    }
}

/// An effect measure; the raw value is metafor's code (`PLO`, `OR`, …).
public enum EffectMeasure: String, Sendable, Hashable, CaseIterable {
    /// Raw proportion xᵢ/nᵢ.
    case rawProportion = "PR"
    /// Logit-transformed proportion log(p/(1−p)).
    case logitProportion = "PLO"
    /// Arcsine square-root transformed proportion asin(√p).
    case arcsineProportion = "PAS"
    /// Freeman–Tukey double arcsine transformed proportion (Freeman & Tukey 1950).
    case freemanTukeyProportion = "PFT"
    /// Log-transformed proportion log(p).
    case logProportion = "PLN"
    /// Log odds ratio.
    case oddsRatio = "OR"
    /// Log risk ratio.
    case riskRatio = "RR"
    /// Risk difference.
    case riskDifference = "RD"
    /// Log hazard ratio.
    case hazardRatio = "HR"
    /// A generic effect given as yᵢ with its sampling variance.
    case generic = "GEN"

    /// Parses metafor's code, case-insensitively.
    public init?(code: String) {
        guard let m = EffectMeasure(rawValue: code.uppercased()) else { return nil }
        self = m
    }

    /// The data family the measure is computed from.
    public var family: DataFamily {
        switch self {
        case .rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion: .proportion
        case .oddsRatio, .riskRatio, .riskDifference: .twoGroup
        case .hazardRatio: .hazardRatio
        case .generic: .generic
        }
    }

    /// The transformation from the analysis scale back to the natural scale.
    public var backTransform: BackTransform {
        switch self {
        case .rawProportion, .riskDifference, .generic: .identity
        case .logitProportion: .inverseLogit
        case .arcsineProportion: .inverseArcsine
        case .freemanTukeyProportion: .inverseFreemanTukey
        case .logProportion, .oddsRatio, .riskRatio, .hazardRatio: .exponential
        }
    }

    /// The name of the natural scale, for people.
    public var naturalScaleName: String {
        switch self {
        case .rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion: "proportion"
        case .oddsRatio: "odds ratio"
        case .riskRatio: "risk ratio"
        case .riskDifference: "risk difference"
        case .hazardRatio: "hazard ratio"
        case .generic: "effect"
        }
    }

    /// The name of the analysis scale, for people.
    public var analysisScaleName: String {
        switch self {
        case .rawProportion: "raw proportion"
        case .logitProportion: "logit proportion"
        case .arcsineProportion: "arcsine square-root proportion"
        case .freemanTukeyProportion: "Freeman-Tukey double arcsine proportion"
        case .logProportion: "log proportion"
        case .oddsRatio: "log odds ratio"
        case .riskRatio: "log risk ratio"
        case .riskDifference: "risk difference"
        case .hazardRatio: "log hazard ratio"
        case .generic: "generic effect"
        }
    }
}

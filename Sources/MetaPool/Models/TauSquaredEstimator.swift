// The τ² estimators of the random-effects model, and the enum that names them.

/// An estimator of the between-study variance τ² in the random-effects model
/// yᵢ = μ + uᵢ + εᵢ, uᵢ ~ N(0, τ²), εᵢ ~ N(0, vᵢ) (DerSimonian & Laird 1986).
///
/// Each estimator lives in its own file under `Models/Estimators/`; adding one is that
/// file plus a case in ``TauSquaredMethod``.
public protocol TauSquaredEstimator: Sendable {
    /// Estimates τ² (≥ 0) from effects `y` and sampling variances `v` (k ≥ 2), in O(k).
    /// Throws ``MetaPoolError/Kind/noConvergence`` rather than return an unconverged value, and
    /// (see `validate(y:v:)`) `.invalidArgument` for arrays of different lengths,
    /// `.insufficientData` for fewer than 2 studies, `.invalidValue` for an effect that is not
    /// finite or a variance that is not a finite number of at least ``EffectSizes/smallestVariance``.
    static func tauSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double
}

/// The model and τ² estimator, named by metafor's `method` codes.
public enum TauSquaredMethod: String, Sendable, Hashable, CaseIterable {
    /// Fixed (common) effect: τ² = 0, inverse-variance weights.
    case fixedEffect = "FE"
    /// DerSimonian & Laird (1986) method of moments.
    case derSimonianLaird = "DL"
    /// Restricted maximum likelihood (Viechtbauer 2005).
    case restrictedMaximumLikelihood = "REML"
    /// Maximum likelihood (Hardy & Thompson 1996).
    case maximumLikelihood = "ML"
    /// Paule & Mandel (1982) generalized Q estimator.
    case pauleMandel = "PM"
    /// Hedges (1983) unweighted method of moments (metafor's "HE").
    case hedges = "HE"
    /// Sidik & Jonkman (2005) estimator.
    case sidikJonkman = "SJ"
    /// Hunter & Schmidt (2004) estimator.
    case hunterSchmidt = "HS"
    /// Morris (1983) empirical Bayes estimator.
    case empiricalBayes = "EB"

    /// Parses metafor's code, case-insensitively (`EE` and `CE` are accepted for `FE`).
    public init?(code: String) {
        let c = code.uppercased()
        if c == "EE" || c == "CE" { self = .fixedEffect; return }
        guard let m = TauSquaredMethod(rawValue: c) else { return nil }
        self = m
    }

    /// The estimator type, or `nil` for the fixed-effect model.
    public var estimator: (any TauSquaredEstimator.Type)? {
        switch self {
        case .fixedEffect: nil
        case .derSimonianLaird: DerSimonianLaird.self
        case .restrictedMaximumLikelihood: RestrictedMaximumLikelihood.self
        case .maximumLikelihood: MaximumLikelihood.self
        case .pauleMandel: PauleMandel.self
        case .hedges: Hedges.self
        case .sidikJonkman: SidikJonkman.self
        case .hunterSchmidt: HunterSchmidt.self
        case .empiricalBayes: EmpiricalBayes.self
        }
    }

    /// A name for people.
    public var displayName: String {
        switch self {
        case .fixedEffect: "fixed-effect (inverse variance)"
        case .derSimonianLaird: "DerSimonian-Laird"
        case .restrictedMaximumLikelihood: "restricted maximum likelihood"
        case .maximumLikelihood: "maximum likelihood"
        case .pauleMandel: "Paule-Mandel"
        case .hedges: "Hedges"
        case .sidikJonkman: "Sidik-Jonkman"
        case .hunterSchmidt: "Hunter-Schmidt"
        case .empiricalBayes: "empirical Bayes"
        }
    }
}

extension TauSquaredEstimator {
    /// Checks what every estimator needs, as ``EffectSizes`` checks it: as many variances as
    /// effects, k ≥ 2, every yᵢ finite and every vᵢ finite and at least ``EffectSizes/smallestVariance``.
    /// Mismatched arrays made the estimators read past the end of `v`.
    static func validate(y: [Double], v: [Double]) throws(MetaPoolError) {
        guard y.count == v.count else {
            throw MetaPoolError(.invalidArgument, "y has \(y.count) values but v has \(v.count); give one sampling variance per effect")
        }
        guard y.count >= 2 else {
            throw MetaPoolError(.insufficientData, "estimating tau^2 needs at least 2 studies; there \(y.count == 1 ? "is" : "are") \(y.count)")
        }
        for i in y.indices where !(y[i].isFinite && v[i].isFinite && v[i] >= EffectSizes.smallestVariance) {
            throw MetaPoolError(.invalidValue, "study \(i + 1): yi = \(y[i]), vi = \(v[i]); every effect must be finite and every sampling variance finite and greater than 0",
                                at: InputLocation(row: i + 1))
        }
    }
}

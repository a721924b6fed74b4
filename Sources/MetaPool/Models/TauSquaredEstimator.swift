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
        // A pass without branches first (most inputs are fine), the first bad study looked for only
        // if there is one: x − x is 0 for every finite x and NaN otherwise, so the sums of those
        // stay 0 exactly when every value is finite; four lanes, so no add waits on the one before.
        var z0 = 0.0, z1 = 0.0, z2 = 0.0, z3 = 0.0
        var m0 = Double.infinity, m1 = Double.infinity, m2 = Double.infinity, m3 = Double.infinity
        y.withUnsafeBufferPointer { y in
            v.withUnsafeBufferPointer { v in
                let quads = y.count / 4
                for j in 0..<quads {
                    let i = 4 * j
                    z0 += (y[i] - y[i]) + (v[i] - v[i]); m0 = min(m0, v[i])
                    z1 += (y[i + 1] - y[i + 1]) + (v[i + 1] - v[i + 1]); m1 = min(m1, v[i + 1])
                    z2 += (y[i + 2] - y[i + 2]) + (v[i + 2] - v[i + 2]); m2 = min(m2, v[i + 2])
                    z3 += (y[i + 3] - y[i + 3]) + (v[i + 3] - v[i + 3]); m3 = min(m3, v[i + 3])
                }
                for i in (4 * quads)..<y.count {
                    z0 += (y[i] - y[i]) + (v[i] - v[i]); m0 = min(m0, v[i])
                }
            }
        }
        if (z0 + z1) + (z2 + z3) == 0 && min(min(m0, m1), min(m2, m3)) >= EffectSizes.smallestVariance { return }
        for i in y.indices where !(y[i].isFinite && v[i].isFinite && v[i] >= EffectSizes.smallestVariance) {
            throw MetaPoolError(.invalidValue, "study \(i + 1): yi = \(y[i]), vi = \(v[i]); every effect must be finite and every sampling variance finite and greater than 0",
                                at: InputLocation(row: i + 1))
        }
    }
}

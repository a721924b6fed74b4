// The priors of the Bayesian normal–normal model: for the heterogeneity τ and for the effect μ.

import RealModule

/// A prior distribution for the between-study standard deviation τ ≥ 0 of the Bayesian
/// random-effects model (``BayesianMetaAnalysis``), as bayesmeta's `tau.prior` (Röver 2020,
/// J Stat Softw 93(6), §2.4).
public enum TauPrior: Sendable, Hashable {
    /// Half-normal with scale s: p(τ) = 2/s·φ(τ/s).
    case halfNormal(scale: Double)
    /// Half-Cauchy with scale s: p(τ) = 2/(πs(1 + (τ/s)²)).
    case halfCauchy(scale: Double)
    /// Half-Student-t with scale s and ν degrees of freedom: p(τ) = 2/s·f_ν(τ/s).
    case halfStudentT(scale: Double, degreesOfFreedom: Double)
    /// Uniform on [0, upper].
    case uniform(upper: Double)
    /// The Jeffreys prior of the normal–normal model with μ fixed, p(τ) ∝ √(Σᵢ (τ/(vᵢ + τ²))²)
    /// (Tibshirani 1989; Röver 2020, §2.4; bayesmeta's `"Jeffreys"`). Improper.
    case jeffreys
    /// Log-normal on τ: log τ ~ N(mu, sigma²).
    case logNormal(mu: Double, sigma: Double)
    /// The improper uniform prior p(τ) ∝ 1 on [0, ∞) (bayesmeta's default `"uniform"`).
    case flat

    /// Whether the prior integrates to 1 (so the marginal likelihood p(y) is defined).
    public var isProper: Bool {
        switch self {
        case .jeffreys, .flat: false
        default: true
        }
    }

    /// Checks the parameters: positive, finite scales and degrees of freedom, finite locations.
    func validate() throws(MetaPoolError) {
        func positive(_ x: Double, _ name: String) throws(MetaPoolError) {
            guard x.isFinite, x > 0 else {
                throw MetaPoolError(.invalidArgument, "the \(name) of the tau prior must be a finite number greater than 0; got \(x)")
            }
        }
        switch self {
        case .halfNormal(let s), .halfCauchy(let s): try positive(s, "scale")
        case .halfStudentT(let s, let nu):
            try positive(s, "scale")
            try positive(nu, "degrees of freedom")
        case .uniform(let a): try positive(a, "upper bound")
        case .logNormal(let mu, let sigma):
            guard mu.isFinite else {
                throw MetaPoolError(.invalidArgument, "the log-scale location mu of the log-normal tau prior must be finite; got \(mu)")
            }
            try positive(sigma, "log-scale standard deviation sigma")
        case .jeffreys, .flat: break
        }
    }

    /// The exponent b of the prior's upper tail p(τ) ~ τ^(−b) as τ → ∞; `.infinity` when it
    /// falls faster than any power (half-normal, log-normal) or is bounded (uniform).
    var tailExponent: Double {
        switch self {
        case .halfNormal, .logNormal, .uniform: .infinity
        case .halfCauchy: 2
        case .halfStudentT(_, let nu): nu + 1
        case .jeffreys: 1
        case .flat: 0
        }
    }

    /// The upper end of the prior's support.
    var upperBound: Double {
        if case .uniform(let a) = self { return a }
        return .infinity
    }

    /// p(0) for priors with a finite positive density at 0 (the Savage–Dickey ratio for τ = 0 needs one);
    /// `nil` for the improper priors and the log-normal (density 0 at 0).
    var densityAtZero: Double? {
        switch self {
        case .halfNormal(let s): 2 / (s * Normal.sqrtTwoPi)
        case .halfCauchy(let s): 2 / (Double.pi * s)
        case .halfStudentT(let s, let nu): 2 / s * Double.exp(Self.studentLogConstant(nu))
        case .uniform(let a): 1 / a
        case .jeffreys, .flat, .logNormal: nil
        }
    }

    /// The prior density p(τ) for drawing beside the posterior (normalised); `nil` for the improper
    /// priors (flat, and Jeffreys, whose density depends on the data).
    public func density(_ tau: Double) -> Double? {
        guard isProper else { return nil }
        guard tau >= 0 else { return 0 }
        var constant = 0.0
        if case .halfStudentT(_, let nu) = self { constant = Self.studentLogConstant(nu) }
        let l = logDensity(tau, studentConstant: constant)
        return l == -.infinity ? 0 : Double.exp(l)
    }

    /// The prior as written on the command line and in the JSON: `half-normal(0.5)`,
    /// `half-t(0.5, 3)`, `uniform(0, 2)`, `log-normal(-1.5, 1)`, `jeffreys`, `flat`.
    public var notation: String {
        func g(_ x: Double) -> String { NumberFormat.general(x) }
        return switch self {
        case .halfNormal(let s): "half-normal(\(g(s)))"
        case .halfCauchy(let s): "half-cauchy(\(g(s)))"
        case .halfStudentT(let s, let df): "half-t(\(g(s)), \(g(df)))"
        case .uniform(let u): "uniform(0, \(g(u)))"
        case .logNormal(let m, let s): "log-normal(\(g(m)), \(g(s)))"
        case .jeffreys: "jeffreys"
        case .flat: "flat"
        }
    }

    /// log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ), the log of Student's t density at 0.
    static func studentLogConstant(_ nu: Double) -> Double {
        Double.logGamma((nu + 1) / 2) - Double.logGamma(nu / 2) - 0.5 * Double.log(nu * Double.pi)
    }

    /// log p(τ) for τ ≥ 0 (normalised for proper priors; −∞ outside the support), except for the
    /// Jeffreys prior, whose data-dependent term the likelihood pass adds (`jeffreysSum`).
    @inline(__always)
    func logDensity(_ tau: Double, studentConstant: Double) -> Double {
        switch self {
        case .halfNormal(let s):
            let z = tau / s
            return Double.log(2 / (s * Normal.sqrtTwoPi)) - 0.5 * z * z
        case .halfCauchy(let s):
            let z = tau / s
            return Double.log(2 / (Double.pi * s)) - Double.log(onePlus: z * z)
        case .halfStudentT(let s, let nu):
            let z = tau / s
            return Double.log(2 / s) + studentConstant - (nu + 1) / 2 * Double.log(onePlus: z * z / nu)
        case .uniform(let a):
            return tau <= a ? -Double.log(a) : -.infinity
        case .logNormal(let mu, let sigma):
            guard tau > 0 else { return -.infinity }
            let l = Double.log(tau)
            let z = (l - mu) / sigma
            return -l - Double.log(sigma * Normal.sqrtTwoPi) - 0.5 * z * z
        case .jeffreys, .flat:
            return 0
        }
    }
}

/// The prior for the overall effect μ of the Bayesian random-effects model.
public enum EffectPrior: Sendable, Hashable {
    /// The improper uniform prior p(μ) ∝ 1.
    case flat
    /// μ ~ N(mean, standardDeviation²).
    case normal(mean: Double, standardDeviation: Double)

    /// The prior as written on the command line and in the JSON: `normal(0, 4)` or `flat`.
    public var notation: String {
        switch self {
        case .flat: "flat"
        case .normal(let m, let s): "normal(\(NumberFormat.general(m)), \(NumberFormat.general(s)))"
        }
    }

    func validate() throws(MetaPoolError) {
        if case .normal(let m, let s) = self {
            guard m.isFinite else {
                throw MetaPoolError(.invalidArgument, "the mean of the normal prior for mu must be finite; got \(m)")
            }
            guard s.isFinite, s > 0 else {
                throw MetaPoolError(.invalidArgument, "the standard deviation of the normal prior for mu must be a finite number greater than 0; got \(s)")
            }
        }
    }
}

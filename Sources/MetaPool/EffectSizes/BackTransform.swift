// Transformations from the analysis scale (logit, log, arcsine, …) back to the natural scale.

import RealModule

/// A monotone map from the analysis scale to the natural scale (a proportion or a ratio).
public enum BackTransform: String, Sendable, Hashable {
    /// x ↦ x (raw proportions, risk differences, generic effects).
    case identity
    /// x ↦ eˣ (log proportions, log ratios).
    case exponential
    /// x ↦ 1/(1+e⁻ˣ) (logit proportions).
    case inverseLogit
    /// x ↦ sin²(x), x clipped to [0, π/2] (arcsine square-root proportions).
    case inverseArcsine
    /// Miller's (1978, eq. 6) inverse of the Freeman–Tukey double arcsine, evaluated at
    /// the harmonic mean of the totals and clipped to [0, 1].
    case inverseFreemanTukey

    /// Applies the transformation. `harmonicMeanTotal` is used by `inverseFreemanTukey` only.
    public func apply(_ x: Double, harmonicMeanTotal n: Double = .nan) -> Double {
        switch self {
        case .identity:
            return x
        case .exponential:
            return Double.exp(x)
        case .inverseLogit:
            return x >= 0 ? 1 / (1 + Double.exp(-x)) : Double.exp(x) / (1 + Double.exp(x))
        case .inverseArcsine:
            let t = min(max(x, 0), Double.pi / 2)
            let s = Double.sin(t)
            return s * s
        case .inverseFreemanTukey:
            return Self.inverseFreemanTukey(x, n: n)
        }
    }

    /// Miller (1978), "The inverse of the Freeman–Tukey double arcsine transformation",
    /// The American Statistician 32:138: p = ½[1 − sgn(cos t)·√(1 − (sin t + (sin t − 1/sin t)/n)²)]
    /// with t = 2x. Outside the range the transformation reaches for n (x below the value
    /// for 0 events or above the value for n events) the result is clipped to 0 or 1.
    static func inverseFreemanTukey(_ x: Double, n: Double) -> Double {
        guard x.isFinite, n.isFinite, n > 0 else { return .nan }
        if x <= freemanTukey(events: 0, total: n) { return 0 }
        if x >= freemanTukey(events: n, total: n) { return 1 }
        let t = 2 * x
        let sinT = Double.sin(t)
        let cosT = Double.cos(t)
        let inner = sinT + (sinT - 1 / sinT) / n
        let radicand = 1 - inner * inner
        guard radicand >= 0 else { return .nan }
        let sign: Double = cosT > 0 ? 1 : (cosT < 0 ? -1 : 0)
        return min(max(0.5 * (1 - sign * radicand.squareRoot()), 0), 1)
    }

    /// Freeman & Tukey (1950): ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))].
    static func freemanTukey(events x: Double, total n: Double) -> Double {
        0.5 * (Double.asin((x / (n + 1)).squareRoot()) + Double.asin(((x + 1) / (n + 1)).squareRoot()))
    }
}

extension BackTransform {
    /// Why natural-scale values are `null` in JSON, or `nil` when none is: the exponential of an
    /// analysis-scale value above about 709.78 exceeds the largest Double, and JSON has no
    /// infinity. The JSON keeps the finite analysis-scale values, from which the natural-scale
    /// value is e^y (the tables print it as m·10^e, ``NumberFormat/naturalScale(_:analysisValue:digits:)``).
    public static func overflowReason(_ natural: [Double?]) -> String? {
        guard natural.contains(where: { $0 == .infinity }) else { return nil }
        return "a value on the natural scale exceeds the largest double (the exponential of an analysis-scale value above 709.78) and is null; the analysis-scale values are finite"
    }
}

extension JSONValue {
    /// A `back_transformed` object: each natural-scale value (`null` when not finite) and, when
    /// one overflowed, the `overflow` member saying why (``BackTransform/overflowReason(_:)``).
    static func backTransformed(_ values: [(String, Double)]) -> JSONValue {
        var members: [(String, JSONValue)] = values.map { ($0.0, $0.1.isFinite ? .number($0.1) : .null) }
        if let reason = BackTransform.overflowReason(values.map(\.1)) { members.append(("overflow", .string(reason))) }
        return .object(members)
    }
}

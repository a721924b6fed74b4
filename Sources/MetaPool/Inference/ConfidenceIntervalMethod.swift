// How the confidence interval and test of the pooled estimate are formed.

/// The confidence-interval and test method for the pooled estimate.
public enum ConfidenceIntervalMethod: String, Sendable, Hashable, CaseIterable {
    /// Wald: μ̂ ± z·SE with SE = √(1/Σwᵢ); z test (metafor `test = "z"`).
    case wald
    /// The same SE with Student's t on k − 1 degrees of freedom (metafor `test = "t"`).
    case t
    /// Hartung & Knapp (2001); Sidik & Jonkman (2002): SE² = Σwᵢ(yᵢ−μ̂)² / ((k−1)Σwᵢ),
    /// t on k − 1 df (metafor `test = "knha"`).
    case hartungKnapp = "hksj"
    /// The ad hoc variant that never lets the scale factor fall below 1
    /// (Knapp & Hartung 2003; Röver, Knapp & Friede 2015): SE² = max(1, s²)/Σwᵢ (metafor `test = "adhoc"`).
    case hartungKnappAdHoc = "hksj-adhoc"

    /// The method named by `code`, case-insensitively: MetaPool's names (`wald`, `t`, `hksj`,
    /// `hksj-adhoc`) or metafor's `test` values (`z`, `knha`, `adhoc`); `nil` for anything else.
    public init?(code: String) {
        switch code.trimmingSpaces().lowercased() {
        case "wald", "z": self = .wald
        case "t": self = .t
        case "hksj", "knha": self = .hartungKnapp
        case "hksj-adhoc", "adhoc": self = .hartungKnappAdHoc
        default: return nil
        }
    }

    /// Whether the interval and test use Student's t with k − 1 df.
    public var usesT: Bool { self != .wald }

    /// The factor that scales the model-based variance of the estimates: 1, or the Hartung–Knapp
    /// s² = Q/(k − p) with Q = Σwᵢrᵢ² the weighted residual sum of squares at τ̂² (Hartung & Knapp
    /// 2001, eq. 7), floored at 1 for `hksj-adhoc` (Knapp & Hartung 2003).
    func varianceFactor(q: Double, residualDegreesOfFreedom df: Double) -> Double {
        switch self {
        case .wald, .t: 1
        case .hartungKnapp: q / df
        case .hartungKnappAdHoc: max(1, q / df)
        }
    }
}

/// A closed interval [lower, upper].
public struct Interval: Sendable, Hashable {
    /// The lower bound.
    public var lower: Double
    /// The upper bound.
    public var upper: Double
    /// The interval [lower, upper], with the bounds stored as given.
    public init(_ lower: Double, _ upper: Double) {
        self.lower = lower
        self.upper = upper
    }
}

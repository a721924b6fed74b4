// Effect sizes yᵢ and sampling variances vᵢ: the second stage of the pipeline, as escalc() gives them.

/// Observed effect sizes and their sampling variances, one per study, on the analysis scale.
///
/// Build them from counts (`proportions`, `twoGroup`), from hazard ratios (`hazardRatios`,
/// `logHazardRatios`), from given values (`generic`), or from a table read from a file.
/// The arrays are validated: every `yi` is finite and every `vi` finite and positive.
public struct EffectSizes: Sendable, Equatable {
    /// The measure the effects are expressed in.
    public let measure: EffectMeasure
    /// Effect sizes on the analysis scale.
    public let yi: [Double]
    /// Sampling variances.
    public let vi: [Double]
    /// Study labels.
    public let labels: [String]
    /// The group sizes nᵢ for proportions (used by the Freeman–Tukey back-transform).
    public let totals: [Double]?
    /// Where each study came from in the input (for error messages of later stages), each
    /// location made when it is read.
    public let locations: StudyLocations
    /// The total sample size of each study where the input gives one: nᵢ for proportions,
    /// n₁ᵢ + n₂ᵢ for two-group counts; `nil` for hazard ratios and generic effects. Peters' test
    /// and the other sample-size predictors of ``EggerTest`` use it.
    public let sampleSizes: [Double]?

    /// The rows of the table left out of these effect sizes (``EffectSizeOptions/dropMissing``,
    /// ``ContinuityCorrection/dropDoubleZero``); empty when every row is a study.
    public internal(set) var excluded: [ExcludedRow] = []

    /// The number of studies.
    public var count: Int { yi.count }

    /// Harmonic mean of the totals, k / Σ(1/nᵢ) (Miller 1978), or NaN without totals.
    public var harmonicMeanTotal: Double {
        guard let totals, !totals.isEmpty else { return .nan }
        var s = 0.0
        for n in totals { s += 1 / n }
        return Double(totals.count) / s
    }

    /// The smallest sampling variance accepted: below it 1/vᵢ overflows a Double.
    public static let smallestVariance = Double.leastNormalMagnitude

    /// Validates standard errors given in a column `column`: each must be finite and > 0, and its
    /// square a usable sampling variance (finite, not below ``smallestVariance``).
    static func validateStandardErrors(_ se: [Double], column: String, locations: StudyLocations?) throws(MetaPoolError) {
        for (i, s) in se.enumerated() {
            var l = locations?[i] ?? InputLocation(row: i + 1)
            l.column = column
            guard s.isFinite, s > 0 else {
                throw MetaPoolError(.invalidValue, "the standard error is \(s); it must be a finite number greater than 0", at: l)
            }
            let v = s * s
            guard v.isFinite, v >= smallestVariance else {
                throw MetaPoolError(.invalidValue, "the standard error is \(s); its square, the sampling variance, is \(v < 1 ? "too small" : "too large") to compute with", at: l)
            }
        }
    }

    /// Creates effect sizes from computed values after validating them.
    init(measure: EffectMeasure, yi: [Double], vi: [Double], labels: [String]?, totals: [Double]?, locations: StudyLocations?,
         sampleSizes: [Double]? = nil) throws(MetaPoolError) {
        guard yi.count == vi.count else {
            throw MetaPoolError(.invalidArgument, "yi has \(yi.count) values but vi has \(vi.count)")
        }
        if let sizes = sampleSizes ?? totals, sizes.count != yi.count {
            throw MetaPoolError(.invalidArgument, "there are \(sizes.count) sample sizes for \(yi.count) studies")
        }
        if let labels, labels.count != yi.count {
            throw MetaPoolError(.invalidArgument, "there are \(labels.count) labels for \(yi.count) studies")
        }
        guard !yi.isEmpty else {
            throw MetaPoolError(.insufficientData, "there are no studies")
        }
        let locations = locations ?? StudyLocations(numbered: yi.count)
        for i in yi.indices {
            guard yi[i].isFinite else {
                var l = locations[i]
                if l.column == nil, measure.family == .generic { l.column = "yi" }
                throw MetaPoolError(.invalidValue, "the effect size is \(yi[i]); it must be a finite number", at: l)
            }
            guard vi[i].isFinite, vi[i] > 0 else {
                var l = locations[i]
                if l.column == nil, measure.family == .generic { l.column = "vi" }
                throw MetaPoolError(.invalidValue, "the sampling variance is \(vi[i]); it must be a finite number greater than 0", at: l)
            }
            guard vi[i] >= Self.smallestVariance else {
                var l = locations[i]
                if l.column == nil, measure.family == .generic { l.column = "vi" }
                throw MetaPoolError(.invalidValue, "the sampling variance is \(vi[i]); it is too small for its weight 1/vi to be represented (it must be at least \(Self.smallestVariance))", at: l)
            }
        }
        self.measure = measure
        self.yi = yi
        self.vi = vi
        self.labels = labels ?? (1...yi.count).map { "Study \($0)" }
        self.totals = totals
        self.locations = locations
        self.sampleSizes = sampleSizes ?? totals
    }

    /// The studies at `indices` (0-based, in that order), with their labels, totals and locations.
    /// - Throws: ``MetaPoolError`` `.invalidArgument` for an index outside the studies,
    ///   `.insufficientData` for no indices.
    public func subset(_ indices: [Int]) throws(MetaPoolError) -> EffectSizes {
        guard indices.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw MetaPoolError(.invalidArgument, "a study index is outside 0..<\(count)")
        }
        return try EffectSizes(measure: measure, yi: indices.map { yi[$0] }, vi: indices.map { vi[$0] },
                               labels: indices.map { labels[$0] }, totals: totals.map { t in indices.map { t[$0] } },
                               locations: locations.subset(indices), sampleSizes: sampleSizes.map { n in indices.map { n[$0] } })
    }

    /// Generic effects with known sampling variances (`GEN`).
    public static func generic(yi: [Double], vi: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try EffectSizes(measure: .generic, yi: yi, vi: vi, labels: labels, totals: nil, locations: nil)
    }

    /// Generic effects with standard errors; vᵢ = SEᵢ².
    public static func generic(yi: [Double], standardErrors se: [Double], labels: [String]? = nil) throws(MetaPoolError) -> EffectSizes {
        try validateStandardErrors(se, column: "se", locations: nil)
        return try EffectSizes(measure: .generic, yi: yi, vi: se.map { $0 * $0 }, labels: labels, totals: nil, locations: nil)
    }
}

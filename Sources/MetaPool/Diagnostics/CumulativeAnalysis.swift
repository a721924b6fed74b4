// Cumulative meta-analysis: the model refitted as studies are added one at a time.

/// Cumulative meta-analysis, as metafor's `cumul()` for an `rma.uni` model without moderators
/// (Lau et al. 1992; Lau, Schmid & Chalmers 1995; Chalmers & Lau 1993): the studies are added
/// one at a time in a given order and the model, with the same τ² estimator (re-estimated),
/// test and level, is fitted to the first 1, 2, …, k of them.
///
/// The first row, a model of one study, is that study: μ̂ = y₁, SE = √v₁ with a z test and
/// interval, τ̂² = 0, Q = 0 (p = 1), I² = 0, H² = 1, for every method and test, as metafor 3.8
/// prints (see ``SubsetFit``). From the second row on, the model is the requested one (a t test
/// on 1 df for `t` and `hksj` at k = 2).
///
/// ```swift
/// let fit = try MetaAnalysis(effects, method: .derSimonianLaird)
/// let byYear = try CumulativeAnalysis(fit, sortedBy: years)
/// ```
public struct CumulativeAnalysis: Sendable {
    /// The analysis of all k studies.
    public let analysis: MetaAnalysis
    /// The order in which the studies were added: `order[j]` is the index (0-based, into the
    /// analysis's effects) of the study added at step j + 1.
    public let order: [Int]
    /// `fits[j]` is the model of the first j + 1 studies in `order`; its `study` is the one added.
    public let fits: [SubsetFit]

    /// Adds the studies in the given order, or in input order when `order` is `nil`.
    /// - Parameters:
    ///   - analysis: the analysis of all k studies, whose settings every step reuses.
    ///   - order: a permutation of 0..<k (0-based indices into the analysis's effects).
    /// - Throws: ``MetaPoolError``: `.invalidArgument` when `order` is not a permutation of
    ///   0..<k; the estimator's error (located at the study just added) when τ² cannot be estimated.
    ///   - progress: called with (done, k) after each step.
    public init(_ analysis: MetaAnalysis, order: [Int]? = nil, progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        let k = analysis.count
        let order = order ?? Array(0..<k)
        guard order.count == k else {
            throw MetaPoolError(.invalidArgument, "the order has \(order.count) entries for \(k) studies; give each study's index once")
        }
        var seen = [Bool](repeating: false, count: k)
        for index in order {
            guard index >= 0, index < k else {
                throw MetaPoolError(.invalidArgument, "the order names study index \(index); indices run from 0 to \(k - 1)")
            }
            guard !seen[index] else {
                throw MetaPoolError(.invalidArgument, "the order names study index \(index) (\"\(analysis.effects.labels[index])\") twice; give each study's index once")
            }
            seen[index] = true
        }
        self.analysis = analysis
        self.order = order

        let y = analysis.effects.yi, v = analysis.effects.vi, labels = analysis.effects.labels
        var fitter = SubsetFitter(analysis)
        var ySub: [Double] = [], vSub: [Double] = []
        ySub.reserveCapacity(k)
        vSub.reserveCapacity(k)
        var fits: [SubsetFit] = []
        fits.reserveCapacity(k)
        // From SubsetModel.minimumStudies studies on, the power sums of the first n studies at 0
        // and at the full fit's τ̂² give each step's sums in O(1) per evaluation (``SubsetModel``);
        // they are kept up to date as studies are added, O(1) per study.
        let useSeries = k >= SubsetModel.minimumStudies
        var model: SubsetModel?
        if useSeries {
            var expansions = [PowerSums(base: 0, center: analysis.estimate)]
            if analysis.tauSquaredEstimate > 0 { expansions.append(PowerSums(base: analysis.tauSquaredEstimate, center: analysis.estimate)) }
            model = SubsetModel(expansions: expansions, allY: order.map { y[$0] }, allV: order.map { v[$0] },
                                members: .first(0), smallestVariance: .infinity)
        }
        for (step, index) in order.enumerated() {
            let context = "with the first \(step + 1) studies (up to \"\(labels[index])\")"
            if var m = model {
                model = nil  // one owner of the power sums, so that adding a study does not copy them
                for b in m.expansions.indices { m.expansions[b].add(y: y[index], v: v[index]) }
                m.members = .first(step + 1)
                m.smallestVariance = min(m.smallestVariance, v[index])
                if step == 0 {
                    fits.append(try fitter.fit(y: [y[index]], v: [v[index]], study: labels[index], context: context))
                } else {
                    fits.append(try fitter.fit(model: &m, study: labels[index], context: context))
                }
                model = m
            } else {
                ySub.append(y[index])
                vSub.append(v[index])
                fits.append(try fitter.fit(y: ySub, v: vSub, study: labels[index], context: context))
            }
            progress?(step + 1, k)
        }
        self.fits = fits
    }

    /// Adds the studies in ascending order of `keys` (one per study, e.g. the publication
    /// year); ties keep input order, as R's `order()` does for metafor's `cumul(order =)`.
    /// - Throws: ``MetaPoolError``: `.invalidArgument` when there is not one key per study,
    ///   `.invalidValue` (located at the study) for a NaN key; otherwise as ``init(_:order:)``.
    public init(_ analysis: MetaAnalysis, sortedBy keys: [Double], progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        let k = analysis.count
        guard keys.count == k else {
            throw MetaPoolError(.invalidArgument, "there are \(keys.count) sort keys for \(k) studies; give one per study")
        }
        if let bad = keys.firstIndex(where: \.isNaN) {
            var at = analysis.effects.locations[bad]
            at.study = analysis.effects.labels[bad]
            throw MetaPoolError(.invalidValue, "the sort key of this study is missing (NaN); every study needs one", at: at)
        }
        // Stable: equal keys keep input order.
        let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        try self.init(analysis, order: order, progress: progress)
    }

    /// The JSON object `metapool sensitivity` prints: the settings, the order (0-based
    /// indices), then one row per step with metafor's `cumul()` columns (`study` added, `k`,
    /// `estimate`, `se`, `statistic`, `p_value`, `df` for t tests, `ci_lower`, `ci_upper`, `q`,
    /// `q_p_value`, `tau2` for random effects, `i2`, `h2`); non-finite values are `null`.
    public func summary() throws(MetaPoolError) -> JSONValue {
        .object(analysis.sensitivityHeader("cumulative") + [
            ("order", .array(order.map { .integer($0) })),
            ("rows", .array(fits.map { .object($0.json(countKey: "k")) })),
        ])
    }
}

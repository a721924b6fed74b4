// Leave-one-out analysis: the model refitted k times, each time without one study.

/// Leave-one-out sensitivity analysis, as metafor's `leave1out()` for an `rma.uni` model without
/// moderators (Viechtbauer 2010, §3.8; Viechtbauer & Cheung 2010, §3): for each study i, the
/// model of the other k − 1 studies with the same τ² estimator (τ² re-estimated), test and level.
///
/// With k = 2 each refit has one study and is reported as that study (see ``SubsetFit``), as
/// metafor does.
///
/// ```swift
/// let fit = try MetaAnalysis(effects, method: .derSimonianLaird)
/// for row in try LeaveOneOut(fit).fits { print(row.study, row.estimate, row.tauSquared ?? 0) }
/// ```
public struct LeaveOneOut: Sendable {
    /// The analysis of all k studies.
    public let analysis: MetaAnalysis
    /// One refit per study, in input order; `fits[i].study` is the study left out.
    public let fits: [SubsetFit]

    /// Refits the model k times: O(k) time per refit evaluation for small k; from k =
    /// ``SubsetModel/minimumStudies`` on, O(1) per evaluation from power sums kept once
    /// (``SubsetModel``), so O(k·iterations) overall.
    /// - Parameter progress: called with (done, k) after each refit.
    /// - Throws: ``MetaPoolError``: `.insufficientData` for a single study (there is nothing
    ///   left to pool); the estimator's error (located at the study left out) when τ² cannot
    ///   be estimated without one study.
    public init(_ analysis: MetaAnalysis, progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        let k = analysis.count
        guard k >= 2 else {
            throw MetaPoolError(.insufficientData, "leave-one-out needs at least 2 studies; there is \(k)",
                                at: InputLocation(file: analysis.effects.locations.first?.file))
        }
        self.analysis = analysis
        self.fits = try Self.refits(analysis) { i, _ in progress?(i + 1, k) }
    }

    /// Fits the model without each study in turn, calling `visit(i, fit)` after the refit
    /// without study i. Below ``SubsetModel/minimumStudies`` studies the buffers hold the k − 1
    /// other studies; moving from study i to i + 1 changes one element (slot i takes study i
    /// back), so each refit is O(k) and allocation-free. From there on each refit's sums come
    /// from the power sums of all k studies less study i's own terms (``SubsetModel``).
    static func refits(_ analysis: MetaAnalysis,
                       _ visit: (Int, SubsetFit) -> Void) throws(MetaPoolError) -> [SubsetFit] {
        let y = analysis.effects.yi, v = analysis.effects.vi, labels = analysis.effects.labels
        let k = y.count
        var fitter = SubsetFitter(analysis)
        var fits: [SubsetFit] = []
        fits.reserveCapacity(k)
        if k >= SubsetModel.minimumStudies {
            let expansions = SubsetModel.expansions(y: y, v: v, tau2: analysis.tauSquaredEstimate, center: analysis.estimate)
            // The smallest variance without study i: the smallest, or the second smallest without it.
            var first = 0, second = -1
            for j in 1..<k {
                if v[j] < v[first] { second = first; first = j } else if second < 0 || v[j] < v[second] { second = j }
            }
            var model = SubsetModel(expansions: expansions, allY: y, allV: v, members: .allBut(0), smallestVariance: v[first])
            for i in 0..<k {
                model.members = .allBut(i)
                model.smallestVariance = v[i == first ? second : first]
                let fit = try fitter.fit(model: &model, study: labels[i], context: "without study \"\(labels[i])\"")
                visit(i, fit)
                fits.append(fit)
            }
            return fits
        }
        // Without study 0: studies 1…k−1.
        var ySub = Array(y[1...]), vSub = Array(v[1...])
        for i in 0..<k {
            if i > 0 {
                // Slot i − 1 held study i; it now holds study i − 1, so the subset lacks study i.
                ySub[i - 1] = y[i - 1]
                vSub[i - 1] = v[i - 1]
            }
            let fit = try fitter.fit(y: ySub, v: vSub, study: labels[i], context: "without study \"\(labels[i])\"")
            visit(i, fit)
            fits.append(fit)
        }
        return fits
    }

    /// The JSON object `metapool sensitivity` prints: the settings, then one row per study left
    /// out with metafor's `leave1out()` columns (`study`, `estimate`, `se`, `statistic`,
    /// `p_value`, `df` for t tests, `ci_lower`, `ci_upper`, `q`, `q_p_value`, `tau2` for random
    /// effects, `i2`, `h2`); non-finite values are `null`.
    public func summary() throws(MetaPoolError) -> JSONValue {
        .object(analysis.sensitivityHeader("leave_one_out") + [
            ("rows", .array(fits.map { .object($0.json()) })),
        ])
    }
}

// Leave one cluster out: the three-level model refitted without each cluster (trial) in turn.

/// The three-level model refitted without each cluster in turn, as metafor users do with
/// `rma.mv(..., subset = cluster != c)` (the cluster-level analogue of `leave1out()`; Viechtbauer &
/// Cheung 2010 for leave-one-out diagnostics). Where the clusters left each hold a single study,
/// the two variances cannot be told apart and the refit is the two-level model with the same
/// method (its τ̂² reported as the cohort variance, the cluster variance absent).
public struct LeaveOneClusterOut: Sendable {
    /// One refit.
    public struct Fit: Sendable {
        /// The cluster left out and the number of studies left.
        public let omitted: String
        public let count: Int
        /// The pooled estimate with its test and interval.
        public let pooled: EstimateInference
        /// σ̂²₁ (nil for a two-level refit) and σ̂²₂ (τ̂² for a two-level refit).
        public let clusterVariance: Double?
        public let cohortVariance: Double
        /// `three-level` or `two-level`.
        public let model: String

        /// The row as the JSON and the table show it.
        public func json() -> [(String, JSONValue)] {
            func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
            return [("omitted", .string(omitted)), ("k", .integer(count)), ("estimate", number(pooled.estimate)),
                    ("se", number(pooled.standardError)), ("statistic", number(pooled.statistic)), ("p_value", number(pooled.pValue)),
                    ("ci_lower", number(pooled.confidenceInterval.lower)), ("ci_upper", number(pooled.confidenceInterval.upper)),
                    ("sigma2_cluster", number(clusterVariance)), ("sigma2_cohort", number(cohortVariance)), ("model", .string(model))]
        }
    }

    /// The cluster column and one refit per cluster, in order of first appearance.
    public let column: String
    public let fits: [Fit]

    /// - Throws: ``MetaPoolError`` when there are fewer than 3 clusters (a refit needs 2) or a refit fails.
    public init(_ analysis: any ThreeLevelFitted) throws(MetaPoolError) {
        let clusters = analysis.clusters, effects = analysis.studies.effects
        guard clusters.names.count >= 3 else {
            throw MetaPoolError(.insufficientData, "leaving one cluster out needs at least 3 clusters; there are \(clusters.names.count)",
                                at: InputLocation(file: effects.locations.firstFile, column: clusters.column))
        }
        let level = analysis.pooled.level
        let tDistribution = analysis.pooled.degreesOfFreedom != nil
        let binomial = analysis as? ThreeLevelBinomialAnalysis
        let method = (analysis as? ThreeLevelAnalysis)?.fit.method ?? .restrictedMaximumLikelihood
        var fits: [Fit] = []
        for (c, name) in clusters.names.enumerated() {
            let kept = effects.yi.indices.filter { clusters.ids[$0] != c }
            let sub = clusters.subset(kept)
            let threeLevel = sub.names.count < sub.ids.count
            do throws(MetaPoolError) {
                if let binomial {
                    // The three-level GLMM (Laplace) of the other clusters, or the two-level one (Laplace).
                    let x = kept.map { binomial.events[$0] }, n = kept.map { binomial.totals[$0] }
                    if threeLevel {
                        let fit = try ThreeLevelBinomialModel(events: x, totals: n, cluster: sub.ids).fit(tDistribution: tDistribution, level: level)
                        fits.append(Fit(omitted: name, count: kept.count, pooled: fit.pooled, clusterVariance: fit.clusterVariance,
                                        cohortVariance: fit.cohortVariance, model: "three-level"))
                    } else {
                        var fit: any FittedModel = try GeneralizedLinearMixedModel(events: x, totals: n, labels: nil, locations: nil,
                                                                                     quadraturePoints: 1, level: level)
                        if tDistribution, let g = fit as? GeneralizedLinearMixedModel { fit = g.withTTest() }
                        fits.append(Fit(omitted: name, count: kept.count, pooled: fit.pooled, clusterVariance: nil,
                                        cohortVariance: fit.heterogeneity.tauSquared ?? 0, model: "two-level"))
                    }
                } else if threeLevel {
                    let y = kept.map { effects.yi[$0] }, v = kept.map { effects.vi[$0] }
                    let model = try ThreeLevelModel(yi: y, vi: v, cluster: sub.ids)
                    let fit = try model.fit(method: method, tDistribution: tDistribution, level: level)
                    fits.append(Fit(omitted: name, count: kept.count, pooled: fit.pooled, clusterVariance: fit.clusterVariance,
                                    cohortVariance: fit.cohortVariance, model: "three-level"))
                } else {
                    let fit = try MetaAnalysis(effects.subset(kept), method: method, ciMethod: tDistribution ? .t : .wald, level: level)
                    fits.append(Fit(omitted: name, count: kept.count, pooled: fit.pooled, clusterVariance: nil,
                                    cohortVariance: fit.tauSquaredEstimate, model: "two-level"))
                }
            } catch {
                var e = error
                e.reason = "without cluster \"\(MetaPoolError.shortened(name))\": \(e.reason)"
                throw e
            }
        }
        column = clusters.column
        self.fits = fits
    }

    /// The JSON array of the refits.
    public func summary() -> JSONValue { .array(fits.map { .object($0.json()) }) }
}

// Outlier and influence diagnostics (Viechtbauer & Cheung 2010), as metafor's influence.rma.uni().

/// Case-deletion outlier and influence diagnostics for a model without moderators
/// (Viechtbauer & Cheung 2010, §3, after Belsley, Kuh & Welsch 1980 and Cook 1977; metafor's `influence.rma.uni()`, p = 1 coefficient).
///
/// For study i, with the full model's τ̂², wᵢ = 1/(vᵢ + τ̂²), μ̂ and Var(μ̂), and the model
/// refitted without study i (τ² re-estimated with the same estimator) giving τ̂²₍₋ᵢ₎, μ̂₍₋ᵢ₎,
/// Var(μ̂₍₋ᵢ₎), Q₍₋ᵢ₎ and the variance factor f₍₋ᵢ₎ of its test (1 for z and t; the
/// Hartung–Knapp s²₍₋ᵢ₎ for `hksj`, max(1, s²₍₋ᵢ₎) for `hksj-adhoc`; 1 when one study is left):
///
/// - hat hᵢ = wᵢ/Σw and weight 100·hᵢ;
/// - rstudent tᵢ = (yᵢ − μ̂₍₋ᵢ₎)/√(f₍₋ᵢ₎(vᵢ + τ̂²₍₋ᵢ₎) + Var(μ̂₍₋ᵢ₎));
/// - DFFITS = (μ̂ − μ̂₍₋ᵢ₎)/√(f₍₋ᵢ₎·hᵢ(τ̂²₍₋ᵢ₎ + vᵢ));
/// - Cook's distance Dᵢ = (μ̂ − μ̂₍₋ᵢ₎)²/Var(μ̂);
/// - covariance ratio Var(μ̂₍₋ᵢ₎)/Var(μ̂);
/// - DFBETAS = (μ̂ − μ̂₍₋ᵢ₎)/√(f₍₋ᵢ₎/Σⱼ 1/(vⱼ + τ̂²₍₋ᵢ₎)), the sum over all k studies;
/// - τ̂²₍₋ᵢ₎ (0 for the fixed-effect model) and Q₍₋ᵢ₎.
///
/// Var(μ̂) and Var(μ̂₍₋ᵢ₎) are the squared standard errors under the model's test. The
/// factors f₍₋ᵢ₎ follow metafor 3.8-1, whose values the tests check.
public struct InfluenceDiagnostics: Sendable {
    /// The diagnostics of one study.
    public struct Study: Sendable, Hashable {
        /// The study label.
        public let study: String
        /// The externally studentized residual (metafor's `rstudent`).
        public let studentizedResidual: Double
        /// DFFITS.
        public let dffits: Double
        /// Cook's distance (`cook.d`).
        public let cooksDistance: Double
        /// The covariance ratio (`cov.r`); below 1, leaving the study out makes μ̂ more precise.
        public let covarianceRatio: Double
        /// τ̂² without the study (`tau2.del`); 0 for the fixed-effect model.
        public let tauSquaredDeleted: Double
        /// Cochran's Q without the study (`QE.del`).
        public let qDeleted: Double
        /// The hat value hᵢ = wᵢ/Σw.
        public let hat: Double
        /// The weight in percent, 100·hᵢ.
        public let weight: Double
        /// DFBETAS of the intercept μ (`dfbs`).
        public let dfbetas: Double
        /// metafor's `inf` flag: true when any cut-off in ``InfluenceDiagnostics/Thresholds`` is passed.
        public let isInfluential: Bool
    }

    /// The cut-offs for the `inf` flag of metafor's `influence.rma.uni()` (its documentation,
    /// after Viechtbauer & Cheung 2010 and Belsley, Kuh & Welsch 1980), with p = 1 coefficient
    /// and k studies. The covariance ratio, τ̂²₍₋ᵢ₎, Q₍₋ᵢ₎ and rstudent are not among them.
    public struct Thresholds: Sendable, Hashable {
        /// |DFFITS| > 3√(p/(k − p)).
        public let dffits: Double
        /// Cook's distance above the median of χ² on p df (pchisq(D, p) > 0.5), i.e. D > 0.4549…
        public let cooksDistance: Double
        /// hᵢ > 3p/k.
        public let hat: Double
        /// |DFBETAS| > 1.
        public let dfbetas: Double
    }

    /// The analysis of all k studies.
    public let analysis: MetaAnalysis
    /// The diagnostics of each study, in input order.
    public let studies: [Study]
    /// The cut-offs used for ``Study/isInfluential``.
    public let thresholds: Thresholds
    /// The leave-one-out refits the diagnostics come from (`deleted[i]` is the model without study i).
    public let deleted: [SubsetFit]

    /// Computes the diagnostics by k refits (see ``LeaveOneOut/init(_:progress:)`` for their cost).
    /// - Parameter progress: called with (done, k) after each refit.
    /// - Throws: ``MetaPoolError``: `.insufficientData` for a single study; the estimator's
    ///   error (located at the study left out) when τ² cannot be estimated without one study.
    public init(_ analysis: MetaAnalysis, progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        let k = analysis.count
        guard k >= 2 else {
            throw MetaPoolError(.insufficientData, "influence diagnostics need at least 2 studies; there is \(k)",
                                at: InputLocation(file: analysis.effects.locations.first?.file))
        }
        self.init(analysis, deleted: try LeaveOneOut.refits(analysis) { i, _ in progress?(i + 1, k) })
    }

    /// The diagnostics from the refits of a leave-one-out analysis, without refitting.
    public init(_ leaveOneOut: LeaveOneOut) {
        self.init(leaveOneOut.analysis, deleted: leaveOneOut.fits)
    }

    /// O(k) given the refits: Σⱼ 1/(vⱼ + τ̂²₍₋ᵢ₎) over all k studies comes from the power sums
    /// at τ̂² (``PowerSums``) where the series applies, else from a direct pass.
    private init(_ analysis: MetaAnalysis, deleted: [SubsetFit]) {
        let k = analysis.count
        let p = 1.0
        let kk = Double(k)
        let thresholds = Thresholds(dffits: 3 * (p / (kk - p)).squareRoot(),
                                    cooksDistance: ChiSquared(degreesOfFreedom: p).quantile(0.5),
                                    hat: 3 * p / kk, dfbetas: 1)
        self.analysis = analysis
        self.thresholds = thresholds
        self.deleted = deleted

        let y = analysis.effects.yi, v = analysis.effects.vi, labels = analysis.effects.labels
        let tau2 = analysis.tauSquaredEstimate
        let mu = analysis.estimate
        let variance = analysis.standardError * analysis.standardError
        var sumW = 0.0
        for j in 0..<k { sumW += 1 / (v[j] + tau2) }
        let cookChiSquared = ChiSquared(degreesOfFreedom: p)
        let expansions = k >= SubsetModel.minimumStudies
            ? SubsetModel.expansions(y: y, v: v, tau2: tau2, center: mu) : []

        var studies: [Study] = []
        studies.reserveCapacity(k)
        for (i, fit) in deleted.enumerated() {
            let tau2Deleted = fit.tauSquaredValue
            let f = fit.varianceFactor
            let varianceDeleted = fit.standardError * fit.standardError
            let hat = 1 / (v[i] + tau2) / sumW
            let change = mu - fit.estimate
            // Σ over all k studies of 1/(vⱼ + τ̂²₍₋ᵢ₎): the precision of μ at the deleted τ².
            var sumWAll = 0.0
            if let series = expansions.lazy.compactMap({ $0.series(tau2: tau2Deleted) }).first {
                sumWAll = series[0][0]
            } else {
                v.withUnsafeBufferPointer { v in
                    for j in 0..<k { sumWAll += 1 / (v[j] + tau2Deleted) }
                }
            }
            let rstudent = (y[i] - fit.estimate) / (f * (v[i] + tau2Deleted) + varianceDeleted).squareRoot()
            let dffits = change / (f * hat * (tau2Deleted + v[i])).squareRoot()
            let cook = change * change / variance
            let dfbetas = change / (f / sumWAll).squareRoot()
            let influential = abs(dffits) > thresholds.dffits
                || cookChiSquared.cdf(cook) > 0.5
                || hat > thresholds.hat
                || abs(dfbetas) > thresholds.dfbetas
            studies.append(Study(study: labels[i], studentizedResidual: rstudent, dffits: dffits, cooksDistance: cook,
                                 covarianceRatio: varianceDeleted / variance, tauSquaredDeleted: tau2Deleted,
                                 qDeleted: fit.q, hat: hat, weight: 100 * hat, dfbetas: dfbetas,
                                 isInfluential: influential))
        }
        self.studies = studies
    }

    /// The studies flagged influential.
    public var influentialStudies: [Study] { studies.filter(\.isInfluential) }

    /// The JSON object `metapool sensitivity` prints: the settings, the cut-offs, then one row
    /// per study with metafor's `influence()` columns (`study`, `rstudent`, `dffits`, `cook_d`,
    /// `cov_r`, `tau2_del`, `qe_del`, `hat`, `weight`, `dfbetas`, `influential`); non-finite
    /// values are `null`.
    public func summary() throws(MetaPoolError) -> JSONValue {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        let rows: [JSONValue] = studies.map { .object($0.json()) }
        return .object(analysis.sensitivityHeader("influence") + [
            ("thresholds", .object([
                ("dffits", number(thresholds.dffits)), ("cook_d", number(thresholds.cooksDistance)),
                ("hat", number(thresholds.hat)), ("dfbetas", number(thresholds.dfbetas)),
            ])),
            ("rows", .array(rows)),
        ])
    }
}

extension InfluenceDiagnostics.Study {
    /// The row with metafor's column names (`study`, `rstudent`, `dffits`, `cook_d`, `cov_r`,
    /// `tau2_del`, `qe_del`, `hat`, `weight`, `dfbetas`, `influential`); non-finite values are null.
    public func json() -> [(String, JSONValue)] {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        return [
            ("study", .string(study)), ("rstudent", number(studentizedResidual)), ("dffits", number(dffits)),
            ("cook_d", number(cooksDistance)), ("cov_r", number(covarianceRatio)),
            ("tau2_del", number(tauSquaredDeleted)), ("qe_del", number(qDeleted)),
            ("hat", number(hat)), ("weight", number(weight)), ("dfbetas", number(dfbetas)),
            ("influential", .bool(isInfluential)),
        ]
    }
}

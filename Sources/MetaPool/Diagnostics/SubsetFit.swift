// One model refitted to a subset of the studies, and the engine that refits it from reusable buffers.

/// The model of a ``MetaAnalysis`` refitted to a subset of its studies, with the same τ²
/// estimator, test and confidence level: one row of a ``LeaveOneOut`` or
/// ``CumulativeAnalysis`` (metafor's `leave1out()` and `cumul()` columns).
///
/// A subset of one study is that study: μ̂ = y, SE = √v, a z test, τ̂² = 0, Q = 0 with p = 1,
/// I² = 0 and H² = 1, whatever the method and test (what metafor 3.8 reports for k = 1: `rma()`
/// fixes τ² at 0 and uses the normal distribution when there is one study).
public struct SubsetFit: Sendable, Hashable {
    /// The study left out (leave-one-out) or added last (cumulative).
    public let study: String
    /// The number of studies in the subset.
    public let count: Int
    /// The pooled estimate μ̂ of the subset.
    public let estimate: Double
    /// Its standard error under the test (with the Hartung–Knapp factor for `hksj`).
    public let standardError: Double
    /// The z or t statistic μ̂/SE.
    public let statistic: Double
    /// Its two-sided p-value.
    public let pValue: Double
    /// Degrees of freedom of the t distribution (count − 1), or `nil` for a z test.
    public let degreesOfFreedom: Int?
    /// The confidence interval μ̂ ± c·SE.
    public let confidenceInterval: Interval
    /// Cochran's Q = Σ(yᵢ − μ̂_FE)²/vᵢ of the subset (Cochran 1954), count − 1 df.
    public let q: Double
    /// The p-value of Q (1 for a single study).
    public let qPValue: Double
    /// τ̂² of the subset, or `nil` for the fixed-effect model.
    public let tauSquared: Double?
    /// I² in percent. Random effects: 100·τ̂²/(τ̂² + ṽ) with the typical variance ṽ
    /// (Higgins & Thompson 2002, eq. 9–10); fixed effect: 100·max(0, (Q − df)/Q)
    /// (Higgins & Thompson 2002, eq. 7), as metafor reports for each.
    public let iSquared: Double
    /// H²: (τ̂² + ṽ)/ṽ for random effects, Q/df for the fixed-effect model (Higgins & Thompson 2002).
    public let hSquared: Double

    /// Σwᵢ with wᵢ = 1/(vᵢ + τ̂²), before any Hartung–Knapp factor.
    let sumWeights: Double
    /// The factor applied to 1/Σwᵢ to form SE²: 1 (z, t), s² (hksj) or max(1, s²) (hksj-adhoc),
    /// s² = Σwᵢ(yᵢ − μ̂)²/(count − 1) (Hartung & Knapp 2001; Knapp & Hartung 2003).
    let varianceFactor: Double
    /// τ̂², 0 for the fixed-effect model.
    var tauSquaredValue: Double { tauSquared ?? 0 }
}

/// Refits a model to subsets held in caller-owned buffers: O(n) per refit for a subset of n
/// studies, and no allocation beyond what the τ² estimator does (the estimators in
/// `Models/Estimators` allocate nothing).
struct SubsetFitter {
    let method: TauSquaredMethod
    let ciMethod: ConfidenceIntervalMethod
    let level: Double
    /// z_{1−α/2}.
    let normalCritical: Double
    /// The t critical value of the last df asked for, cached (leave-one-out asks for one df only).
    private var cachedDF = -1
    private var cachedT = Double.nan

    init(method: TauSquaredMethod, ciMethod: ConfidenceIntervalMethod, level: Double) {
        self.method = method
        self.ciMethod = ciMethod
        self.level = level
        normalCritical = EstimateInference.criticalValue(level: level, degreesOfFreedom: nil)
    }

    init(_ analysis: MetaAnalysis) {
        self.init(method: analysis.method, ciMethod: analysis.ciMethod, level: analysis.level)
    }

    private mutating func tCritical(df: Int) -> Double {
        if df != cachedDF {
            cachedDF = df
            cachedT = EstimateInference.criticalValue(level: level, degreesOfFreedom: df)
        }
        return cachedT
    }

    /// Fits the model to `y` and `v` (n ≥ 1 studies); `study` labels the row.
    /// - Throws: the estimator's ``MetaPoolError`` (located at `study`, with `context` before
    ///   its reason), or `.insufficientData` when the sums overflow.
    mutating func fit(y: [Double], v: [Double], study: String, context: @autoclosure () -> String) throws(MetaPoolError) -> SubsetFit {
        let n = y.count
        let randomEffects = method != .fixedEffect
        if n == 1 {
            // metafor 3.8: a model of one study has τ² = 0 and a z test, for every method and test.
            let one = EstimateInference(estimate: y[0], standardError: v[0].squareRoot(), level: level, degreesOfFreedom: nil,
                                        criticalValue: normalCritical)
            return try checked(SubsetFit(
                study: study, count: 1, estimate: one.estimate, standardError: one.standardError, statistic: one.statistic,
                pValue: one.pValue, degreesOfFreedom: nil, confidenceInterval: one.confidenceInterval,
                q: 0, qPValue: 1, tauSquared: randomEffects ? 0 : nil, iSquared: 0, hSquared: 1,
                sumWeights: 1 / v[0], varianceFactor: 1), context: context)
        }
        let tau2: Double
        do {
            tau2 = try method.estimator?.tauSquared(y: y, v: v) ?? 0
        } catch {
            throw located(error, study: study, context: context)
        }
        return try fit(count: n, tauSquared: tau2, study: study, context: context) { WeightedSums(y: y, v: v, tau2: $0) }
    }

    /// Fits the model to the subset `model` stands for (n ≥ 2 studies), its sums from the
    /// subset's power sums in O(1) per evaluation where they apply (``SubsetModel``).
    mutating func fit(model: inout SubsetModel, study: String, context: @autoclosure () -> String) throws(MetaPoolError) -> SubsetFit {
        let tau2: Double
        do {
            tau2 = try method.estimate(&model)
        } catch {
            throw located(error, study: study, context: context)
        }
        return try fit(count: model.studyCount, tauSquared: tau2, study: study, context: context) { [model] in model.weightedSums(tau2: $0) }
    }

    private func located(_ error: MetaPoolError, study: String, context: () -> String) -> MetaPoolError {
        var e = error
        e.reason = "\(context()): \(e.reason)"
        if e.location.study == nil { e.location.study = study }
        return e
    }

    /// The row for a subset of n ≥ 2 studies with τ̂² estimated, from its sums at 0 and at τ̂².
    private mutating func fit(count n: Int, tauSquared tau2: Double, study: String, context: () -> String,
                              sums: (Double) -> WeightedSums) throws(MetaPoolError) -> SubsetFit {
        let randomEffects = method != .fixedEffect
        let df = n - 1
        let fixed = sums(0)
        let s = tau2 == 0 ? fixed : sums(tau2)
        // Hartung & Knapp (2001), eq. 7: s² = Σwᵢ(yᵢ − μ̂)²/(k − 1) scales 1/Σw.
        let factor = ciMethod.varianceFactor(q: s.q, residualDegreesOfFreedom: Double(df))
        let se = (factor / s.sumW).squareRoot()
        let inference = EstimateInference(estimate: s.mean, standardError: se, level: level,
                                          degreesOfFreedom: ciMethod.usesT ? df : nil,
                                          criticalValue: ciMethod.usesT ? tCritical(df: df) : normalCritical)
        let heterogeneity = randomEffects
            ? Heterogeneity(tauSquared: tau2, typicalVariance: Double(df) / fixed.traceP, q: fixed.q, count: n)
            : Heterogeneity(q: fixed.q, count: n)
        return try checked(SubsetFit(
            study: study, count: n, estimate: s.mean, standardError: se, statistic: inference.statistic, pValue: inference.pValue,
            degreesOfFreedom: inference.degreesOfFreedom, confidenceInterval: inference.confidenceInterval,
            q: fixed.q, qPValue: heterogeneity.pValue,
            tauSquared: randomEffects ? tau2 : nil, iSquared: heterogeneity.iSquared, hSquared: heterogeneity.hSquared,
            sumWeights: s.sumW, varianceFactor: factor), context: context)
    }

    private func checked(_ f: SubsetFit, context: () -> String) throws(MetaPoolError) -> SubsetFit {
        guard f.estimate.isFinite, f.standardError.isFinite, f.confidenceInterval.lower.isFinite,
              f.confidenceInterval.upper.isFinite, f.q.isFinite, f.tauSquaredValue.isFinite, f.sumWeights.isFinite else {
            throw MetaPoolError(.insufficientData, "\(context()): the effects or variances are too extreme to pool in double precision (the weighted sums overflow)",
                                at: InputLocation(study: f.study))
        }
        return f
    }
}

extension SubsetFit {
    /// The row as a JSON object with metafor's column names (`tau2` only for random effects,
    /// `df` only for t tests).
    public func json(countKey: String? = nil) -> [(String, JSONValue)] {
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        var members: [(String, JSONValue)] = [("study", .string(study))]
        if let countKey { members.append((countKey, .integer(count))) }
        members += [
            ("estimate", number(estimate)), ("se", number(standardError)),
            ("statistic", number(statistic)), ("p_value", number(pValue)),
        ]
        if let df = degreesOfFreedom { members.append(("df", .integer(df))) }
        members += [
            ("ci_lower", number(confidenceInterval.lower)), ("ci_upper", number(confidenceInterval.upper)),
            ("q", number(q)), ("q_p_value", number(qPValue)),
        ]
        if let tau2 = tauSquared { members.append(("tau2", number(tau2))) }
        members += [("i2", number(iSquared)), ("h2", number(hSquared))]
        return members
    }
}

extension MetaAnalysis {
    /// The settings every sensitivity summary starts with.
    func sensitivityHeader(_ analysis: String) -> [(String, JSONValue)] {
        [
            ("analysis", .string(analysis)),
            ("measure", .string(effects.measure.rawValue)),
            ("method", .string(method.rawValue)),
            ("ci_method", .string(ciMethod.rawValue)),
            ("level", .number(level)),
            ("k", .integer(count)),
        ]
    }
}

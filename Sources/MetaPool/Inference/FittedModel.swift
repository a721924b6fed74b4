// The questions every fitted model answers: the shared vocabulary of the pipeline
// effect sizes → a fit → questions asked of the fit → pictures.

/// The test and interval of one estimate: z, or Student's t on `degreesOfFreedom`.
/// The one place where a standard error, a critical value and a p-value meet.
public struct EstimateInference: Sendable, Hashable {
    /// The estimate on the analysis scale.
    public let estimate: Double
    /// The standard error of the estimate.
    public let standardError: Double
    /// estimate ± c·SE, c the two-sided critical value at `level`.
    public let confidenceInterval: Interval
    /// estimate/SE.
    public let statistic: Double
    /// The two-sided p-value of `statistic`.
    public let pValue: Double
    /// The df of the t distribution, or `nil` for the normal (z).
    public let degreesOfFreedom: Int?
    /// The confidence level in (0, 1).
    public let level: Double

    /// Forms the interval and the test of `estimate` with `standardError` at `level` (in (0, 1)),
    /// on Student's t with `degreesOfFreedom` or, for `nil`, the normal.
    public init(estimate: Double, standardError: Double, level: Double, degreesOfFreedom: Int?) {
        self.init(estimate: estimate, standardError: standardError, level: level, degreesOfFreedom: degreesOfFreedom,
                  criticalValue: Self.criticalValue(level: level, degreesOfFreedom: degreesOfFreedom))
    }

    /// With the critical value already known (callers that fit many subsets with one df cache it).
    init(estimate: Double, standardError: Double, level: Double, degreesOfFreedom: Int?, criticalValue crit: Double) {
        self.estimate = estimate
        self.standardError = standardError
        self.level = level
        self.degreesOfFreedom = degreesOfFreedom
        confidenceInterval = Interval(estimate - crit * standardError, estimate + crit * standardError)
        statistic = estimate / standardError
        if let degreesOfFreedom {
            pValue = min(1, 2 * StudentT(degreesOfFreedom: Double(degreesOfFreedom)).survival(abs(statistic)))
        } else {
            pValue = min(1, 2 * Normal.standard.survival(abs(statistic)))
        }
    }

    /// The two-sided critical value z₁₋α/2 or t₁₋α/2,df.
    static func criticalValue(level: Double, degreesOfFreedom: Int?) -> Double {
        let alpha = 1 - level
        if let degreesOfFreedom {
            return StudentT(degreesOfFreedom: Double(degreesOfFreedom)).survivalQuantile(alpha / 2)
        }
        return Normal.standard.survivalQuantile(alpha / 2)
    }

    /// The prediction interval for the true effect of a new study, estimate ± c·√(SE² + τ²) on
    /// the same distribution as the interval (metafor's `predict()`; Riley, Higgins & Deeks 2011
    /// use k − 2 df, metafor and MetaPool the model's df).
    func predictionInterval(tauSquared: Double) -> Interval {
        let crit = Self.criticalValue(level: level, degreesOfFreedom: degreesOfFreedom)
        let half = crit * (standardError * standardError + tauSquared).squareRoot()
        return Interval(estimate - half, estimate + half)
    }

    /// Throws unless 0 < level < 1.
    static func checkLevel(_ level: Double) throws(MetaPoolError) {
        guard level > 0, level < 1 else {
            throw MetaPoolError(.invalidArgument, "the confidence level \(level) is not between 0 and 1 (write 0.95, not 95)")
        }
    }
}

/// Heterogeneity of a fitted model: Q with its df and p-value, I² and H², and τ² where the
/// model has one.
///
/// Two definitions, as metafor uses them: for random-effects models I² = 100·τ̂²/(τ̂² + ṽ) and
/// H² = (τ̂² + ṽ)/ṽ through the typical within-study variance ṽ (Higgins & Thompson 2002,
/// eqs. 9–10); for common-effect models (inverse variance, Mantel–Haenszel, Peto) the Q-based
/// I² = max(0, 100·(Q − df)/Q) and H² = Q/df (Higgins & Thompson 2002, eqs. 7 and 3).
public struct Heterogeneity: Sendable, Hashable {
    /// τ̂², or `nil` for a common-effect model.
    public let tauSquared: Double?
    /// The Q statistic and the number of studies it is computed over.
    public let q: Double
    /// The number of studies Q is computed over (k, or k′ without double-zero studies).
    public let count: Int
    /// Its degrees of freedom and p-value (χ²).
    public let degreesOfFreedom: Int
    /// The p-value of Q, P(χ²_df > Q) (metafor's QEp).
    public let pValue: Double
    /// I² in percent and H² (for a common-effect model with df = 0, 0 and 1 as metafor reports them).
    public let iSquared: Double
    /// H² (1 when there is no heterogeneity).
    public let hSquared: Double
    /// ṽ, for the random-effects definition; `nil` for the Q-based one.
    public let typicalVariance: Double?

    /// The Q-based definition, for common-effect models. With fewer than two studies: Q = 0 on
    /// 0 df, p = 1, I² = 0 and H² = 1, as metafor's `rma()`, `rma.mh()` and `rma.peto()` report.
    public init(q rawQ: Double, count: Int, degreesOfFreedom df: Int? = nil) {
        self.count = count
        tauSquared = nil
        typicalVariance = nil
        let d = df ?? (count - 1)
        guard count > 1, d > 0 else {
            q = 0; degreesOfFreedom = 0; pValue = 1; iSquared = 0; hSquared = 1
            return
        }
        q = max(0, rawQ)
        degreesOfFreedom = d
        pValue = ChiSquared(degreesOfFreedom: Double(d)).survival(q)
        // 100·(1 − df/Q): 100·(Q − df) overflows for Q near the largest Double.
        iSquared = q > 0 ? max(0, 100 * (1 - Double(d) / q)) : 0
        hSquared = q / Double(d)
    }

    /// The random-effects definition through ṽ. I² is computed as 100/(1 + ṽ/τ²) and H² as
    /// 1 + τ²/ṽ, which do not overflow for τ² near the largest Double (found by fuzzing).
    public init(tauSquared: Double, typicalVariance: Double, q: Double, count: Int, degreesOfFreedom df: Int? = nil) {
        let d = df ?? (count - 1)
        self.init(tauSquared: tauSquared, typicalVariance: typicalVariance, q: q, count: count, degreesOfFreedom: d,
                  pValue: d > 0 ? ChiSquared(degreesOfFreedom: Double(d)).survival(q) : 1)
    }

    /// The random-effects definition with the p-value of Q already computed (by the fit).
    init(tauSquared: Double, typicalVariance: Double, q: Double, count: Int, degreesOfFreedom d: Int, pValue: Double) {
        self.tauSquared = tauSquared
        self.typicalVariance = typicalVariance
        self.q = q
        self.count = count
        degreesOfFreedom = d
        self.pValue = pValue
        iSquared = Self.iSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)
        hSquared = Self.hSquared(tauSquared: tauSquared, typicalVariance: typicalVariance)
    }

    /// 100/(1 + ṽ/τ²), the same as 100·τ²/(τ² + ṽ) without overflowing.
    static func iSquared(tauSquared: Double, typicalVariance: Double) -> Double {
        tauSquared > 0 ? 100 / (1 + typicalVariance / tauSquared) : 0
    }

    /// 1 + τ²/ṽ, the same as (τ² + ṽ)/ṽ.
    static func hSquared(tauSquared: Double, typicalVariance: Double) -> Double {
        1 + tauSquared / typicalVariance
    }

    /// ṽ = (k − 1)/tr P₀ with wᵢ = 1/vᵢ (Higgins & Thompson 2002, eq. 9), through the traces of
    /// ``WeightedSums``, which stay accurate when one weight dominates (the closed form
    /// (k − 1)Σw/((Σw)² − Σw²) cancels there).
    static func typicalVariance(y: [Double], v: [Double]) -> Double {
        Double(y.count - 1) / WeightedSums(y: y, v: v, tau2: 0).traceP
    }
}

/// The studies a model was fitted to, as the later stages (plots, reports, diagnostics) need them.
public struct FittedStudies: Sendable {
    /// The effect sizes on the analysis scale (labels, yᵢ, vᵢ, sample sizes, input locations).
    public let effects: EffectSizes
    /// Percentage weights in the pooled estimate, or `nil` where the model has none per study
    /// (the GLMM, whose weights are not a fixed share).
    public let weights: [Double]?
    /// Rows of the input table the studies came from (0-based), in study order, when known.
    public let rows: [Int]?

    /// Each study's Wald interval yᵢ ± z·√vᵢ at `level` on the analysis scale (metafor's `escalc`
    /// `summary()` intervals, as the forest plot and the JSON summaries show them).
    public func confidenceIntervals(level: Double) -> [Interval] {
        let z = EstimateInference.criticalValue(level: level, degreesOfFreedom: nil)
        return zip(effects.yi, effects.vi).map { y, v in
            let h = z * v.squareRoot()
            return Interval(y - h, y + h)
        }
    }

    /// The studies of a fit, with percentage weights where the model has them.
    public init(effects: EffectSizes, weights: [Double]?, rows: [Int]? = nil) {
        self.effects = effects
        self.weights = weights
        self.rows = rows
    }
}

/// A pooled estimate with its inference: what every fit, and every analysis of a batch, answers.
/// The estimate, its standard error, interval, statistic, p-value and df are read from `pooled`,
/// stored once by each type.
public protocol PooledResult {
    /// The pooled estimate with its standard error, interval and test.
    var pooled: EstimateInference { get }
}

extension PooledResult {
    /// The pooled estimate on the analysis scale.
    public var estimate: Double { pooled.estimate }
    /// Its standard error.
    public var standardError: Double { pooled.standardError }
    /// Its confidence interval.
    public var confidenceInterval: Interval { pooled.confidenceInterval }
    /// The z or t statistic estimate/SE.
    public var statistic: Double { pooled.statistic }
    /// Its two-sided p-value.
    public var pValue: Double { pooled.pValue }
    /// The df of the t distribution, or `nil` for z.
    public var degreesOfFreedom: Int? { pooled.degreesOfFreedom }
}

/// A fitted meta-analytic model. Every fit answers the same questions, so the later stages
/// (``ForestPlot``, ``Report``, summaries, regression baselines) take any fit.
///
/// ```swift
/// func headline(_ fit: some FittedModel) -> String {
///     let p = fit.pooled
///     return "\(fit.backTransform(p.estimate)) [\(fit.backTransform(p.confidenceInterval.lower)), \(fit.backTransform(p.confidenceInterval.upper))]"
/// }
/// ```
public protocol FittedModel: PooledResult, Sendable {
    /// A short name of the model for people ("Random-effects model (REML)").
    var modelName: String { get }
    /// The measure the effects are on.
    var measure: EffectMeasure { get }
    /// Q, I², H² and τ² where defined.
    var heterogeneity: Heterogeneity { get }
    /// The prediction interval on the analysis scale, `nil` where the model has none.
    var predictionInterval: Interval? { get }
    /// The predictive distribution of a new study's true effect behind `predictionInterval`
    /// (its method and df, and probabilities beyond a threshold), `nil` where the model has none.
    var newStudyPrediction: Prediction? { get }
    /// The studies, with their weights where defined.
    var studies: FittedStudies { get }
    /// Maps a value on the analysis scale to the natural scale.
    func backTransform(_ x: Double) -> Double
    /// The model's summary as `metapool pool --format json` prints it (metafor's names in
    /// snake_case; see `Documentation.docc/JSONOutput.md`).
    func jsonSummary() throws(MetaPoolError) -> JSONValue
}

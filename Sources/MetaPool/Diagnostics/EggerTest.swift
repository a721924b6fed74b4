// Regression tests for funnel-plot asymmetry (small-study effects): Egger's test, its
// meta-regression version and Peters' test, as metafor's `regtest()` carries them out.

/// A regression test for funnel-plot asymmetry: the effects are regressed on a measure of study
/// size (by default the standard error) and a non-zero slope signals small-study effects.
///
/// Two models, named by metafor's `regtest(model =)`:
/// - ``Model/weightedRegression`` (`"lm"`): the classical Egger test (Egger, Davey Smith,
///   Schneider & Minder 1997). Egger regressed the standardized effect yᵢ/√vᵢ on the precision
///   1/√vᵢ and tested the intercept; dividing through by √vᵢ shows this is the weighted least
///   squares fit of yᵢ = β₀ + β₁√vᵢ with weights 1/vᵢ and a multiplicative dispersion σ²
///   estimated from the residuals, and Egger's intercept is β₁ here (Sterne & Egger 2005). The
///   test is t = β̂₁/SE(β̂₁) on k − 2 df, SE from σ̂²(XᵀWX)⁻¹ with σ̂² = Σwᵢrᵢ²/(k − 2).
/// - ``Model/metaRegression`` (`"rma"`, metafor's default): the mixed-effects meta-regression
///   yᵢ = β₀ + β₁xᵢ + uᵢ + εᵢ with the model's τ² estimator, and the z test of β₁ (t on k − 2 df
///   for the `t`, `hksj` and `hksj-adhoc` methods) (Sterne & Egger 2005; Viechtbauer 2010).
///
/// With the predictors √vᵢ, vᵢ, 1/nᵢ and 1/√nᵢ the intercept β₀ is the *limit estimate*, the
/// effect expected in a study of infinite precision (Stanley & Doucouliagos 2014: PET for √vᵢ,
/// PEESE for vᵢ), reported with its confidence interval.
///
/// Peters' test (Peters, Sutton, Jones, Abrams & Rushton 2006) uses the inverse of the total
/// sample size: ``peters(_:sampleSizes:level:)``, metafor's `regtest(model = "lm", predictor = "ninv")`.
/// Like metafor, it weights by 1/vᵢ; Peters et al. weighted by the inverse variance of the
/// pooled log odds, 1/(1/(a+c) + 1/(b+d)), which is not what metafor (or MetaPool) does.
public struct EggerTest: Sendable {
    /// The regression model (metafor's `model` argument).
    public enum Model: String, Sendable, Hashable, CaseIterable {
        /// Weighted least squares with weights 1/vᵢ and a multiplicative dispersion (`"lm"`):
        /// the classical Egger test.
        case weightedRegression = "lm"
        /// Fixed- or mixed-effects meta-regression with the fitted model's τ² method and test (`"rma"`).
        case metaRegression = "rma"
    }

    /// The measure of study size the effects are regressed on (metafor's `predictor` argument).
    public enum Predictor: String, Sendable, Hashable, CaseIterable {
        /// The standard error √vᵢ (`"sei"`, Egger et al. 1997).
        case standardError = "sei"
        /// The sampling variance vᵢ (`"vi"`, Moreno et al. 2009; PEESE).
        case variance = "vi"
        /// The total sample size nᵢ (`"ni"`, Macaskill, Walter & Irwig 2001).
        case sampleSize = "ni"
        /// Its inverse 1/nᵢ (`"ninv"`, Peters et al. 2006).
        case inverseSampleSize = "ninv"
        /// Its square root √nᵢ (`"sqrtni"`).
        case squareRootSampleSize = "sqrtni"
        /// The inverse square root 1/√nᵢ (`"sqrtninv"`).
        case inverseSquareRootSampleSize = "sqrtninv"

        /// Whether the predictor is computed from the sample sizes.
        public var needsSampleSizes: Bool { self != .standardError && self != .variance }

        /// Whether the intercept is a limit estimate (the predictor is 0 at infinite precision).
        public var givesLimitEstimate: Bool { self != .sampleSize && self != .squareRootSampleSize }

        /// A name for people.
        public var displayName: String {
            switch self {
            case .standardError: "standard error"
            case .variance: "sampling variance"
            case .sampleSize: "sample size"
            case .inverseSampleSize: "inverse of the sample size"
            case .squareRootSampleSize: "square root of the sample size"
            case .inverseSquareRootSampleSize: "inverse of the square root of the sample size"
            }
        }

        func value(variance v: Double, sampleSize n: Double) -> Double {
            switch self {
            case .standardError: v.squareRoot()
            case .variance: v
            case .sampleSize: n
            case .inverseSampleSize: 1 / n
            case .squareRootSampleSize: n.squareRoot()
            case .inverseSquareRootSampleSize: 1 / n.squareRoot()
            }
        }
    }

    /// The regression model.
    public let model: Model
    /// The measure of study size regressed on.
    public let predictor: Predictor
    /// The τ² method of the meta-regression (`FE` for the weighted regression, which has none).
    public let method: TauSquaredMethod
    /// The test of the meta-regression (`hksj` for the weighted regression, whose dispersion
    /// scaling is the Knapp–Hartung one with τ² = 0).
    public let ciMethod: ConfidenceIntervalMethod
    /// The confidence level of the limit estimate's interval, in (0, 1).
    public let level: Double
    /// The number of studies k.
    public let count: Int
    /// The slope β̂₁ on the predictor: the asymmetry coefficient that is tested.
    public let slope: Double
    /// The standard error of β̂₁ (scaled by σ̂ for the weighted regression).
    public let slopeStandardError: Double
    /// The test statistic β̂₁/SE(β̂₁): t for the weighted regression and for t-based methods, else z
    /// (metafor's `zval`).
    public let statistic: Double
    /// k − 2 for a t test, `nil` for a z test (metafor's `dfs`).
    public let degreesOfFreedom: Int?
    /// The two-sided p-value (metafor's `pval`).
    public let pValue: Double
    /// The intercept β̂₀ as the limit estimate (metafor's `est`), `nil` for the predictors `ni`
    /// and `sqrtni`, whose intercept is not an effect at infinite precision.
    public let limitEstimate: Double?
    /// The standard error of the limit estimate.
    public let limitStandardError: Double?
    /// The confidence interval of the limit estimate at `level` (metafor's `ci.lb`, `ci.ub`).
    public let limitConfidenceInterval: Interval?
    /// The fitted regression (intercept and predictor): coefficients, covariance, QE, τ̂².
    public let fit: MetaRegression

    /// The test for a fitted inverse-variance model: its effects, τ² estimator, interval and level.
    public init(_ fit: MetaAnalysis, model: Model = .metaRegression, predictor: Predictor = .standardError,
                sampleSizes: [Double]? = nil) throws(MetaPoolError) {
        try self.init(fit.effects, model: model, predictor: predictor, sampleSizes: sampleSizes, method: fit.method,
                      ciMethod: fit.ciMethod, level: fit.level)
    }

    /// Carries out the regression test.
    /// - Parameters:
    ///   - effects: the effects and sampling variances.
    ///   - model: `.metaRegression` (metafor's default) or `.weightedRegression` (classical Egger).
    ///   - predictor: the measure of study size; `.standardError` by default.
    ///   - sampleSizes: the total sample size of each study, for the predictors that need it; by
    ///     default `effects.sampleSizes` (nᵢ for proportions, n₁ᵢ + n₂ᵢ for two-group counts).
    ///   - method: the τ² estimator of the meta-regression (ignored by the weighted regression).
    ///   - ciMethod: the test of the meta-regression (ignored by the weighted regression).
    ///   - level: the confidence level of the limit estimate's interval.
    /// - Throws: ``MetaPoolError`` `.insufficientData` for fewer than 3 studies or a predictor that
    ///   is the same for every study; `.invalidArgument` for missing or invalid sample sizes or
    ///   level; `.noConvergence` from the τ² estimator.
    public init(_ effects: EffectSizes, model: Model = .metaRegression, predictor: Predictor = .standardError,
                sampleSizes: [Double]? = nil, method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95) throws(MetaPoolError) {
        let k = effects.count
        let input = InputLocation(file: effects.locations.first?.file)
        try EstimateInference.checkLevel(level)
        guard k >= 3 else {
            throw MetaPoolError(.insufficientData, "the regression test for funnel plot asymmetry fits an intercept and a slope and needs at least 3 studies; there \(k == 1 ? "is" : "are") \(k)", at: input)
        }
        var sizes = [Double](repeating: .nan, count: k)
        if predictor.needsSampleSizes {
            guard let given = sampleSizes ?? effects.sampleSizes else {
                throw MetaPoolError(.invalidArgument, "the predictor \(predictor.rawValue) (\(predictor.displayName)) needs the total sample size of each study; give the sample sizes (for two-group data, treat_total + control_total)", at: input)
            }
            guard given.count == k else {
                throw MetaPoolError(.invalidArgument, "there are \(given.count) sample sizes for \(k) studies", at: input)
            }
            for (i, n) in given.enumerated() where !(n > 0 && n.isFinite) {
                throw MetaPoolError(.invalidValue, "the sample size is \(n); it must be a finite number greater than 0", at: effects.locations[i])
            }
            sizes = given
        }
        let x = (0..<k).map { predictor.value(variance: effects.vi[$0], sampleSize: sizes[$0]) }
        guard let first = x.first, x.contains(where: { $0 != first }) else {
            throw MetaPoolError(.insufficientData, "every study has the same \(predictor.displayName), so the regression test cannot tell its slope from the intercept", at: input)
        }
        // The weighted regression with multiplicative dispersion is the fixed-effect
        // meta-regression with its covariance scaled by σ̂² = QE/(k − p): exactly the Knapp &
        // Hartung (2003) adjustment at τ² = 0, on t with k − p df.
        let fitMethod = model == .weightedRegression ? TauSquaredMethod.fixedEffect : method
        let fitCI = model == .weightedRegression ? ConfidenceIntervalMethod.hartungKnapp : ciMethod
        var design = [Double](repeating: 1, count: 2 * k)
        for i in 0..<k { design[2 * i + 1] = x[i] }
        let fit: MetaRegression
        do {
            fit = try MetaRegression(y: effects.yi, v: effects.vi, design: design, predictors: ["intrcpt", predictor.rawValue],
                                     method: fitMethod, ciMethod: fitCI, level: level)
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = input.file }
            throw located
        }
        guard fit.standardErrors[1] > 0, fit.statistics[1].isFinite, fit.pValues.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the effects lie exactly on a line in the \(predictor.displayName), so the residual variance is 0 and the regression test is undefined", at: input)
        }
        self.model = model
        self.predictor = predictor
        self.method = fitMethod
        self.ciMethod = fitCI
        self.level = level
        count = k
        self.fit = fit
        slope = fit.coefficients[1]
        slopeStandardError = fit.standardErrors[1]
        statistic = fit.statistics[1]
        pValue = fit.pValues[1]
        degreesOfFreedom = fit.degreesOfFreedom
        if predictor.givesLimitEstimate {
            limitEstimate = fit.coefficients[0]
            limitStandardError = fit.standardErrors[0]
            limitConfidenceInterval = fit.confidenceIntervals[0]
        } else {
            limitEstimate = nil
            limitStandardError = nil
            limitConfidenceInterval = nil
        }
    }

    /// Peters' test (Peters et al. 2006) as metafor's `regtest(model = "lm", predictor = "ninv")`:
    /// the weighted regression (weights 1/vᵢ) of the effects on 1/nᵢ, nᵢ the total sample size.
    /// Meant for log odds ratios (Peters et al. 2006), where the standard error is correlated
    /// with the log odds ratio itself and Egger's test has an inflated type I error.
    public static func peters(_ effects: EffectSizes, sampleSizes: [Double]? = nil, level: Double = 0.95) throws(MetaPoolError) -> EggerTest {
        try EggerTest(effects, model: .weightedRegression, predictor: .inverseSampleSize, sampleSizes: sampleSizes, level: level)
    }

    /// τ̂² of the meta-regression (residual heterogeneity), `nil` for the weighted regression and `FE`.
    public var tauSquared: Double? { model == .metaRegression ? fit.tauSquared : nil }

    /// The JSON object with metafor's names: `{model, predictor, method, ci_method, level, k,
    /// statistic, df, p_value, slope, slope_se, limit_estimate, limit_se, limit_ci_lower,
    /// limit_ci_upper, tau2}`; keys that do not apply (df for a z test, the limit estimate for
    /// `ni` and `sqrtni`, method, ci_method and tau2 for the weighted regression) are absent.
    public func summary() throws(MetaPoolError) -> JSONValue {
        var members: [(String, JSONValue)] = [("model", .string(model.rawValue)), ("predictor", .string(predictor.rawValue))]
        if model == .metaRegression {
            members.append(("method", .string(method.rawValue)))
            members.append(("ci_method", .string(ciMethod.rawValue)))
        }
        members += [("level", .number(level)), ("k", .integer(count)), ("statistic", .number(statistic))]
        if let df = degreesOfFreedom { members.append(("df", .integer(df))) }
        members += [("p_value", .number(pValue)), ("slope", .number(slope)), ("slope_se", .number(slopeStandardError))]
        if let limitEstimate, let limitStandardError, let limitConfidenceInterval {
            members += [("limit_estimate", .number(limitEstimate)), ("limit_se", .number(limitStandardError)),
                        ("limit_ci_lower", .number(limitConfidenceInterval.lower)),
                        ("limit_ci_upper", .number(limitConfidenceInterval.upper))]
        }
        if let tau2 = tauSquared { members.append(("tau2", .number(tau2))) }
        return .object(members)
    }
}

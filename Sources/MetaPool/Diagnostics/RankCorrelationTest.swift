// Begg & Mazumdar's rank correlation test for funnel-plot asymmetry, as metafor's ranktest().

/// The rank correlation test for funnel-plot asymmetry (Begg & Mazumdar 1994): Kendall's τ
/// between the standardized effects and the sampling variances.
///
/// With the fixed-effect estimate θ̂ = Σwᵢyᵢ/Σwᵢ, wᵢ = 1/vᵢ, the standardized effects are
/// yᵢ* = (yᵢ − θ̂)/√vᵢ*, vᵢ* = vᵢ − 1/Σwⱼ the variance of yᵢ − θ̂ (Begg & Mazumdar 1994);
/// τ is Kendall's τ_b between yᵢ* and vᵢ, tested as metafor does through R's
/// `cor.test(method = "kendall", exact = TRUE)` (see ``KendallCorrelation``): exactly when there
/// are no ties, whatever k (up to ``KendallCorrelation/exactLimit``; metafor's p-value is NaN past
/// k = 170, where R's exact computation overflows), else by the normal approximation with the
/// ties correction. The test does not depend on the τ² method, as in metafor ("the method does
/// not depend on the model fitted").
public struct RankCorrelationTest: Sendable {
    /// The number of studies k.
    public let count: Int
    /// Kendall's τ_b between the standardized effects and the variances (metafor's `tau`).
    public let tau: Double
    /// Its two-sided p-value (metafor's `pval`).
    public let pValue: Double
    /// Whether the p-value is exact (asked for, no ties, k ≤ ``KendallCorrelation/exactLimit``).
    public let isExact: Bool
    /// The exact test's number of concordant pairs, or the normal approximation's z.
    public let statistic: Double
    /// The standardized effects yᵢ*.
    public let standardizedEffects: [Double]

    /// Carries out the test.
    /// - Parameters:
    ///   - effects: the effects and sampling variances.
    ///   - exact: compute the exact p-value when there are no ties (metafor's default,
    ///     `ranktest(..., exact = TRUE)`); `false` for the normal approximation.
    /// - Throws: ``MetaPoolError`` `.insufficientData` for fewer than 3 studies, or when every
    ///   study has the same sampling variance or the same standardized effect (τ is undefined).
    public init(_ effects: EffectSizes, exact: Bool = true) throws(MetaPoolError) {
        let k = effects.count
        let input = InputLocation(file: effects.locations.first?.file)
        guard k >= 3 else {
            throw MetaPoolError(.insufficientData, "the rank correlation test needs at least 3 studies; there \(k == 1 ? "is" : "are") \(k)", at: input)
        }
        let y = effects.yi, v = effects.vi
        let sums = WeightedSums(y: y, v: v, tau2: 0)
        let theta = sums.mean, varianceOfMean = 1 / sums.sumW
        var standardized = [Double](repeating: 0, count: k)
        for i in 0..<k {
            // vᵢ − 1/Σw > 0 for k ≥ 2, as 1/Σw < minⱼ vⱼ.
            standardized[i] = (y[i] - theta) / (v[i] - varianceOfMean).squareRoot()
        }
        guard standardized.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the standardized effects are not finite (the variances are too extreme); the rank correlation test is undefined", at: input)
        }
        if v.allSatisfy({ $0 == v[0] }) {
            throw MetaPoolError(.insufficientData, "every study has the same sampling variance, so the rank correlation between effects and variances is undefined", at: input)
        }
        let kendall: KendallCorrelation
        do {
            kendall = try KendallCorrelation(standardized, v, exact: exact)
        } catch {
            throw MetaPoolError(.insufficientData, "every study has the same standardized effect, so the rank correlation between effects and variances is undefined", at: input)
        }
        count = k
        tau = kendall.tau
        pValue = kendall.pValue
        isExact = kendall.isExact
        statistic = kendall.statistic
        standardizedEffects = standardized
    }

    /// The JSON object with metafor's names: `{k, tau, p_value, exact}`.
    public func summary() throws(MetaPoolError) -> JSONValue {
        .object([("k", .integer(count)), ("tau", .number(tau)), ("p_value", .number(pValue)), ("exact", .bool(isExact))])
    }
}

// Duval & Tweedie's trim-and-fill method, as metafor's trimfill() carries it out.

/// The trim-and-fill method (Duval & Tweedie 2000a, 2000b): estimates the number k₀ of studies
/// missing on one side of the funnel plot, imputes their mirror images and pools the observed
/// and imputed studies.
///
/// Algorithm (Duval & Tweedie 2000b), with the effects flipped in sign when the missing studies
/// are on the right so that they are always missing on the left:
/// 1. sort the k effects; with k₀ = 0, repeat until k₀ does not change:
///    - pool the k − k₀ smallest effects with the model's τ² method (a single study is its own
///      estimate), giving the center μ̂;
///    - rank |yᵢ − μ̂| over all k studies and give each rank the sign of yᵢ − μ̂;
///    - L0 = (4Tₖ − k(k + 1))/(2k − 1), Tₖ the sum of the positive ranks (the Wilcoxon statistic);
///      R0 = γ* − 1, γ* the number of largest ranks that are all positive (the rightmost run);
///    - k₀ = max(0, round(estimate)), rounding halves to even as R does;
/// 2. fill: the k₀ largest effects mirrored about μ̂, 2μ̂ − yᵢ, with the same vᵢ;
/// 3. pool the k + k₀ studies with the same τ² method, test and level.
///
/// The side, when not given, is the one metafor chooses: the sign of the slope β̂₁ of the
/// meta-regression yᵢ = β₀ + β₁√vᵢ fitted with the model's τ² method (Egger's test with the
/// standard error as predictor): right when β̂₁ < 0, else left. The standard error of k₀ is, for
/// L0, 4√Var(Tₖ)/(2k − 1) with Var(Tₖ) = [k(k+1)(2k+1) + 10L³ + 27L² + 17L − 18kL² − 18kL +
/// 6k²L]/24 at the unrounded L0 = L of the last iteration (Duval & Tweedie 2000b), absent when that
/// is negative; for R0, √(2k₀ + 2), with the p-value 2^−(k₀+1) of the test of no missing studies.
///
/// One deliberate difference from metafor 3.8-1: when k₀ > 0, metafor refits the augmented model
/// with a z test whatever the fitted model's test; MetaPool uses the requested `ciMethod` (both
/// agree for `.wald`, and metafor too keeps the test when k₀ = 0).
public struct TrimAndFill: Sendable {
    /// The estimator of the number of missing studies.
    public enum Estimator: String, Sendable, Hashable, CaseIterable {
        /// L0, from the Wilcoxon signed-rank statistic (metafor's default).
        case l0 = "L0"
        /// R0, from the rightmost run of positive ranks; gives a test of k₀ = 0.
        case r0 = "R0"
    }

    /// The side of the funnel plot on which studies are missing and filled.
    public enum Side: String, Sendable, Hashable, CaseIterable {
        /// Studies are missing among the smaller effects.
        case left
        /// Studies are missing among the larger effects.
        case right
    }

    /// An imputed study: the mirror image of an observed one about the trimmed estimate.
    public struct FilledStudy: Sendable, Hashable {
        /// The imputed effect 2μ̂ − yⱼ.
        public let yi: Double
        /// The sampling variance, that of the mirrored study.
        public let vi: Double
        /// The index of the mirrored study in the observed effects.
        public let mirroredStudy: Int
    }

    /// The estimator of k₀.
    public let estimator: Estimator
    /// The side on which studies were filled (metafor's `side`).
    public let side: Side
    /// Whether the side was chosen from the regression slope rather than given.
    public let sideWasChosen: Bool
    /// The τ² method used to trim and to pool the filled data.
    public let method: TauSquaredMethod
    /// The interval and test method of the pooled estimate after filling.
    public let ciMethod: ConfidenceIntervalMethod
    /// The confidence level, in (0, 1).
    public let level: Double
    /// The number of observed studies k.
    public let observedCount: Int
    /// The estimated number of missing studies k₀ (metafor's `k0`).
    public let missingStudies: Int
    /// The unrounded estimate (L0 or R0) of the last iteration.
    public let missingStudiesEstimate: Double
    /// The standard error of k₀ (metafor's `se.k0`); `nil` when the L0 variance formula is negative.
    public let missingStudiesStandardError: Double?
    /// The p-value of the test of no missing studies on the chosen side, R0 only (metafor's `p.k0`).
    public let missingStudiesPValue: Double?
    /// The estimate from the k − k₀ trimmed studies, about which the filled studies are mirrored.
    public let trimmedEstimate: Double
    /// The number of iterations of the trimming loop.
    public let iterations: Int
    /// Whether k₀ settled within the maximum number of iterations (metafor warns when it does
    /// not and, like MetaPool, reports the last iteration).
    public let converged: Bool
    /// The imputed studies, in metafor's order: by the mirrored studies' effects, least extreme first.
    public let filled: [FilledStudy]
    /// The model fitted to the observed and filled studies (the observed model when k₀ = 0).
    public let fit: MetaAnalysis

    /// Trim-and-fill for a fitted inverse-variance model: its effects, τ² estimator, interval and level.
    public init(_ fit: MetaAnalysis, estimator: Estimator = .l0, side: Side? = nil, maxIterations: Int = 100) throws(MetaPoolError) {
        try self.init(fit.effects, estimator: estimator, side: side, method: fit.method, ciMethod: fit.ciMethod,
                      level: fit.level, maxIterations: maxIterations)
    }

    /// Carries out trim and fill.
    /// - Parameters:
    ///   - effects: the effects and sampling variances.
    ///   - estimator: `.l0` (metafor's default) or `.r0`.
    ///   - side: where studies are missing; `nil` to choose it as metafor does.
    ///   - method: the τ² estimator of the model used to trim, and to pool the filled data.
    ///   - ciMethod: that model's confidence-interval and test method.
    ///   - level: that model's confidence level, in (0, 1).
    ///   - maxIterations: the most iterations (metafor's `maxiter`, 100).
    /// - Throws: ``MetaPoolError`` `.insufficientData` for fewer than 3 studies or, without a
    ///   side, equal sampling variances (the slope that chooses the side is undefined);
    ///   `.invalidArgument` for an invalid level; `.noConvergence` from a τ² estimator.
    public init(_ effects: EffectSizes, estimator: Estimator = .l0, side: Side? = nil,
                method: TauSquaredMethod = .restrictedMaximumLikelihood, ciMethod: ConfidenceIntervalMethod = .wald,
                level: Double = 0.95, maxIterations: Int = 100) throws(MetaPoolError) {
        let k = effects.count
        let input = InputLocation(file: effects.locations.first?.file)
        try EstimateInference.checkLevel(level)
        guard k >= 3 else {
            throw MetaPoolError(.insufficientData, "trim and fill needs at least 3 studies; there \(k == 1 ? "is" : "are") \(k)", at: input)
        }
        guard maxIterations >= 1 else {
            throw MetaPoolError(.invalidArgument, "the maximum number of iterations must be at least 1; got \(maxIterations)")
        }
        let y = effects.yi, v = effects.vi

        let chosen: Side
        if let side {
            chosen = side
        } else {
            guard v.contains(where: { $0 != v[0] }) else {
                throw MetaPoolError(.insufficientData, "every study has the same sampling variance, so the side of the funnel plot cannot be chosen from the regression on the standard error; give the side", at: input)
            }
            var design = [Double](repeating: 1, count: 2 * k)
            for i in 0..<k { design[2 * i + 1] = v[i].squareRoot() }
            do {
                let regression = try MetaRegression(y: y, v: v, design: design, predictors: ["intrcpt", "sei"], method: method)
                chosen = regression.coefficients[1] < 0 ? .right : .left
            } catch {
                var located = error
                if located.location.file == nil { located.location.file = input.file }
                throw located
            }
        }

        // Flip so that studies are missing on the left, then sort (ties by input order).
        let sign: Double = chosen == .right ? -1 : 1
        let order = (0..<k).sorted { a, b in
            let ya = sign * y[a], yb = sign * y[b]
            return ya != yb ? ya < yb : a < b
        }
        let ys = order.map { sign * y[$0] }, vs = order.map { v[$0] }

        var k0 = 0, previous = -1, iterations = 0
        var raw = 0.0, center = 0.0
        var converged = true
        var centered = [Double](repeating: 0, count: k)
        while k0 != previous {
            if iterations == maxIterations { converged = false; break }
            iterations += 1
            previous = k0
            center = try Self.pooledEstimate(Array(ys[0..<(k - k0)]), Array(vs[0..<(k - k0)]), method: method, input: input)
            for i in 0..<k { centered[i] = ys[i] - center }
            // Ranks of |yᵢ − μ̂| (ties by sorted position).
            let byMagnitude = (0..<k).sorted { a, b in
                let ma = abs(centered[a]), mb = abs(centered[b])
                return ma != mb ? ma < mb : a < b
            }
            switch estimator {
            case .l0:
                var positiveRankSum = 0.0
                for (r, i) in byMagnitude.enumerated() where centered[i] > 0 { positiveRankSum += Double(r + 1) }
                let kk = Double(k)
                raw = (4 * positiveRankSum - kk * (kk + 1)) / (2 * kk - 1)
            case .r0:
                // γ*: the largest ranks that are all positive, up to the largest negative rank.
                var largestNegativeRank = 0
                for (r, i) in byMagnitude.enumerated() where centered[i] < 0 { largestNegativeRank = r + 1 }
                raw = Double(k - largestNegativeRank - 1)
            }
            k0 = max(0, Int(raw.rounded(.toNearestOrEven)))
            guard k0 < k else {
                throw MetaPoolError(.insufficientData, "trim and fill estimated that all \(k) studies are missing; there are too few studies to trim", at: input)
            }
        }

        var filled: [FilledStudy] = []
        filled.reserveCapacity(k0)
        for j in (k - k0)..<k {
            filled.append(FilledStudy(yi: sign * (2 * center - ys[j]), vi: vs[j], mirroredStudy: order[j]))
        }

        let kk = Double(k), r = raw
        switch estimator {
        case .l0:
            let variance = (kk * (kk + 1) * (2 * kk + 1) + 10 * r * r * r + 27 * r * r + 17 * r
                            - 18 * kk * r * r - 18 * kk * r + 6 * kk * kk * r) / 24
            missingStudiesStandardError = variance >= 0 ? 4 * variance.squareRoot() / (2 * kk - 1) : nil
            missingStudiesPValue = nil
        case .r0:
            missingStudiesStandardError = (2 * Double(k0) + 2).squareRoot()
            missingStudiesPValue = Double(sign: .plus, exponent: -(k0 + 1), significand: 1)
        }

        let augmented: EffectSizes
        if filled.isEmpty {
            augmented = effects
        } else {
            let labels = effects.labels + filled.enumerated().map { "Filled \($0 + 1) (mirrors \(effects.labels[$1.mirroredStudy]))" }
            augmented = try EffectSizes(measure: effects.measure, yi: y + filled.map(\.yi), vi: v + filled.map(\.vi), labels: labels,
                                        totals: effects.totals.map { totals in totals + filled.map { totals[$0.mirroredStudy] } },
                                        locations: StudyLocations(Array(effects.locations) + filled.map { _ in input }))
        }
        fit = try MetaAnalysis(augmented, method: method, ciMethod: ciMethod, level: level)

        self.estimator = estimator
        self.side = chosen
        sideWasChosen = side == nil
        self.method = method
        self.ciMethod = ciMethod
        self.level = level
        observedCount = k
        missingStudies = k0
        missingStudiesEstimate = raw
        trimmedEstimate = sign * center
        self.iterations = iterations
        self.converged = converged
        self.filled = filled
    }

    /// The pooled estimate of effects `y` with the τ² method; one study is its own estimate.
    static func pooledEstimate(_ y: [Double], _ v: [Double], method: TauSquaredMethod, input: InputLocation) throws(MetaPoolError) -> Double {
        if y.count == 1 { return y[0] }
        let tau2: Double
        do {
            tau2 = try method.estimator?.tauSquared(y: y, v: v) ?? 0
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = input.file }
            throw located
        }
        return WeightedSums(y: y, v: v, tau2: tau2).mean
    }

    /// The pooled estimate after filling (metafor's `beta`).
    public var estimate: Double { fit.estimate }
    /// Its standard error.
    public var standardError: Double { fit.standardError }
    /// Its confidence interval.
    public var confidenceInterval: Interval { fit.confidenceInterval }
    /// τ̂² after filling, `nil` for `FE`.
    public var tauSquared: Double? { fit.tauSquared }

    /// The JSON object with metafor's names: `{estimator, side, side_chosen, method, ci_method,
    /// level, k_observed, k0, se_k0, p_k0, filled: [{study, mirrors, yi, vi}], k, estimate, se,
    /// ci_lower, ci_upper, statistic, p_value, df, tau2, back_transformed: {estimate, ci_lower,
    /// ci_upper}}`; `p_k0` for R0 only, `df` for t-based methods only, `tau2` absent for `FE`,
    /// `se_k0` null when undefined.
    public func summary() throws(MetaPoolError) -> JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map { $0.isFinite ? .number($0) : .null } ?? .null }
        var members: [(String, JSONValue)] = [
            ("estimator", .string(estimator.rawValue)), ("side", .string(side.rawValue)), ("side_chosen", .bool(sideWasChosen)),
            ("method", .string(method.rawValue)), ("ci_method", .string(ciMethod.rawValue)), ("level", .number(level)),
            ("k_observed", .integer(observedCount)), ("k0", .integer(missingStudies)), ("se_k0", number(missingStudiesStandardError)),
        ]
        if estimator == .r0 { members.append(("p_k0", number(missingStudiesPValue))) }
        let labels = fit.effects.labels
        members.append(("filled", .array(filled.enumerated().map { n, study in
            .object([("study", .string(labels[observedCount + n])), ("mirrors", .string(labels[study.mirroredStudy])),
                     ("yi", .number(study.yi)), ("vi", .number(study.vi))])
        })))
        members += [("k", .integer(fit.count)), ("estimate", .number(fit.estimate)), ("se", .number(fit.standardError)),
                    ("ci_lower", .number(fit.confidenceInterval.lower)), ("ci_upper", .number(fit.confidenceInterval.upper)),
                    ("statistic", .number(fit.statistic)), ("p_value", .number(fit.pValue))]
        if let df = fit.degreesOfFreedom { members.append(("df", .integer(df))) }
        if let tau2 = fit.tauSquared { members.append(("tau2", .number(tau2))) }
        members.append(("back_transformed", .backTransformed([
            ("estimate", fit.backTransform(fit.estimate)),
            ("ci_lower", fit.backTransform(fit.confidenceInterval.lower)),
            ("ci_upper", fit.backTransform(fit.confidenceInterval.upper)),
        ])))
        if !converged { members.append(("converged", .bool(false))) }
        return .object(members)
    }
}

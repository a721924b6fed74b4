// Mixed-effects meta-regression yᵢ = xᵢᵀβ + uᵢ + εᵢ, uᵢ ~ N(0, τ²), εᵢ ~ N(0, vᵢ), as metafor's
// `rma(yi, vi, mods = …)` fits it: τ² by any estimator, β by weighted least squares through a
// Cholesky factorisation of XᵀWX (LAPACK dpotrf/dpotrs), the omnibus test of moderators QM and
// the test for residual heterogeneity QE.

import RealModule

/// A fitted mixed-effects (or, with `FE`, fixed-effects) meta-regression.
///
/// The τ² estimators follow Raudenbush (2009) and Viechtbauer (2005) with P = W − WX(XᵀWX)⁻¹XᵀW,
/// W = diag(1/(vᵢ + τ²)): DL (QE − (k − p))/tr P₀; HE (RSS_OLS − tr(P_OLS V))/(k − p);
/// HS (QE − k)/Σwᵢ; SJ τ₀²·Q(τ₀²)/(k − p) with τ₀² = Σ(yᵢ − ȳ)²/k; ML, REML and EB by Fisher
/// scoring of yᵀPPy − Σwᵢ, yᵀPPy − tr P and k/(k − p)·yᵀPy − k; PM the root of yᵀPy = k − p.
/// Every quantity is accumulated in O(k·p²) from p × p matrices: no k × k matrix is formed.
public struct MetaRegression: Sendable {
    /// The omnibus test that the tested coefficients are all zero (metafor's QM): χ² on m df,
    /// or F on (m, k − p) df for the `t`, `hksj` and `hksj-adhoc` methods (QM/m).
    public struct ModeratorTest: Sendable {
        /// Indices of the tested coefficients.
        public let coefficients: [Int]
        /// QM (χ²), or QM/m for the F test (metafor's QM).
        public let statistic: Double
        /// m, the number of tested coefficients (the numerator df of the F test).
        public let degreesOfFreedom: Int
        /// The denominator df of the F test, or `nil` for χ².
        public let denominatorDegreesOfFreedom: Int?
        /// The p-value of the test (metafor's QMp).
        public let pValue: Double
    }

    /// The names of the p coefficients in design-column order (`intrcpt` first where there is one).
    public let predictors: [String]
    /// The data the model was fitted to: effects, sampling variances and the k × p design
    /// (row-major), kept so that later questions (permutation test, R²) need not be given them again.
    public let y: [Double]
    /// The sampling variances vᵢ.
    public let v: [Double]
    /// The k × p design matrix X, row-major (`design[i*p + j]`).
    public let design: [Double]
    /// The number of studies k.
    public let count: Int
    /// The τ² estimator, or `FE` for the fixed-effects model (metafor's `method`).
    public let method: TauSquaredMethod
    /// The confidence-interval and test method (metafor's `test`).
    public let ciMethod: ConfidenceIntervalMethod
    /// The confidence level in (0, 1), e.g. 0.95.
    public let level: Double
    /// τ̂² (0 for `FE`), or the value it was fixed at.
    public let tauSquaredEstimate: Double
    /// The estimated coefficients β̂ (analysis scale), in `predictors` order.
    public let coefficients: [Double]
    /// The p × p covariance of β̂ (row-major), scaled by s² under `hksj` (max(1, s²) under `hksj-adhoc`).
    public let covariance: [Double]
    /// Their standard errors, the square roots of the diagonal of `covariance`.
    public let standardErrors: [Double]
    /// z or t statistics βⱼ/SEⱼ and their two-sided p-values.
    public let statistics: [Double]
    /// Two-sided p-values of the coefficients (metafor's `pval`).
    public let pValues: [Double]
    /// Confidence intervals of the coefficients at `level` (analysis scale).
    public let confidenceIntervals: [Interval]
    /// k − p when t or F distributions are used, else `nil`.
    public let degreesOfFreedom: Int?
    /// The test for residual heterogeneity QE = Σ(yᵢ − xᵢᵀβ̂_FE)²/vᵢ on k − p df.
    public let residualQ: Double
    /// Its degrees of freedom, k − p.
    public let residualQDegreesOfFreedom: Int
    /// The p-value of QE (metafor's QEp).
    public let residualQPValue: Double
    /// QM, or `nil` when no coefficient is tested.
    public let moderatorTest: ModeratorTest?
    /// ṽ = (k − p)/tr P₀ (metafor's typical within-study variance for models with moderators).
    public let typicalVariance: Double

    /// Fits the model.
    /// - Parameters:
    ///   - y: effects, k values.
    ///   - v: their sampling variances (> 0).
    ///   - design: the k × p design matrix X, row-major (`design[i*p + j]`).
    ///   - predictors: the p column names (`intrcpt` for an intercept, as metafor names it).
    ///   - testing: the coefficients QM tests; by default every one but an `intrcpt` column.
    ///   - method: the τ² estimator, or `FE` (metafor's `method`).
    ///   - ciMethod: the confidence-interval and test method (metafor's `test`).
    ///   - level: the confidence level, in (0, 1).
    ///   - fixed: a fixed τ² instead of an estimate (argument label `tauSquared`; metafor's `tau2 =` argument).
    /// - Throws: ``MetaPoolError`` for mismatched shapes, non-finite values, k ≤ p, linearly
    ///   dependent moderators, an invalid level, or an estimator that does not converge.
    public init(y: [Double], v: [Double], design: [Double], predictors: [String], testing: [Int]? = nil,
                method: TauSquaredMethod = .restrictedMaximumLikelihood, ciMethod: ConfidenceIntervalMethod = .wald,
                level: Double = 0.95, tauSquared fixed: Double? = nil) throws(MetaPoolError) {
        let k = y.count, p = predictors.count
        try EstimateInference.checkLevel(level)
        guard p > 0, v.count == k, design.count == k * p else {
            throw MetaPoolError(.invalidArgument, "meta-regression needs k effects, k variances and a k × p design (k = \(k), \(v.count) variances, p = \(p), \(design.count) design cells)")
        }
        guard k > p else {
            throw MetaPoolError(.insufficientData, "a model with \(p) coefficient\(p == 1 ? "" : "s") needs more than \(p) studies; there \(k == 1 ? "is" : "are") \(k)")
        }
        guard y.allSatisfy(\.isFinite), design.allSatisfy(\.isFinite), v.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw MetaPoolError(.invalidValue, "every effect and moderator must be finite and every sampling variance finite and greater than 0")
        }
        if let fixed, !(fixed >= 0 && fixed.isFinite) {
            throw MetaPoolError(.invalidArgument, "a fixed tau^2 must be finite and at least 0; got \(fixed)")
        }
        // The largest weights are 1/vᵢ (τ² ≥ 0 only lowers them): where a diagonal element of
        // XᵀV⁻¹X overflows, XᵀWX is not representable and LAPACK would be handed infinities.
        // The off-diagonal elements are bounded by the diagonal ones (Cauchy–Schwarz).
        for j in 0..<p {
            var diagonal = 0.0
            for i in 0..<k { let x = design[i * p + j]; diagonal += x * x / v[i] }
            guard diagonal.isFinite else {
                throw MetaPoolError(.invalidValue, "the moderator \"\(predictors[j])\" is too large for the weighted cross-products of the design in double precision (sum of x^2/v_i overflows); rescale it, e.g. divide it by a power of 10",
                                    at: InputLocation(column: predictors[j]))
            }
        }
        let tested = testing ?? (0..<p).filter { predictors[$0] != "intrcpt" }
        guard tested.allSatisfy({ (0..<p).contains($0) }), Set(tested).count == tested.count else {
            throw MetaPoolError(.invalidArgument, "the tested coefficients must be distinct indices below \(p)")
        }
        self.predictors = predictors
        self.y = y
        self.v = v
        self.design = design
        count = k
        self.method = method
        self.ciMethod = ciMethod
        self.level = level

        let residualDF = Double(k - p)
        // One factor (subgroups with a common τ²): sums within levels, O(k + p) per τ², and the
        // test of all contrasts in closed form; otherwise the general p × p workspace.
        var factorWork = FactorWorkspace(y: y, v: v, design: design, p: p)
        let solved: SolvedRegression
        if var work = factorWork {
            solved = try Self.solve(&work, method: method, ciMethod: ciMethod, fixed: fixed, residualDF: residualDF)
            factorWork = work
        } else {
            var work = RegressionWorkspace(y: y, v: v, design: design, p: p)
            solved = try Self.solve(&work, method: method, ciMethod: ciMethod, fixed: fixed, residualDF: residualDF)
        }
        let qe = solved.qe
        residualQ = qe
        residualQDegreesOfFreedom = k - p
        residualQPValue = ChiSquared(degreesOfFreedom: residualDF).survival(qe)
        typicalVariance = residualDF / solved.traceP0
        let tau2 = solved.tau2
        tauSquaredEstimate = tau2
        let beta = solved.beta
        coefficients = beta
        let cov = solved.covariance
        let factor = solved.factor
        covariance = cov
        let df = ciMethod.usesT ? k - p : nil
        degreesOfFreedom = df
        let crit = EstimateInference.criticalValue(level: level, degreesOfFreedom: df)
        let tests = (0..<p).map { j in
            EstimateInference(estimate: beta[j], standardError: cov[j * p + j].squareRoot(), level: level,
                              degreesOfFreedom: df, criticalValue: crit)
        }
        standardErrors = tests.map(\.standardError)
        statistics = tests.map(\.statistic)
        pValues = tests.map(\.pValue)
        confidenceIntervals = tests.map(\.confidenceInterval)

        if tested.isEmpty {
            moderatorTest = nil
        } else {
            // QM = β_tᵀ (Cov_tt)⁻¹ β_t through a Cholesky solve of the tested block.
            let m = tested.count
            var block: [Double] = []
            var rhs = tested.map { beta[$0] }
            let testedBeta = rhs
            var qm = 0.0
            if let factorWork, factorWork.intercept, tested == Array(1..<p) {
                qm = factorWork.contrastsStatistic() / factor
            } else {
                block = [Double](repeating: 0, count: m * m)
                for (a, i) in tested.enumerated() { for (b, j) in tested.enumerated() { block[a * m + b] = cov[i * p + j] } }
                try RegressionWorkspace.choleskySolve(&block, &rhs, n: m, columns: 1)
                for a in 0..<m { qm += testedBeta[a] * rhs[a] }
            }
            if ciMethod.usesT {
                let f = qm / Double(m)
                moderatorTest = ModeratorTest(coefficients: tested, statistic: f, degreesOfFreedom: m, denominatorDegreesOfFreedom: k - p,
                                              pValue: FisherF(numeratorDegreesOfFreedom: Double(m), denominatorDegreesOfFreedom: residualDF).survival(f))
            } else {
                moderatorTest = ModeratorTest(coefficients: tested, statistic: qm, degreesOfFreedom: m, denominatorDegreesOfFreedom: nil,
                                              pValue: ChiSquared(degreesOfFreedom: Double(m)).survival(qm))
            }
        }
        let results = [tau2, qe] + beta + standardErrors
        guard results.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the effects or variances are too extreme to fit in double precision (the weighted sums overflow); check the yi and vi values or rescale them")
        }
    }

    /// The fit of a solver: QE and tr P₀ at τ² = 0, τ̂², β̂ and its covariance scaled by the test's
    /// variance factor (Hartung–Knapp), and that factor.
    struct SolvedRegression {
        var qe: Double, traceP0: Double, tau2: Double, beta: [Double], covariance: [Double], factor: Double
    }

    static func solve<Solver: RegressionSolver>(_ work: inout Solver, method: TauSquaredMethod, ciMethod: ConfidenceIntervalMethod,
                                                fixed: Double?, residualDF: Double) throws(MetaPoolError) -> SolvedRegression {
        // Fixed-effect weights: QE, tr P₀ (for DL and the typical variance), Σ 1/vᵢ.
        try work.evaluate(tau2: 0, traces: true)
        let qe = work.q, traceP0 = work.traceP
        let tau2: Double
        if let fixed {
            tau2 = fixed
        } else {
            tau2 = try method.estimate(&work)
        }
        try work.evaluate(tau2: tau2, traces: false)
        let beta = Array(work.beta)
        var cov = try work.inverse()
        let factor = ciMethod.varianceFactor(q: work.q, residualDegreesOfFreedom: residualDF)
        if factor != 1 { for i in cov.indices { cov[i] *= factor } }
        return SolvedRegression(qe: qe, traceP0: traceP0, tau2: tau2, beta: beta, covariance: cov, factor: factor)
    }

    /// Whether τ² is part of the model (every method but `FE`).
    public var isRandomEffects: Bool { method != .fixedEffect }

    /// τ̂² (residual heterogeneity), or `nil` for `FE`.
    public var tauSquared: Double? { isRandomEffects ? tauSquaredEstimate : nil }

    /// I² of the residual heterogeneity: 100·τ̂²/(τ̂² + ṽ), or for `FE` the Q-based
    /// max(0, 100·(QE − (k − p))/QE), as metafor reports it.
    public var iSquared: Double? { heterogeneity.iSquared }

    /// H² = (τ̂² + ṽ)/ṽ, or QE/(k − p) for `FE`.
    public var hSquared: Double? { heterogeneity.hSquared }

    /// The prediction interval for the true effect at coefficient `index` of a cell-means
    /// design: β̂ⱼ ± c·√(SEⱼ² + τ̂²), c from the normal or t on k − p df (metafor's `predict()`).
    public func predictionInterval(coefficient index: Int) -> Interval? {
        guard isRandomEffects, let test = coefficient(index) else { return nil }
        return test.predictionInterval(tauSquared: tauSquaredEstimate)
    }

    /// Coefficient `index` with its standard error, interval and z or t test.
    public func coefficient(_ index: Int) -> EstimateInference? {
        guard coefficients.indices.contains(index) else { return nil }
        return EstimateInference(estimate: coefficients[index], standardError: standardErrors[index], level: level,
                                 degreesOfFreedom: degreesOfFreedom)
    }

    /// QE, I², H² and τ² of the residual heterogeneity (Q-based I² and H² for `FE`, as metafor).
    public var heterogeneity: Heterogeneity {
        isRandomEffects
            ? Heterogeneity(tauSquared: tauSquaredEstimate, typicalVariance: typicalVariance, q: residualQ, count: count,
                            degreesOfFreedom: residualQDegreesOfFreedom)
            : Heterogeneity(q: residualQ, count: count, degreesOfFreedom: residualQDegreesOfFreedom)
    }
}

/// Preallocated buffers for evaluating the model at one τ²: no allocation per evaluation.
/// The τ² estimators see it through ``TauSquaredModel``, as they see the intercept-only model.
struct RegressionWorkspace: TauSquaredModel {
    let y: [Double], v: [Double], x: [Double]
    let k: Int, p: Int
    /// XᵀWX (its Cholesky factor after a solve), XᵀW²X, XᵀW³X, all p × p; XᵀWy and β̂.
    var g: [Double], g2: [Double], g3: [Double], factor: [Double]
    /// G₋ (all studies but the one with the largest weight), its Cholesky factor, and p-vectors.
    var gMinus: [Double], factorMinus: [Double], vectorB: [Double], vectorU: [Double], vectorZ: [Double]
    var rhs: [Double], beta: [Double]
    // Results of the last evaluation.
    var sumW = 0.0, sumW2 = 0.0, q = 0.0, sumW2Residual2 = 0.0, traceP = 0.0, tracePP = 0.0
    private var hedgesNumeratorValue = 0.0

    init(y: [Double], v: [Double], design: [Double], p: Int) {
        self.y = y
        self.v = v
        x = design
        k = y.count
        self.p = p
        g = [Double](repeating: 0, count: p * p)
        g2 = g
        g3 = g
        factor = g
        gMinus = g
        factorMinus = g
        rhs = [Double](repeating: 0, count: p)
        beta = rhs
        vectorB = rhs
        vectorU = rhs
        vectorZ = rhs
    }

    var studyCount: Int { k }
    var coefficientCount: Int { p }
    var effects: [Double] { y }

    mutating func sums(tau2: Double, traces: Bool) throws(MetaPoolError) -> ModelSums {
        try evaluate(tau2: tau2, traces: traces)
        return ModelSums(sumW: sumW, sumW2: sumW2, q: q, sumW2Residual2: sumW2Residual2,
                         traceP: traces ? traceP : .nan, tracePP: traces ? tracePP : .nan)
    }

    mutating func hedgesNumerator() throws(MetaPoolError) -> Double {
        try evaluateOrdinaryLeastSquares()
        return hedgesNumeratorValue
    }

    mutating func logLikelihood(tau2: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        try evaluate(tau2: tau2, traces: false)
        var logVariances = 0.0
        for vi in v { logVariances += Double.log(vi + tau2) }
        // log det(XᵀWX) from the diagonal of its Cholesky factor.
        var logDet = 0.0
        if restricted { for j in 0..<p { logDet += 2 * Double.log(factor[j + j * p]) } }
        return -0.5 * (logVariances + q + logDet)
    }

    mutating func convergenceScale() throws(MetaPoolError) -> Double {
        var smallest = Double.infinity
        for vi in v { smallest = min(smallest, vi) }
        return try typicalVarianceScale(smallestVariance: smallest)
    }

    /// Solves A·X = B for symmetric positive definite A (n × n, overwritten by its Cholesky
    /// factor) and B (n × columns, column-major, overwritten by X).
    static func choleskySolve(_ a: inout [Double], _ b: inout [Double], n: Int, columns: Int) throws(MetaPoolError) {
        let lower = Int8(UInt8(ascii: "L"))
        let info = try LAPACK.dpotrf(lower, Int32(n), &a, Int32(n))
        guard info == 0 else {
            throw MetaPoolError(.insufficientData, "the moderators are linearly dependent or a subgroup has no studies (XᵀWX is singular); drop a redundant column or level")
        }
        let solved = try LAPACK.dpotrs(lower, Int32(n), Int32(columns), &a, Int32(n), &b, Int32(n))
        guard solved == 0 else { throw MetaPoolError.regressionOverflow }
    }

    /// Accumulates the weighted cross-products with wᵢ = 1/(vᵢ + τ²), solves for β̂ and forms
    /// Q = Σwᵢrᵢ², Σwᵢ²rᵢ² (= yᵀPy and yᵀPPy) and, with `traces`, tr P and tr PP.
    ///
    /// The traces: with P = W − WXG⁻¹XᵀW (G = XᵀWX) the closed forms tr P = Σw − tr(G⁻¹XᵀW²X) and
    /// tr PP = Σw² − 2 tr(G⁻¹XᵀW³X) + tr((G⁻¹XᵀW²X)²) cancel catastrophically when one weight
    /// dominates (one vᵢ = 1e-10 among vᵢ ≈ 0.1 left REML at τ² = 0 where metafor finds 0.085).
    /// So the study m with the largest weight w is peeled off: by Sherman–Morrison on
    /// G = G₋ + w·xxᵀ, P = [P₋ 0; 0 0] + c·ddᵀ with P₋ the matrix of the other studies,
    /// d = (W₋X₋b, −1), b = G₋⁻¹x and c = 1/(1/w + xᵀb), so tr P = tr P₋ + c‖d‖² and
    /// tr PP = tr P₋P₋ + 2c·dᵀP₋d + c²‖d‖⁴ with ‖d‖² = bᵀ(X₋ᵀW₋²X₋)b + 1 and
    /// dᵀP₋d = bᵀ(X₋ᵀW₋³X₋)b − uᵀG₋⁻¹u, u = (X₋ᵀW₋²X₋)b: every term a sum without the dominant
    /// weight (the same guard as the intercept-only sums of ``WeightedSums``). Where G₋ is
    /// singular (the study is alone in its factor level) the closed forms are used.
    mutating func evaluate(tau2: Double, traces: Bool) throws(MetaPoolError) {
        var m = 0
        if traces { for i in 1..<k where v[i] < v[m] { m = i } }
        for i in 0..<(p * p) { g[i] = 0; g2[i] = 0; g3[i] = 0 }
        for j in 0..<p { rhs[j] = 0 }
        sumW = 0
        sumW2 = 0
        var otherW = 0.0, otherW2 = 0.0
        for i in 0..<k {
            let w = 1 / (v[i] + tau2)
            let w2 = w * w
            sumW += w
            sumW2 += w2
            let row = i * p
            for a in 0..<p { rhs[a] += w * x[row + a] * y[i] }
            if traces && i == m { continue }
            otherW += w
            otherW2 += w2
            for a in 0..<p {
                let xa = x[row + a]
                for b in 0...a {
                    let xab = xa * x[row + b]
                    g[a * p + b] += w * xab
                    if traces {
                        g2[a * p + b] += w2 * xab
                        g3[a * p + b] += w2 * w * xab
                    }
                }
            }
        }
        Self.symmetrize(&g, p: p)
        let wm = 1 / (v[m] + tau2)
        if traces {
            // g holds G₋ (all but study m); keep it and add study m for β̂.
            for i in 0..<(p * p) { gMinus[i] = g[i] }
            for a in 0..<p { for b in 0..<p { g[a * p + b] += wm * x[m * p + a] * x[m * p + b] } }
        }
        for i in 0..<(p * p) { factor[i] = g[i] }
        for j in 0..<p { beta[j] = rhs[j] }
        try Self.choleskySolve(&factor, &beta, n: p, columns: 1)
        try checkRank()
        q = 0
        sumW2Residual2 = 0
        for i in 0..<k {
            var fitted = 0.0
            for a in 0..<p { fitted += x[i * p + a] * beta[a] }
            let r = y[i] - fitted
            let w = 1 / (v[i] + tau2)
            q += w * r * r
            sumW2Residual2 += w * w * r * r
        }
        guard traces else { return }
        Self.symmetrize(&g2, p: p)
        Self.symmetrize(&g3, p: p)
        let lower = Int8(UInt8(ascii: "L"))
        let n = Int32(p)
        // Cholesky of G₋, accepted with the same relative pivot test as checkRank.
        for i in 0..<(p * p) { factorMinus[i] = gMinus[i] }
        var peeled = try LAPACK.dpotrf(lower, n, &factorMinus, n) == 0
        if peeled {
            for j in 0..<p where !(factorMinus[j + j * p] * factorMinus[j + j * p] > 1e-10 * gMinus[j * p + j]) { peeled = false }
        }
        if peeled {
            // b = G₋⁻¹x, u = (X₋ᵀW₋²X₋)b, z = G₋⁻¹u.
            for a in 0..<p { vectorB[a] = x[m * p + a] }
            var info = try LAPACK.dpotrs(lower, n, 1, &factorMinus, n, &vectorB, n)
            var s = 0.0, normG = 0.0, bG3b = 0.0
            for a in 0..<p {
                s += x[m * p + a] * vectorB[a]
                var ua = 0.0, ta = 0.0
                for b in 0..<p { ua += g2[a * p + b] * vectorB[b]; ta += g3[a * p + b] * vectorB[b] }
                vectorU[a] = ua
                vectorZ[a] = ua
                normG += vectorB[a] * ua
                bG3b += vectorB[a] * ta
            }
            info |= try LAPACK.dpotrs(lower, n, 1, &factorMinus, n, &vectorZ, n)
            var uz = 0.0
            for a in 0..<p { uz += vectorU[a] * vectorZ[a] }
            // Z₂₋ = G₋⁻¹X₋ᵀW₋²X₋ and Z₃₋ = G₋⁻¹X₋ᵀW₋³X₋ in place.
            info |= try LAPACK.dpotrs(lower, n, n, &factorMinus, n, &g2, n)
            info |= try LAPACK.dpotrs(lower, n, n, &factorMinus, n, &g3, n)
            guard info == 0 else { throw MetaPoolError.regressionOverflow }
            let (traceZ2, traceZ3, traceZ2Z2) = Self.traces(g2, g3, p: p)
            let c = 1 / (1 / wm + s)
            let dd = normG + 1
            let dPd = max(0, bG3b - uz)
            traceP = (otherW - traceZ2) + c * dd
            tracePP = (otherW2 - 2 * traceZ3 + traceZ2Z2) + 2 * c * dPd + c * c * dd * dd
            return
        }
        // Closed forms with the full sums (G₋ singular: study m is alone in its level).
        for a in 0..<p {
            for b in 0..<p {
                let xab = x[m * p + a] * x[m * p + b]
                g2[a * p + b] += wm * wm * xab
                g3[a * p + b] += wm * wm * wm * xab
            }
        }
        var info = try LAPACK.dpotrs(lower, n, n, &factor, n, &g2, n)
        info |= try LAPACK.dpotrs(lower, n, n, &factor, n, &g3, n)
        guard info == 0 else { throw MetaPoolError.regressionOverflow }
        let (traceZ2, traceZ3, traceZ2Z2) = Self.traces(g2, g3, p: p)
        traceP = sumW - traceZ2
        tracePP = sumW2 - 2 * traceZ3 + traceZ2Z2
    }

    /// tr Z₂, tr Z₃ and tr Z₂Z₂ of column-major p × p matrices.
    private static func traces(_ z2: [Double], _ z3: [Double], p: Int) -> (Double, Double, Double) {
        var traceZ2 = 0.0, traceZ3 = 0.0, traceZ2Z2 = 0.0
        for a in 0..<p {
            traceZ2 += z2[a + a * p]
            traceZ3 += z3[a + a * p]
            for b in 0..<p { traceZ2Z2 += z2[a + b * p] * z2[b + a * p] }
        }
        return (traceZ2, traceZ3, traceZ2Z2)
    }

    /// Ordinary least squares: RSS = Σrᵢ² and tr(P_OLS V), for Hedges.
    ///
    /// tr(P_OLS V) = Σvᵢ(1 − hᵢ) with the OLS leverages hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ, each term non-negative:
    /// the closed form Σv − tr((XᵀX)⁻¹XᵀVX) cancels when a study with a huge vᵢ also has a huge
    /// leverage (Egger's design [1, √vᵢ] with one vᵢ 1e12 times the others). For the study m with
    /// the largest vₘ, 1 − hₘ = 1/(1 + xₘᵀ(X₋ᵀX₋)⁻¹xₘ) from the other studies' cross-products
    /// (Sherman–Morrison; 0 when the others leave its coefficient undetermined).
    mutating func evaluateOrdinaryLeastSquares() throws(MetaPoolError) {
        var m = 0
        for i in 1..<k where v[i] > v[m] { m = i }
        for i in 0..<(p * p) { g[i] = 0 }
        for j in 0..<p { rhs[j] = 0 }
        for i in 0..<k where i != m {
            let row = i * p
            for a in 0..<p {
                let xa = x[row + a]
                for b in 0...a { g[a * p + b] += xa * x[row + b] }
            }
        }
        Self.symmetrize(&g, p: p)
        for i in 0..<(p * p) { gMinus[i] = g[i] }
        for i in 0..<k {
            for a in 0..<p { rhs[a] += x[i * p + a] * y[i] }
        }
        for a in 0..<p { for b in 0..<p { g[a * p + b] += x[m * p + a] * x[m * p + b] } }
        for i in 0..<(p * p) { factor[i] = g[i] }
        for j in 0..<p { beta[j] = rhs[j] }
        try Self.choleskySolve(&factor, &beta, n: p, columns: 1)
        try checkRank()
        let lower = Int8(UInt8(ascii: "L"))
        let n = Int32(p)
        var rss = 0.0, trace = 0.0
        for i in 0..<k {
            var fitted = 0.0
            for a in 0..<p { fitted += x[i * p + a] * beta[a] }
            rss += (y[i] - fitted) * (y[i] - fitted)
            guard i != m else { continue }
            // hᵢ = xᵢᵀ(XᵀX)⁻¹xᵢ by a solve with the factor.
            for a in 0..<p { vectorB[a] = x[i * p + a] }
            guard try LAPACK.dpotrs(lower, n, 1, &factor, n, &vectorB, n) == 0 else {
                throw MetaPoolError.regressionOverflow
            }
            var h = 0.0
            for a in 0..<p { h += x[i * p + a] * vectorB[a] }
            trace += v[i] * max(0, 1 - h)
        }
        for i in 0..<(p * p) { factorMinus[i] = gMinus[i] }
        var complement = 0.0
        if try LAPACK.dpotrf(lower, n, &factorMinus, n) == 0,
           (0..<p).allSatisfy({ factorMinus[$0 + $0 * p] * factorMinus[$0 + $0 * p] > 1e-10 * gMinus[$0 * p + $0] }) {
            for a in 0..<p { vectorB[a] = x[m * p + a] }
            guard try LAPACK.dpotrs(lower, n, 1, &factorMinus, n, &vectorB, n) == 0 else {
                throw MetaPoolError.regressionOverflow
            }
            var s = 0.0
            for a in 0..<p { s += x[m * p + a] * vectorB[a] }
            complement = 1 / (1 + s)
        }
        trace += v[m] * complement
        hedgesNumeratorValue = rss - trace
    }

    /// (XᵀWX)⁻¹ for the weights of the last `evaluate`, from its Cholesky factor (LAPACK dpotri),
    /// row-major and symmetric: the covariance of β̂, needed itself, not as a step to a solve.
    mutating func inverse() throws(MetaPoolError) -> [Double] {
        var a = factor
        let info = try LAPACK.dpotri(Int8(UInt8(ascii: "L")), Int32(p), &a, Int32(p))
        guard info == 0 else { throw MetaPoolError(.insufficientData, "XᵀWX is singular; the moderators are linearly dependent") }
        // dpotri fills the lower triangle (column-major): a[i + j*p], i ≥ j.
        var out = [Double](repeating: 0, count: p * p)
        for j in 0..<p { for i in j..<p { out[i * p + j] = a[i + j * p]; out[j * p + i] = a[i + j * p] } }
        return out
    }

    /// Rejects a numerically rank-deficient XᵀWX: a Cholesky pivot ℓⱼⱼ² below 10⁻¹⁰ of the
    /// diagonal element it came from means column j is (nearly) a combination of the others,
    /// where metafor drops it as redundant; MetaPool asks the user to.
    private func checkRank() throws(MetaPoolError) {
        for j in 0..<p {
            let pivot = factor[j + j * p]
            if !(pivot * pivot > 1e-10 * g[j * p + j]) {
                throw MetaPoolError(.insufficientData, "the moderators are linearly dependent (a column is a combination of the others, or a factor level has no studies); drop a redundant column")
            }
        }
    }

    /// Copies the lower triangle (a ≥ b, stored at a*p + b) to the upper one.
    private static func symmetrize(_ m: inout [Double], p: Int) {
        for a in 0..<p { for b in 0..<a { m[b * p + a] = m[a * p + b] } }
    }
}

extension MetaPoolError {
    /// LAPACK refused a matrix of the regression because it holds infinities or NaN: the weighted
    /// sums overflowed (LAPACKE checks its inputs for NaN and reports the argument; with valid
    /// shapes that is the only way its solvers fail here). A data error, not a usage error.
    static let regressionOverflow = MetaPoolError(.insufficientData, "the effects, variances or moderators are too extreme to fit in double precision (the weighted cross-products overflow); check the yi and vi values and rescale the moderators")
}

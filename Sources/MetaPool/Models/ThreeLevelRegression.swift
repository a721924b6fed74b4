// The three-level mixed-effects meta-regression: effects within cohorts within clusters with
// moderators, fitted by ML or REML in O(k·p²) per evaluation through the block structure, with
// cluster-robust tests of every coefficient (CR1 as metafor's robust(), CR2 as clubSandwich).

import RealModule

/// A three-level mixed-effects meta-regression (Konstantopoulos 2011, eq. 4 with moderators;
/// metafor's `rma.mv(yi, vi, mods = ~ …, random = ~ 1 | cluster/cohort)`):
/// yᵢⱼ = xᵢⱼᵀβ + uᵢ + wᵢⱼ + eᵢⱼ for cohort j of cluster i, uᵢ ~ N(0, σ²₁), wᵢⱼ ~ N(0, σ²₂),
/// eᵢⱼ ~ N(0, vᵢⱼ). Moderators may vary within clusters or be constant within them.
///
/// With Aᵢ = diag(aᵢⱼ), aᵢⱼ = 1/(vᵢⱼ + σ²₂), Sᵢ = Σⱼaᵢⱼ and dᵢ = 1 + σ²₁Sᵢ, Sherman and Morrison
/// (1950) give Vᵢ⁻¹ = Aᵢ − σ²₁Aᵢ11ᵀAᵢ/dᵢ, so XᵀV⁻¹X = Σᵢ[Σⱼaᵢⱼxᵢⱼxᵢⱼᵀ − σ²₁uᵢuᵢᵀ/dᵢ] with
/// uᵢ = Σⱼaᵢⱼxᵢⱼ, and likewise XᵀV⁻¹y, log|V|, the REML term log|XᵀV⁻¹X| and the score: sums over
/// studies of p × p pieces, no k × k matrix.
public struct ThreeLevelRegression: Sendable {
    /// Effects, variances and the k × p design (row-major), reordered so that each cluster's studies are together.
    let y: [Double], v: [Double], x: [Double]
    /// The first study of each cluster, and k at the end.
    let starts: [Int]
    /// The names of the p coefficients (`intrcpt` first where there is one).
    public let predictors: [String]
    /// The coefficients the omnibus tests QM (model-based, CR1, CR2) test: by default every one but `intrcpt`.
    public let testedCoefficients: [Int]
    /// log|XᵀX|, the constant of metafor's restricted likelihood.
    let logDeterminantXX: Double
    /// The data in the caller's order, for the two-level fit (the same model with σ²₁ = 0).
    let originalY: [Double], originalV: [Double], originalX: [Double]

    /// - Parameters:
    ///   - yi: effects, k values; `vi`: their sampling variances (> 0).
    ///   - cluster: the cluster of each study (equal values are one cluster; each study is its own cohort).
    ///   - design: the k × p design matrix, row-major (`design[i*p + j]`), e.g. ``ModeratorDesign/matrix``.
    ///   - predictors: the p column names (`intrcpt` for an intercept, as metafor names it).
    ///   - testing: the coefficients QM tests; by default every one but an `intrcpt` column.
    /// - Throws: ``MetaPoolError`` for mismatched lengths, non-finite values or non-positive
    ///   variances, k ≤ p, linearly dependent moderators, a moderator too large for the
    ///   cross-products, or one study in every cluster (the model then reduces to two levels).
    public init(yi: [Double], vi: [Double], cluster: [Int], design: [Double], predictors: [String],
                testing: [Int]? = nil) throws(MetaPoolError) {
        let k = yi.count, p = predictors.count
        guard p > 0, vi.count == k, cluster.count == k, design.count == k * p else {
            throw MetaPoolError(.invalidArgument, "the three-level meta-regression needs k effects, k variances, k clusters and a k × p design (k = \(k), \(vi.count) variances, \(cluster.count) clusters, p = \(p), \(design.count) design cells)")
        }
        guard k > p else {
            throw MetaPoolError(.insufficientData, "a model with \(p) coefficient\(p == 1 ? "" : "s") needs more than \(p) studies; there \(k == 1 ? "is" : "are") \(k)")
        }
        try RestrictedMaximumLikelihood.validate(y: yi, v: vi)
        guard design.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.invalidValue, "every moderator value must be finite")
        }
        for j in 0..<p {
            var diagonal = 0.0
            for i in 0..<k { let xv = design[i * p + j]; diagonal += xv * xv / vi[i] }
            guard diagonal.isFinite else {
                throw MetaPoolError(.invalidValue, "the moderator \"\(predictors[j])\" is too large for the weighted cross-products of the design in double precision (sum of x^2/v_i overflows); rescale it, e.g. divide it by a power of 10",
                                    at: InputLocation(column: predictors[j]))
            }
        }
        let tested = testing ?? (0..<p).filter { predictors[$0] != "intrcpt" }
        guard tested.allSatisfy({ (0..<p).contains($0) }), Set(tested).count == tested.count else {
            throw MetaPoolError(.invalidArgument, "the tested coefficients must be distinct indices below \(p)")
        }
        // XᵀX: full column rank (the same relative pivot test as MetaRegression), and log|XᵀX|.
        var xx = [Double](repeating: 0, count: p * p)
        for i in 0..<k { for a in 0..<p { for b in 0...a { xx[a * p + b] += design[i * p + a] * design[i * p + b] } } }
        let diagonalXX = (0..<p).map { xx[$0 * p + $0] }
        guard Self.choleskyInPlace(&xx, p: p, diagonal: diagonalXX) else {
            throw MetaPoolError(.insufficientData, "the moderators are linearly dependent (a column is a combination of the others, or a factor level has no studies); drop a redundant column")
        }
        var logDet = 0.0
        for j in 0..<p { logDet += 2 * Double.log(xx[j * p + j]) }
        // Stable grouping by cluster, clusters in order of first appearance (as ThreeLevelModel).
        var firstSeen: [Int: Int] = [:]
        var counts: [Int] = []
        for c in cluster {
            if let g = firstSeen[c] { counts[g] += 1 } else { firstSeen[c] = counts.count; counts.append(1) }
        }
        guard counts.contains(where: { $0 > 1 }) else { throw ThreeLevelModel.reducesToTwoLevels }
        var starts = [0]
        starts.reserveCapacity(counts.count + 1)
        for n in counts { starts.append(starts.last! + n) }
        var next = Array(starts.dropLast())
        var y = [Double](repeating: 0, count: k), v = y, x = [Double](repeating: 0, count: k * p)
        for i in 0..<k {
            let g = firstSeen[cluster[i]]!
            let r = next[g]
            y[r] = yi[i]
            v[r] = vi[i]
            for j in 0..<p { x[r * p + j] = design[i * p + j] }
            next[g] += 1
        }
        self.y = y
        self.v = v
        self.x = x
        self.starts = starts
        self.predictors = predictors
        testedCoefficients = tested
        logDeterminantXX = logDet
        originalY = yi
        originalV = vi
        originalX = design
    }

    /// The number of studies k.
    public var count: Int { y.count }
    /// The number of clusters n.
    public var clusterCount: Int { starts.count - 1 }
    /// The number of coefficients p.
    public var coefficientCount: Int { predictors.count }

    // MARK: Linear algebra on small p × p row-major buffers, in place (no allocation)

    /// The lower Cholesky factor of the symmetric `a` (lower triangle read, row-major) in place;
    /// false when a pivot ℓⱼⱼ² is not above 10⁻¹⁰ of the diagonal element it came from (numerically
    /// rank deficient, the test of MetaRegression) or not finite.
    static func choleskyInPlace(_ a: inout [Double], p: Int, diagonal: [Double]) -> Bool {
        for j in 0..<p {
            var d = a[j * p + j]
            for m in 0..<j { d -= a[j * p + m] * a[j * p + m] }
            guard d > 1e-10 * diagonal[j], d.isFinite else { return false }
            let root = d.squareRoot()
            a[j * p + j] = root
            for i in (j + 1)..<max(j + 1, p) {
                var s = a[i * p + j]
                for m in 0..<j { s -= a[i * p + m] * a[j * p + m] }
                a[i * p + j] = s / root
            }
            for i in 0..<j { a[i * p + j] = 0 }
        }
        return true
    }

    /// Solves LLᵀz = b in place for the factor `l` from ``choleskyInPlace(_:p:diagonal:)``.
    static func solveInPlace(_ l: [Double], p: Int, _ b: inout [Double]) {
        for i in 0..<p {
            var s = b[i]
            for m in 0..<i { s -= l[i * p + m] * b[m] }
            b[i] = s / l[i * p + i]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            var s = b[i]
            for m in (i + 1)..<max(i + 1, p) { s -= l[m * p + i] * b[m] }
            b[i] = s / l[i * p + i]
        }
    }

    /// (LLᵀ)⁻¹ into `inverse` (row-major, symmetric), column by column through `column`.
    static func inverseInPlace(_ l: [Double], p: Int, into inverse: inout [Double], column: inout [Double]) {
        for c in 0..<p {
            for i in 0..<p { column[i] = i == c ? 1 : 0 }
            solveInPlace(l, p: p, &column)
            for i in 0..<p { inverse[i * p + c] = column[i] }
        }
    }

    // MARK: The likelihood and its score

    /// Preallocated buffers and the results of the last evaluation at (σ²₁, σ²₂).
    struct Workspace {
        let p: Int
        /// G = XᵀV⁻¹X (its Cholesky factor after a solve), its diagonal, G⁻¹, XᵀV⁻¹y (β̂ after the solve).
        var g: [Double], diagonal: [Double], inverse: [Double], beta: [Double], column: [Double]
        /// Σᵢuᵢuᵢᵀ/dᵢ² (XᵀV⁻¹JV⁻¹X) and XᵀV⁻²X; per-cluster uᵢ = Σⱼaᵢⱼxᵢⱼ and qᵢ = Σⱼaᵢⱼ²xᵢⱼ.
        var mJ: [Double], mI: [Double], u: [Double], q: [Double]
        var logDeterminant = 0.0, logDeterminantG = 0.0, quadratic = 0.0
        var traceJ = 0.0, quadraticJ = 0.0, traceI = 0.0, quadraticI = 0.0
        /// tr(G⁻¹XᵀV⁻¹JV⁻¹X) and tr(G⁻¹XᵀV⁻²X): the REML corrections of the traces.
        var correctionJ = 0.0, correctionI = 0.0

        init(p: Int) {
            self.p = p
            g = [Double](repeating: 0, count: p * p)
            inverse = g
            mJ = g
            mI = g
            diagonal = [Double](repeating: 0, count: p)
            beta = diagonal
            column = diagonal
            u = diagonal
            q = diagonal
        }
    }

    /// Evaluates everything the likelihood and its score need at (σ²₁, σ²₂) into `w`: two passes
    /// over the studies (the cross-products, then the residuals about β̂), O(k·p²), no allocation.
    /// False when XᵀV⁻¹X is numerically singular or the sums are not finite.
    func evaluate(_ s1: Double, _ s2: Double, _ w: inout Workspace) -> Bool {
        let p = w.p
        for i in 0..<(p * p) { w.g[i] = 0; w.mJ[i] = 0; w.mI[i] = 0 }
        for a in 0..<p { w.beta[a] = 0 }
        w.logDeterminant = 0
        w.traceJ = 0
        w.traceI = 0
        for c in 0..<clusterCount {
            let lo = starts[c], hi = starts[c + 1]
            var s = 0.0, t = 0.0, a2 = 0.0, logV = 0.0
            for a in 0..<p { w.u[a] = 0; w.q[a] = 0 }
            for j in lo..<hi {
                let vj = v[j] + s2
                let aj = 1 / vj
                s += aj
                t += aj * y[j]
                a2 += aj * aj
                logV += Double.log(vj)
                let row = j * p
                for a in 0..<p {
                    let xa = x[row + a]
                    w.u[a] += aj * xa
                    w.q[a] += aj * aj * xa
                    w.beta[a] += aj * xa * y[j]
                    for b in 0...a {
                        let xab = xa * x[row + b]
                        w.g[a * p + b] += aj * xab
                        w.mI[a * p + b] += aj * aj * xab
                    }
                }
            }
            let d = 1 + s1 * s
            w.logDeterminant += logV + Double.log(d)
            w.traceJ += s / d
            w.traceI += s - s1 * a2 / d
            // Vᵢ⁻¹ = Aᵢ − σ²₁aaᵀ/dᵢ; Vᵢ⁻¹1 = a/dᵢ; (Vᵢ⁻¹Xᵢ)ⱼ = aⱼ(xⱼ − cᵢ) with cᵢ = σ²₁uᵢ/dᵢ, so
            // XᵢᵀVᵢ⁻²Xᵢ = Σⱼaⱼ²xⱼxⱼᵀ − cqᵀ − qcᵀ + (Σⱼaⱼ²)ccᵀ.
            let f = s1 / d
            for a in 0..<p {
                let ua = w.u[a], ca = f * ua
                w.beta[a] -= f * ua * t
                for b in 0...a {
                    let ub = w.u[b], cb = f * ub
                    w.g[a * p + b] -= f * ua * ub
                    w.mJ[a * p + b] += ua * ub / (d * d)
                    w.mI[a * p + b] += -ca * w.q[b] - w.q[a] * cb + a2 * ca * cb
                }
            }
        }
        for a in 0..<p {
            w.diagonal[a] = w.g[a * p + a]
            for b in 0..<a { w.mJ[b * p + a] = w.mJ[a * p + b]; w.mI[b * p + a] = w.mI[a * p + b] }
        }
        guard Self.choleskyInPlace(&w.g, p: p, diagonal: w.diagonal) else { return false }
        Self.solveInPlace(w.g, p: p, &w.beta)
        Self.inverseInPlace(w.g, p: p, into: &w.inverse, column: &w.column)
        w.logDeterminantG = 0
        for a in 0..<p { w.logDeterminantG += 2 * Double.log(w.g[a * p + a]) }
        w.correctionJ = 0
        w.correctionI = 0
        for a in 0..<p {
            for b in 0..<p {
                w.correctionJ += w.inverse[a * p + b] * w.mJ[b * p + a]
                w.correctionI += w.inverse[a * p + b] * w.mI[b * p + a]
            }
        }
        // Residuals r = y − Xβ̂: rᵀV⁻¹r, Σᵢ(Rᵢ/dᵢ)² (rᵀV⁻¹JV⁻¹r) and rᵀV⁻²r = Σaⱼ²(rⱼ − σ²₁Rᵢ/dᵢ)².
        w.quadratic = 0
        w.quadraticJ = 0
        w.quadraticI = 0
        for c in 0..<clusterCount {
            let lo = starts[c], hi = starts[c + 1]
            var s = 0.0, r = 0.0, ar2 = 0.0
            for j in lo..<hi {
                let aj = 1 / (v[j] + s2)
                let res = residual(j, w.beta, p: p)
                s += aj
                r += aj * res
                ar2 += aj * res * res
            }
            let d = 1 + s1 * s
            w.quadratic += ar2 - s1 * r * r / d
            w.quadraticJ += (r / d) * (r / d)
            let cr = s1 * r / d
            for j in lo..<hi {
                let e = (residual(j, w.beta, p: p) - cr) / (v[j] + s2)
                w.quadraticI += e * e
            }
        }
        return w.quadratic.isFinite && w.logDeterminant.isFinite && w.quadraticI.isFinite
    }

    @inline(__always)
    func residual(_ j: Int, _ beta: [Double], p: Int) -> Double {
        var fitted = 0.0
        for a in 0..<p { fitted += x[j * p + a] * beta[a] }
        return y[j] - fitted
    }

    /// The (restricted) log-likelihood as metafor's `logLik()` for rma.mv: ML −½[k·log 2π + log|V| + rᵀV⁻¹r],
    /// REML −½[(k − p)·log 2π − log|XᵀX| + log|V| + log|XᵀV⁻¹X| + rᵀV⁻¹r] (Harville 1974's form).
    func logLikelihood(_ w: Workspace, restricted: Bool) -> Double {
        let k = Double(count), p = Double(w.p)
        if restricted {
            return -0.5 * ((k - p) * Double.log(2 * Double.pi) - logDeterminantXX + w.logDeterminant + w.logDeterminantG + w.quadratic)
        }
        return -0.5 * (k * Double.log(2 * Double.pi) + w.logDeterminant + w.quadratic)
    }

    /// The score ½[rᵀV⁻¹ZZᵀV⁻¹r − tr(P·ZZᵀ)] for ZZᵀ = J (block of ones per cluster) and I, with
    /// P = V⁻¹ for ML and V⁻¹ − V⁻¹X(XᵀV⁻¹X)⁻¹XᵀV⁻¹ for REML (Harville 1977, eqs. 4.4 and 4.7):
    /// tr(PZZᵀ) = tr(V⁻¹ZZᵀ) − tr(G⁻¹XᵀV⁻¹ZZᵀV⁻¹X).
    func gradient(_ w: Workspace, restricted: Bool) -> (Double, Double) {
        var trJ = w.traceJ, trI = w.traceI
        if restricted {
            trJ -= w.correctionJ
            trI -= w.correctionI
        }
        return (0.5 * (w.quadraticJ - trJ), 0.5 * (w.quadraticI - trI))
    }

    /// The log-likelihood at (σ²₁, σ²₂), or −∞ where XᵀV⁻¹X is singular.
    func logLikelihood(_ s1: Double, _ s2: Double, restricted: Bool, _ w: inout Workspace) -> Double {
        evaluate(s1, s2, &w) ? logLikelihood(w, restricted: restricted) : -.infinity
    }
}

/// A cluster-robust (sandwich) test of one model's coefficients: CR1 as metafor's `robust()`, or CR2
/// with Satterthwaite degrees of freedom as clubSandwich's `coef_test(vcov = "CR2")`.
public struct ClusterRobustCoefficients: Sendable {
    /// The small-sample adjustment: CR1 (n/(n − p) times the plain sandwich, t on n − p df, as
    /// metafor's `robust(fit, cluster)`) or CR2 (Bell & McCaffrey 2002 with Satterthwaite df,
    /// Pustejovsky & Tipton 2018, as clubSandwich's `coef_test(vcov = "CR2")`).
    public typealias Adjustment = ClusterRobustType

    /// The omnibus Wald F-test of the tested coefficients with the robust covariance: metafor's
    /// robust QM, F = β̂ₜᵀV⁻¹β̂ₜ/m on (m, n − p) df for CR1; clubSandwich's HTZ for CR2.
    public struct ModeratorTest: Sendable {
        public let coefficients: [Int]
        public let statistic: Double
        public let numeratorDegreesOfFreedom: Int
        public let denominatorDegreesOfFreedom: Double
        public let pValue: Double
    }

    public let adjustment: Adjustment
    /// The number of clusters n.
    public let clusterCount: Int
    /// Each coefficient's estimate, robust SE, t test on its degrees of freedom and interval.
    public let coefficients: [RobustInference]
    /// The p × p robust covariance of β̂, row-major.
    public let covariance: [Double]
    /// The robust test of the tested coefficients: for CR1 metafor's F on (m, n − p) df, for CR2
    /// clubSandwich's HTZ test (F on (m, ν − m + 1) df); `nil` when there is none or the robust
    /// covariance of the tested block is singular.
    public let moderatorTest: ModeratorTest?
}

/// A fitted three-level meta-regression (``ThreeLevelRegression/fit(method:tDistribution:level:)``).
public struct ThreeLevelRegressionFit: Sendable {
    /// `.maximumLikelihood` or `.restrictedMaximumLikelihood`.
    public let method: TauSquaredMethod
    /// The coefficient names.
    public let predictors: [String]
    /// σ̂²₁ (between clusters) and σ̂²₂ (between cohorts within a cluster).
    public let clusterVariance: Double, cohortVariance: Double
    /// β̂ with SE √[(XᵀV̂⁻¹X)⁻¹]ⱼⱼ, z or t test (t on k − p df, metafor's `test = "t"`) and interval.
    public let coefficients: [EstimateInference]
    /// (XᵀV̂⁻¹X)⁻¹, p × p row-major.
    public let covariance: [Double]
    /// The (restricted) log-likelihood at the estimates, as metafor's `logLik()`.
    public let logLikelihood: Double
    /// k and the number of clusters n.
    public let count: Int, clusterCount: Int
    /// The confidence level.
    public let level: Double
    /// The omnibus test of moderators QM (χ² on m df, or F(m, k − p) with t), `nil` when nothing is tested.
    public let moderatorTest: MetaRegression.ModeratorTest?
    /// The test for residual heterogeneity QE = Σ(yᵢ − xᵢᵀβ̂_FE)²/vᵢ on k − p df (metafor's QE).
    public let residualQ: Double, residualQDegreesOfFreedom: Int, residualQPValue: Double
    /// The two-level meta-regression with the same moderators and method (σ²₁ = 0): τ̂² and log-likelihood.
    public let twoLevelTauSquared: Double, twoLevelLogLikelihood: Double
    /// Iterations of the optimiser.
    public let iterations: Int
    /// CR1 as metafor's `robust(fit, cluster)`; `nil` with no more clusters than coefficients.
    public let clusterRobust: ClusterRobustCoefficients?

    /// 2(ℓ₃ − ℓ₂) against the two-level meta-regression, and its p-value on 1 df (metafor's `anova()`).
    public var likelihoodRatio: Double { max(0, 2 * (logLikelihood - twoLevelLogLikelihood)) }
    public var likelihoodRatioPValue: Double { ChiSquared(degreesOfFreedom: 1).survival(likelihoodRatio) }
    /// k − p when t tests are used, else `nil`.
    public var degreesOfFreedom: Int? { coefficients.first?.degreesOfFreedom }
}

extension ThreeLevelRegression {
    /// Fits σ²₁, σ²₂ ≥ 0 by maximising the (restricted) log-likelihood (Newton steps on the analytic
    /// score, as ``ThreeLevelModel/fit(method:tDistribution:level:)``), then β̂ by generalised least squares.
    /// - Throws: ``MetaPoolError`` for a method other than ML or REML, an invalid level, or no convergence.
    public func fit(method: TauSquaredMethod = .restrictedMaximumLikelihood, tDistribution: Bool = false,
                    level: Double = 0.95) throws(MetaPoolError) -> ThreeLevelRegressionFit {
        try EstimateInference.checkLevel(level)
        guard method == .restrictedMaximumLikelihood || method == .maximumLikelihood else {
            throw MetaPoolError(.invalidArgument, "the three-level meta-regression is fitted by ML or REML, not \(method.rawValue)", remedy: .methods(["REML", "ML"]))
        }
        let restricted = method == .restrictedMaximumLikelihood
        let p = coefficientCount, k = count
        // The two-level meta-regression (σ²₁ = 0): the start, QE and the likelihood-ratio test.
        let two = try MetaRegression(y: originalY, v: originalV, design: originalX, predictors: predictors,
                                     testing: testedCoefficients, method: method)
        var work = Workspace(p: p)
        let twoLevelLL = logLikelihood(0, two.tauSquaredEstimate, restricted: restricted, &work)
        let scale = SafeguardedRoot.typicalScale(v)
        let start = (max(0.5 * two.tauSquaredEstimate, 0.01 * scale), max(0.5 * two.tauSquaredEstimate, 0.01 * scale))
        guard let optimum = maximize(from: start, holding: (false, false), restricted: restricted, scale: scale, &work) else {
            throw MetaPoolError(.noConvergence, "the three-level \(method.rawValue) meta-regression did not converge")
        }
        let (theta, ll, iterations) = optimum
        guard evaluate(theta.0, theta.1, &work) else {
            throw MetaPoolError(.noConvergence, "the three-level \(method.rawValue) meta-regression did not converge")
        }
        let beta = work.beta, cov = work.inverse
        let df = tDistribution ? k - p : nil
        let coefficients = (0..<p).map { j in
            EstimateInference(estimate: beta[j], standardError: cov[j * p + j].squareRoot(), level: level, degreesOfFreedom: df)
        }
        var moderatorTest: MetaRegression.ModeratorTest?
        if let wald = Self.wald(beta, cov, p: p, tested: testedCoefficients) {
            let (statistic, m) = wald
            if tDistribution {
                let f = statistic / Double(m)
                moderatorTest = .init(coefficients: testedCoefficients, statistic: f, degreesOfFreedom: m, denominatorDegreesOfFreedom: k - p,
                                      pValue: FisherF(numeratorDegreesOfFreedom: Double(m), denominatorDegreesOfFreedom: Double(k - p)).survival(f))
            } else {
                moderatorTest = .init(coefficients: testedCoefficients, statistic: statistic, degreesOfFreedom: m, denominatorDegreesOfFreedom: nil,
                                      pValue: ChiSquared(degreesOfFreedom: Double(m)).survival(statistic))
            }
        }
        guard (beta + cov + [ll]).allSatisfy(\.isFinite) else {
            throw MetaPoolError(.insufficientData, "the effects, variances or moderators are too extreme to fit in double precision (the weighted sums overflow); check the yi and vi values and rescale the moderators")
        }
        return ThreeLevelRegressionFit(
            method: method, predictors: predictors, clusterVariance: theta.0, cohortVariance: theta.1,
            coefficients: coefficients, covariance: cov, logLikelihood: ll, count: k, clusterCount: clusterCount, level: level,
            moderatorTest: moderatorTest, residualQ: two.residualQ, residualQDegreesOfFreedom: two.residualQDegreesOfFreedom,
            residualQPValue: two.residualQPValue, twoLevelTauSquared: two.tauSquaredEstimate, twoLevelLogLikelihood: twoLevelLL,
            iterations: iterations, clusterRobust: cr1(theta, beta: beta, bread: cov, level: level))
    }

    /// The Wald statistic β̂ₜᵀ(Covₜₜ)⁻¹β̂ₜ of the tested block and its size m; `nil` when nothing is
    /// tested or the block is not positive definite.
    static func wald(_ beta: [Double], _ cov: [Double], p: Int, tested: [Int]) -> (Double, Int)? {
        let m = tested.count
        guard m > 0 else { return nil }
        var block = [Double](repeating: 0, count: m * m), rhs = tested.map { beta[$0] }
        for (a, i) in tested.enumerated() { for (b, j) in tested.enumerated() { block[a * m + b] = cov[i * p + j] } }
        let diagonal = (0..<m).map { block[$0 * m + $0] }
        guard choleskyInPlace(&block, p: m, diagonal: diagonal) else { return nil }
        solveInPlace(block, p: m, &rhs)
        var statistic = 0.0
        for a in 0..<m { statistic += beta[tested[a]] * rhs[a] }
        return statistic.isFinite ? (statistic, m) : nil
    }

    /// Maximises the (restricted) log-likelihood over σ²₁, σ²₂ ≥ 0 from `start`, holding a component
    /// at its start where `holding` says so (the profile likelihood): Newton steps on the analytic
    /// score with the Hessian from its central differences, halved until the likelihood does not fall,
    /// a component held at 0 while the score pushes it below. `nil` without convergence in 500 iterations.
    func maximize(from start: (Double, Double), holding: (Bool, Bool), restricted: Bool, scale: Double,
                  _ w: inout Workspace) -> (theta: (Double, Double), logLikelihood: Double, iterations: Int)? {
        var theta = start
        guard evaluate(theta.0, theta.1, &w) else { return nil }
        var ll = logLikelihood(w, restricted: restricted)
        var iterations = 0
        while iterations < 500 {
            iterations += 1
            guard evaluate(theta.0, theta.1, &w) else { return nil }
            let g = gradient(w, restricted: restricted)
            let free = (!holding.0 && !(theta.0 == 0 && g.0 <= 0), !holding.1 && !(theta.1 == 0 && g.1 <= 0))
            if !free.0 && !free.1 { return ll.isFinite ? (theta, ll, iterations) : nil }
            guard let h = hessian(theta, scale: scale, restricted: restricted, &w) else { return nil }
            func oneStep(_ gm: Double, _ hm: Double) -> Double { hm < 0 ? -gm / hm : gm / max(abs(hm), 1e-300) }
            var step: (Double, Double)
            if free.0 && free.1 {
                let det = h.0 * h.2 - h.1 * h.1
                step = h.0 < 0 && det > 0 ? ((-h.2 * g.0 + h.1 * g.1) / det, (h.1 * g.0 - h.0 * g.1) / det)
                                          : (oneStep(g.0, h.0), oneStep(g.1, h.2))
            } else if free.0 {
                step = (oneStep(g.0, h.0), 0)
            } else {
                step = (0, oneStep(g.1, h.2))
            }
            guard step.0.isFinite, step.1.isFinite else { return nil }
            var t = 1.0
            var next = theta, nextLL = ll
            while true {
                next = (max(0, theta.0 + t * step.0), max(0, theta.1 + t * step.1))
                nextLL = logLikelihood(next.0, next.1, restricted: restricted, &w)
                if nextLL >= ll - 1e-15 * abs(ll) || t < 1e-12 { break }
                t *= 0.5
            }
            if !(nextLL >= ll - 1e-15 * abs(ll)) { next = theta; nextLL = ll }
            let moved = max(abs(next.0 - theta.0) / max(theta.0, scale), abs(next.1 - theta.1) / max(theta.1, scale))
            theta = next
            ll = nextLL
            if moved <= 1e-12 { return ll.isFinite ? (theta, ll, iterations) : nil }
        }
        return nil
    }

    /// The Hessian (∂²ℓ/∂σ²₁², ∂²ℓ/∂σ²₁∂σ²₂, ∂²ℓ/∂σ²₂²) by central differences of the analytic
    /// score (forward where σ² − h would be negative); `nil` where an evaluation fails.
    func hessian(_ theta: (Double, Double), scale: Double, restricted: Bool, _ w: inout Workspace) -> (Double, Double, Double)? {
        func g(_ a: Double, _ b: Double) -> (Double, Double)? {
            evaluate(a, b, &w) ? gradient(w, restricted: restricted) : nil
        }
        let h0 = 1e-5 * max(theta.0, scale), h1 = 1e-5 * max(theta.1, scale)
        let lo0 = max(0, theta.0 - h0), hi0 = lo0 + 2 * h0
        let lo1 = max(0, theta.1 - h1), hi1 = lo1 + 2 * h1
        guard let a = g(hi0, theta.1), let b = g(lo0, theta.1), let c = g(theta.0, hi1), let d = g(theta.0, lo1) else { return nil }
        let h00 = (a.0 - b.0) / (hi0 - lo0), h11 = (c.1 - d.1) / (hi1 - lo1)
        let h01 = 0.5 * ((a.1 - b.1) / (hi0 - lo0) + (c.0 - d.0) / (hi1 - lo1))
        return (h00, h01, h11)
    }

    /// The profile-likelihood confidence interval of σ²₁ (`cluster: true`) or σ²₂: where the
    /// log-likelihood maximised over the other component (β profiled out) falls χ²₁,₁₋α/2 below
    /// its maximum (metafor's `confint()` on `rma.mv`). A bound is 0 when the profile stays above
    /// that level down to 0.
    /// - Throws: ``MetaPoolError`` when the profile does not fall that far within 2¹⁰⁰ times the scale, or an inner fit fails.
    public func varianceInterval(_ fit: ThreeLevelRegressionFit, cluster: Bool, level: Double = 0.95) throws(MetaPoolError) -> Interval {
        try EstimateInference.checkLevel(level)
        let restricted = fit.method == .restrictedMaximumLikelihood
        let scale = SafeguardedRoot.typicalScale(v)
        let target = fit.logLikelihood - 0.5 * ChiSquared(degreesOfFreedom: 1).quantile(level)
        let estimate = cluster ? fit.clusterVariance : fit.cohortVariance
        let other = cluster ? fit.cohortVariance : fit.clusterVariance
        let name = cluster ? "sigma^2 (cluster)" : "sigma^2 (cohort)"
        var work = Workspace(p: coefficientCount)
        func excess(_ value: Double) throws(MetaPoolError) -> Double {
            let start = cluster ? (value, other) : (other, value)
            guard let m = maximize(from: start, holding: (cluster, !cluster), restricted: restricted, scale: scale, &work) else {
                throw MetaPoolError(.noConvergence, "the profile likelihood of \(name) did not converge at \(value)")
            }
            return m.logLikelihood - target
        }
        let first = max(2 * estimate, scale)
        return try ProfileLikelihoodInterval.bounds(estimate: estimate, top: try excess(estimate), firstUpper: first,
                                                    ceiling: first * 0x1p100, floor: scale, name: name, excess: excess)
    }
}

extension ThreeLevelRegression {
    /// CR1 as metafor's `robust(fit, cluster)`: Var = n/(n − p)·G⁻¹[Σᵢ sᵢsᵢᵀ]G⁻¹ with
    /// sᵢ = XᵢᵀV̂ᵢ⁻¹eᵢ, eᵢ the cluster's residuals (Hedges, Tipton & Johnson 2010, eq. 6, with the
    /// small-sample factor of metafor), t on n − p df and the F-test of the tested coefficients on
    /// (m, n − p) df. `nil` with n ≤ p.
    func cr1(_ theta: (Double, Double), beta: [Double], bread: [Double], level: Double) -> ClusterRobustCoefficients? {
        let p = coefficientCount, n = clusterCount
        guard n > p else { return nil }
        let (s1, s2) = theta
        var meat = [Double](repeating: 0, count: p * p), s = [Double](repeating: 0, count: p)
        for c in 0..<n {
            let lo = starts[c], hi = starts[c + 1]
            var sa = 0.0, r = 0.0
            for j in lo..<hi {
                let aj = 1 / (v[j] + s2)
                sa += aj
                r += aj * residual(j, beta, p: p)
            }
            let cr = s1 * r / (1 + s1 * sa)
            for a in 0..<p { s[a] = 0 }
            // (V̂ᵢ⁻¹eᵢ)ⱼ = aⱼ(eⱼ − σ²₁Rᵢ/dᵢ).
            for j in lo..<hi {
                let e = (residual(j, beta, p: p) - cr) / (v[j] + s2)
                for a in 0..<p { s[a] += x[j * p + a] * e }
            }
            for a in 0..<p { for b in 0..<p { meat[a * p + b] += s[a] * s[b] } }
        }
        var cov = Self.sandwich(bread, meat, p: p)
        let factor = Double(n) / Double(n - p)
        for i in cov.indices { cov[i] *= factor }
        let df = Double(n - p)
        let coefficients = (0..<p).map { RobustInference(estimate: beta[$0], standardError: cov[$0 * p + $0].squareRoot(), degreesOfFreedom: df, level: level) }
        var test: ClusterRobustCoefficients.ModeratorTest?
        if let wald = Self.wald(beta, cov, p: p, tested: testedCoefficients) {
            let (statistic, m) = wald
            let f = statistic / Double(m)
            test = .init(coefficients: testedCoefficients, statistic: f, numeratorDegreesOfFreedom: m, denominatorDegreesOfFreedom: df,
                         pValue: FisherF(numeratorDegreesOfFreedom: Double(m), denominatorDegreesOfFreedom: df).survival(f))
        }
        return ClusterRobustCoefficients(adjustment: .cr1, clusterCount: n, coefficients: coefficients, covariance: cov, moderatorTest: test)
    }

    /// M·meat·M for symmetric p × p row-major M.
    static func sandwich(_ m: [Double], _ meat: [Double], p: Int) -> [Double] {
        var tmp = [Double](repeating: 0, count: p * p), out = tmp
        for i in 0..<p { for j in 0..<p { var s = 0.0; for k in 0..<p { s += meat[i * p + k] * m[k * p + j] }; tmp[i * p + j] = s } }
        for i in 0..<p { for j in 0..<p { var s = 0.0; for k in 0..<p { s += m[i * p + k] * tmp[k * p + j] }; out[i * p + j] = s } }
        for i in 0..<p { for j in 0..<i { let a = 0.5 * (out[i * p + j] + out[j * p + i]); out[i * p + j] = a; out[j * p + i] = a } }
        return out
    }

    /// The robust inference of `adjustment` for every coefficient at the fit's level: CR1 is the
    /// fit's own ``ThreeLevelRegressionFit/clusterRobust``; CR2 is computed here (O(Σᵢ mᵢ³ + n·p³)).
    public func clusterRobust(_ fit: ThreeLevelRegressionFit, adjustment: ClusterRobustCoefficients.Adjustment) -> ClusterRobustCoefficients? {
        switch adjustment {
        case .cr1: return fit.clusterRobust
        case .cr2: return clusterRobustCR2(fit)
        }
    }

    /// CR2 with Satterthwaite degrees of freedom for every coefficient, as clubSandwich's
    /// `coef_test(fit, vcov = "CR2", test = "Satterthwaite")`; `nil` with a single cluster or when
    /// a factorisation fails.
    ///
    /// Working model Φ = V̂ and weights W = V̂⁻¹, M = (XᵀWX)⁻¹ (Pustejovsky & Tipton 2018, eqs. 7–8):
    /// Var = M[Σᵢ EᵢᵀeᵢeᵢᵀEᵢ]M with Eᵢ = AᵢWᵢXᵢ, Aᵢ = DᵢᵀBᵢ^(−1/2)Dᵢ (DᵢᵀDᵢ = Φᵢ) and
    /// Bᵢ = Dᵢ(I − H)ᵢᵢΦᵢDᵢᵀ = Dᵢ(Φᵢ − XᵢMXᵢᵀ)Dᵢᵀ; Bᵢ^(−1/2) drops eigenvalues ≤ 10⁻¹² as
    /// clubSandwich's `matrix_power` does (a cluster whose residuals are fixed at 0, e.g. the only
    /// one of a factor level, contributes nothing).
    /// The Satterthwaite df of coefficient c (their eq. 11): with gᵢ = EᵢMc and pᵢ = (I − H)ᵢᵀgᵢ,
    /// pᵢᵀΦpⱼ = δᵢⱼαᵢ − γᵢᵀMγⱼ where αᵢ = gᵢᵀΦᵢgᵢ and γᵢ = Xᵢᵀgᵢ (as (I − H)Φ(I − H)ᵀ = Φ − XMXᵀ), so
    /// ν = (Σαᵢ − tr MΓ)² / (Σαᵢ² − 2ΣαᵢγᵢᵀMγᵢ + tr(MΓMΓ)), Γ = Σᵢγᵢγᵢᵀ.
    public func clusterRobustCR2(_ fit: ThreeLevelRegressionFit) -> ClusterRobustCoefficients? {
        let p = coefficientCount, n = clusterCount
        // A fit of another model (other coefficients) has nothing to say here.
        guard n > 1, fit.coefficients.count == p, fit.covariance.count == p * p, fit.count == count,
              fit.clusterVariance.isFinite, fit.cohortVariance.isFinite else { return nil }
        let s1 = fit.clusterVariance, s2 = fit.cohortVariance
        let beta = fit.coefficients.map(\.estimate), mm = fit.covariance
        var largest = 0
        for c in 0..<n { largest = max(largest, starts[c + 1] - starts[c]) }
        let size = largest * largest
        var phi = [Double](repeating: 0, count: size), d = phi, b = phi, vectors = phi, tmp = phi, a = phi, wi = phi, lower = phi
        var diagonal = [Double](repeating: 0, count: largest)
        var e = [Double](repeating: 0, count: largest * p), f = e
        var res = [Double](repeating: 0, count: largest)
        var meat = [Double](repeating: 0, count: p * p), qi = meat, ri = meat, sv = [Double](repeating: 0, count: p)
        var gammaC = [Double](repeating: 0, count: p)
        var sumAlpha = [Double](repeating: 0, count: p), sumAlpha2 = sumAlpha, sumAlphaGMG = sumAlpha
        var gammaSum = [[Double]](repeating: [Double](repeating: 0, count: p * p), count: p)
        // For the HTZ test of the tested coefficients (q of them): per cluster αᵢ[s, t] (q × q) and γᵢ(s) (q × p).
        let tested = testedCoefficients, q = tested.count
        var alphaStore = [Double](repeating: 0, count: n * q * q), gammaStore = [Double](repeating: 0, count: n * q * p)
        for c in 0..<n {
            let lo = starts[c], m = starts[c + 1] - lo
            // Φᵢ = diag(vᵢⱼ + σ²₂) + σ²₁11ᵀ; D = Lᵀ of its Cholesky factor.
            for i in 0..<m { for j in 0..<m { phi[i * m + j] = s1 + (i == j ? v[lo + i] + s2 : 0) } }
            for i in 0..<(m * m) { lower[i] = phi[i] }
            for i in 0..<m { diagonal[i] = phi[i * m + i] }
            guard Self.choleskyInPlace(&lower, p: m, diagonal: diagonal) else { return nil }
            for i in 0..<m { for j in 0..<m { d[i * m + j] = lower[j * m + i] } }
            // C = Φᵢ − XᵢMXᵢᵀ into tmp; B = DCDᵀ.
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for u in 0..<p { for w in 0..<p { s += x[(lo + i) * p + u] * mm[u * p + w] * x[(lo + j) * p + w] } }
                    tmp[i * m + j] = phi[i * m + j] - s
                }
            }
            for i in 0..<m { for j in 0..<m { var s = 0.0; for k in 0..<m { s += tmp[i * m + k] * d[j * m + k] }; a[i * m + j] = s } }
            for i in 0..<m { for j in 0..<m { var s = 0.0; for k in 0..<m { s += d[i * m + k] * a[k * m + j] }; b[i * m + j] = s } }
            for i in 0..<m { for j in 0..<i { let t = 0.5 * (b[i * m + j] + b[j * m + i]); b[i * m + j] = t; b[j * m + i] = t } }
            SymmetricMatrix.jacobiEigen(&b, m, vectors: &vectors)
            // B^(−1/2) with clubSandwich's cut-off, into tmp; then A = DᵀB^(−1/2)D.
            for i in 0..<m {
                for j in 0..<m {
                    var s = 0.0
                    for k in 0..<m where b[k * m + k] > 1e-12 { s += vectors[i * m + k] * vectors[j * m + k] / b[k * m + k].squareRoot() }
                    tmp[i * m + j] = s
                }
            }
            for i in 0..<m { for j in 0..<m { var s = 0.0; for k in 0..<m { s += tmp[i * m + k] * d[k * m + j] }; b[i * m + j] = s } }
            for i in 0..<m { for j in 0..<m { var s = 0.0; for k in 0..<m { s += d[k * m + i] * b[k * m + j] }; a[i * m + j] = s } }
            // Wᵢ = Φᵢ⁻¹ = Aᵢ − σ²₁aaᵀ/dᵢ (Sherman–Morrison).
            var sa = 0.0
            for j in 0..<m { sa += 1 / (v[lo + j] + s2) }
            let dd = 1 + s1 * sa
            for i in 0..<m {
                let ai = 1 / (v[lo + i] + s2)
                for j in 0..<m { wi[i * m + j] = (i == j ? ai : 0) - s1 * ai / (v[lo + j] + s2) / dd }
            }
            // F = WᵢXᵢ (m × p), E = AᵢF; residuals eᵢ.
            for i in 0..<m {
                res[i] = residual(lo + i, beta, p: p)
                for u in 0..<p { var s = 0.0; for k in 0..<m { s += wi[i * m + k] * x[(lo + k) * p + u] }; f[i * p + u] = s }
            }
            for i in 0..<m { for u in 0..<p { var s = 0.0; for k in 0..<m { s += a[i * m + k] * f[k * p + u] }; e[i * p + u] = s } }
            // sᵢ = Eᵢᵀeᵢ; Qᵢ = EᵢᵀΦᵢEᵢ; Rᵢ = XᵢᵀEᵢ.
            for u in 0..<p { var s = 0.0; for i in 0..<m { s += e[i * p + u] * res[i] }; sv[u] = s }
            for u in 0..<p {
                for w in 0..<p {
                    meat[u * p + w] += sv[u] * sv[w]
                    var q = 0.0, r = 0.0
                    for i in 0..<m {
                        var pe = 0.0
                        for k in 0..<m { pe += phi[i * m + k] * e[k * p + w] }
                        q += e[i * p + u] * pe
                        r += x[(lo + i) * p + u] * e[i * p + w]
                    }
                    qi[u * p + w] = q
                    ri[u * p + w] = r
                }
            }
            // Per coefficient: h = Mc, αᵢ = hᵀQᵢh, γᵢ = Rᵢh.
            for cc in 0..<p {
                var alpha = 0.0
                for u in 0..<p { for w in 0..<p { alpha += mm[u * p + cc] * qi[u * p + w] * mm[w * p + cc] } }
                for u in 0..<p { var s = 0.0; for w in 0..<p { s += ri[u * p + w] * mm[w * p + cc] }; gammaC[u] = s }
                var gmg = 0.0
                for u in 0..<p { for w in 0..<p { gmg += gammaC[u] * mm[u * p + w] * gammaC[w] } }
                sumAlpha[cc] += alpha
                sumAlpha2[cc] += alpha * alpha
                sumAlphaGMG[cc] += alpha * gmg
                for u in 0..<p { for w in 0..<p { gammaSum[cc][u * p + w] += gammaC[u] * gammaC[w] } }
            }
            for (si, sc) in tested.enumerated() {
                for (ti, tc) in tested.enumerated() {
                    var alpha = 0.0
                    for u in 0..<p { for w in 0..<p { alpha += mm[u * p + sc] * qi[u * p + w] * mm[w * p + tc] } }
                    alphaStore[(c * q + si) * q + ti] = alpha
                }
                for u in 0..<p { var s = 0.0; for w in 0..<p { s += ri[u * p + w] * mm[w * p + sc] }; gammaStore[(c * q + si) * p + u] = s }
            }
        }
        let cov = Self.sandwich(mm, meat, p: p)
        var coefficients: [RobustInference] = []
        for cc in 0..<p {
            // tr(MΓ) and tr(MΓMΓ).
            let gm = gammaSum[cc]
            var mg = [Double](repeating: 0, count: p * p)
            for i in 0..<p { for j in 0..<p { var s = 0.0; for k in 0..<p { s += mm[i * p + k] * gm[k * p + j] }; mg[i * p + j] = s } }
            var trace = 0.0, trace2 = 0.0
            for i in 0..<p {
                trace += mg[i * p + i]
                for j in 0..<p { trace2 += mg[i * p + j] * mg[j * p + i] }
            }
            let numerator = sumAlpha[cc] - trace
            let df = numerator * numerator / (sumAlpha2[cc] - 2 * sumAlphaGMG[cc] + trace2)
            let se = cov[cc * p + cc].squareRoot()
            guard se.isFinite, se > 0, df.isFinite, df > 0 else { return nil }
            coefficients.append(RobustInference(estimate: beta[cc], standardError: se, degreesOfFreedom: df, level: fit.level))
        }
        let test = htz(beta: beta, covariance: cov, bread: mm, alpha: alphaStore, gamma: gammaStore)
        return ClusterRobustCoefficients(adjustment: .cr2, clusterCount: n, coefficients: coefficients, covariance: cov, moderatorTest: test)
    }

    /// clubSandwich's `Wald_test(fit, constrain_zero(tested), vcov = "CR2", test = "HTZ")`: the
    /// Hotelling's T² approximation of Pustejovsky & Tipton (2018, section 3.2; Tipton & Pustejovsky
    /// 2015): F = δ·Q/q on (q, ν − q + 1) df, δ = (ν − q + 1)/ν, Q = β̂ₜᵀ(V^CR2ₜₜ)⁻¹β̂ₜ and
    /// ν = q(q + 1)/Σₛₜ Var-terms, where with Ω = Σᵢ(αᵢ − ΓᵢMΓᵢᵀ) (the working-model expectation of
    /// V^CR2ₜₜ) and everything rotated by Ω^(−1/2), Bᵢⱼ = δᵢⱼαᵢ − ΓᵢMΓⱼᵀ (q × q) and the sum is
    /// Σᵢⱼ[tr(BᵢⱼBᵢⱼ) + (tr Bᵢⱼ)²], here in O(n·q²·p + q²·p³) through Γ[s, t] = Σᵢγᵢ(s)γᵢ(t)ᵀ.
    /// `nil` when nothing is tested or a matrix is singular.
    func htz(beta: [Double], covariance cov: [Double], bread mm: [Double], alpha: [Double], gamma: [Double]) -> ClusterRobustCoefficients.ModeratorTest? {
        let p = coefficientCount, n = clusterCount, tested = testedCoefficients, q = tested.count
        guard q > 0, let wald = Self.wald(beta, cov, p: p, tested: tested) else { return nil }
        // Ω, and Ω^(−1/2) with clubSandwich's eigenvalue cut-off.
        var omega = [Double](repeating: 0, count: q * q)
        for c in 0..<n {
            for s in 0..<q {
                for t in 0..<q {
                    var k = 0.0
                    for u in 0..<p { for w in 0..<p { k += gamma[(c * q + s) * p + u] * mm[u * p + w] * gamma[(c * q + t) * p + w] } }
                    omega[s * q + t] += alpha[(c * q + s) * q + t] - k
                }
            }
        }
        for s in 0..<q { for t in 0..<s { let a = 0.5 * (omega[s * q + t] + omega[t * q + s]); omega[s * q + t] = a; omega[t * q + s] = a } }
        var vectors = omega
        SymmetricMatrix.jacobiEigen(&omega, q, vectors: &vectors)
        var root = [Double](repeating: 0, count: q * q)
        for s in 0..<q {
            for t in 0..<q {
                var x = 0.0
                for k in 0..<q where omega[k * q + k] > 1e-12 { x += vectors[s * q + k] * vectors[t * q + k] / omega[k * q + k].squareRoot() }
                root[s * q + t] = x
            }
        }
        // Rotated per-cluster pieces, the within-cluster sums and Γ[s, t].
        var a = [Double](repeating: 0, count: q * q), tmp = a, g = [Double](repeating: 0, count: q * p)
        var kk = a
        var gammaST = [Double](repeating: 0, count: q * q * p * p)
        var sumTrAA = 0.0, sumTrAK = 0.0, sumTrA2 = 0.0, sumTrATrK = 0.0
        for c in 0..<n {
            for s in 0..<q { for t in 0..<q { var x = 0.0; for u in 0..<q { x += alpha[(c * q + s) * q + u] * root[u * q + t] }; tmp[s * q + t] = x } }
            for s in 0..<q { for t in 0..<q { var x = 0.0; for u in 0..<q { x += root[s * q + u] * tmp[u * q + t] }; a[s * q + t] = x } }
            for s in 0..<q { for u in 0..<p { var x = 0.0; for w in 0..<q { x += root[s * q + w] * gamma[(c * q + w) * p + u] }; g[s * p + u] = x } }
            for s in 0..<q {
                for t in 0..<q {
                    var x = 0.0
                    for u in 0..<p { for w in 0..<p { x += g[s * p + u] * mm[u * p + w] * g[t * p + w] } }
                    kk[s * q + t] = x
                }
            }
            var trA = 0.0, trK = 0.0
            for s in 0..<q {
                trA += a[s * q + s]
                trK += kk[s * q + s]
                for t in 0..<q {
                    sumTrAA += a[s * q + t] * a[t * q + s]
                    sumTrAK += a[s * q + t] * kk[t * q + s]
                }
            }
            sumTrA2 += trA * trA
            sumTrATrK += trA * trK
            for s in 0..<q { for t in 0..<q { for u in 0..<p { for w in 0..<p {
                gammaST[((s * q + t) * p + u) * p + w] += g[s * p + u] * g[t * p + w]
            } } } }
        }
        // Σₛₜ tr(MΓ[t,s]MΓ[t,s]) and Σₛₜ tr(MΓ[s,t]MΓ[t,s]).
        func product(_ s: Int, _ t: Int) -> [Double] {  // MΓ[s, t]
            var out = [Double](repeating: 0, count: p * p)
            for i in 0..<p { for j in 0..<p { var x = 0.0; for k in 0..<p { x += mm[i * p + k] * gammaST[((s * q + t) * p + k) * p + j] }; out[i * p + j] = x } }
            return out
        }
        var crossSame = 0.0, crossSwap = 0.0
        for s in 0..<q {
            for t in 0..<q {
                let ts = product(t, s), st = product(s, t)
                for i in 0..<p { for j in 0..<p { crossSame += ts[i * p + j] * ts[j * p + i]; crossSwap += st[i * p + j] * ts[j * p + i] } }
            }
        }
        let total = (sumTrAA - 2 * sumTrAK + crossSame) + (sumTrA2 - 2 * sumTrATrK + crossSwap)
        let nu = Double(q * (q + 1)) / total
        let df = nu - Double(q) + 1
        guard nu.isFinite, nu > 0, df > 0 else { return nil }
        let f = max(df / nu, 0) * wald.0 / Double(q)
        return .init(coefficients: tested, statistic: f, numeratorDegreesOfFreedom: q, denominatorDegreesOfFreedom: df,
                     pValue: FisherF(numeratorDegreesOfFreedom: Double(q), denominatorDegreesOfFreedom: df).survival(f))
    }
}

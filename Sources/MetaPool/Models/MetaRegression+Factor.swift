// A meta-regression on one factor alone (subgroups with a common τ²), in O(k + p) per τ² evaluation.

/// What ``MetaRegression`` asks of a solver for its design: the weighted fit at a τ², its
/// coefficients and their covariance (XᵀWX)⁻¹.
protocol RegressionSolver: TauSquaredModel {
    /// Fits β̂ at τ²; sets `q` and `traceP` (with `traces`).
    mutating func evaluate(tau2: Double, traces: Bool) throws(MetaPoolError)
    var q: Double { get }
    var traceP: Double { get }
    var beta: [Double] { get }
    /// (XᵀWX)⁻¹ at the last `evaluate`, row-major.
    mutating func inverse() throws(MetaPoolError) -> [Double]
}

extension RegressionWorkspace: RegressionSolver {}

/// The design of one factor with g levels, in treatment coding (an intercept for level 0 and a
/// column per other level, `rma(mods = ~ factor(g))`) or as cell means (a column per level,
/// `~ factor(g) - 1`): X'WX is then diagonal in the cell means, so every sum is a sum within
/// levels, O(k + g), and the p × p solve of the general workspace (O(k·p² + p³) per τ², minutes
/// for 2,000 subgroups) is not needed. With W_g = Σ_{i∈g} wᵢ and μ̂_g = Σ_{i∈g} wᵢyᵢ/W_g:
/// P = W − Σ_g w_g w_gᵀ/W_g, so tr P = Σw − Σ_g Σ_{i∈g}wᵢ²/W_g and
/// tr PP = Σw² − 2Σ_g Σ_{i∈g}wᵢ³/W_g + Σ_g (Σ_{i∈g}wᵢ²/W_g)²; the cell means have covariance
/// diag(1/W_g), and the treatment contrasts β₀ = μ̂₀, β_j = μ̂_j − μ̂₀ the covariance that follows
/// (Var β₀ = 1/W₀, Cov(β₀, β_j) = −1/W₀, Cov(β_i, β_j) = 1/W₀ + δᵢⱼ/W_j). The Wald test of all
/// contrasts is Σ_g W_g(μ̂_g − μ̄)², μ̄ = Σ_g W_g μ̂_g/Σ_g W_g (Hedges & Olkin 1985, ch. 7, Q_between
/// at the common τ²).
struct FactorWorkspace: RegressionSolver {
    let y: [Double], v: [Double]
    /// The level of each study, 0..<g.
    let group: [Int]
    let levels: Int
    /// Whether column 0 is an intercept (treatment coding) rather than level 0's mean.
    let intercept: Bool
    var sumW = 0.0, sumW2 = 0.0, q = 0.0, sumW2Residual2 = 0.0, traceP = 0.0, tracePP = 0.0
    /// W_g and μ̂_g of the last evaluation.
    private(set) var weights: [Double]
    private(set) var means: [Double]

    /// The factor behind `design` (k × p, row-major), or `nil` when the design is not one factor
    /// in treatment coding or cell means, or a level has no studies (the general workspace then
    /// reports the rank deficiency).
    init?(y: [Double], v: [Double], design: [Double], p: Int) {
        let k = y.count
        guard p >= 2, design.count == k * p else { return nil }
        let intercept = (0..<k).allSatisfy { design[$0 * p] == 1 }
            && (0..<k).contains { i in (1..<p).allSatisfy { design[i * p + $0] == 0 } }
        var group = [Int](repeating: 0, count: k)
        var seen = [Bool](repeating: false, count: p)
        for i in 0..<k {
            var level = -1
            for j in (intercept ? 1 : 0)..<p {
                let x = design[i * p + j]
                if x == 1 {
                    guard level < 0 else { return nil }
                    level = j
                } else if x != 0 {
                    return nil
                }
            }
            if level < 0 {
                guard intercept else { return nil }
                level = 0
            }
            group[i] = level
            seen[level] = true
        }
        guard seen.allSatisfy({ $0 }) else { return nil }
        self.y = y
        self.v = v
        self.group = group
        levels = p
        self.intercept = intercept
        weights = [Double](repeating: 0, count: p)
        means = weights
    }

    var studyCount: Int { y.count }
    var coefficientCount: Int { levels }
    var effects: [Double] { y }

    var beta: [Double] {
        guard intercept else { return means }
        return [means[0]] + means[1...].map { $0 - means[0] }
    }

    mutating func evaluate(tau2: Double, traces: Bool) throws(MetaPoolError) {
        let g = levels
        var w1 = [Double](repeating: 0, count: g), w2 = w1, w3 = w1, wy = w1
        for i in y.indices {
            let w = 1 / (v[i] + tau2), l = group[i]
            w1[l] += w
            w2[l] += w * w
            w3[l] += w * w * w
            wy[l] += w * y[i]
        }
        for l in 0..<g { means[l] = wy[l] / w1[l] }
        weights = w1
        var q = 0.0, s2 = 0.0
        for i in y.indices {
            let w = 1 / (v[i] + tau2), r = y[i] - means[group[i]]
            q += w * r * r
            s2 += w * w * r * r
        }
        self.q = q
        sumW2Residual2 = s2
        sumW = w1.reduce(0, +)
        sumW2 = w2.reduce(0, +)
        var ratio = 0.0, ratio3 = 0.0, ratioSquared = 0.0
        for l in 0..<g {
            ratio += w2[l] / w1[l]
            ratio3 += w3[l] / w1[l]
            ratioSquared += (w2[l] / w1[l]) * (w2[l] / w1[l])
        }
        traceP = sumW - ratio
        tracePP = sumW2 - 2 * ratio3 + ratioSquared
        guard q.isFinite, traceP.isFinite, tracePP.isFinite else {
            throw MetaPoolError(.insufficientData, "the effects or variances are too extreme to fit in double precision (the weighted sums overflow); check the yi and vi values or rescale them")
        }
    }

    mutating func sums(tau2: Double, traces: Bool) throws(MetaPoolError) -> ModelSums {
        try evaluate(tau2: tau2, traces: traces)
        return ModelSums(sumW: sumW, sumW2: sumW2, q: q, sumW2Residual2: sumW2Residual2,
                         traceP: traces ? traceP : .nan, tracePP: traces ? tracePP : .nan)
    }

    /// −½[Σlog(vᵢ + τ²) + Q + log det(XᵀWX)] (Viechtbauer 2005, eqs. 9 and 11). For a one-way
    /// design XᵀWX is diag(W_g) in cell-means coding, and the intercept-plus-contrasts coding is
    /// X·T with det T = ±1, so log det(XᵀWX) = Σ_g log W_g either way.
    mutating func logLikelihood(tau2: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        try evaluate(tau2: tau2, traces: false)
        var logVariances = 0.0
        for vi in v { logVariances += Double.log(vi + tau2) }
        var logDet = 0.0
        if restricted { for w in weights { logDet += Double.log(w) } }
        return -0.5 * (logVariances + q + logDet)
    }

    /// RSS of the unweighted cell means less tr(P_OLS·V) = Σvᵢ − Σ_g Σ_{i∈g}vᵢ/n_g.
    func hedgesNumerator() throws(MetaPoolError) -> Double {
        var n = [Double](repeating: 0, count: levels), sy = n, sv = n
        for i in y.indices { n[group[i]] += 1; sy[group[i]] += y[i]; sv[group[i]] += v[i] }
        var rss = 0.0
        for i in y.indices { let r = y[i] - sy[group[i]] / n[group[i]]; rss += r * r }
        var trace = 0.0
        for l in 0..<levels { trace += sv[l] - sv[l] / n[l] }
        return rss - trace
    }

    mutating func convergenceScale() throws(MetaPoolError) -> Double {
        try typicalVarianceScale(smallestVariance: v.min() ?? 1)
    }

    func inverse() throws(MetaPoolError) -> [Double] {
        let p = levels
        var out = [Double](repeating: 0, count: p * p)
        if !intercept {
            for j in 0..<p { out[j * p + j] = 1 / weights[j] }
            return out
        }
        let base = 1 / weights[0]
        out[0] = base
        for j in 1..<p {
            out[j] = -base
            out[j * p] = -base
            for i in 1..<p { out[i * p + j] = base }
            out[j * p + j] = base + 1 / weights[j]
        }
        return out
    }

    /// The Wald statistic of all g − 1 contrasts at the last evaluation, before any variance factor.
    func contrastsStatistic() -> Double {
        let total = weights.reduce(0, +)
        var mean = 0.0
        for l in 0..<levels { mean += weights[l] * means[l] }
        mean /= total
        var qm = 0.0
        for l in 0..<levels { qm += weights[l] * (means[l] - mean) * (means[l] - mean) }
        return qm
    }
}

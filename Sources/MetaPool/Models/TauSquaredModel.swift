// What a τ² estimator asks of a model: the weighted sums at a given τ², for any design matrix.

import RealModule

/// The sums over studies that the τ² estimators need from the model yᵢ = xᵢᵀβ + uᵢ + εᵢ at a
/// given τ², with wᵢ = 1/(vᵢ + τ²) and P = W − WX(XᵀWX)⁻¹XᵀW (Viechtbauer 2005; Raudenbush 2009).
/// For the intercept-only model (p = 1) P = W − wwᵀ/Σw.
struct ModelSums {
    /// Σwᵢ and Σwᵢ².
    var sumW = 0.0, sumW2 = 0.0
    /// yᵀPy = Σwᵢrᵢ², the generalized Q statistic (residuals rᵢ from the weighted fit).
    var q = 0.0
    /// yᵀPPy = Σwᵢ²rᵢ².
    var sumW2Residual2 = 0.0
    /// tr P and tr PP (only when asked for with `traces`).
    var traceP = 0.0, tracePP = 0.0
}

/// A model whose τ² the estimators in `Models/Estimators/` can estimate: each estimator is
/// written once against this protocol, so the intercept-only meta-analysis (``InterceptModel``,
/// O(k) without allocation) and the meta-regression (``RegressionWorkspace``, O(k·p²)) share
/// every estimating equation, start value and convergence rule.
protocol TauSquaredModel {
    /// k, the number of studies.
    var studyCount: Int { get }
    /// p, the number of coefficients (1 for the intercept-only model).
    var coefficientCount: Int { get }
    /// The effects yᵢ (the unweighted start values of SJ use them).
    var effects: [Double] { get }
    /// The sums at τ²; tr P and tr PP only with `traces`.
    mutating func sums(tau2: Double, traces: Bool) throws(MetaPoolError) -> ModelSums
    /// The numerator of Hedges' (1983) estimator with moderators, RSS_OLS − tr(P_OLS·V), where
    /// P_OLS = I − X(XᵀX)⁻¹Xᵀ (Raudenbush 2009, eq. 16.43); for p = 1, Σ(yᵢ − ȳ)² − (k − 1)·Σvᵢ/k.
    mutating func hedgesNumerator() throws(MetaPoolError) -> Double
    /// The scale below which τ² counts as 0 in the convergence test (``SafeguardedRoot/scale``):
    /// the typical within-study variance (k − p)/tr P₀ (Higgins & Thompson 2002, eq. 9, with
    /// moderators as metafor computes it), or the smallest vᵢ if that is not a positive number.
    mutating func convergenceScale() throws(MetaPoolError) -> Double
    /// The unweighted mean of the effects and Σ(yᵢ − ȳ)² (Sidik–Jonkman's start).
    func unweightedSpread() -> (mean: Double, sumSquares: Double)
    /// The log-likelihood at τ² up to a constant, −½[Σlog(vᵢ + τ²) + yᵀPy], and with
    /// `restricted` also −½ log det(XᵀWX) (Viechtbauer 2005, eqs. 9 and 11).
    mutating func logLikelihood(tau2: Double, restricted: Bool) throws(MetaPoolError) -> Double
    /// `root`, or 0 where the (restricted) likelihood is higher at τ² = 0 (see the extension's
    /// ``higherOfRootAndBoundary(_:restricted:)``, the default).
    mutating func higherOfRootAndBoundary(_ root: Double, restricted: Bool) throws(MetaPoolError) -> Double
}

extension TauSquaredModel {
    /// From ``effects`` in two passes.
    func unweightedSpread() -> (mean: Double, sumSquares: Double) {
        let y = effects
        var mean = 0.0
        for yi in y { mean += yi }
        mean /= Double(y.count)
        var ss = 0.0
        for yi in y { ss += (yi - mean) * (yi - mean) }
        return (mean, ss)
    }

    /// k − p, the residual degrees of freedom.
    var residualDegreesOfFreedom: Double { Double(studyCount - coefficientCount) }

    /// The general form of the scale: one evaluation at τ² = 0 with traces.
    mutating func typicalVarianceScale(smallestVariance: Double) throws(MetaPoolError) -> Double {
        let s = try sums(tau2: 0, traces: true)
        let typical = residualDegreesOfFreedom / s.traceP
        if typical.isFinite && typical > 0 { return typical }
        return smallestVariance.isFinite && smallestVariance > 0 ? smallestVariance : 1
    }

    /// `root`, or 0 where the (restricted) likelihood is higher at τ² = 0 than at `root`: a root
    /// of the score can be a local maximum below the boundary's, and metafor then reports 0
    /// ("Fisher scoring algorithm may have gotten stuck at a local maximum. Setting tau^2 = 0.";
    /// ML on (−0.057, 3.68494), (−0.748, 0.00222), (2.229, 1.04994), (0.122, 1.49717): a root at
    /// 0.822, metafor 0).
    mutating func higherOfRootAndBoundary(_ root: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        guard root > 0 else { return root }
        return try compareLikelihoods(root, restricted: restricted)
    }

    /// The comparison itself, from the two log-likelihoods.
    mutating func compareLikelihoods(_ root: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        let atRoot = try logLikelihood(tau2: root, restricted: restricted)
        let atZero = try logLikelihood(tau2: 0, restricted: restricted)
        return atZero.isFinite && atRoot.isFinite && atZero > atRoot ? 0 : root
    }

    /// Solves an estimating equation f(τ²) = 0 (f decreasing, positive below the root) with
    /// ``SafeguardedRoot`` at the model's convergence scale. `evaluate` returns f and the proposed
    /// step; `fisherScoring` when that is a Fisher-scoring step (secant steps follow the first).
    mutating func solve(_ method: TauSquaredMethod, start: Double, fisherScoring: Bool = false,
                        _ evaluate: (inout Self, Double) throws(MetaPoolError) -> (value: Double, step: Double)) throws(MetaPoolError) -> Double {
        var solver = SafeguardedRoot(scale: try convergenceScale())
        solver.secantSteps = fisherScoring
        var failure: MetaPoolError?
        let root = solver.solve(start: start) { tau2 in
            do throws(MetaPoolError) {
                return try evaluate(&self, tau2)
            } catch {
                failure = error
                return (.nan, .nan)
            }
        }
        if let failure { throw failure }
        guard let root else { throw MetaPoolError.tauSquaredNotConverged(method) }
        return root
    }
}

/// The intercept-only model yᵢ = μ + uᵢ + εᵢ: the sums of ``WeightedSums`` in O(k) without
/// allocation, in one pass per evaluation when the previous evaluation's mean is a good centre.
struct InterceptModel: TauSquaredModel {
    let y: [Double], v: [Double]
    /// The previous evaluation's weighted mean (at first the plain mean), the centre of the one-pass sums.
    private var center: Double?
    /// How many times the sums were evaluated (benchmarks compare an iteration with a plain pass).
    private(set) var evaluations = 0

    init(y: [Double], v: [Double]) {
        self.y = y
        self.v = v
        // The first evaluation's centre: the plain mean of the effects (the pooled fits centre
        // their fixed-effect sums on it too, so DL's τ̂² is the same number in both).
        center = WeightedSums.plainMean(y)
    }

    var studyCount: Int { y.count }
    var coefficientCount: Int { 1 }
    var effects: [Double] { y }

    mutating func sums(tau2: Double, traces: Bool) throws(MetaPoolError) -> ModelSums {
        evaluations += 1
        let s = WeightedSums(y: y, v: v, tau2: tau2, center: center)
        center = s.mean
        return ModelSums(sumW: s.sumW, sumW2: s.sumW2, q: s.q, sumW2Residual2: s.sumW2Residual2,
                         traceP: s.traceP, tracePP: s.tracePP)
    }

    func hedgesNumerator() throws(MetaPoolError) -> Double {
        let u = UnweightedSums(y: y, v: v)
        return u.sumSquares - Double(y.count - 1) * u.meanVariance
    }

    mutating func logLikelihood(tau2: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        let s = try sums(tau2: tau2, traces: false)
        var logVariances = 0.0
        for vi in v { logVariances += Double.log(vi + tau2) }
        return -0.5 * (logVariances + s.q + (restricted ? Double.log(s.sumW) : 0))
    }

    /// (k − 1)/tr P₀ in one pass with the closed-form tr P (only its magnitude matters here).
    func convergenceScale() throws(MetaPoolError) -> Double {
        SafeguardedRoot.typicalScale(v)
    }

    /// The default's decision without its two passes of k logarithms (at k = 10⁶ they cost as much
    /// as several Fisher-scoring iterations). With ℓ(τ²) = −½[Σlog(vᵢ + τ²) + Q(τ²) + R(τ²)],
    /// R = log Σwᵢ under REML (Viechtbauer 2005, eqs. 9 and 11), ℓ(0) > ℓ(τ̂²) exactly when
    /// L = Σlog(1 + τ̂²/vᵢ) exceeds T = Q(0) − Q(τ̂²) + R(0) − R(τ̂²). L is summed as the log of
    /// blocked products of mantissas plus the sum of binary exponents (one division and no
    /// logarithm per study). Where |L − T| is within what rounding could move either side of the
    /// comparison, the default's two log-likelihoods decide as before, so the answer is the
    /// default's whenever that answer is not rounding noise.
    mutating func higherOfRootAndBoundary(_ root: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        guard root > 0 else { return root }
        // The same sums, in the same order, as the default's two logLikelihood calls.
        let atRoot = try sums(tau2: root, traces: false)
        let atZero = try sums(tau2: 0, traces: false)
        let rRoot = restricted ? Double.log(atRoot.sumW) : 0, rZero = restricted ? Double.log(atZero.sumW) : 0
        let t = (atZero.q - atRoot.q) + (rZero - rRoot)
        if let l = Self.logOnePlusRatioSum(v, tau2: root), t.isFinite {
            // Rounding in either computation: at most a few ulps of each term summed, |log vᵢ| ≤ 710.
            let noise = 1e-12 * (abs(l) + abs(atZero.q) + abs(atRoot.q) + abs(rZero) + abs(rRoot)) + 4e-13 * Double(v.count) * 710
            if l - t > noise { return 0 }
            if t - l > noise { return root }
        }
        // Near a tie (or with sums that overflowed): the default's exact comparison.
        var logRoot = 0.0, logZero = 0.0
        for vi in v { logRoot += Double.log(vi + root) }
        for vi in v { logZero += Double.log(vi) }
        let likelihoodRoot = -0.5 * (logRoot + atRoot.q + rRoot)
        let likelihoodZero = -0.5 * (logZero + atZero.q + rZero)
        return likelihoodZero.isFinite && likelihoodRoot.isFinite && likelihoodZero > likelihoodRoot ? 0 : root
    }

    /// Σ log(1 + τ²/vᵢ) as Σeᵢ·log 2 + Σ log Πmᵢ over blocks of 512 (1 + τ²/vᵢ = mᵢ·2^eᵢ, mᵢ in
    /// [1, 2), so a block's product stays below 2⁵¹²), in two interleaved chains; `nil` if a ratio
    /// overflows.
    static func logOnePlusRatioSum(_ v: [Double], tau2: Double) -> Double? {
        var exponents = 0
        var logs = 0.0
        var finite = true
        v.withUnsafeBufferPointer { v in
            let n = v.count
            var start = 0
            while start < n {
                let end = min(n, start + 512)
                var p0 = 1.0, p1 = 1.0
                var i = start
                while i + 1 < end {
                    let r0 = 1 + tau2 / v[i], r1 = 1 + tau2 / v[i + 1]
                    finite = finite && r0 < .infinity && r1 < .infinity
                    let b0 = r0.bitPattern, b1 = r1.bitPattern
                    exponents += Int(truncatingIfNeeded: b0 >> 52) + Int(truncatingIfNeeded: b1 >> 52) - 2046
                    p0 *= Double(bitPattern: (b0 & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
                    p1 *= Double(bitPattern: (b1 & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
                    i += 2
                }
                if i < end {
                    let r = 1 + tau2 / v[i]
                    finite = finite && r < .infinity
                    let b = r.bitPattern
                    exponents += Int(truncatingIfNeeded: b >> 52) - 1023
                    p0 *= Double(bitPattern: (b & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
                }
                logs += Double.log(p0) + Double.log(p1)
                start = end
            }
        }
        guard finite else { return nil }
        return logs + Double(exponents) * 0.693147180559945309417232121458176568
    }
}

extension TauSquaredMethod {
    /// τ̂² of `model` by this method (0 for `FE`): the one place that maps a method to its
    /// estimating equation, for the single fit and the meta-regression alike.
    func estimate<Model: TauSquaredModel>(_ model: inout Model) throws(MetaPoolError) -> Double {
        switch self {
        case .fixedEffect: 0
        case .derSimonianLaird: try DerSimonianLaird.estimate(&model)
        case .restrictedMaximumLikelihood: try RestrictedMaximumLikelihood.estimate(&model)
        case .maximumLikelihood: try MaximumLikelihood.estimate(&model)
        case .pauleMandel: try PauleMandel.estimate(&model)
        case .hedges: try Hedges.estimate(&model)
        case .sidikJonkman: try SidikJonkman.estimate(&model)
        case .hunterSchmidt: try HunterSchmidt.estimate(&model)
        case .empiricalBayes: try EmpiricalBayes.estimate(&model)
        }
    }
}

extension MetaPoolError {
    /// An iterative τ² estimator that did not converge; the message names other estimators.
    static func tauSquaredNotConverged(_ method: TauSquaredMethod) -> MetaPoolError {
        let alternatives = method == .pauleMandel ? ["DL", "REML"] : method == .derSimonianLaird ? ["PM"] : ["DL", "PM"]
        return MetaPoolError(.noConvergence, "the \(method.rawValue) estimate of tau^2 did not converge; no estimate is given",
                             remedy: .methods(alternatives))
    }
}

// The weighted sums of a subset of the studies (all but one, or the first n) at any τ² near a
// reference value, from power sums kept once: leave-one-out, influence and cumulative refits in
// O(1) per evaluation instead of O(k).

/// Power sums Pⱼ,ᵣ = Σᵢ wᵢʳ dᵢʲ (j = 0, 1, 2; r = 1…R) at a reference τ² = b, wᵢ = 1/(vᵢ + b),
/// dᵢ = yᵢ − c, from which the sums Σᵢ wᵢ(τ²)ᵐ dᵢʲ (m = 1, 2, 3) at τ² = b + δ follow by the
/// binomial series: wᵢ(τ²) = wᵢ/(1 + δwᵢ), so wᵢ(τ²)ᵐ = Σₙ C(n + m − 1, n)(−δ)ⁿ wᵢᵐ⁺ⁿ
/// (Abramowitz & Stegun 1964, 3.6.9), convergent for ρ = |δ|·maxᵢ wᵢ < 1. With ρ ≤ ¼ and 40 terms
/// the truncation error is below C(42, 2)·4⁻⁴⁰ < 10⁻²⁰ of the leading term, so the sums agree
/// with a direct pass to rounding; beyond that radius the caller sums directly.
struct PowerSums {
    /// Terms of the series, n = 0..<terms.
    static let terms = 40
    /// The largest ρ = |δ|·max wᵢ the series is used for.
    static let largestRatio = 0.25
    /// R: the highest power kept (m ≤ 3 and n < terms).
    static let powers = terms + 2

    let base: Double
    let center: Double
    /// Pⱼ,ᵣ at index j·R + r − 1.
    private(set) var sums: [Double]
    /// Σᵢ dᵢ⁰…, the unweighted Σ1, Σd, Σd², Σv (for Hedges and Sidik–Jonkman).
    private(set) var count = 0
    private(set) var sumD = 0.0, sumD2 = 0.0, sumV = 0.0
    /// Σᵢ log(vᵢ + b), for the log-likelihood.
    private(set) var sumLogVariance = 0.0
    /// max wᵢ at b.
    private(set) var largestWeight = 0.0

    init(base: Double, center: Double) {
        self.base = base
        self.center = center
        sums = [Double](repeating: 0, count: 3 * Self.powers)
    }

    /// Adds one study: O(R).
    mutating func add(y: Double, v: Double) {
        let w = 1 / (v + base), d = y - center
        var power = w
        let R = Self.powers
        sums.withUnsafeMutableBufferPointer { p in
            for r in 0..<R {
                p[r] += power
                p[R + r] += power * d
                p[2 * R + r] += power * d * d
                power *= w
            }
        }
        count += 1
        sumD += d
        sumD2 += d * d
        sumV += v
        sumLogVariance += Double.log(v + base)
        largestWeight = max(largestWeight, w)
    }

    /// Σᵢ log(vᵢ + τ²) = Σᵢ log(vᵢ + b) + Σₙ (−1)ⁿ⁺¹ δⁿ Σᵢ wᵢⁿ / n (the series of log(1 + δwᵢ),
    /// Abramowitz & Stegun 1964, 4.1.24), or `nil` outside the series' radius.
    func logVarianceSum(tau2: Double) -> Double? {
        let delta = tau2 - base
        guard abs(delta) * largestWeight <= Self.largestRatio else { return nil }
        var total = sumLogVariance
        var power = 1.0  // δⁿ
        for n in 1...Self.terms {
            power *= delta
            if power == 0 { break }
            let term = power * sums[n - 1] / Double(n)
            total += n % 2 == 1 ? term : -term
        }
        return total
    }

    /// A[j][m − 1] = Σᵢ wᵢ(τ²)ᵐ dᵢʲ at τ² = `tau2`, or `nil` outside the series' radius.
    func series(tau2: Double) -> [[Double]]? {
        let delta = tau2 - base
        guard abs(delta) * largestWeight <= Self.largestRatio else { return nil }
        let R = Self.powers
        var out: [[Double]] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]
        sums.withUnsafeBufferPointer { p in
            for m in 1...3 {
                var a0 = 0.0, a1 = 0.0, a2 = 0.0
                var factor = 1.0  // (−δ)ⁿ
                for n in 0..<Self.terms {
                    // C(n + m − 1, n) for m = 1, 2, 3.
                    let binomial = m == 1 ? 1.0 : m == 2 ? Double(n + 1) : Double((n + 1) * (n + 2)) / 2
                    let c = binomial * factor
                    let r = m + n - 1
                    a0 += c * p[r]
                    a1 += c * p[R + r]
                    a2 += c * p[2 * R + r]
                    factor *= -delta
                    if factor == 0 { break }
                }
                out[0][m - 1] = a0
                out[1][m - 1] = a1
                out[2][m - 1] = a2
            }
        }
        return out
    }
}

/// The studies of a subset as a ``TauSquaredModel``: all k studies less one (leave-one-out) or the
/// first n in an order (cumulative), with the sums at τ² from ``PowerSums`` at two references, 0
/// and the full fit's τ̂², and a direct pass over the subset's own arrays where neither series
/// applies or where a closed form would lose more than three digits to cancellation (the test
/// ``WeightedSums`` applies to its one-pass sums).
struct SubsetModel: TauSquaredModel {
    /// From this many studies on, leave-one-out and cumulative refits use the power sums; below,
    /// a direct pass per evaluation costs as little. (The metafor fixtures of k = 37 and 48,
    /// hackshaw1998 and bangertdrowns2004 in Fixtures/sensitivity, go through the power sums.)
    static let minimumStudies = 30

    /// Which of the studies form the subset.
    enum Members {
        /// Every study but the one at this index.
        case allBut(Int)
        /// The first n studies.
        case first(Int)
    }

    /// The expansions at τ² = 0 and at the full fit's τ̂² (the same one when τ̂² = 0), over all the
    /// studies for `.allBut` and over exactly the subset for `.first`.
    var expansions: [PowerSums]
    /// All the studies' effects and variances (never copied; the direct pass takes the subset out).
    let allY: [Double]
    let allV: [Double]
    var members: Members
    /// The smallest variance of the subset (the convergence scale's fallback).
    var smallestVariance: Double

    var studyCount: Int {
        switch members {
        case .allBut: allY.count - 1
        case .first(let n): n
        }
    }
    var coefficientCount: Int { 1 }
    /// The subset's effects (an O(k) copy: only the direct pass asks for them).
    var effects: [Double] { subset().y }
    /// The subset's variances (an O(k) copy).
    var v: [Double] { subset().v }

    /// The study left out of the expansions, for `.allBut`.
    var excluded: (y: Double, v: Double)? {
        if case .allBut(let i) = members { return (allY[i], allV[i]) }
        return nil
    }

    /// The subset's arrays, for the direct pass.
    func subset() -> (y: [Double], v: [Double]) {
        switch members {
        case .allBut(let i):
            var y = allY, v = allV
            y.remove(at: i)
            v.remove(at: i)
            return (y, v)
        case .first(let n):
            return (Array(allY[0..<n]), Array(allV[0..<n]))
        }
    }

    /// Expansions over `y`, `v` at 0 and `tau2`, centred at `center`.
    static func expansions(y: [Double], v: [Double], tau2: Double, center: Double) -> [PowerSums] {
        var bases = [PowerSums(base: 0, center: center)]
        if tau2 > 0 { bases.append(PowerSums(base: tau2, center: center)) }
        for i in y.indices { for b in bases.indices { bases[b].add(y: y[i], v: v[i]) } }
        return bases
    }

    /// The sums of the subset at τ², as ``WeightedSums`` computes them.
    func weightedSums(tau2: Double) -> WeightedSums {
        if let s = seriesSums(tau2: tau2) { return s }
        let (y, v) = subset()
        return WeightedSums(y: y, v: v, tau2: tau2)
    }

    private func seriesSums(tau2: Double) -> WeightedSums? {
        guard let expansion = expansions.min(by: { abs(tau2 - $0.base) * $0.largestWeight < abs(tau2 - $1.base) * $1.largestWeight }),
              var a = expansion.series(tau2: tau2) else { return nil }
        let all = a
        if let excluded {
            let w = 1 / (excluded.v + tau2), d = excluded.y - expansion.center
            var power = w
            for m in 0..<3 {
                a[0][m] -= power
                a[1][m] -= power * d
                a[2][m] -= power * d * d
                power *= w
            }
            // Removing a study that holds most of a positive sum cancels digits.
            for j in [0, 2] { for m in 0..<3 where !(all[j][m] <= 1e3 * a[j][m]) { return nil } }
        }
        let sw = a[0][0], sw2 = a[0][1], sw3 = a[0][2]
        let swd = a[1][0], sw2d = a[1][1], swd2 = a[2][0], sw2d2 = a[2][1]
        let delta = swd / sw
        let q = swd2 - delta * swd
        let s2 = sw2d2 - 2 * delta * sw2d + delta * delta * sw2
        // The largest weight at τ² is at most max wᵢ(b)/(1 − ρ).
        let wMax = expansion.largestWeight / (1 - PowerSums.largestRatio)
        guard q.isFinite, s2.isFinite, sw > 0, swd2 <= 1e3 * q,
              sw2d2 + 2 * abs(delta * sw2d) + delta * delta * sw2 <= 1e3 * s2, wMax <= 0.5 * sw else { return nil }
        let ratio = sw2 / sw
        return WeightedSums(count: studyCount, sumW: sw, sumW2: sw2, sumW3: sw3, mean: expansion.center + delta, q: q,
                            sumW2Residual2: s2, traceP: sw - ratio, tracePP: sw2 - 2 * sw3 / sw + ratio * ratio)
    }

    mutating func sums(tau2: Double, traces: Bool) throws(MetaPoolError) -> ModelSums {
        let s = weightedSums(tau2: tau2)
        return ModelSums(sumW: s.sumW, sumW2: s.sumW2, q: s.q, sumW2Residual2: s.sumW2Residual2,
                         traceP: s.traceP, tracePP: s.tracePP)
    }

    /// −½[Σlog(vᵢ + τ²) + Q + log Σwᵢ] over the subset (the last term with `restricted`), with
    /// Σlog(vᵢ + τ²) from the expansion's series where it converges and a direct pass otherwise.
    mutating func logLikelihood(tau2: Double, restricted: Bool) throws(MetaPoolError) -> Double {
        let s = weightedSums(tau2: tau2)
        var logVariances = 0.0
        if let expansion = expansions.min(by: { abs(tau2 - $0.base) * $0.largestWeight < abs(tau2 - $1.base) * $1.largestWeight }),
           let series = expansion.logVarianceSum(tau2: tau2) {
            logVariances = series - (excluded.map { Double.log($0.v + tau2) } ?? 0)
        } else {
            for vi in v { logVariances += Double.log(vi + tau2) }
        }
        return -0.5 * (logVariances + s.q + (restricted ? Double.log(s.sumW) : 0))
    }

    /// The unweighted mean and Σ(yᵢ − ȳ)² of the subset, with the mean variance.
    func unweighted() -> UnweightedSums {
        let e = expansions[0]
        var n = Double(e.count), sd = e.sumD, sd2 = e.sumD2, sv = e.sumV
        if let excluded {
            let d = excluded.y - e.center
            n -= 1; sd -= d; sd2 -= d * d; sv -= excluded.v
        }
        let ss = sd2 - sd * sd / n
        guard n == Double(studyCount), ss > 0, sd2 <= 1e3 * ss, e.sumD2 <= 1e3 * sd2 else {
            let (y, v) = subset()
            return UnweightedSums(y: y, v: v)
        }
        return UnweightedSums(mean: e.center + sd / n, sumSquares: ss, meanVariance: sv / n)
    }

    func hedgesNumerator() throws(MetaPoolError) -> Double {
        let u = unweighted()
        return u.sumSquares - Double(studyCount - 1) * u.meanVariance
    }

    func unweightedSpread() -> (mean: Double, sumSquares: Double) {
        let u = unweighted()
        return (u.mean, u.sumSquares)
    }

    /// (k − 1)/(Σ1/v − Σ1/v²/Σ1/v) as ``SafeguardedRoot/typicalScale(_:)`` from the expansion at 0.
    func convergenceScale() throws(MetaPoolError) -> Double {
        let e = expansions[0]
        guard e.base == 0, let a = e.series(tau2: 0) else { return SafeguardedRoot.typicalScale(v) }
        var sw = a[0][0], sw2 = a[0][1]
        if let excluded { sw -= 1 / excluded.v; sw2 -= 1 / (excluded.v * excluded.v) }
        let typical = Double(studyCount - 1) / (sw - sw2 / sw)
        if typical.isFinite && typical > 0 { return typical }
        return smallestVariance.isFinite ? smallestVariance : 1
    }
}

extension WeightedSums {
    init(count: Int, sumW: Double, sumW2: Double, sumW3: Double, mean: Double, q: Double, sumW2Residual2: Double,
         traceP: Double, tracePP: Double) {
        self.count = count
        self.sumW = sumW
        self.sumW2 = sumW2
        self.sumW3 = sumW3
        self.mean = mean
        self.q = q
        self.sumW2Residual2 = sumW2Residual2
        self.traceP = traceP
        self.tracePP = tracePP
    }
}

extension UnweightedSums {
    init(mean: Double, sumSquares: Double, meanVariance: Double) {
        self.mean = mean
        self.sumSquares = sumSquares
        self.meanVariance = meanVariance
    }
}

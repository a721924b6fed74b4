// Kendall's rank correlation with its test of independence, as R's cor.test(method = "kendall")
// reports it with its defaults (exact = NULL, continuity = FALSE).

/// Kendall's τ_b between two samples and the two-sided test of τ = 0.
///
/// τ_b = S/√((n₀ − n₁)(n₀ − n₂)), S = concordant − discordant pairs, n₀ = n(n − 1)/2, n₁ and n₂
/// the pairs tied in x and in y (Kendall 1945); without ties it is Kendall's (1938) τ. The pairs
/// are counted in O(n log n) by Knight's (1966) algorithm: sort by (x, y), then count the
/// inversions of y by merge sort.
///
/// The p-value is exact without ties when asked (by default for n < 50, as R's): under independence the number of
/// concordant pairs has the distribution of the number of inversions of a random permutation
/// (Kendall 1938), found by the recursion that adds one element at a time,
/// P_m(j) = (1/m)·Σ_{i<m} P_{m−1}(j − i), in O(n³) at most, and doubled from the smaller tail.
/// Otherwise z = S/√Var(S) with the variance corrected for ties (Kendall & Gibbons 1990, ch. 4):
/// Var(S) = [n(n−1)(2n+5) − Σt(t−1)(2t+5) − Σu(u−1)(2u+5)]/18
///        + Σt(t−1)·Σu(u−1)/(2n(n−1)) + Σt(t−1)(t−2)·Σu(u−1)(u−2)/(9n(n−1)(n−2)),
/// t and u the sizes of the groups of tied x and y, and p = 2·P(Z > |z|).
public struct KendallCorrelation: Sendable {
    /// Kendall's τ_b.
    public let tau: Double
    /// S, concordant minus discordant pairs.
    public let score: Double
    /// Whether x or y has ties.
    public let hasTies: Bool
    /// Whether the p-value is exact (n < 50 and no ties) rather than from the normal approximation.
    public let isExact: Bool
    /// The number of concordant pairs T (the exact test's statistic), or z = S/√Var(S).
    public let statistic: Double
    /// The two-sided p-value of τ = 0.
    public let pValue: Double

    /// The largest n for which the exact p-value is computed; beyond it the normal approximation
    /// is used (R's exact computation overflows past n = 170 and returns NaN).
    public static let exactLimit = 500

    /// Computes τ_b and its test.
    /// - Parameters:
    ///   - x: the first sample.
    ///   - y: the second sample, as many values as `x`.
    ///   - exact: whether to compute the exact p-value when there are no ties (up to
    ///     ``exactLimit`` pairs); `nil` for R's default, exact for n < 50.
    /// - Throws: ``MetaPoolError`` `.insufficientData` for fewer than 2 pairs or when every x
    ///   or every y is the same (τ is undefined); `.invalidArgument` for unequal lengths or
    ///   values that are not finite.
    public init(_ x: [Double], _ y: [Double], exact: Bool? = nil) throws(MetaPoolError) {
        let n = x.count
        guard y.count == n else {
            throw MetaPoolError(.invalidArgument, "Kendall's tau needs two samples of the same size; got \(n) and \(y.count)")
        }
        guard n >= 2 else {
            throw MetaPoolError(.insufficientData, "Kendall's tau needs at least 2 pairs; there \(n == 1 ? "is" : "are") \(n)")
        }
        guard x.allSatisfy(\.isFinite), y.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.invalidArgument, "Kendall's tau needs finite values")
        }
        // Knight (1966): order by x, then y, so that tied x come with ascending y.
        let order = (0..<n).sorted { (a: Int, b: Int) -> Bool in
            if x[a] != x[b] { return x[a] < x[b] }
            if y[a] != y[b] { return y[a] < y[b] }
            return a < b
        }
        var xTies: [Double] = [], yTies: [Double] = []
        var jointTiedPairs = 0.0
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && x[order[end]] == x[order[start]] { end += 1 }
            if end - start > 1 { xTies.append(Double(end - start)) }
            var a = start
            while a < end {
                var b = a + 1
                while b < end && y[order[b]] == y[order[a]] { b += 1 }
                let u = Double(b - a)
                jointTiedPairs += u * (u - 1) / 2
                a = b
            }
            start = end
        }
        var ys = order.map { y[$0] }
        let discordant = Double(Self.countInversions(&ys))
        start = 0
        while start < n {
            var end = start + 1
            while end < n && ys[end] == ys[start] { end += 1 }
            if end - start > 1 { yTies.append(Double(end - start)) }
            start = end
        }
        let nn = Double(n)
        let n0 = nn * (nn - 1) / 2
        let n1 = Self.sum(xTies) { t in t * (t - 1) / 2 }
        let n2 = Self.sum(yTies) { t in t * (t - 1) / 2 }
        guard n0 > n1, n0 > n2 else {
            throw MetaPoolError(.insufficientData, "Kendall's tau is undefined when every value of one of the samples is the same")
        }
        let s = n0 - n1 - n2 + jointTiedPairs - 2 * discordant
        score = s
        tau = s / ((n0 - n1) * (n0 - n2)).squareRoot()
        hasTies = !xTies.isEmpty || !yTies.isEmpty
        isExact = (exact ?? (n < 50)) && !hasTies && n <= Self.exactLimit
        if isExact {
            let concordant = n0 - discordant
            statistic = concordant
            // The smaller tail, by the symmetry of the null distribution about n₀/2.
            let tail = Int(min(concordant, n0 - concordant))
            pValue = min(1, 2 * Self.inversionDistribution(n: n, upTo: tail).reduce(0, +))
        } else {
            let v0 = nn * (nn - 1) * (2 * nn + 5)
            let pairs = { (t: Double) -> Double in t * (t - 1) }
            let triples = { (t: Double) -> Double in t * (t - 1) * (t - 2) }
            let weighted = { (t: Double) -> Double in t * (t - 1) * (2 * t + 5) }
            let vt = Self.sum(xTies, weighted), vu = Self.sum(yTies, weighted)
            let v1 = Self.sum(xTies, pairs) * Self.sum(yTies, pairs)
            let v2 = Self.sum(xTies, triples) * Self.sum(yTies, triples)
            var variance = (v0 - vt - vu) / 18 + v1 / (2 * nn * (nn - 1))
            if n > 2 { variance += v2 / (9 * nn * (nn - 1) * (nn - 2)) }
            guard variance > 0 else {
                throw MetaPoolError(.insufficientData, "the variance of Kendall's score is 0 with these ties; the test is undefined")
            }
            let z = s / variance.squareRoot()
            statistic = z
            pValue = min(1, 2 * Normal.standard.survival(abs(z)))
        }
    }

    static func sum(_ values: [Double], _ f: (Double) -> Double) -> Double {
        var total = 0.0
        for t in values { total += f(t) }
        return total
    }

    /// The number of pairs i < j with values[i] > values[j], by a bottom-up merge sort that also
    /// sorts `values` (ties are not inversions).
    static func countInversions(_ values: inout [Double]) -> Int {
        let n = values.count
        var buffer = values
        var inversions = 0
        var width = 1
        while width < n {
            var low = 0
            while low < n {
                let mid = min(low + width, n), high = min(low + 2 * width, n)
                var i = low, j = mid, out = low
                while i < mid && j < high {
                    if values[j] < values[i] {
                        inversions += mid - i
                        buffer[out] = values[j]; j += 1
                    } else {
                        buffer[out] = values[i]; i += 1
                    }
                    out += 1
                }
                while i < mid { buffer[out] = values[i]; i += 1; out += 1 }
                while j < high { buffer[out] = values[j]; j += 1; out += 1 }
                low = high
            }
            swap(&values, &buffer)
            width *= 2
        }
        return inversions
    }

    /// P(I = j) for j = 0…`upTo`, I the number of inversions of a uniformly random permutation
    /// of n elements: element m adds 0…m − 1 inversions with equal probability, so
    /// P_m(j) = (1/m)·Σ_{i=j−m+1…j} P_{m−1}(i), a sliding window sum in O(n·upTo). A window sum
    /// that falls below a quarter of the previous one (past the mode, where subtracting the
    /// outgoing term would cancel digits) is summed afresh, so the small tail keeps its
    /// relative accuracy.
    static func inversionDistribution(n: Int, upTo limit: Int) -> [Double] {
        var p = [Double](repeating: 0, count: limit + 1)
        p[0] = 1
        guard n >= 2 else { return p }
        var next = p
        for m in 2...n {
            let scale = 1 / Double(m)
            let top = min(limit, m * (m - 1) / 2)
            var window = 0.0
            for j in 0...top {
                let previous = window
                window += p[j]
                if j >= m { window -= p[j - m] }
                if window < 0.25 * previous {
                    window = 0
                    for i in max(0, j - m + 1)...j { window += p[i] }
                }
                next[j] = window * scale
            }
            if top < limit { for j in (top + 1)...limit { next[j] = 0 } }
            swap(&p, &next)
        }
        return p
    }
}

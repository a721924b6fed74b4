// Permutation tests for meta-regression (Higgins & Thompson 2004; Viechtbauer et al. 2015), as
// metafor's permutest() carries them out for models with moderators.

/// The permutation test of a meta-regression: the rows of the design matrix are permuted against
/// (yᵢ, vᵢ), the model is refitted (τ² re-estimated) for each permutation, and each p-value is the
/// share of permutations whose statistic is at least as extreme as the observed one — |z| (or
/// |t|) per coefficient, QM for the omnibus test. Exact over every distinct permutation of the
/// rows when there are no more than `iterations` of them (rows that repeat, as with factors,
/// make fewer distinct permutations); otherwise `iterations` random permutations, the first of
/// which is the observed order, so that no p-value is 0.
public struct PermutationTest: Sendable {
    /// Whether every distinct permutation was used.
    public let exact: Bool
    /// The number of permutations fitted (including the observed one).
    public let permutations: Int
    /// Permutation p-values of the coefficients, in the model's order.
    public let coefficientPValues: [Double]
    /// Permutation p-value of the omnibus test QM (`nil` without tested coefficients).
    public let moderatorPValue: Double?
    /// Permutations whose refit failed (an estimator that did not converge); they are not counted.
    public let failures: Int

    /// Tolerance for "at least as extreme": metafor's comptol, √(machine ε).
    static let tolerance = Double.ulpOfOne.squareRoot()

    /// Runs the test for a fitted model, on the data it keeps.
    public init(_ model: MetaRegression, iterations: Int = 1000, seed: UInt64 = 1,
                progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        try self.init(model: model, y: model.y, v: model.v, design: model.design, iterations: iterations, seed: seed,
                      progress: progress)
    }

    /// Runs the test for `model` fitted to (y, v, design).
    /// - Parameters:
    ///   - model: the fitted meta-regression whose statistics are tested.
    ///   - y: the effects the model was fitted to.
    ///   - v: their sampling variances.
    ///   - design: the model's k × p design matrix, row-major.
    ///   - iterations: the number of permutations when the exact test would need more.
    ///   - seed: the random permutations' seed (splitmix64), for reproducibility.
    ///   - progress: called with (done, total) every 1% or so; for a progress bar.
    public init(model: MetaRegression, y: [Double], v: [Double], design: [Double], iterations: Int = 1000,
                seed: UInt64 = 1, progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        guard iterations >= 1 else { throw MetaPoolError(.invalidArgument, "the number of permutations must be at least 1; got \(iterations)") }
        let k = y.count, p = model.predictors.count
        guard v.count == k else {
            throw MetaPoolError(.invalidArgument, "there are \(k) effects but \(v.count) sampling variances; give one variance per effect")
        }
        guard design.count == k * p else { throw MetaPoolError(.invalidArgument, "the design does not match the model") }
        // Checked once here rather than failing every refit (and reporting no convergence).
        guard y.allSatisfy(\.isFinite), design.allSatisfy(\.isFinite), v.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw MetaPoolError(.invalidValue, "every effect and moderator must be finite and every sampling variance finite and greater than 0")
        }
        // Rows that are equal give the same fit in either order: permute row classes.
        var classes = [Int](repeating: 0, count: k)
        var representatives: [Int] = []
        for i in 0..<k {
            if let c = representatives.firstIndex(where: { r in (0..<p).allSatisfy { design[r * p + $0] == design[i * p + $0] } }) {
                classes[i] = c
            } else {
                classes[i] = representatives.count
                representatives.append(i)
            }
        }
        let distinct = Self.distinctPermutations(classes, limit: iterations)
        let observedZ = model.statistics.map(abs)
        let observedQM = model.moderatorTest?.statistic
        var extremeZ = [Int](repeating: 0, count: p)
        var extremeQM = 0
        var fitted = 0, failures = 0
        var permuted = [Double](repeating: 0, count: k * p)

        func evaluate(_ order: [Int]) {
            // Row i of the permuted design is the row of the class at position i.
            for i in 0..<k {
                let source = representatives[order[i]]
                for j in 0..<p { permuted[i * p + j] = design[source * p + j] }
            }
            do {
                let fit = try MetaRegression(y: y, v: v, design: permuted, predictors: model.predictors,
                                             testing: model.moderatorTest?.coefficients, method: model.method,
                                             ciMethod: model.ciMethod, level: model.level)
                fitted += 1
                for j in 0..<p where abs(fit.statistics[j]) >= observedZ[j] - Self.tolerance { extremeZ[j] += 1 }
                if let qm = observedQM, let test = fit.moderatorTest, test.statistic >= qm - Self.tolerance { extremeQM += 1 }
            } catch {
                failures += 1
            }
        }

        let total: Int
        if let distinct {
            exact = true
            total = distinct
            var order = classes.sorted()
            var done = 0
            repeat {
                evaluate(order)
                done += 1
                if let progress, done % max(1, total / 100) == 0 { progress(done, total) }
            } while Self.nextPermutation(&order)
        } else {
            exact = false
            total = iterations
            var rng = SplitMix64(seed: seed)
            var order = classes
            evaluate(order)  // the observed data first
            for done in 1..<iterations {
                // Fisher–Yates shuffle (Knuth 1997, Algorithm P).
                for i in stride(from: k - 1, to: 0, by: -1) {
                    let j = Int(rng.next() % UInt64(i + 1))
                    order.swapAt(i, j)
                }
                evaluate(order)
                if let progress, (done + 1) % max(1, total / 100) == 0 { progress(done + 1, total) }
            }
        }
        guard fitted > 0 else {
            throw MetaPoolError(.noConvergence, "no permutation of the moderators could be fitted; the permutation test has no result")
        }
        permutations = fitted
        self.failures = failures
        coefficientPValues = extremeZ.map { Double($0) / Double(fitted) }
        moderatorPValue = observedQM == nil ? nil : Double(extremeQM) / Double(fitted)
    }

    /// The number of distinct orderings of a multiset, k!/Π mᵢ!, or `nil` when above `limit`.
    static func distinctPermutations(_ classes: [Int], limit: Int) -> Int? {
        var counts: [Int: Int] = [:]
        for c in classes { counts[c, default: 0] += 1 }
        // Multiply binomial coefficients C(n₁+…+nⱼ, nⱼ), stopping early above the limit.
        var total = 1.0, placed = 0
        for m in counts.values {
            for i in 1...max(m, 1) where m > 0 {
                total = total * Double(placed + i) / Double(i)
                if total > Double(limit) + 0.5 { return nil }
            }
            placed += m
        }
        // With limit = Int.max, total may round to 2⁶³, which Int(_:) traps on.
        return Int(exactly: total.rounded())
    }

    /// The next lexicographic permutation in place (Knuth 1997, Algorithm L); false after the last.
    static func nextPermutation(_ a: inout [Int]) -> Bool {
        guard a.count > 1 else { return false }
        var i = a.count - 2
        while i >= 0 && a[i] >= a[i + 1] { i -= 1 }
        if i < 0 { return false }
        var j = a.count - 1
        while a[j] <= a[i] { j -= 1 }
        a.swapAt(i, j)
        a[(i + 1)...].reverse()
        return true
    }
}

/// Steele, Lea & Flood (2014) SplitMix64: a small, fast, seedable generator.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

extension MetaRegression {
    /// R², the share of τ² accounted for by the moderators: max(0, 100·(τ²_RE − τ²_ME)/τ²_RE),
    /// τ²_RE from the model without moderators with the same estimator (Raudenbush 2009, eq. 16.11;
    /// metafor's R2). `nil` for FE or when τ²_RE = 0.
    public func rSquared() throws(MetaPoolError) -> Double? {
        try rSquared(y: y, v: v)
    }

    /// R² against the model without moderators fitted to (y, v).
    public func rSquared(y: [Double], v: [Double]) throws(MetaPoolError) -> Double? {
        guard isRandomEffects, let estimator = method.estimator else { return nil }
        let tau2RE = try estimator.tauSquared(y: y, v: v)
        guard tau2RE > 0 else { return nil }
        return max(0, 100 * (tau2RE - tauSquaredEstimate) / tau2RE)
    }
}

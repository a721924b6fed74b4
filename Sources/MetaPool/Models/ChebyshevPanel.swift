// Piecewise Chebyshev interpolation on 17 Chebyshev–Lobatto points: the panels of the binomial
// Bayesian model's integrals, whose interpolants give densities, CDFs and quantiles between nodes.

import RealModule

/// The 17-point Chebyshev–Lobatto panel on [−1, 1]: nodes tₘ = −cos(mπ/16) (ascending), the
/// Clenshaw–Curtis weights (the integral of the interpolant; Clenshaw & Curtis 1960), the Chebyshev
/// coefficients of the interpolant by the discrete cosine transform (Trefethen 2013, Approximation
/// Theory and Approximation Practice, ch. 3), its antiderivative (T′ₙ₊₁/(2(n+1)) − T′ₙ₋₁/(2(n−1)) = Tₙ;
/// Mason & Handscomb 2003, §2.4.4), evaluation by Clenshaw's recurrence, and barycentric
/// interpolation with weights (−1)ᵐ, halved at the ends (Berrut & Trefethen 2004, SIAM Rev 46:501, eq. 5.5).
///
/// For a function analytic near the panel the error of the interpolant falls geometrically with the
/// degree; the size of the last two coefficients, |a₁₅| + |a₁₆|, estimates it (Trefethen 2013, ch. 8).
enum ChebyshevPanel {
    static let degree = 16
    static let count = 17

    static let nodes: [Double] = (0..<count).map { -Double.cos(Double($0) * Double.pi / Double(degree)) }

    /// M[n][m]: aₙ = Σₘ M[n][m]·fₘ.
    static let transform: [Double] = {
        let n = degree
        var m = [Double](repeating: 0, count: count * count)
        for j in 0...n {
            for i in 0...n {
                // Tⱼ(tᵢ) with tᵢ = cos((n − i)π/n).
                var c = Double.cos(Double(j * (n - i)) * Double.pi / Double(n)) * 2 / Double(n)
                if i == 0 || i == n { c /= 2 }
                if j == 0 || j == n { c /= 2 }
                m[j * count + i] = c
            }
        }
        return m
    }()

    /// Clenshaw–Curtis weights on [−1, 1] (sum 2).
    static let weights: [Double] = {
        var w = [Double](repeating: 0, count: count)
        for i in 0..<count {
            var s = 0.0
            for j in stride(from: 0, through: degree, by: 2) { s += transform[j * count + i] * 2 / Double(1 - j * j) }
            w[i] = s
        }
        return w
    }()

    static let barycentricWeights: [Double] = (0..<count).map { i in
        (i % 2 == 0 ? 1.0 : -1.0) * (i == 0 || i == count - 1 ? 0.5 : 1)
    }

    /// The Chebyshev coefficients of the interpolant of `values` (17 entries from `offset`).
    @inline(__always)
    static func coefficients(_ values: UnsafeBufferPointer<Double>, into a: UnsafeMutableBufferPointer<Double>) {
        transform.withUnsafeBufferPointer { m in
            for j in 0..<count {
                var s = 0.0
                for i in 0..<count { s += m[j * count + i] * values[i] }
                a[j] = s
            }
        }
    }

    /// Coefficients (18) of F(t) = ∫₋₁ᵗ p, p = Σ aₙTₙ (17 coefficients).
    static func antiderivative(_ a: UnsafeBufferPointer<Double>, into b: UnsafeMutableBufferPointer<Double>) {
        let n = degree
        func coefficient(_ j: Int) -> Double { j <= n ? a[j] : 0 }
        b[1] = a[0] - coefficient(2) / 2
        for j in 2...(n + 1) { b[j] = (coefficient(j - 1) - coefficient(j + 1)) / Double(2 * j) }
        var s = 0.0
        for j in 1...(n + 1) { s += j % 2 == 0 ? b[j] : -b[j] }
        b[0] = -s
    }

    /// Σ cₙTₙ(t) by Clenshaw's recurrence.
    @inline(__always)
    static func clenshaw(_ c: UnsafeBufferPointer<Double>, _ t: Double) -> Double {
        var b1 = 0.0, b2 = 0.0
        var j = c.count - 1
        while j >= 1 {
            let b0 = 2 * t * b1 - b2 + c[j]
            b2 = b1
            b1 = b0
            j -= 1
        }
        return t * b1 - b2 + c[0]
    }

    /// The interpolant of the 17 `values` at t ∈ [−1, 1] (barycentric formula).
    @inline(__always)
    static func interpolate(_ values: UnsafeBufferPointer<Double>, _ t: Double) -> Double {
        var numerator = 0.0, denominator = 0.0
        for i in 0..<count {
            let d = t - nodes[i]
            if d == 0 { return values[i] }
            let w = barycentricWeights[i] / d
            numerator += w * values[i]
            denominator += w
        }
        return numerator / denominator
    }

    /// A panel [a, b] with the integrand's values at its 17 nodes.
    typealias Panel = (a: Double, b: Double, v: [Double])

    /// `panels` refined adaptively: the panel whose interpolant has the largest error estimate (its half-width
    /// times |a₁₅| + |a₁₆|) is split in two until the estimates sum to `tolerance` times the integral over the
    /// panels, `steps` splits were made, `maxPanels` panels exist or a panel can no longer be halved; sorted
    /// by their lower ends. `values(a, b)` gives the integrand at the nodes of [a, b].
    static func refine(_ panels: [Panel], tolerance: Double, steps: Int, maxPanels: Int = .max,
                       values: (Double, Double) -> [Double]) -> [Panel] {
        var panels = panels
        var coefficients = [Double](repeating: 0, count: count)
        func estimate(_ p: Panel) -> Double {
            p.v.withUnsafeBufferPointer { v in coefficients.withUnsafeMutableBufferPointer { ChebyshevPanel.coefficients(v, into: $0) } }
            return 0.5 * (p.b - p.a) * (abs(coefficients[15]) + abs(coefficients[16]))
        }
        var errors = panels.map(estimate)
        var total = 0.0
        for p in panels { for i in 0..<count { total += 0.5 * (p.b - p.a) * weights[i] * p.v[i] } }
        for _ in 0..<steps {
            if errors.reduce(0, +) <= tolerance * total || panels.count >= maxPanels { break }
            var worst = 0
            for i in errors.indices where errors[i] > errors[worst] { worst = i }
            let p = panels[worst]
            let mid = 0.5 * (p.a + p.b)
            guard mid > p.a, mid < p.b else { break }
            let left: Panel = (p.a, mid, values(p.a, mid)), right: Panel = (mid, p.b, values(mid, p.b))
            panels[worst] = left
            errors[worst] = estimate(left)
            panels.append(right)
            errors.append(estimate(right))
        }
        panels.sort { $0.a < $1.a }
        return panels
    }
}

/// A function tabulated on panels [lowerᵢ, upperᵢ] of one variable, 17 Chebyshev–Lobatto values each,
/// with the coefficients of its interpolant and of the interpolant's antiderivative, and the running
/// integral: density, CDF and inverse CDF of a piecewise-polynomial density.
struct PiecewiseChebyshev: Sendable {
    var lower: [Double] = [], upper: [Double] = []
    /// 17 values per panel.
    var values: [Double] = []
    /// 17 coefficients of the interpolant, 18 of its antiderivative, per panel.
    var coefficients: [Double] = [], integralCoefficients: [Double] = []
    /// ∫ over the panels before each panel, and over all.
    var cumulative: [Double] = [], total = 0.0

    var panelCount: Int { lower.count }

    /// Appends a panel; `values` at the 17 nodes of [lower, upper].
    mutating func append(lower a: Double, upper b: Double, values f: UnsafeBufferPointer<Double>) {
        lower.append(a); upper.append(b)
        values.append(contentsOf: f)
        var c = [Double](repeating: 0, count: ChebyshevPanel.count)
        var d = [Double](repeating: 0, count: ChebyshevPanel.count + 1)
        c.withUnsafeMutableBufferPointer { ChebyshevPanel.coefficients(f, into: $0) }
        c.withUnsafeBufferPointer { cc in d.withUnsafeMutableBufferPointer { ChebyshevPanel.antiderivative(cc, into: $0) } }
        coefficients.append(contentsOf: c)
        integralCoefficients.append(contentsOf: d)
        cumulative.append(total)
        // F(1) = ∫₋₁¹ p.
        let mass = 0.5 * (b - a) * d.withUnsafeBufferPointer { ChebyshevPanel.clenshaw($0, 1) }
        total += mass
    }

    /// The panel holding x (−1 below the first, panelCount above the last).
    @inline(__always) func panel(_ x: Double) -> Int {
        if lower.isEmpty || x < lower[0] { return -1 }
        if x > upper[upper.count - 1] { return upper.count }
        var lo = 0, hi = upper.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if upper[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The interpolant at x (0 outside the panels).
    func value(_ x: Double) -> Double {
        let p = panel(x)
        guard p >= 0, p < panelCount else { return 0 }
        let t = (2 * x - lower[p] - upper[p]) / (upper[p] - lower[p])
        return coefficients.withUnsafeBufferPointer {
            ChebyshevPanel.clenshaw(UnsafeBufferPointer(rebasing: $0[(p * 17)..<(p * 17 + 17)]), t)
        }
    }

    /// ∫ from the first panel's lower end to x of the interpolant (0 below, `total` above).
    func integral(to x: Double) -> Double {
        let p = panel(x)
        if p < 0 { return 0 }
        if p >= panelCount { return total }
        let t = min(1, max(-1, (2 * x - lower[p] - upper[p]) / (upper[p] - lower[p])))
        let f = integralCoefficients.withUnsafeBufferPointer {
            ChebyshevPanel.clenshaw(UnsafeBufferPointer(rebasing: $0[(p * 18)..<(p * 18 + 18)]), t)
        }
        return cumulative[p] + 0.5 * (upper[p] - lower[p]) * f
    }

    /// The interpolation error estimate |a₁₅| + |a₁₆| of panel p, times its half-width.
    func tailError(_ p: Int) -> Double {
        0.5 * (upper[p] - lower[p]) * (abs(coefficients[p * 17 + 15]) + abs(coefficients[p * 17 + 16]))
    }
}

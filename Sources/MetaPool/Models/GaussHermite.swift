// Gauss–Hermite quadrature for the standard normal density: nodes and weights for Q points.

import RealModule

/// A Q-point Gauss–Hermite rule for the weight φ(z), the standard normal density:
/// Σₖ wₖ f(zₖ) ≈ ∫ f(z) φ(z) dz, exact for polynomials of degree ≤ 2Q − 1, with Σₖ wₖ = 1.
///
/// The nodes are the zeros of the probabilists' Hermite polynomial He_Q. They are found as the
/// eigenvalues of the symmetric tridiagonal Jacobi matrix of the three-term recurrence
/// zHeⱼ = Heⱼ₊₁ + j·Heⱼ₋₁ (zero diagonal, off-diagonal √j), with LAPACK `dstev`
/// (Golub & Welsch 1969, Math. Comp. 23:221), then polished by Newton steps on the orthonormal
/// polynomials pⱼ = Heⱼ/√j!; the weights are the Christoffel numbers wₖ = 1/Σⱼ<Q pⱼ(zₖ)²
/// (Gautschi 2004, Orthogonal Polynomials, Thm 1.46), which keeps them accurate to rounding.
struct GaussHermiteRule: Sendable {
    /// The largest number of points accepted.
    static let maximumPoints = 100

    let nodes: [Double]
    let weights: [Double]

    init(points q: Int) throws(MetaPoolError) {
        guard q >= 1, q <= Self.maximumPoints else {
            throw MetaPoolError(.invalidArgument, "the number of quadrature points must be between 1 and \(Self.maximumPoints); got \(q)")
        }
        if q == 1 {
            nodes = [0]
            weights = [1]
            return
        }
        var diagonal = [Double](repeating: 0, count: q)
        var offDiagonal = (1..<q).map { Double($0).squareRoot() }
        var unused = [Double](repeating: 0, count: 1)
        let info = try LAPACK.dstev(Int8(UInt8(ascii: "N")), Int32(q), &diagonal, &offDiagonal, &unused, 1)
        guard info == 0 else {
            throw MetaPoolError(.noConvergence, "LAPACK dstev could not compute the Gauss–Hermite nodes (info \(info))")
        }
        // dstev returns the eigenvalues in ascending order; the rule is symmetric about 0.
        var z = diagonal
        var w = [Double](repeating: 0, count: q)
        for k in 0..<q {
            var x = z[k]
            for _ in 0..<3 {
                let (pq, pq1, _) = Self.orthonormal(x, q)
                let derivative = Double(q).squareRoot() * pq1
                guard derivative != 0, derivative.isFinite else { break }
                let step = pq / derivative
                x -= step
                if abs(step) <= 1e-16 * max(1, abs(x)) { break }
            }
            z[k] = x
            w[k] = 1 / Self.orthonormal(x, q).sumOfSquares
        }
        // Enforce the exact symmetry zₖ = −z_{Q+1−k}, wₖ = w_{Q+1−k}.
        for k in 0..<(q / 2) {
            let a = (z[q - 1 - k] - z[k]) / 2
            let b = (w[k] + w[q - 1 - k]) / 2
            z[k] = -a; z[q - 1 - k] = a
            w[k] = b; w[q - 1 - k] = b
        }
        if q % 2 == 1 { z[q / 2] = 0 }
        let total = w.reduce(0, +)
        nodes = z
        weights = w.map { $0 / total }
    }

    /// p_Q(x), p_{Q−1}(x) and Σⱼ<Q pⱼ(x)² for the orthonormal Hermite polynomials
    /// p₀ = 1, p₁ = x, √(j+1)·pⱼ₊₁ = x·pⱼ − √j·pⱼ₋₁.
    private static func orthonormal(_ x: Double, _ q: Int) -> (Double, Double, sumOfSquares: Double) {
        var previous = 0.0
        var current = 1.0
        var sum = 0.0
        for j in 0..<q {
            sum += current * current
            let next = (x * current - Double(j).squareRoot() * previous) / Double(j + 1).squareRoot()
            previous = current
            current = next
        }
        return (current, previous, sum)
    }
}

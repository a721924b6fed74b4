// Weighted least squares through LAPACK's QR factorisation (for meta-regression).

import CLapacke

/// The solution of a weighted least-squares problem min Σwᵢ(yᵢ − xᵢᵀβ)².
public struct WeightedLeastSquares: Sendable {
    /// The coefficients β̂.
    public let coefficients: [Double]

    /// Solves the problem by QR factorisation of W^{1/2}X with LAPACK `dgels`
    /// (Golub & Van Loan 2013, §5.3.3): no normal equations, no explicit inverse.
    ///
    /// - Parameters:
    ///   - design: the n×p design matrix in row-major order (`design[i*p + j]`).
    ///   - columns: p.
    ///   - response: yᵢ, n values.
    ///   - weights: wᵢ > 0, n values.
    /// - Throws: ``MetaPoolError`` if the shapes disagree (`.invalidArgument`), a weight is not
    ///   positive (`.invalidArgument`), a response or design value is not finite (`.invalidValue`),
    ///   or X is rank deficient (`.insufficientData`).
    public init(design: [Double], columns p: Int, response y: [Double], weights w: [Double]) throws(MetaPoolError) {
        let n = y.count
        guard p > 0, n >= p, design.count == n * p, w.count == n else {
            throw MetaPoolError(.invalidArgument, "weighted least squares needs an n×p design with n ≥ p and n weights (n = \(n), p = \(p), \(design.count) design cells, \(w.count) weights)")
        }
        guard w.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw MetaPoolError(.invalidArgument, "every weight must be finite and greater than 0")
        }
        guard y.allSatisfy(\.isFinite), design.allSatisfy(\.isFinite) else {
            throw MetaPoolError(.invalidValue, "every response and design value must be finite")
        }
        // Column-major W^{1/2}X and W^{1/2}y for LAPACK.
        var a = [Double](repeating: 0, count: n * p)
        var b = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let s = w[i].squareRoot()
            b[i] = s * y[i]
            for j in 0..<p { a[j * n + i] = s * design[i * p + j] }
        }
        let info = LAPACKE_dgels(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(n), Int32(p), 1,
                                 &a, Int32(n), &b, Int32(n))
        guard info == 0 else {
            if info > 0 {
                throw MetaPoolError(.insufficientData, "the moderators are linearly dependent (the design matrix is rank deficient); drop a redundant column")
            }
            throw MetaPoolError(.invalidArgument, "LAPACK dgels rejected argument \(-info)")
        }
        coefficients = Array(b[0..<p])
    }
}

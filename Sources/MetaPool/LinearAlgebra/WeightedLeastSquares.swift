// Weighted least squares through LAPACK's rank-revealing QR factorisation (for meta-regression).


/// The solution of a weighted least-squares problem min Σwᵢ(yᵢ − xᵢᵀβ)².
public struct WeightedLeastSquares: Sendable {
    /// The coefficients β̂.
    public let coefficients: [Double]

    /// The relative tolerance below which a column counts as a combination of the others:
    /// R's `qr()` default (1e-7, LINPACK dqrdc2), here the reciprocal condition number of the
    /// leading triangle that LAPACK's `dgelsy` accepts.
    public static let rankTolerance = 1e-7

    /// Solves the problem by QR factorisation with column pivoting of W^{1/2}X, LAPACK `dgelsy`
    /// (Golub & Van Loan 2013, §5.4.1–5.4.2): no normal equations, no explicit inverse, and the
    /// rank is decided by a relative tolerance. `dgels` (no pivoting) reports rank deficiency only
    /// for an exact zero pivot, which rounding hides on some OpenBLAS kernels (SkylakeX returned
    /// [−3.9e16, 1.95e16] for the design [1, 2, 1, 2, 1, 2]).
    ///
    /// - Parameters:
    ///   - design: the n×p design matrix in row-major order (`design[i*p + j]`).
    ///   - p: the number of columns p (argument label `columns`).
    ///   - y: the response yᵢ, n values (argument label `response`).
    ///   - w: the weights wᵢ > 0, n values (argument label `weights`).
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
        var pivots = [Int32](repeating: 0, count: p)  // 0: every column is free to move
        var rank: Int32 = 0
        let info = try LAPACK.dgelsy(Int32(n), Int32(p), 1, &a, Int32(n), &b, Int32(n),
                                  &pivots, Self.rankTolerance, &rank)
        // With valid shapes LAPACKE rejects an argument only for NaN in it: W^{1/2}X or W^{1/2}y overflowed.
        guard info == 0 else {
            throw MetaPoolError(.insufficientData, "the values are too extreme for weighted least squares in double precision (the weighted design overflows); rescale them")
        }
        guard rank == Int32(p) else {
            throw MetaPoolError(.insufficientData, "the moderators are linearly dependent (the design matrix has rank \(rank) of \(p) columns); drop a redundant column")
        }
        coefficients = Array(b[0..<p])
    }
}

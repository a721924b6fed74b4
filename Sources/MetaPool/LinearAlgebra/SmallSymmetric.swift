// Small dense symmetric matrices (one cluster's studies): the Cholesky factor and the
// eigendecomposition, in place on flat row-major storage, for the CR2 adjustment matrices.

enum SmallSymmetric {
    /// Overwrites the m × m positive definite `a` (row-major) with the upper-triangular U such that
    /// UᵀU = a (the lower triangle set to 0); `false` when a pivot is not positive
    /// (Golub & Van Loan 2013, Algorithm 4.2.1, transposed).
    static func choleskyUpper(_ a: inout [Double], _ m: Int) -> Bool {
        for j in 0..<m {
            var d = a[j * m + j]
            for k in 0..<j { d -= a[k * m + j] * a[k * m + j] }
            guard d > 0, d.isFinite else { return false }
            let r = d.squareRoot()
            a[j * m + j] = r
            for i in (j + 1)..<max(j + 1, m) {
                var s = a[j * m + i]
                for k in 0..<j { s -= a[k * m + j] * a[k * m + i] }
                a[j * m + i] = s / r
            }
        }
        for i in 0..<m { for j in 0..<i { a[i * m + j] = 0 } }
        return true
    }

    /// The eigenvalues of the symmetric m × m `a` (left on its diagonal) and the eigenvectors
    /// (the columns of `vectors`, m × m), by the cyclic Jacobi method with the stable rotation of
    /// Golub & Van Loan (2013, Algorithms 8.5.1–8.5.3); sweeps until the off-diagonal part is below
    /// 1e-15 of the matrix's norm (quadratic convergence: a handful of sweeps).
    static func jacobiEigen(_ a: inout [Double], _ m: Int, vectors: inout [Double]) {
        for i in 0..<m { for j in 0..<m { vectors[i * m + j] = i == j ? 1 : 0 } }
        var norm = 0.0
        for x in a[0..<(m * m)] { norm += x * x }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<m { for q in 0..<m where q != p { off += a[p * m + q] * a[p * m + q] } }
            if off <= 1e-30 * norm { return }
            for p in 0..<(m - 1) {
                for q in (p + 1)..<m {
                    let apq = a[p * m + q]
                    if apq == 0 { continue }
                    // The rotation that zeroes a[p][q]: t = tan θ, the smaller root (G&VL Alg. 8.5.1).
                    let tau = (a[q * m + q] - a[p * m + p]) / (2 * apq)
                    let t = (tau >= 0 ? 1 : -1) / (abs(tau) + (1 + tau * tau).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = t * c
                    for k in 0..<m {  // columns p and q: a ← a·J
                        let akp = a[k * m + p], akq = a[k * m + q]
                        a[k * m + p] = c * akp - s * akq
                        a[k * m + q] = s * akp + c * akq
                    }
                    for k in 0..<m {  // rows p and q: a ← Jᵀ·a
                        let apk = a[p * m + k], aqk = a[q * m + k]
                        a[p * m + k] = c * apk - s * aqk
                        a[q * m + k] = s * apk + c * aqk
                    }
                    for k in 0..<m {
                        let vkp = vectors[k * m + p], vkq = vectors[k * m + q]
                        vectors[k * m + p] = c * vkp - s * vkq
                        vectors[k * m + q] = s * vkp + c * vkq
                    }
                }
            }
        }
    }
}

// The eigendecomposition of a small dense symmetric matrix (one cluster's studies), in place on
// flat row-major storage, for the CR2 adjustment matrices (the Cholesky factor is SymmetricMatrix.cholesky).

extension SymmetricMatrix {
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

// LAPACK (LAPACKE opened on first use, LinearAlgebra/LAPACK.swift): weighted least squares by QR with column pivoting.
// LAPACK-dependent: .ci/run runs this suite under each OPENBLAS_CORETYPE the CPU supports.

import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Weighted least squares (LAPACK dgelsy)")
struct LinearAlgebraTests {
    @Test("an intercept-only fit is the weighted mean")
    func interceptIsWeightedMean() throws {
        let y = [0.1, -0.4, 0.9, 0.3]
        let w = [2.0, 1.0, 4.0, 0.5]
        let fit = try WeightedLeastSquares(design: [1, 1, 1, 1], columns: 1, response: y, weights: w)
        let mean = zip(y, w).map { $0 * $1 }.reduce(0, +) / w.reduce(0, +)
        #expect(abs(fit.coefficients[0] - mean) <= 1e-14)
    }

    @Test("an exact line is recovered")
    func exactLine() throws {
        let x = [0.0, 1, 2, 3, 4]
        let design = x.flatMap { [1.0, $0] }
        let y = x.map { 1.5 - 2.25 * $0 }
        let fit = try WeightedLeastSquares(design: design, columns: 2, response: y, weights: [1, 3, 2, 5, 1])
        #expect(abs(fit.coefficients[0] - 1.5) <= 1e-13)
        #expect(abs(fit.coefficients[1] + 2.25) <= 1e-13)
    }

    @Test("a rank-deficient design is an error, not a number, whatever rounding the kernel does")
    func rankDeficient() {
        // Proportional columns ([1, 2] three times: dgels returned [−3.9e16, 1.95e16] on SkylakeX),
        // a column that is a sum of two others, and a near-duplicate within 1e-12 relative.
        let designs: [([Double], Int)] = [
            ([1, 2, 1, 2, 1, 2], 2),
            ([1, 0.3, 1.3, 1, 0.7, 1.7, 1, 0.1, 1.1, 1, 0.9, 1.9], 3),
            ([1, 1 + 1e-12, 1, 1, 1, 1 - 1e-12, 1, 1], 2),
        ]
        for (design, p) in designs {
            let n = design.count / p
            do {
                let fit = try WeightedLeastSquares(design: design, columns: p, response: (0..<n).map { 0.1 * Double($0) },
                                                   weights: Array(repeating: 1, count: n))
                Issue.record("p = \(p): expected an error, got \(fit.coefficients)")
            } catch {
                #expect(error.kind == .insufficientData, "\(error)")
                #expect(error.reason.contains("linearly dependent"))
            }
        }
    }
}

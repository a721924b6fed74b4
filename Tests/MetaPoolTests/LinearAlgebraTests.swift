// LAPACK through the CLapacke system module: weighted least squares by QR.

import Testing
@testable import MetaPool

@Suite("Weighted least squares (LAPACK dgels)")
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

    @Test("a rank-deficient design is an error, not a number")
    func rankDeficient() {
        let design: [Double] = [1, 2, 1, 2, 1, 2]
        #expect(throws: MetaPoolError.self) {
            _ = try WeightedLeastSquares(design: design, columns: 2, response: [1, 2, 3], weights: [1, 1, 1])
        }
    }
}

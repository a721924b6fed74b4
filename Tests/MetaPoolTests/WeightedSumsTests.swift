// The one-pass sums the iterative estimators use (centred on the previous iterate's mean) agree
// with the two-pass sums, including where a naive one-pass formula cancels catastrophically.

@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Weighted sums: one pass around a center equals two passes")
struct WeightedSumsTests {
    /// The tolerance is relative; for effects near 10⁸ the residuals themselves carry the
    /// rounding of yᵢ (ulp(10⁸) ≈ 1.5·10⁻⁸ on residuals of 0.1), so both ways agree to ~10⁻⁶ only.
    @Test("large offsets, one huge weight, a center far off", arguments: [
        ([1e8 + 0.1, 1e8 + 0.3, 1e8 - 0.2, 1e8 + 0.05], [0.01, 0.02, 0.03, 0.04], 1e8 + 0.1, 1e-6),
        ([0.0, 1, 1, 1, 1], [1e-10, 1, 1, 1, 1], 0.8, 1e-9),
        ([0.2, 0.4, 0.1, 0.9, -0.3], [0.05, 0.1, 0.2, 0.02, 0.3], 0.25, 1e-9),
        ([0.2, 0.4, 0.1, 0.9, -0.3], [0.05, 0.1, 0.2, 0.02, 0.3], 50.0, 1e-9),
    ])
    func agree(_ y: [Double], _ v: [Double], _ center: Double, _ tolerance: Double) {
        for tau2 in [0, 0.01, 0.3] {
            let two = WeightedSums(y: y, v: v, tau2: tau2)
            let one = WeightedSums(y: y, v: v, tau2: tau2, center: center)
            #expect(abs(one.mean - two.mean) <= 1e-14 * max(1, abs(two.mean)))
            #expect(abs(one.q - two.q) <= tolerance * two.q + 1e-300, "q \(one.q) vs \(two.q)")
            #expect(abs(one.sumW2Residual2 - two.sumW2Residual2) <= tolerance * two.sumW2Residual2 + 1e-300, "\(one.sumW2Residual2) vs \(two.sumW2Residual2)")
            #expect(one.sumW == two.sumW && one.sumW2 == two.sumW2)
        }
    }
}

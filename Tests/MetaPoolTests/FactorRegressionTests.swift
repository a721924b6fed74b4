// The one-factor meta-regression (FactorWorkspace: subgroups with a common τ², O(k + g) per τ²)
// against the general p × p workspace, for every estimator and test, in both codings.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("One-factor meta-regression agrees with the general workspace")
struct FactorRegressionTests {
    /// k = 45 studies in 6 levels of unequal sizes, with level effects and τ² ≈ 0.04.
    static func data() -> (y: [Double], v: [Double], group: [Int]) {
        var state: UInt64 = 31
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var y: [Double] = [], v: [Double] = [], group: [Int] = []
        for i in 0..<45 {
            let g = i < 3 ? 0 : (i * 7) % 6
            let vi = 0.01 + 0.3 * uniform()
            let z = (uniform() + uniform() + uniform() - 1.5) * 2
            y.append(0.1 * Double(g) + z * (vi + 0.04).squareRoot())
            v.append(vi)
            group.append(g)
        }
        return (y, v, group)
    }

    static func design(_ group: [Int], levels: Int, intercept: Bool) -> [Double] {
        var x = [Double](repeating: 0, count: group.count * levels)
        for (i, g) in group.enumerated() {
            if intercept {
                x[i * levels] = 1
                if g > 0 { x[i * levels + g] = 1 }
            } else {
                x[i * levels + g] = 1
            }
        }
        return x
    }

    @Test("τ², coefficients, covariance and QM", arguments: TauSquaredMethod.allCases)
    func agree(_ method: TauSquaredMethod) throws {
        let d = Self.data(), p = 6
        for intercept in [true, false] {
            let x = Self.design(d.group, levels: p, intercept: intercept)
            for ci in [ConfidenceIntervalMethod.wald, .hartungKnapp] {
                let context = "\(method.rawValue) \(ci.rawValue) \(intercept ? "treatment" : "cell means")"
                var factor = try #require(FactorWorkspace(y: d.y, v: d.v, design: x, p: p))
                #expect(factor.intercept == intercept)
                var general = RegressionWorkspace(y: d.y, v: d.v, design: x, p: p)
                let a = try MetaRegression.solve(&factor, method: method, ciMethod: ci, fixed: nil, residualDF: Double(45 - p))
                let b = try MetaRegression.solve(&general, method: method, ciMethod: ci, fixed: nil, residualDF: Double(45 - p))
                expectClose(a.qe, b.qe, relative: 1e-10, absolute: 1e-12, "\(context) QE")
                expectClose(a.traceP0, b.traceP0, relative: 1e-10, absolute: 1e-12, "\(context) tr P0")
                expectClose(a.tau2, b.tau2, relative: 1e-8, absolute: 1e-12, "\(context) tau2 \(a.tau2) vs \(b.tau2)")
                expectClose(a.factor, b.factor, relative: 1e-8, absolute: 1e-12, "\(context) variance factor")
                for j in 0..<p { expectClose(a.beta[j], b.beta[j], relative: 1e-8, absolute: 1e-12, "\(context) beta \(j)") }
                for j in 0..<(p * p) { expectClose(a.covariance[j], b.covariance[j], relative: 1e-8, absolute: 1e-12, "\(context) cov \(j)") }
                if intercept {
                    // The Wald statistic of the five contrasts, βᵀ Cov⁻¹ β through the general solve.
                    let m = p - 1
                    var block = [Double](repeating: 0, count: m * m)
                    for r in 0..<m { for c in 0..<m { block[r * m + c] = b.covariance[(r + 1) * p + c + 1] } }
                    var rhs = Array(b.beta[1...])
                    try RegressionWorkspace.choleskySolve(&block, &rhs, n: m, columns: 1)
                    var qm = 0.0
                    for r in 0..<m { qm += b.beta[r + 1] * rhs[r] }
                    expectClose(factor.contrastsStatistic() / a.factor, qm, relative: 1e-8, absolute: 1e-12, "\(context) QM")
                }
            }
        }
        // Not one factor: a numeric column, or a level without studies.
        var numeric = Self.design(d.group, levels: p, intercept: true)
        numeric[7] = 0.5
        #expect(FactorWorkspace(y: d.y, v: d.v, design: numeric, p: p) == nil)
        #expect(FactorWorkspace(y: d.y, v: d.v, design: Self.design(d.group, levels: p + 1, intercept: true), p: p + 1) == nil)
    }
}

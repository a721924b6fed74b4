// REML on data where plain Fisher scoring oscillates about the root: metafor's rma() stops with
// "Fisher scoring algorithm did not converge" at its defaults; with step halving
// (control = list(stepadj = 0.5, maxiter = 1e5, threshold = 1e-15)) it gives
// tau^2 = 0.0066131094512174521, b = 0.19899231178556864, se = 0.15742377539842572.
// MetaPool bisects when a step does not halve the one before last, and converges.
// The data: one of 5·10⁴ simulated analyses (k = 10) where 46 failed before the fix.

import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Estimators converge where Fisher scoring oscillates")
struct OscillationTests {
    static let y = [-0.098017979813798, -0.38521703215727787, -0.27816035674138007, 0.15845076015445025, -0.06762749487098624,
                    0.5727180593864836, 0.696339874708142, 0.2948889722725324, 0.5918407866281522, -0.07711615896883939]
    static let v = [0.314637325531178, 0.21266526284898965, 0.3265482533778891, 0.3583188976841292, 0.4389022414178657,
                    0.07927889524416841, 0.4396178732046172, 0.44788841761289555, 0.2686054665542729, 0.19440663122583554]

    @Test("REML: the estimate metafor reaches with step halving")
    func reml() throws {
        let (tau2, iterations) = try RestrictedMaximumLikelihood.tauSquaredCountingIterations(y: Self.y, v: Self.v)
        #expect(abs(tau2 - 0.0066131094512174521) <= 1e-9 * 0.0066131094512174521, "\(tau2)")
        #expect(iterations < 200, "\(iterations) iterations")
        let fit = try MetaAnalysis(EffectSizes.generic(yi: Self.y, vi: Self.v))
        #expect(abs(fit.estimate - 0.19899231178556864) < 1e-10 && abs(fit.standardError - 0.15742377539842572) < 1e-10)
    }
}

// The population-averaged proportion of the GLMM against R's integrate().
//
// Fixtures: Tests/MetaPoolTests/Fixtures/marginal_rate/reference.json, written by
// `Rscript Tests/Reference/generate_marginal_rate.R`.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct MarginalRateReference: Decodable {
    struct Point: Decodable { var mu: Double; var tau2: Double; var value: Double }
    struct Fit: Decodable {
        var dataset: String
        var mu: Double
        var tau2: Double
        var ci_lower: Double
        var ci_upper: Double
        var marginal: Double
        var marginal_lower: Double
        var marginal_upper: Double
    }
    var grid: [Point]
    var fits: [Fit]

    static let shared: MarginalRateReference? = {
        let url = FixtureFolder.url("marginal_rate").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(MarginalRateReference.self, from: data)
    }()
}

@Suite("GLMM: the population-averaged proportion")
struct MarginalRateTests {
    // Both rules (Gauss–Hermite for τ ≤ 2, the trapezoidal rule above) against integrate() at
    // rel.tol 1e-13: 1e-11 absolute on a probability.
    @Test("the integral matches R's integrate() over mu in [-6, 6] and tau in [0.05, 30]")
    func grid() throws {
        let reference = try #require(MarginalRateReference.shared)
        #expect(reference.grid.count == 72)
        for p in reference.grid {
            expectClose(GeneralizedLinearMixedModel.marginalProportion(logitMean: p.mu, tauSquared: p.tau2), p.value,
                        relative: 0, absolute: 1e-11, "mu \(p.mu), tau^2 \(p.tau2)")
        }
    }

    // End to end: our fit agrees with metafor's to about 1e-6 on the logit scale (GLMMTests), so
    // the marginal rate of our fit agrees to 1e-6; the integral at metafor's own estimates to 1e-11.
    @Test("on fitted GLMMs (nAGQ = 7) it matches the integral of metafor's fit")
    func fits() throws {
        let reference = try #require(MarginalRateReference.shared)
        #expect(reference.fits.count == 5)
        for f in reference.fits {
            let table = try DataTable.read(path: FixtureFolder.url("glmm").appendingPathComponent("\(f.dataset).csv").path)
            let model = try GeneralizedLinearMixedModel(table: table, quadraturePoints: 7)
            let rate = model.populationAveragedRate
            expectClose(rate.estimate, f.marginal, relative: 0, absolute: 1e-6, "\(f.dataset) estimate")
            expectClose(rate.lower, f.marginal_lower, relative: 0, absolute: 1e-6, "\(f.dataset) lower")
            expectClose(rate.upper, f.marginal_upper, relative: 0, absolute: 1e-6, "\(f.dataset) upper")
            expectClose(GeneralizedLinearMixedModel.marginalProportion(logitMean: f.mu, tauSquared: f.tau2), f.marginal,
                        relative: 0, absolute: 1e-11, "\(f.dataset) at metafor's estimates")
            #expect(rate.lower < rate.estimate && rate.estimate < rate.upper)
            // Averaging over the random effects pulls the rate towards 1/2.
            let conditional = model.backTransform(model.pooled.estimate)
            #expect(abs(rate.estimate - 0.5) <= abs(conditional - 0.5) + 1e-15, "\(f.dataset)")
        }
    }

    @Test("limits: tau^2 = 0 gives expit(mu); bad arguments give NaN")
    func limits() {
        #expect(GeneralizedLinearMixedModel.marginalProportion(logitMean: 0.4, tauSquared: 0) == BackTransform.inverseLogit.apply(0.4))
        expectClose(GeneralizedLinearMixedModel.marginalProportion(logitMean: 0, tauSquared: 9), 0.5, relative: 0, absolute: 1e-15, "symmetric about mu = 0")
        #expect(GeneralizedLinearMixedModel.marginalProportion(logitMean: .nan, tauSquared: 1).isNaN)
        #expect(GeneralizedLinearMixedModel.marginalProportion(logitMean: 0, tauSquared: -1).isNaN)
        #expect(GeneralizedLinearMixedModel.marginalProportion(logitMean: -.infinity, tauSquared: 1) == 0)
    }
}

// Prediction intervals by method and predictive probabilities against metafor's predict()
// (pi.type) and the formulas computed in R.
//
// Fixtures: Tests/MetaPoolTests/Fixtures/prediction/reference.json, written by
// `Rscript Tests/Reference/generate_prediction.R`.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct PredictionReference: Decodable {
    struct Probability: Decodable { var threshold: Double; var new_study: Double; var mean: Double }
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var dataset: String
        var ci: String
        var pi: String
        var yi: [Double]
        var vi: [Double]
        var estimate: Double
        var se: Double
        var tau2: Double
        var pi_lower: Double
        var pi_upper: Double
        var probabilities: [Probability]
        var testDescription: String { "\(dataset), CI \(ci), PI \(pi)" }
    }
    var cases: [Case]

    static let all: [Case] = {
        let url = FixtureFolder.url("prediction").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url),
              let table = try? JSONDecoder().decode(PredictionReference.self, from: data) else { return [] }
        return table.cases
    }()
}

extension PredictionReference.Probability: Sendable {}

@Suite("Prediction intervals by method")
struct PredictionTests {
    @Test("the reference table: 4 datasets × 2 CI methods × 3 PI methods")
    func present() { #expect(PredictionReference.all.count == 24) }

    // REML agrees with metafor to ~1e-10 at these tolerances (control threshold 1e-13); the PI
    // bounds and probabilities inherit that.
    @Test("matches metafor's predict(pi.type) and the predictive probabilities", arguments: PredictionReference.all)
    func matches(_ c: PredictionReference.Case) throws {
        let effects = try EffectSizes.generic(yi: c.yi, vi: c.vi)
        let fit = try MetaAnalysis(effects, method: .restrictedMaximumLikelihood, ciMethod: c.ci == "z" ? .wald : .hartungKnapp)
        expectClose(fit.pooled.estimate, c.estimate, relative: 1e-8, absolute: 1e-10, "estimate")
        let method = try #require(PredictionIntervalMethod(rawValue: c.pi))
        let prediction = try #require(fit.prediction(method))
        expectClose(prediction.interval.lower, c.pi_lower, relative: 1e-8, absolute: 1e-10, "pi lower")
        expectClose(prediction.interval.upper, c.pi_upper, relative: 1e-8, absolute: 1e-10, "pi upper")
        #expect(prediction.degreesOfFreedom == (method == .z ? nil : c.yi.count - (method == .t ? 1 : 2)))
        for p in c.probabilities {
            expectClose(prediction.probabilityNewStudyExceeds(p.threshold), p.new_study, relative: 1e-7, absolute: 1e-10, "P(new > \(p.threshold))")
            expectClose(prediction.probabilityMeanExceeds(p.threshold), p.mean, relative: 1e-7, absolute: 1e-10, "P(mu > \(p.threshold))")
        }
    }

    @Test("the issue's figures: PFS HR (k = 4) 0.21-0.91 on z, 0.14-1.44 on t; T-DXd IC-ORR (k = 5) 37.5-73.0% vs 30.5-78.7%")
    func headlineFigures() throws {
        func natural(_ c: PredictionReference.Case, _ f: (Double) -> Double) throws -> [Double] {
            let fit = try MetaAnalysis(try EffectSizes.generic(yi: c.yi, vi: c.vi), method: .restrictedMaximumLikelihood)
            let z = try #require(fit.prediction(.z)), t = try #require(fit.prediction(.t))
            return [z.interval.lower, z.interval.upper, t.interval.lower, t.interval.upper].map { (f($0) * 1000).rounded() / 1000 }
        }
        let cases = PredictionReference.all.filter { $0.ci == "z" && $0.pi == "z" }
        let pfs = try #require(cases.first { $0.dataset == "her2_pfs" })
        #expect(try natural(pfs, { Double.exp($0) }).map { ($0 * 100).rounded() / 100 } == [0.21, 0.91, 0.14, 1.44])
        let tdxd = try #require(cases.first { $0.dataset == "her2_tdxd_active" })
        #expect(try natural(tdxd, { BackTransform.inverseLogit.apply($0) }) == [0.375, 0.730, 0.305, 0.787])
    }

    @Test("no interval where t has no df (k = 2 under Riley) or the model has no tau^2 (FE)")
    func undefined() throws {
        let two = try MetaAnalysis(try EffectSizes.generic(yi: [0.1, 0.5], vi: [0.04, 0.05]), method: .restrictedMaximumLikelihood)
        #expect(two.prediction(.riley) == nil)
        #expect(two.prediction(.t) != nil)
        let fixed = try MetaAnalysis(try EffectSizes.generic(yi: [0.1, 0.5, 0.3], vi: [0.04, 0.05, 0.02]), method: .fixedEffect)
        #expect(fixed.prediction(.z) == nil)
    }
}

// PredictionIntervalSetting (--pi), the default by measure, and thresholds taken to the analysis
// scale (--threshold). The numbers against R are in PredictionTests (library) and
// PredictionIntervalCLITests (pool JSON); these check the rules that connect them.

import Foundation
import Testing
@testable import MetaPool

@Suite("--pi settings and --threshold transforms")
struct PredictionIntervalSettingTests {
    static let events: [Double] = [4, 9, 12, 20, 2], totals: [Double] = [15, 30, 40, 44, 4]

    @Test("metafor's setting is z under wald and t on k − 1 under t and hksj, the same numbers as before")
    func metaforSetting() throws {
        let effects = try EffectSizes.proportions(events: Self.events, totals: Self.totals)
        for ci in [ConfidenceIntervalMethod.wald, .t, .hartungKnapp] {
            let fit = try MetaAnalysis(effects, ciMethod: ci)
            let p = try #require(fit.newStudyPrediction)
            #expect(p.method == (ci == .wald ? .z : .t))
            #expect(p.degreesOfFreedom == (ci == .wald ? nil : 4))
            // Bit for bit the interval metafor's predict() gives (EstimateInference's own).
            #expect(p.interval == fit.pooled.predictionInterval(tauSquared: fit.tauSquaredEstimate))
        }
    }

    @Test("z, t and riley do not follow --ci; riley needs k ≥ 3")
    func fixedSettings() throws {
        let effects = try EffectSizes.proportions(events: Self.events, totals: Self.totals)
        var fit = try MetaAnalysis(effects, ciMethod: .hartungKnapp)
        fit.predictionIntervalSetting = .z
        #expect(fit.newStudyPrediction?.method == .z && fit.newStudyPrediction?.degreesOfFreedom == nil)
        fit.predictionIntervalSetting = .riley
        #expect(fit.newStudyPrediction?.degreesOfFreedom == 3)
        #expect(fit.newStudyPrediction?.label == "t on 3 df, Riley et al. 2011")
        let two = try MetaAnalysis(EffectSizes.proportions(events: [4, 9], totals: [15, 30]))
        var riley = two
        riley.predictionIntervalSetting = .riley
        #expect(riley.predictionInterval == nil)
        var t = two
        t.predictionIntervalSetting = .t
        #expect(t.newStudyPrediction?.label == "t on 1 df")
        // FE: none whatever the setting.
        var fe = try MetaAnalysis(effects, method: .fixedEffect)
        fe.predictionIntervalSetting = .t
        #expect(fe.predictionInterval == nil && fe.newStudyPrediction == nil)
    }

    @Test("the default is t for proportions and hazard ratios, metafor's for two-group and generic measures")
    func defaults() {
        for m in EffectMeasure.allCases {
            let expected: PredictionIntervalSetting = [.proportion, .hazardRatio].contains(m.family) ? .t : .metafor
            #expect(PredictionIntervalSetting.default(for: m) == expected, "\(m)")
        }
    }

    @Test("AnalysisSpecification applies the default by measure, and an explicit setting, to the GLMM too")
    func specification() throws {
        let table = DataTable(columns: ["events", "total"], rows: zip(Self.events, Self.totals).map { ["\(Int($0))", "\(Int($1))"] })
        let fit = try AnalysisSpecification().fit(table)
        #expect(fit.newStudyPrediction?.method == .t && fit.newStudyPrediction?.degreesOfFreedom == 4)
        var spec = AnalysisSpecification(pooling: .glmm(quadraturePoints: 7))
        let glmm = try spec.fit(table)
        #expect(glmm.newStudyPrediction?.method == .t)
        spec.predictionInterval = .z
        let z = try spec.fit(table)
        let g = try GeneralizedLinearMixedModel(table: table)
        #expect(z.predictionInterval == g.pooled.predictionInterval(tauSquared: g.tauSquared))
    }

    @Test("a threshold on the natural scale goes to the analysis scale by the measure's transform")
    func transforms() throws {
        #expect(try EffectMeasure.logitProportion.analysisValue(ofNatural: 0.3) == Foundation.log(0.3 / 0.7))
        #expect(try EffectMeasure.hazardRatio.analysisValue(ofNatural: 2) == Foundation.log(2))
        #expect(try EffectMeasure.oddsRatio.analysisValue(ofNatural: 1) == 0)
        #expect(try EffectMeasure.logProportion.analysisValue(ofNatural: 1) == 0)
        #expect(abs(try EffectMeasure.arcsineProportion.analysisValue(ofNatural: 0.25) - Double.pi / 6) < 1e-15)
        #expect(try EffectMeasure.rawProportion.analysisValue(ofNatural: 0.4) == 0.4)
        #expect(try EffectMeasure.riskDifference.analysisValue(ofNatural: -0.1) == -0.1)
        #expect(try EffectMeasure.generic.analysisValue(ofNatural: -7) == -7)
        // PFT: the inverse of the back-transform at the same harmonic mean total (Miller 1978).
        for c in [0.05, 0.3, 0.5, 0.9] {
            let x = try EffectMeasure.freemanTukeyProportion.analysisValue(ofNatural: c, harmonicMeanTotal: 23.5)
            #expect(abs(BackTransform.inverseFreemanTukey.apply(x, harmonicMeanTotal: 23.5) - c) < 1e-12, "\(c)")
        }
        // Every back-transform undoes its forward transform.
        for m in EffectMeasure.allCases where m != .freemanTukeyProportion {
            let c = m.family == .proportion || m == .riskDifference ? 0.37 : 1.7
            let x = try m.analysisValue(ofNatural: c)
            #expect(abs(m.backTransform.apply(x) - c) < 1e-14, "\(m)")
        }
    }

    @Test("a threshold outside the measure's range is refused as an invalid argument",
          arguments: [(EffectMeasure.logitProportion, 0.0), (.logitProportion, 1.0), (.logitProportion, 1.2), (.logProportion, 0.0),
                      (.logProportion, 1.5), (.rawProportion, -0.1), (.arcsineProportion, 1.01), (.freemanTukeyProportion, -1),
                      (.hazardRatio, 0.0), (.oddsRatio, -2), (.riskRatio, 0), (.riskDifference, 1.5), (.generic, .infinity), (.generic, .nan)])
    func refused(_ measure: EffectMeasure, _ c: Double) {
        #expect {
            _ = try measure.analysisValue(ofNatural: c, harmonicMeanTotal: 20)
        } throws: { error in
            (error as? MetaPoolError)?.kind == .invalidArgument && (error as? MetaPoolError)?.reason.contains("must be") == true
        }
    }

    @Test("ThresholdProbabilities: P(new > c) from the prediction, P(mu > c) from the estimate; none for FE")
    func probabilities() throws {
        let effects = try EffectSizes.proportions(events: Self.events, totals: Self.totals)
        var fit = try MetaAnalysis(effects)
        fit.predictionIntervalSetting = .t
        let t = try ThresholdProbabilities(fit, threshold: 0.3)
        let p = try #require(fit.newStudyPrediction)
        #expect(t.newStudy == p.probabilityNewStudyExceeds(Foundation.log(0.3 / 0.7)))
        #expect(t.mean == p.probabilityMeanExceeds(Foundation.log(0.3 / 0.7)))
        // At the estimate itself both are one half.
        let half = try ThresholdProbabilities(fit, threshold: fit.backTransform(fit.estimate))
        #expect(abs((half.newStudy ?? 0) - 0.5) < 1e-12 && abs(half.mean - 0.5) < 1e-12)
        let fe = try ThresholdProbabilities(MetaAnalysis(effects, method: .fixedEffect), threshold: 0.3)
        #expect(fe.newStudy == nil && fe.mean > 0.5)
    }
}

// `--pi` and `--threshold`: which prediction interval, and the predictive probabilities beyond a value.

import ArgumentParser
import MetaPool

extension PredictionIntervalSetting: ExpressibleByArgument, CaseInsensitiveArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// `--pi` and `--threshold`, shared by pool, forest and report.
struct PredictionOptions: ParsableArguments {
    @Option(name: .customLong("pi"), help: ArgumentHelp("Prediction interval: t (t on k - 1 df, R meta's default), riley (t on k - 2 df, Riley et al. 2011), z (normal), metafor (metafor's predict(): z under --ci wald, t on k - 1 df under t/hksj). Default: t for proportions and hazard ratios, metafor otherwise.", valueName: "method"))
    var setting: PredictionIntervalSetting?

    @Option(help: ArgumentHelp("Also give the probability that a new study's true effect, and the pooled mean, exceed this value (natural scale: a proportion for PLO PR PAS PFT PLN, a ratio for OR RR HR).", valueName: "value"))
    var threshold: Double?

    func validate() throws {
        if let threshold, !threshold.isFinite { throw ValidationError("--threshold must be a finite number; got \(threshold)") }
    }

    /// The setting for a fit of `measure`: the option, or the measure's default.
    func resolved(for measure: EffectMeasure) -> PredictionIntervalSetting { setting ?? .default(for: measure) }

    /// Why the model of `model` has no prediction interval (a common-effect model), or nil.
    static func noInterval(_ model: ModelOptions) -> String? {
        switch model.pooling {
        case .mantelHaenszel, .peto: "--method \(model.pooling.code) is a common-effect model, which has none"
        case .inverseVariance(.fixedEffect): "--method FE is a common-effect model, which has none"
        default: nil
        }
    }

    /// "Prediction interval (95%, t on 3 df)" and the like.
    static func heading(_ prediction: Prediction, level: Double) -> String {
        let percent = level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        return "Prediction interval (\(lvl)%, \(prediction.label))"
    }

    /// The probability lines of the table: "P(new study's proportion > 0.3) = 0.6200" and the pooled mean's.
    static func lines(_ t: ThresholdProbabilities, measure: EffectMeasure) -> String {
        let name = measure.naturalScaleName
        let shown = NumberFormat.general(t.natural)
        var out = ""
        if let p = t.newStudy {
            out += "P(new study's true \(name) > \(shown)) = \(NumberFormat.decimal(p, digits: 4))   (predictive distribution of the prediction interval)\n"
        } else {
            out += "P(new study's true \(name) > \(shown)): none (a common-effect model has no between-study distribution)\n"
        }
        out += "P(pooled mean \(name) > \(shown)) = \(NumberFormat.decimal(t.mean, digits: 4))   (confidence distribution of the pooled estimate)\n"
        return out
    }
}

extension ModelOptions {
    /// The library's description of the analysis, with `--pi`.
    func specification(_ prediction: PredictionOptions) -> AnalysisSpecification {
        var spec = specification
        spec.predictionInterval = prediction.setting
        return spec
    }
}

extension PredictionOptions {
    /// One row of ``subgroupIntervals(_:level:)``: a subgroup's prediction and its bounds on the natural scale.
    struct SubgroupInterval {
        var label: String
        var prediction: Prediction?
        var lower = "", upper = ""

        init(_ label: String, _ prediction: Prediction?, backTransform: (Double) -> Double) {
            self.label = label
            self.prediction = prediction
            if let i = prediction?.interval {
                lower = SummaryTable.natural(backTransform(i.lower), of: i.lower)
                upper = SummaryTable.natural(backTransform(i.upper), of: i.upper)
            }
        }
    }

    /// The prediction interval of each subgroup and of the overall model on the natural scale, with
    /// its method, below the subgroup table (empty when no fit has one: common-effect models).
    static func subgroupIntervals(_ rows: [SubgroupInterval], level: Double) -> String {
        guard rows.contains(where: { $0.prediction != nil }) else { return "" }
        let percent = level * 100
        let lvl = percent == percent.rounded() ? String(Int(percent)) : NumberFormat.general(percent)
        var table = TextTable([.label("subgroup"), .number("pi.lb"), .number("pi.ub"), .label("method")])
        for row in rows {
            guard let p = row.prediction else {
                table.append([row.label, "-", "-", "none (one study, fixed effect, or too few studies for the method)"])
                continue
            }
            table.append([row.label, row.lower, row.upper, p.label])
        }
        return "\nPrediction intervals (\(lvl)%, natural scale):\n\n" + table.render()
    }
}

// `metapool forest`, `metapool funnel` and `metapool report`: pictures and a self-contained page.

import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials  // URL; full Foundation is not linked (start-up time, issue 15)
#else
import Foundation
#endif
import MetaPool

/// Writes `text` to `path` (`-` for standard output).
func writeOutput(_ text: String, to path: String) throws {
    if path == "-" {
        print(text, terminator: "")
        return
    }
    do {
        try OutputFile.write(text, to: path, atomically: false)
    } catch {
        printError("error: \(error.message)")
        throw ExitCode(error.status)
    }
}

/// Runs `body`, turning a MetaPoolError into the documented message and exit status.
func reportingErrors<T>(file: String, _ body: () throws(MetaPoolError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        var located = error
        if located.location.file == nil { located.location.file = file }
        throw fail(located)
    }
}

struct ForestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forest",
        abstract: "Draw a forest plot as SVG: studies, weights, diamonds, prediction interval, heterogeneity.",
        discussion: "Takes the same input and model options as pool (and --by for subgroups)."
    )

    @OptionGroup var model: ModelOptions

    @OptionGroup var subgroups: SubgroupOptions
    var by: String? { subgroups.by }
    var commonTauSquared: Bool { subgroups.commonTauSquared }

    /// `--study-ci` (StudyIntervalOptions.swift).
    @OptionGroup var studyIntervals: StudyIntervalArguments
    @OptionGroup var prediction: PredictionOptions

    @OptionGroup var bayes: BayesArguments

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("SVG file to write; - for standard output.", valueName: "file"))
    var output: String

    func validate() throws {
        try bayes.validate("forest", model: model, by: by, commonTauSquared: commonTauSquared, prediction: prediction)
        if commonTauSquared && !model.pooling.isGLMM { try model.requireInverseVariance("forest --common-tau2") }
        studyIntervals.validate(measure: model.measure)
        if prediction.threshold != nil { warn("--threshold gives probabilities in pool's table and JSON; the forest plot does not show them (ignored)") }
        if prediction.setting != nil, let reason = PredictionOptions.noInterval(model) {
            warn("--pi sets the prediction interval; \(reason) (ignored)")
        }
    }

    func run() throws {
        let plot = try reportingErrors(file: model.file) { () throws(MetaPoolError) in
            if bayes.bayes, let by {
                let table = try model.table(by: by)
                let groups = try BayesianSubgroups(table: table, by: by, measure: model.measure, options: model.effectSizeOptions,
                                                   fit: BayesFit.model(priors: bayes.priors))
                let plot = try studyIntervals.apply(to: ForestPlot(groups, table: table, level: model.level), explicitMeasure: model.measure)
                try plot.requireDrawable()
                return plot
            }
            if bayes.bayes {
                let table = try model.table()
                let fit = try BayesFit(table: table, measure: model.measure, options: model.effectSizeOptions, priors: bayes.priors)
                let plot = try studyIntervals.apply(to: ForestPlot(fit.posterior, effects: fit.effects, table: table, level: model.level),
                                                    explicitMeasure: model.measure)
                try plot.requireDrawable()
                return plot
            }
            return try studyIntervals.apply(to: model.forestPlot(by: by, commonTauSquared: commonTauSquared, prediction: prediction), explicitMeasure: model.measure)
        }
        try writeOutput(plot.svg(), to: output)
    }
}

extension ModelOptions {
    /// Subgroups (--by), regress, sensitivity, bias and trim-and-fill work with inverse-variance models.
    /// Refuses `--cluster` and `--robust` in a command without a three-level form.
    func refuseCluster(_ command: String) throws {
        if cluster != nil || robustChoice != nil {
            throw ValidationError("metapool \(command) has no three-level form; --cluster and --robust work with pool, forest, report, sensitivity and regress")
        }
    }

    func requireInverseVariance(_ command: String) throws {
        if isCountBased {
            throw ValidationError("metapool \(command) works with the inverse-variance models (FE DL REML ML PM HE SJ HS EB); --method \(pooling.code) is available in metapool pool")
        }
    }

    /// The plot to draw; refused when a value overflows on the natural scale (``ForestPlot/requireDrawable()``).
    func forestPlot(by: String?, commonTauSquared: Bool, prediction: PredictionOptions? = nil) throws(MetaPoolError) -> ForestPlot {
        var specification = specification
        specification.predictionInterval = prediction?.setting
        let table = try table(by: by)
        let plot: ForestPlot
        if let by, commonTauSquared, case .glmm(let points) = pooling {
            plot = try ForestPlot(SubgroupGLMMCommonTau(table: table, by: by, quadraturePoints: points, level: level), table: table)
        } else if let by {
            plot = isCountBased || cluster != nil
                ? try ForestPlot(SubgroupFits(table: table, by: by, specification: specification), table: table)
                : try ForestPlot(SubgroupAnalysis(table: table, by: by, measure: measure, method: method, ciMethod: ciMethod,
                                                  level: level, commonTauSquared: commonTauSquared, effectSizeOptions: effectSizeOptions,
                                                  predictionInterval: prediction?.setting), table: table)
        } else {
            plot = try ForestPlot(specification.fit(table), table: table)
        }
        try plot.requireDrawable()
        return plot
    }
}

struct FunnelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funnel",
        abstract: "Draw a funnel plot as SVG: effects against standard errors, with pseudo-confidence limits around the pooled estimate.",
        discussion: "Takes the same input and model options as pool."
    )

    @OptionGroup var model: ModelOptions

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("SVG file to write; - for standard output.", valueName: "file"))
    var output: String

    @Flag(help: "Add the studies that trim-and-fill (L0) imputes, as open circles, and centre on its adjusted estimate.")
    var trimfill = false

    @Option(help: ArgumentHelp("With --trimfill: the side of the funnel on which studies are missing (left or right), as metafor's trimfill(side =); default: chosen as metafor chooses it.", valueName: "side"))
    var side: TrimAndFill.Side?

    func validate() throws {
        try model.refuseCluster("funnel")
        if trimfill { try model.requireInverseVariance("funnel --trimfill") }
        if side != nil && !trimfill { warn("--side sets the side of --trimfill; it has no effect without --trimfill (ignored)") }
    }

    func run() throws {
        let plot = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> FunnelPlot in
            if model.isCountBased {
                let table = try model.table()
                return try FunnelPlot(fit: model.specification.fit(table))
            }
            let fit = try model.fit()
            guard trimfill else { return try FunnelPlot(fit) }
            let fill = try TrimAndFill(fit, side: side)
            return try FunnelPlot(fit, filled: fill.filled.map { ($0.yi, $0.vi) }, center: fill.estimate)
        }
        try writeOutput(plot.svg(), to: output)
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: data, pooled results, forest and funnel plots, subgroups.",
        discussion: "No network and no scripts: CSS and SVG are inline. Takes the same options as pool."
    )

    @OptionGroup var model: ModelOptions

    @OptionGroup var subgroups: SubgroupOptions
    var by: String? { subgroups.by }
    var commonTauSquared: Bool { subgroups.commonTauSquared }

    /// `--study-ci` (StudyIntervalOptions.swift).
    @OptionGroup var studyIntervals: StudyIntervalArguments
    @OptionGroup var prediction: PredictionOptions

    @Option(help: ArgumentHelp("Page title (default: the input file's name).", valueName: "text"))
    var title: String?

    @OptionGroup var bayes: BayesArguments

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("HTML file to write; - for standard output.", valueName: "file"))
    var output: String

    func validate() throws {
        try bayes.validate("report", model: model, by: by, commonTauSquared: commonTauSquared, prediction: prediction)
        if commonTauSquared && !model.pooling.isGLMM { try model.requireInverseVariance("report --common-tau2") }
        studyIntervals.validate(measure: model.measure)
        if prediction.threshold != nil { warn("--threshold gives probabilities in pool's table and JSON; the report does not show them (ignored)") }
        if prediction.setting != nil, let reason = PredictionOptions.noInterval(model) {
            warn("--pi sets the prediction interval; \(reason) (ignored)")
        }
    }

    func run() throws {
        let name = title ?? "Meta-analysis of \(model.file == "-" ? "standard input" : URL(fileURLWithPath: model.file).lastPathComponent)"
        let report = try reportingErrors(file: model.file) { () throws(MetaPoolError) in
            let table = try model.table(by: by)
            if bayes.bayes, let by {
                return try Report(BayesianSubgroups(table: table, by: by, measure: model.measure, options: model.effectSizeOptions,
                                                    fit: BayesFit.model(priors: bayes.priors)), table: table, title: name, level: model.level)
            }
            if bayes.bayes {
                let fit = try BayesFit(table: table, measure: model.measure, options: model.effectSizeOptions, priors: bayes.priors)
                return try Report(fit.posterior, effects: fit.effects, table: table, title: name, level: model.level)
            }
            let specification = model.specification(prediction)
            guard let by else { return try Report(specification.fit(table), table: table, title: name) }
            if commonTauSquared, case .glmm(let points) = model.pooling {
                return try Report(SubgroupGLMMCommonTau(table: table, by: by, quadraturePoints: points, level: model.level),
                                  table: table, title: name)
            }
            if model.isCountBased || model.cluster != nil {
                return try Report(SubgroupFits(table: table, by: by, specification: specification), table: table, title: name)
            }
            return try Report(SubgroupAnalysis(table: table, by: by, measure: model.measure, method: model.method,
                                               ciMethod: model.ciMethod, level: model.level, commonTauSquared: commonTauSquared,
                                               effectSizeOptions: model.effectSizeOptions, predictionInterval: prediction.setting),
                              table: table, title: name)
        }
        let shown = try reportingErrors(file: model.file) { () throws(MetaPoolError) in
            try studyIntervals.apply(to: report, explicitMeasure: model.measure)
        }
        try writeOutput(shown.html(), to: output)
    }
}

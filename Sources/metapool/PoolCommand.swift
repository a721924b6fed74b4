// `metapool pool`: fixed- and random-effects pooling.

import ArgumentParser
import MetaPool

struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Pool the studies: estimate, confidence and prediction intervals, heterogeneity.",
        discussion: "Values are on the analysis scale (logit, log, ...); the back-transformed line gives the natural scale."
    )

    @OptionGroup var model: ModelOptions

    @Option(help: ArgumentHelp("Output: table (for people), json (one object), csv (per-study rows).", valueName: "format"))
    var format: OutputFormat = .table

    func run() throws {
        let summary: PoolSummary
        let analysis: MetaAnalysis
        do {
            analysis = try model.fit()
            summary = try analysis.summary()
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = model.file }
            throw fail(located)
        }
        switch format {
        case .json: print(JSONOutput.encode(summary))
        case .csv: print(StudyCSV.render(summary), terminator: "")
        case .table: print(SummaryTable.render(summary, analysis: analysis), terminator: "")
        }
    }
}

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

    @Option(help: ArgumentHelp("Pool each level of this column separately and test for subgroup differences.", valueName: "column"))
    var by: String?

    @Flag(name: .customLong("common-tau2"),
          help: "With --by: one tau^2 for all subgroups (mixed-effects model with the subgroup as a factor, as metafor's rma(mods = ~ factor(g))); the test is its omnibus QM.")
    var commonTauSquared = false

    @Option(help: ArgumentHelp("Output: table (for people), json (one object), csv (per-study rows).", valueName: "format"))
    var format: OutputFormat = .table

    func validate() throws {
        if commonTauSquared && by == nil {
            throw ValidationError("--common-tau2 applies to subgroups; give --by COLUMN as well")
        }
    }

    func run() throws {
        if format == .json {
            // One code path with `check`: the JSON records the input's SHA-256 and every option.
            do {
                let spec = model.specification(by: by, commonTauSquared: commonTauSquared)
                print(try spec.run(bytes: DataTable.readBytes(path: model.file)).serialized())
            } catch {
                var located = error
                if located.location.file == nil { located.location.file = model.file }
                throw fail(located)
            }
            return
        }
        if let by { return try runSubgroups(by) }
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

    private func runSubgroups(_ column: String) throws {
        let analysis: SubgroupAnalysis
        let json: JSONValue
        do {
            let table = try DataTable.read(path: model.file).selecting(model.rowConditions)
            analysis = try SubgroupAnalysis(table: table, by: column, measure: model.measure, method: model.method,
                                            ciMethod: model.ciMethod, level: model.level, commonTauSquared: commonTauSquared)
            json = try analysis.summary()
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = model.file }
            throw fail(located)
        }
        switch format {
        case .json: print(json.serialized())
        case .csv:
            var out = "subgroup,k,estimate,se,ci_lower,ci_upper,tau2,i2\n"
            for g in analysis.subgroups {
                let tau2: String = g.tauSquared.map { "\($0)" } ?? ""
                let i2: String = g.iSquared.map { "\($0)" } ?? ""
                let fields: [String] = [String(g.count), "\(g.estimate)", "\(g.standardError)", "\(g.confidenceInterval.lower)",
                                        "\(g.confidenceInterval.upper)", tau2, i2]
                out += StudyCSV.quote(g.label) + "," + fields.joined(separator: ",") + "\n"
            }
            print(out, terminator: "")
        case .table: print(SubgroupTable.render(analysis), terminator: "")
        }
    }
}

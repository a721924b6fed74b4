// `metapool sensitivity`: leave-one-out, cumulative meta-analysis and influence diagnostics.

import ArgumentParser
import MetaPool

struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Leave-one-out, cumulative meta-analysis and influence diagnostics, as metafor's leave1out(), cumul() and influence().",
        discussion: """
        Every refit uses the same model (--method, --ci, --level). The cumulative analysis adds \
        studies in input order, or in ascending order of a numeric column (--order-by year). \
        Influence: externally studentized residuals, DFFITS, Cook's distance, covariance ratio, \
        tau^2 and QE without each study, hat values, weights and DFBETAS, with metafor's flag \
        for influential studies (*).
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("order-by"), help: ArgumentHelp("Numeric column giving the order of the cumulative analysis (e.g. year); default: input order.", valueName: "column"))
    var orderBy: String?

    @Option(help: ArgumentHelp("Output: table (for people) or json.", valueName: "format"))
    var format: ReportFormat = .table

    func validate() throws {
        // The GLMM refits leave-one-out and cumulative (SensitivityCommand+GLMM.swift).
        if !model.pooling.isGLMM { try model.requireInverseVariance("sensitivity") }
    }

    func run() throws {
        if model.cluster != nil { return try runLeaveOneClusterOut() }
        if model.pooling.isGLMM { return try runGLMM() }
        let (leaveOneOut, cumulative, influence) = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> (LeaveOneOut, CumulativeAnalysis, InfluenceDiagnostics) in
            let table = try model.table()
            let fit = try MetaAnalysis(EffectSizes(table: table, measure: model.measure, options: model.effectSizeOptions), method: model.method,
                                       ciMethod: model.ciMethod, level: model.level)
            let k = fit.count
            let progress = ProgressReporter(task: "sensitivity", unit: "leave-one-out fits", total: k)
            defer { progress.finish() }
            let leaveOneOut = try LeaveOneOut(fit) { done, _ in progress.update(done) }
            let stepProgress = ProgressReporter(task: "sensitivity", unit: "cumulative fits", total: k)
            defer { stepProgress.finish() }
            let steps: (Int, Int) -> Void = { done, _ in stepProgress.update(done) }
            let cumulative: CumulativeAnalysis
            if orderBy != nil {
                cumulative = try CumulativeAnalysis(fit, sortedBy: orderKeys(table), progress: steps)
            } else {
                cumulative = try CumulativeAnalysis(fit, progress: steps)
            }
            return (leaveOneOut, cumulative, InfluenceDiagnostics(leaveOneOut))
        }
        if format == .json {
            let json = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> JSONValue in
                .object([
                    ("leave_one_out", try leaveOneOut.summary()),
                    ("cumulative", try cumulative.summary()),
                    ("influence", try influence.summary()),
                ])
            }
            print(json.serialized())
        } else {
            print(Self.table([
                ("Leave-one-out (each row: the model without that study)", leaveOneOut.fits.map { $0.json() }),
                ("Cumulative meta-analysis (each row: the model up to and including that study)", cumulative.fits.map { $0.json(countKey: "k") }),
                ("Influence diagnostics (* = influential, by metafor's criteria)", influence.studies.map { $0.json() }),
            ]), terminator: "")
        }
    }

    /// With `--cluster`: the three-level model refitted without each cluster (trial) in turn.
    /// The study-level diagnostics (cumulative, influence) have no three-level form here.
    func runLeaveOneClusterOut() throws {
        if orderBy != nil { warn("--order-by orders the cumulative analysis, which --cluster does not run (ignored)") }
        let result = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> LeaveOneClusterOut in
            let table = try model.table()
            guard let fit = try model.specification.fit(table) as? any ThreeLevelFitted else {
                throw MetaPoolError(.invalidArgument, "--cluster did not give a three-level fit")
            }
            return try LeaveOneClusterOut(fit)
        }
        if format == .json {
            print(JSONValue.object([("cluster_column", .string(result.column)), ("leave_one_cluster_out", result.summary())]).serialized())
        } else {
            print(Self.table([("Leave one cluster out (each row: the three-level model without that \(result.column))",
                               result.fits.map { $0.json() })]), terminator: "")
        }
    }

    /// The --order-by column's values, one finite number per row of `table`.
    func orderKeys(_ table: DataTable) throws(MetaPoolError) -> [Double] {
        guard let orderBy else { return [] }
        guard let c = table.columnIndex(orderBy) else {
            throw MetaPoolError(.missingColumn, "--order-by names column \"\(orderBy)\", which the input does not have (columns: \(table.columns.joined(separator: ", ")))",
                                at: InputLocation(file: table.source, column: orderBy))
        }
        var keys: [Double] = []
        for row in 0..<table.rowCount {
            let text = table.cell(row: row, column: c)?.trimmingWhitespace() ?? ""
            let location = table.location(row: row, column: table.columns[c])
            guard !text.isEmpty else {
                throw MetaPoolError(.invalidValue, "the --order-by value is empty; every study needs one", at: location)
            }
            // The effect columns' number rules: no hex, NaN, infinities or overflow.
            do throws(MetaPoolError) {
                keys.append(try DataTable.number(text, at: location))
            } catch {
                var e = error
                e.reason = "the --order-by value: " + e.reason
                throw e
            }
        }
        return keys
    }

    /// Each section's rows (the typed results' rows with metafor's column names, the same rows the
    /// JSON has) as a fixed-width table.
    static func table(_ sections: [(title: String, rows: [[(String, JSONValue)]])]) -> String {
        var out = ""
        for (title, rows) in sections {
            out += title + "\n\n"
            var header: [String] = []
            var cells: [[String]] = []
            for fields in rows {
                if header.isEmpty { header = fields.map(\.0).filter { $0 != "influential" } }
                var line: [String] = []
                for key in header {
                    let value = fields.first { $0.0 == key }?.1 ?? .null
                    switch value {
                    case .string(let s): line.append(s)
                    case .number(let d): line.append(key.contains("p_value") ? (d < 1e-4 ? "<.0001" : SummaryTable.f(d, 4)) : SummaryTable.f(d, 4))
                    case .integer(let i): line.append(String(i))
                    case .bool(let b): line.append(b ? "yes" : "no")
                    default: line.append("NA")
                    }
                }
                if case .bool(true)? = fields.first(where: { $0.0 == "influential" })?.1 { line[0] += " *" }
                cells.append(line)
            }
            var table = TextTable(header.indices.map { $0 == 0 ? .label(header[$0]) : .number(header[$0]) })
            for line in cells { table.append(line) }
            out += table.render()
            out += "\n"
        }
        return out
    }
}

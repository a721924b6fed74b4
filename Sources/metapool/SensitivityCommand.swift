// `metapool sensitivity`: leave-one-out, cumulative meta-analysis and influence diagnostics.

import ArgumentParser
import Foundation
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
        try model.requireInverseVariance("sensitivity")
    }

    func run() throws {
        let json = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> JSONValue in
            let table = try DataTable.read(path: model.file).selecting(model.rowConditions)
            let fit = try MetaAnalysis(EffectSizes(table: table, measure: model.measure), method: model.method,
                                       ciMethod: model.ciMethod, level: model.level)
            let cumulative: CumulativeAnalysis
            if let orderBy {
                guard let c = table.columnIndex(orderBy) else {
                    throw MetaPoolError(.missingColumn, "--order-by names column \"\(orderBy)\", which the input does not have (columns: \(table.columns.joined(separator: ", ")))",
                                        at: InputLocation(file: table.source, column: orderBy))
                }
                var keys: [Double] = []
                for row in table.rows.indices {
                    let text = (c < table.rows[row].count ? table.rows[row][c] : nil)?.trimmingCharacters(in: .whitespaces) ?? ""
                    guard let key = Double(text), key.isFinite else {
                        throw MetaPoolError(.invalidValue, "the --order-by value \"\(text)\" is not a number", at: table.location(row: row, column: table.columns[c]))
                    }
                    keys.append(key)
                }
                cumulative = try CumulativeAnalysis(fit, sortedBy: keys)
            } else {
                cumulative = try CumulativeAnalysis(fit)
            }
            return .object([
                ("leave_one_out", try LeaveOneOut(fit).summary()),
                ("cumulative", try cumulative.summary()),
                ("influence", try InfluenceDiagnostics(fit).summary()),
            ])
        }
        if format == .json {
            print(json.serialized())
        } else {
            print(Self.table(json), terminator: "")
        }
    }

    /// Each section's rows as a fixed-width table with metafor's column names.
    static func table(_ json: JSONValue) -> String {
        guard case .object(let sections) = json else { return "" }
        let titles = ["leave_one_out": "Leave-one-out (each row: the model without that study)",
                      "cumulative": "Cumulative meta-analysis (each row: the model up to and including that study)",
                      "influence": "Influence diagnostics (* = influential, by metafor's criteria)"]
        var out = ""
        for (name, section) in sections {
            guard case .object(let members) = section,
                  case .array(let rows)? = members.first(where: { $0.0 == "rows" })?.1 else { continue }
            out += (titles[name] ?? name) + "\n\n"
            var header: [String] = []
            var cells: [[String]] = []
            for row in rows {
                guard case .object(let fields) = row else { continue }
                if header.isEmpty { header = fields.map(\.0).filter { $0 != "influential" } }
                var line: [String] = []
                for key in header {
                    let value = fields.first { $0.0 == key }?.1 ?? .null
                    switch value {
                    case .string(let s): line.append(s)
                    case .number(let d): line.append(key.contains("p_value") ? (d < 1e-4 ? "<.0001" : String(format: "%.4f", d)) : String(format: "%.4f", d))
                    case .integer(let i): line.append(String(i))
                    case .bool(let b): line.append(b ? "yes" : "no")
                    default: line.append("NA")
                    }
                }
                if case .bool(true)? = fields.first(where: { $0.0 == "influential" })?.1 { line[0] += " *" }
                cells.append(line)
            }
            let widths = header.indices.map { j in max(header[j].count, cells.map { $0[j].count }.max() ?? 0) }
            out += header.indices.map { j in j == 0 ? header[j].padding(toLength: widths[j], withPad: " ", startingAt: 0) : header[j].leftPadded(widths[j]) }.joined(separator: "  ") + "\n"
            for line in cells {
                out += line.indices.map { j in j == 0 ? line[j].padding(toLength: widths[j], withPad: " ", startingAt: 0) : line[j].leftPadded(widths[j]) }.joined(separator: "  ") + "\n"
            }
            out += "\n"
        }
        return out
    }
}

// `metapool sensitivity --method GLMM`: leave-one-out and cumulative refits of the GLMM
// (MixedModelRefits); no influence diagnostics, which are defined for the inverse-variance models.

import MetaPool

extension SensitivityCommand {
    func runGLMM() throws {
        let refits = try reportingErrors(file: model.file) { () throws(MetaPoolError) -> MixedModelRefits in
            let specification = model.specification
            let table = try model.table().excludingStudies(measure: specification.measure, options: specification.effectSizeOptions).table
            var order: [Int]? = nil
            if orderBy != nil {
                let keys = try orderKeys(table)
                // Stable: equal keys keep input order (as CumulativeAnalysis).
                order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
            }
            let k = table.rowCount
            let progress = ProgressReporter(task: "sensitivity", unit: "GLMM refits", total: max(0, 2 * k - 1))
            defer { progress.finish() }
            return try MixedModelRefits(table: table, specification: specification, order: order) { done, _ in progress.update(done) }
        }
        if format == .json {
            print(refits.summary().serialized())
            return
        }
        // Rows that could not be refitted show NA, with the reason listed under the table.
        func rows(_ list: [MixedModelRefits.Row]) -> (rows: [[(String, JSONValue)]], errors: String) {
            let template = list.first { if case .success = $0.result { true } else { false } }?.json().map(\.0) ?? ["study", "k"]
            var errors = ""
            let fields = list.map { row -> [(String, JSONValue)] in
                guard case .failure(let error) = row.result else { return row.json() }
                errors += "  \(SafeText.terminal(row.study)): \(SafeText.terminal(error.reason))\n"
                return template.map { key in key == "study" ? (key, .string(row.study)) : key == "k" ? (key, .integer(row.count)) : (key, .null) }
            }
            return (fields, errors)
        }
        let leave = rows(refits.leaveOneOut), cumulative = rows(refits.cumulative)
        var out = Self.table([
            ("Leave-one-out, GLMM refitted without each study", leave.rows),
            ("Cumulative meta-analysis, GLMM refitted to the studies up to and including each (from the second study: a GLMM needs two)", cumulative.rows),
        ])
        let errors = leave.errors + cumulative.errors
        if !errors.isEmpty { out += "Not fitted (NA above):\n" + errors + "\n" }
        out += "Influence diagnostics: not computed for the GLMM (" + MixedModelRefits.influenceNote + ")\n"
        print(out, terminator: "")
    }
}

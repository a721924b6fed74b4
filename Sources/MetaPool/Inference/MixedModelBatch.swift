// The batch engine for the GLMM: many analyses of counts, each fitted by maximum likelihood
// (GeneralizedLinearMixedModel or OddsRatioMixedModel as the specification selects), across all
// cores, one result per analysis in input order. The inverse-variance batch (BatchAnalysis) works
// from yi and vi; the GLMM needs each analysis's own rows of counts.

/// Many independent GLMM analyses of one table, grouped by an analysis column (or by the lines of
/// JSON Lines input), each fitted with one ``AnalysisSpecification``.
public struct MixedModelBatch: Sendable {
    /// One analysis: its identifier and its rows of counts.
    public struct Analysis: Sendable {
        public let id: String
        public let table: DataTable
        /// The number of studies (rows).
        public var count: Int { table.rowCount }
    }

    /// A fitted GLMM, or why the analysis could not be fitted.
    public typealias Outcome = Swift.Result<any FittedModel, MetaPoolError>

    /// The model every analysis is fitted with (a GLMM).
    public let specification: AnalysisSpecification

    /// - Throws: ``MetaPoolError`` `.invalidArgument` unless the specification is a valid GLMM.
    public init(specification: AnalysisSpecification) throws(MetaPoolError) {
        if case .glmm = specification.pooling {} else if specification.cluster == nil {
            throw MetaPoolError(.invalidArgument, "MixedModelBatch fits the GLMM or the three-level model (a cluster column); use BatchAnalysis for \(specification.pooling.code)")
        }
        try specification.validate()
        self.specification = specification
    }

    /// The analyses of a table: rows grouped by `column` (cells trimmed and compared
    /// case-insensitively, named as first written, in order of first appearance, as
    /// ``BatchAnalysis/analyses(from:column:measure:options:)`` groups them).
    public static func analyses(from table: DataTable, column: String = "analysis") throws(MetaPoolError) -> [Analysis] {
        try table.batchGroups(column: column).map { Analysis(id: $0.id, table: table.subset(rows: $0.rows)) }
    }

    /// The analyses of JSON Lines input read by ``DataTable/readJSONLines(_:source:idColumn:)``:
    /// one per line, with that line's own columns.
    public static func analyses(jsonLines table: DataTable, keys: [Int: [String]], column: String = "analysis") throws(MetaPoolError) -> [Analysis] {
        try table.jsonLinesGroups(keys: keys, column: column).map { Analysis(id: $0.id, table: $0.table) }
    }

    /// Fits one analysis; its errors name the analysis.
    public func fit(_ a: Analysis) -> Outcome {
        do {
            return .success(try specification.fit(a.table))
        } catch {
            var e = error
            e.reason = "analysis \(a.id): " + e.reason
            return .failure(e)
        }
    }

    /// Fits every analysis, `tasks` at a time, results in input order.
    public func run(_ analyses: [Analysis], tasks: Int = BatchAnalysis.processorCount) async -> [Outcome] {
        let n = analyses.count
        guard n > 0 else { return [] }
        let workers = max(1, min(tasks, n))
        if workers == 1 { return analyses.map(fit) }
        return await withTaskGroup(of: (Int, Outcome).self) { group in
            var next = 0
            var results = [Outcome?](repeating: nil, count: n)
            // At most `workers` fits in flight (a GLMM fit is far longer than the bookkeeping).
            while next < min(workers, n) { let i = next; group.addTask { (i, self.fit(analyses[i])) }; next += 1 }
            for await (i, outcome) in group {
                results[i] = outcome
                if next < n { let j = next; group.addTask { (j, self.fit(analyses[j])) }; next += 1 }
            }
            return results.map { $0 ?? .failure(MetaPoolError(.noConvergence, "the analysis was not fitted")) }
        }
    }

    /// One JSON Lines object: `analysis` and the GLMM's summary (``GeneralizedLinearMixedModel/jsonSummary()``),
    /// or `analysis`, `k` and `error`.
    public static func summary(of outcome: Outcome, for analysis: Analysis) -> JSONValue {
        if case .success(let fit) = outcome, case .object(let members)? = try? fit.jsonSummary() {
            return .object([("analysis", .string(analysis.id))] + members)
        }
        let reason: String
        switch outcome {
        case .failure(let error): reason = error.reason
        case .success: reason = "analysis \(analysis.id): the summary could not be encoded"
        }
        return .object([("analysis", .string(analysis.id)), ("k", .integer(analysis.count)), ("error", .string(reason))])
    }
}

extension DataTable {
    /// The table with only these rows (0-based), their line and row numbers kept.
    func subset(rows: [Int]) -> DataTable {
        selectingRows(rows)
    }
}

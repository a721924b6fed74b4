// Subgroups for any model: each level of a column fitted alone with the same specification
// (Mantel–Haenszel, Peto or the GLMM as R's meta does it), and the Wald test between them.

/// A subgroup analysis with any pooling method: each subgroup is fitted on its own with the same
/// ``AnalysisSpecification``, and the subgroups are compared by the Wald test of their estimates,
/// Q_between = Σ_g w_g(θ̂_g − θ̄)² with w_g = 1/SE_g² and θ̄ = Σw_gθ̂_g/Σw_g on G − 1 df
/// (Borenstein et al. 2009, ch. 19, eq. 19.11; the test R's meta reports for subgroups of
/// Mantel–Haenszel, Peto and GLMM fits; metafor: `rma(yi = θ̂_g, sei = SE_g, method = "FE")$QE`).
/// For the inverse-variance models with their Q decomposition and the common τ², use
/// ``SubgroupAnalysis``.
public struct SubgroupFits: Sendable {
    /// One level of the grouping column and its fit.
    public struct Group: Sendable {
        /// The level, as first written (levels differing only in case or surrounding spaces are one).
        public let label: String
        /// The model fitted to the subgroup's rows with the shared specification.
        public let fit: any FittedModel
        /// The input rows of the subgroup (1-based row numbers, as errors name them).
        public let rows: [Int]
        /// The model fitted, as the JSON's `model` names it (see ``SubgroupFits/modelDescription``).
        public let model: String
    }

    /// The grouping column, as the table names it.
    public let column: String
    /// The specification every subgroup and the overall model are fitted with.
    public let specification: AnalysisSpecification
    /// The subgroups, in order of first appearance.
    public let groups: [Group]
    /// The model fitted to every row.
    public let overall: any FittedModel
    /// The Wald test for subgroup differences.
    public let qBetween: Double
    /// Its degrees of freedom, G − 1.
    public let qBetweenDegreesOfFreedom: Int
    /// Its p-value (χ² on G − 1 df; 1 for a single subgroup).
    public let qBetweenPValue: Double

    /// Fits every subgroup and the overall model.
    /// - Throws: ``MetaPoolError``: `.missingColumn` when the table lacks `column`, `.invalidValue`
    ///   for a row with no value in it, and whatever a subgroup's fit throws (with the subgroup named).
    public init(table: DataTable, by column: String, specification: AnalysisSpecification) throws(MetaPoolError) {
        let levels = try SubgroupAnalysis.levels(table: table, column: column)
        self.column = levels.column
        self.specification = specification
        overall = try specification.fit(table)
        var groups: [Group] = []
        for (label, rows) in zip(levels.labels, levels.rows) {
            let subset = table.selectingRows(rows)
            do {
                let spec = try Self.groupSpecification(specification, rows: subset)
                groups.append(Group(label: label, fit: try spec.fit(subset), rows: subset.rowNumbers,
                                    model: Self.modelDescription(spec)))
            } catch {
                var e = error
                e.reason = "subgroup \"\(MetaPoolError.shortened(label))\": \(e.reason)"
                if e.location.file == nil { e.location.file = table.source }
                throw e
            }
        }
        self.groups = groups
        // Borenstein et al. (2009), eq. 19.11, weighted around the inverse-variance mean.
        var sw = 0.0, swy = 0.0
        for g in groups {
            let w = 1 / (g.fit.pooled.standardError * g.fit.pooled.standardError)
            sw += w
            swy += w * g.fit.pooled.estimate
        }
        let mean = swy / sw
        var q = 0.0
        for g in groups {
            let r = g.fit.pooled.estimate - mean
            q += r * r / (g.fit.pooled.standardError * g.fit.pooled.standardError)
        }
        let df = groups.count - 1
        qBetween = q
        qBetweenDegreesOfFreedom = df
        // One subgroup: no test (0 df), NaN here and null in JSON, as for ``SubgroupAnalysis``.
        qBetweenPValue = df > 0 ? ChiSquared(degreesOfFreedom: Double(df)).survival(q) : .nan
        guard q.isFinite, mean.isFinite else {
            throw MetaPoolError(.insufficientData, "the subgroup estimates are too extreme to compare in double precision",
                                at: InputLocation(file: table.source, column: self.column))
        }
    }

    /// The model every subgroup is fitted with, as the JSON's `model` names it:
    /// `common-effect (MH)`, `common-effect (PETO)` or `random-effects (GLMM)`.
    public var modelDescription: String { Self.modelDescription(specification) }

    /// A subgroup's specification: with a cluster column, a subgroup whose clusters each hold a
    /// single study cannot tell the two variances apart, and is fitted by the two-level model
    /// with the same method (a single study by the common-effect model, as ``SubgroupAnalysis`` does).
    static func groupSpecification(_ specification: AnalysisSpecification, rows subset: DataTable) throws(MetaPoolError) -> AnalysisSpecification {
        guard let column = specification.cluster else { return specification }
        let studies = try subset.excludingStudies(measure: specification.measure, options: specification.effectSizeOptions).table
        let clusters = try studies.clusters(column: column)
        guard clusters.names.count == clusters.ids.count else { return specification }
        var spec = specification
        (spec.cluster, spec.robust) = (nil, nil)
        if clusters.ids.count == 1 { (spec.pooling, spec.ciMethod) = (.inverseVariance(.fixedEffect), .wald) }
        return spec
    }

    static func modelDescription(_ specification: AnalysisSpecification) -> String {
        if specification.cluster != nil {
            if case .inverseVariance(let method) = specification.pooling { return "three-level (\(method.rawValue))" }
            return "three-level (GLMM, Laplace)"
        }
        return switch specification.pooling {
        case .inverseVariance(let method): method == .fixedEffect ? "common-effect (FE)" : "random-effects (\(method.rawValue))"
        case .glmm: "random-effects (GLMM)"
        default: "common-effect (\(specification.pooling.code))"
        }
    }

    /// The JSON object `pool --by` prints: the options, every subgroup's summary (its `subgroup`
    /// label first), the overall summary and the test for subgroup differences.
    public func summary() throws(MetaPoolError) -> JSONValue {
        var subgroups: [JSONValue] = []
        for g in groups {
            guard case .object(let members) = try g.fit.jsonSummary() else { continue }
            // A three-level fit's own `model` ("three-level") is the subgroup's `model` with the method.
            let own = g.fit is any ThreeLevelFitted ? members.filter { $0.0 != "model" } : members
            subgroups.append(.object([("subgroup", .string(g.label)), ("model", .string(g.model))] + own))
        }
        return .object([
            ("by", .string(column)),
            ("measure", .string(overall.measure.rawValue)),
            ("method", .string(specification.pooling.code)),
            ("ci_method", .string(specification.ciMethod.rawValue)),
            ("level", .number(specification.level)),
            ("subgroups", .array(subgroups)),
            ("overall", try overall.jsonSummary()),
            ("test_subgroup_differences", .object([
                ("test", .string("Q_between")), ("q", .number(qBetween)), ("df", .integer(qBetweenDegreesOfFreedom)),
                ("distribution", .string("chi2")), ("p_value", qBetweenPValue.isNaN ? .null : .number(qBetweenPValue)),
            ])),
        ])
    }
}

extension SubgroupAnalysis {
    /// The levels of a grouping column, as `--by` groups them: cells trimmed and compared
    /// case-insensitively, each level named as first written, in order of first appearance;
    /// with the table rows (0-based indices) of each.
    static func levels(table: DataTable, column: String) throws(MetaPoolError) -> (column: String, labels: [String], rows: [[Int]]) {
        guard let index = table.columnIndex(column) else {
            throw MetaPoolError(.missingColumn,
                                "names column \"\(column)\", which the input does not have (columns: \(table.columns.joined(separator: ", ")))",
                                at: InputLocation(file: table.source, column: column), setting: .subgroups)
        }
        var labels: [String] = []
        var rows: [[Int]] = []
        var position: [String: Int] = [:]
        for (row, cell) in table.cells(inColumn: index).enumerated() {
            let cell = cell?.trimmingSpaces()
            guard let cell, !cell.isEmpty else {
                throw MetaPoolError(.invalidValue, "the subgroup cell is empty; every row needs a value in the subgroup column",
                                    at: table.location(row: row, column: table.columns[index]))
            }
            let key = cell.lowercased()
            if let p = position[key] {
                rows[p].append(row)
            } else {
                position[key] = labels.count
                labels.append(cell)
                rows.append([row])
            }
        }
        return (table.columns[index], labels, rows)
    }
}

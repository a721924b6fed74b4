// Subgroup analysis (`--by COLUMN`): one model per subgroup and a test for subgroup differences.

/// Separate meta-analyses of the levels of one column, with the test for subgroup differences.
///
/// Each subgroup gets its own model and its own τ² (the default of R's meta, `subgroup =`).
/// The test for subgroup differences pools the G subgroup estimates θ̂_g with their standard
/// errors as fitted in a fixed-effect model: Q_between = Σ w_g (θ̂_g − θ̄)², w_g = 1/SE_g²,
/// θ̄ = Σ w_g θ̂_g / Σ w_g, referred to χ² with G − 1 df (Borenstein et al. 2009, ch. 19,
/// eq. 19.7; Schwarzer et al. 2015, §2.4.2). A subgroup of one study is reported as that study
/// (fixed effect, Wald), since no τ² or t interval exists for k = 1.
public struct SubgroupAnalysis: Sendable {
    /// One level of the grouping column and its model.
    public struct Subgroup: Sendable {
        /// The level, as first written in the input (levels differing only in case or
        /// surrounding spaces are one level).
        public let label: String
        public let analysis: MetaAnalysis
    }

    /// The grouping column.
    public let column: String
    /// The subgroups, in order of first appearance.
    public let subgroups: [Subgroup]
    /// The model of all rows together.
    public let overall: MetaAnalysis
    /// Q_between, its degrees of freedom G − 1 and its p-value.
    public let qBetween: Double
    public let qBetweenDegreesOfFreedom: Int
    public let qBetweenPValue: Double

    /// Fits every subgroup and the overall model.
    /// - Throws: ``MetaPoolError``: `.missingColumn` when the table lacks `column`, `.invalidValue`
    ///   for a row with no value in it, and whatever effect sizes or a model throw.
    public init(table: DataTable, by column: String, measure: EffectMeasure? = nil,
                method: TauSquaredMethod = .restrictedMaximumLikelihood,
                ciMethod: ConfidenceIntervalMethod = .wald, level: Double = 0.95) throws(MetaPoolError) {
        guard let index = table.columnIndex(column) else {
            throw MetaPoolError(.missingColumn,
                                "--by names column \"\(column)\", which the input does not have (columns: \(table.columns.joined(separator: ", ")))",
                                at: InputLocation(file: table.source, column: column))
        }
        // Effect sizes of every row first, so a bad row is reported whatever its subgroup.
        let allEffects = try EffectSizes(table: table, measure: measure)
        let resolvedMeasure = allEffects.measure
        var labels: [String] = []
        var keys: [String] = []
        for (row, cells) in table.rows.enumerated() {
            let cell = index < cells.count ? cells[index]?.trimmingSpaces() : nil
            guard let cell, !cell.isEmpty else {
                throw MetaPoolError(.invalidValue, "the subgroup cell is empty; every row needs a value in the --by column",
                                    at: table.location(row: row, column: table.columns[index]))
            }
            let key = cell.lowercased()
            if !keys.contains(key) {
                keys.append(key)
                labels.append(cell)
            }
        }
        var subgroups: [Subgroup] = []
        for label in labels {
            let rows = try table.selecting([RowCondition(column: table.columns[index], value: label)])
            let effects = try EffectSizes(table: rows, measure: resolvedMeasure)
            let single = effects.count == 1
            let analysis = try MetaAnalysis(effects, method: single ? .fixedEffect : method,
                                            ciMethod: single ? .wald : ciMethod, level: level)
            subgroups.append(Subgroup(label: label, analysis: analysis))
        }
        self.column = table.columns[index]
        self.subgroups = subgroups
        self.overall = try MetaAnalysis(allEffects, method: method, ciMethod: ciMethod, level: level)
        var sumW = 0.0, sumWY = 0.0
        for s in subgroups {
            let w = 1 / (s.analysis.standardError * s.analysis.standardError)
            sumW += w
            sumWY += w * s.analysis.estimate
        }
        let mean = sumWY / sumW
        var q = 0.0
        for s in subgroups {
            let d = s.analysis.estimate - mean
            q += d * d / (s.analysis.standardError * s.analysis.standardError)
        }
        let df = subgroups.count - 1
        qBetween = q
        qBetweenDegreesOfFreedom = df
        qBetweenPValue = df > 0 ? ChiSquared(degreesOfFreedom: Double(df)).survival(q) : .nan
    }

    /// The JSON object `pool --by` prints: the options, every subgroup's summary (with its
    /// `subgroup` label first), the overall summary and the test for subgroup differences.
    public func summary() throws(MetaPoolError) -> JSONValue {
        func encode(_ fit: MetaAnalysis) throws(MetaPoolError) -> [(String, JSONValue)] {
            let summary = try fit.summary()
            guard let value = try? OrderedJSONEncoder.encode(summary), case .object(let members) = value else {
                throw MetaPoolError(.invalidArgument, "could not encode the summary")
            }
            return members
        }
        var groups: [JSONValue] = []
        for s in subgroups {
            groups.append(.object([("subgroup", .string(s.label))] + (try encode(s.analysis))))
        }
        let test: JSONValue = .object([
            ("q", .number(qBetween)),
            ("df", .integer(qBetweenDegreesOfFreedom)),
            ("p_value", qBetweenPValue.isNaN ? .null : .number(qBetweenPValue)),
        ])
        return .object([
            ("by", .string(column)),
            ("measure", .string(overall.effects.measure.rawValue)),
            ("method", .string(overall.method.rawValue)),
            ("ci_method", .string(overall.ciMethod.rawValue)),
            ("level", .number(overall.level)),
            ("subgroups", .array(groups)),
            ("overall", .object(try encode(overall))),
            ("test_subgroup_differences", test),
        ])
    }
}

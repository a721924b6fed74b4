// Subgroups of a Bayesian random-effects analysis: each level of a column fitted on its own with
// the same priors, and the overall fit; a subgroup whose posterior cannot be formed (too few
// studies for the priors) keeps its error and the others are reported.

/// A Bayesian subgroup analysis: one fit per level of a column (``SubgroupAnalysis/levels`` order
/// and naming), each with the same model and priors, and the fit of every row.
///
/// The model is chosen by the caller (`fit`), so any ``BayesianPosterior`` works: the
/// normal–normal ``BayesianMetaAnalysis`` of the effect sizes, or a model of the counts.
/// There is no test for subgroup differences: compare the subgroups' posteriors of μ.
public struct BayesianSubgroups: Sendable {
    /// A fitted subgroup: its studies and posterior.
    public struct Fit: Sendable {
        public let effects: EffectSizes
        public let posterior: any BayesianPosterior
    }

    /// One level of the grouping column.
    public struct Group: Sendable {
        /// The level, as first written.
        public let label: String
        /// The input rows of the subgroup (1-based row numbers, as errors name them).
        public let rows: [Int]
        /// The subgroup's effect sizes (`nil` only when they could not be read).
        public let effects: EffectSizes?
        /// The subgroup's fit, or why it could not be fitted (its reason names the subgroup).
        public let outcome: Result<Fit, MetaPoolError>
    }

    /// The grouping column, as the table names it.
    public let column: String
    /// The subgroups, in order of first appearance.
    public let groups: [Group]
    /// The fit of every row.
    public let overall: Fit

    /// Fits every row, then each subgroup.
    /// - Parameters:
    ///   - fit: the model of a table's rows and their effect sizes (read with `measure` and `options`).
    /// - Throws: ``MetaPoolError``: `.missingColumn` when the table lacks `column`, `.invalidValue` for a
    ///   row with no value in it, and whatever reading the effect sizes or the overall fit throws.
    ///   A subgroup's own failure is kept in its ``Group/outcome``.
    public init(table: DataTable, by column: String, measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions(),
                fit: (DataTable, EffectSizes) throws(MetaPoolError) -> any BayesianPosterior) throws(MetaPoolError) {
        let levels = try SubgroupAnalysis.levels(table: table, column: column)
        self.column = levels.column
        let all = try EffectSizes(table: table, measure: measure, options: options)
        overall = Fit(effects: all, posterior: try fit(table, all))
        var groups: [Group] = []
        for (label, rows) in zip(levels.labels, levels.rows) {
            let subset = table.selectingRows(rows)
            var effects: EffectSizes?
            do throws(MetaPoolError) {
                // The overall measure, so that every subgroup is on the same scale.
                let read = try EffectSizes(table: subset, measure: all.measure, options: options)
                effects = read
                groups.append(Group(label: label, rows: subset.rowNumbers, effects: read,
                                    outcome: .success(Fit(effects: read, posterior: try fit(subset, read)))))
            } catch {
                var e = error
                e.reason = "subgroup \"\(MetaPoolError.shortened(label))\": \(e.reason)"
                if e.location.file == nil { e.location.file = table.source }
                groups.append(Group(label: label, rows: subset.rowNumbers, effects: effects, outcome: .failure(e)))
            }
        }
        self.groups = groups
    }
}

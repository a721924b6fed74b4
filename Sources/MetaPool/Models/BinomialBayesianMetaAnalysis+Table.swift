// The Bayesian binomial–normal model fitted to a table's `events` and `total` columns, with
// errors that name the file, row and column.

extension BinomialBayesianMetaAnalysis {
    /// The model of a table's `events` and `total` columns (one study per row).
    /// - Throws: ``MetaPoolError``: `.missingColumn` for a missing column; `.invalidValue` for a cell
    ///   that is not a count (0 ≤ events ≤ total, whole numbers), naming its row and column; whatever
    ///   ``init(events:totals:tauPrior:muPrior:)`` throws for the priors or an improper posterior,
    ///   with the file named.
    public init(table: DataTable, tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        for name in ["events", "total"] where table.columnIndex(name) == nil {
            throw MetaPoolError(.missingColumn, "the binomial likelihood needs the columns `events` and `total`; the column is missing",
                                at: InputLocation(file: table.source, column: name))
        }
        let reader = ColumnReader(table: table)
        let events = try reader.numbers("events"), totals = try reader.numbers("total")
        // The counts checked where the table locates them (file, row, column), as every model of counts does.
        _ = try EffectSizes.proportions(events: events, totals: totals, measure: .logitProportion,
                                        labels: reader.labels(), locations: StudyLocations(table: table))
        do {
            try self.init(events: events, totals: totals, tauPrior: tauPrior, muPrior: muPrior)
        } catch {
            var e = error
            if e.location.file == nil { e.location.file = table.source }
            throw e
        }
    }
}

extension BinomialBayesianMetaAnalysis: BayesianPosterior {
    /// "binomial-normal".
    public var likelihoodName: String { "binomial-normal" }
}

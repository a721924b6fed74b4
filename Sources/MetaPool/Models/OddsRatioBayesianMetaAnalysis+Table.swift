// The Bayesian hypergeometric–normal model fitted to a table's two-group counts, with errors that
// name the file, row and column.

extension OddsRatioBayesianMetaAnalysis {
    /// The model of 2×2 tables already read and checked (``TwoGroupCounts``).
    /// - Throws: ``MetaPoolError`` as ``init(treatEvents:treatTotals:controlEvents:controlTotals:tauPrior:muPrior:)``
    ///   for the priors or an improper posterior.
    public init(counts: TwoGroupCounts, tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        try self.init(treatEvents: counts.treatEvents, treatTotals: counts.treatTotals, controlEvents: counts.controlEvents,
                      controlTotals: counts.controlTotals, tauPrior: tauPrior, muPrior: muPrior)
    }

    /// The model of a table's `treat_events`, `treat_total`, `control_events` and `control_total`
    /// columns (one study per row).
    /// - Throws: ``MetaPoolError``: `.missingColumn` for a missing column; `.invalidValue` for a cell
    ///   that is not a count, naming its row and column (as ``TwoGroupCounts/init(table:)``);
    ///   `.invalidArgument` or `.insufficientData` for the priors or an improper posterior, with the file named.
    public init(table: DataTable, tauPrior: TauPrior, muPrior: EffectPrior = .flat) throws(MetaPoolError) {
        let counts = try TwoGroupCounts(table: table)
        do {
            try self.init(counts: counts, tauPrior: tauPrior, muPrior: muPrior)
        } catch {
            var e = error
            if e.location.file == nil { e.location.file = table.source }
            throw e
        }
    }
}

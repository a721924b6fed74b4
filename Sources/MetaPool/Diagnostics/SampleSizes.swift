// The total sample size of each study, for the regression tests on sample size (Peters' test).

extension DataTable {
    /// The total sample size nᵢ of each row, as metafor's `escalc()` stores it (its `ni`
    /// attribute): `treat_total + control_total` for two-group data, else `total` for
    /// single-arm proportions, else a column `ni`.
    /// - Throws: ``MetaPoolError`` `.missingColumn` when none of these columns is present,
    ///   `.invalidValue` for an empty, non-numeric or non-positive cell.
    public func totalSampleSizes() throws(MetaPoolError) -> [Double] {
        let reader = ColumnReader(table: self)
        let sizes: [Double]
        let column: String
        if columnIndex("treat_total") != nil, columnIndex("control_total") != nil {
            let n1 = try reader.numbers("treat_total"), n2 = try reader.numbers("control_total")
            sizes = zip(n1, n2).map { $0 + $1 }
            column = "treat_total"
        } else if columnIndex("total") != nil {
            sizes = try reader.numbers("total")
            column = "total"
        } else if columnIndex("ni") != nil {
            sizes = try reader.numbers("ni")
            column = "ni"
        } else {
            throw MetaPoolError(.missingColumn, "the sample sizes come from the columns treat_total and control_total, total, or ni; the input has none of them",
                                at: InputLocation(file: source))
        }
        for (i, n) in sizes.enumerated() where !(n > 0 && n.isFinite) {
            throw MetaPoolError(.invalidValue, "the sample size is \(n); it must be greater than 0", at: location(row: i, column: column))
        }
        return sizes
    }
}

// The design matrix of a meta-regression from moderator columns: numeric columns as they are,
// text columns as factors with treatment (dummy) coding, as R's model.matrix() builds them.

/// An intercept plus the moderators' columns, in the order R's `model.matrix(~ a + b)` gives:
/// a numeric column is one predictor; a text column is a factor whose levels are sorted as R
/// sorts them (by Unicode code point here, which agrees with R's C-locale order) and coded with
/// the first level as the reference, one 0/1 column per other level, named column + level
/// (`allocrandom`, as metafor names them).
public struct ModeratorDesign: Sendable {
    /// Row-major k × p.
    public let matrix: [Double]
    /// `intrcpt` first, then the predictors.
    public let predictors: [String]
    /// The number of rows k (one per study).
    public let rowCount: Int

    /// Builds the design from the moderator columns of `table`, in the order given.
    /// - Throws: ``MetaPoolError`` for a table without rows, a column the table lacks, an empty
    ///   cell (naming its row and column), or a moderator with a single value (it would duplicate the intercept).
    public init(table: DataTable, moderators: [String]) throws(MetaPoolError) {
        let k = table.rows.count
        guard k > 0 else {
            throw MetaPoolError(.insufficientData, "the input has no data rows; there are no studies", at: InputLocation(file: table.source))
        }
        var columns: [[Double]] = [[Double](repeating: 1, count: k)]
        var names = ["intrcpt"]
        for name in moderators {
            guard let c = table.columnIndex(name) else {
                throw MetaPoolError(.missingColumn, "names column \"\(name)\", which the input does not have (columns: \(table.columns.joined(separator: ", ")))",
                                    at: InputLocation(file: table.source, column: name), setting: .moderators)
            }
            let header = table.columns[c]
            var cells: [String] = []
            cells.reserveCapacity(k)
            for row in 0..<k {
                let text = (c < table.rows[row].count ? table.rows[row][c] : nil)?.trimmingSpaces() ?? ""
                guard !text.isEmpty else {
                    throw MetaPoolError(.invalidValue, "the moderator is empty; every study needs a value (leave the row out of the analysis, or fill it in)",
                                        at: table.location(row: row, column: header))
                }
                cells.append(text)
            }
            let numbers = cells.map { Double($0) }
            if numbers.allSatisfy({ $0?.isFinite == true }) {
                let values = numbers.compactMap { $0 }
                guard Set(values).count > 1 else {
                    throw MetaPoolError(.insufficientData, "the moderator \"\(header)\" has the same value (\(cells[0])) in every study; it cannot be estimated next to the intercept",
                                        at: InputLocation(file: table.source, column: header))
                }
                columns.append(values)
                names.append(header)
            } else {
                let levels = Set(cells).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
                guard levels.count > 1 else {
                    throw MetaPoolError(.insufficientData, "the moderator \"\(header)\" has one level (\(cells[0])) in every study; it cannot be estimated next to the intercept",
                                        at: InputLocation(file: table.source, column: header))
                }
                for level in levels.dropFirst() {
                    columns.append(cells.map { $0 == level ? 1 : 0 })
                    names.append(header + level)
                }
            }
        }
        let p = columns.count
        var matrix = [Double](repeating: 0, count: k * p)
        for j in 0..<p { for i in 0..<k { matrix[i * p + j] = columns[j][i] } }
        self.matrix = matrix
        predictors = names
        rowCount = k
    }
}

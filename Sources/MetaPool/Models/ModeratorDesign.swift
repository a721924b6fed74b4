// The design matrix of a meta-regression from moderator columns: numeric columns as they are,
// text columns as factors with treatment (dummy) coding, as R's model.matrix() builds them.

/// An intercept plus the moderators' columns, in the order R's `model.matrix(~ a + b)` gives:
/// a numeric column is one predictor; a text column is a factor whose levels are sorted as R
/// sorts them (by Unicode code point here, which agrees with R's C-locale order) and coded with
/// the first level as the reference, one 0/1 column per other level, named column + level
/// (`allocrandom`, as metafor names them).
///
/// How a column is classified:
/// - numeric when every cell is a finite decimal number by the rules of the effect columns
///   (`12`, `-0.5`, `1.2e-3`; see `ColumnReader.parseNumber`);
/// - an error naming the first offending cell when every cell reads as a number in some
///   spelling but one is not a finite decimal number (`nan`, `inf`, `1e999`, hex `0x10`, a
///   decimal comma `0,5`): such a column is meant to be numeric, and one bad cell must not turn
///   it into a factor with a level per value;
/// - otherwise a factor. Levels are compared trimmed and ignoring case, as `--by`, `--where` and
///   `--batch` compare them (`Low` and `low` are one level, named as first written).
///
/// A numeric column whose cross-products Σxᵢ² overflow a Double (|x| ≳ 1e154) is an error
/// naming its largest cell, as metafor refuses it (`crossprod(X)` is infinite); rescale it.
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
        let k = table.rowCount
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
                let text = table.cell(row: row, column: c)?.trimmingSpaces() ?? ""
                guard !text.isEmpty else {
                    throw MetaPoolError(.invalidValue, "the moderator is empty; every study needs a value (leave the row out of the analysis, or fill it in)",
                                        at: table.location(row: row, column: header))
                }
                cells.append(text)
            }
            switch try Self.classify(cells, table: table, column: header) {
            case .numeric(let values):
                guard Set(values).count > 1 else {
                    throw MetaPoolError(.insufficientData, "the moderator \"\(header)\" has the same value (\(cells[0])) in every study; it cannot be estimated next to the intercept",
                                        at: InputLocation(file: table.source, column: header))
                }
                columns.append(values)
                names.append(header)
            case .factor(let keys, let levels):
                guard levels.count > 1 else {
                    throw MetaPoolError(.insufficientData, "the moderator \"\(header)\" has one level (\(cells[0])) in every study; it cannot be estimated next to the intercept",
                                        at: InputLocation(file: table.source, column: header))
                }
                for level in levels.dropFirst() {
                    columns.append(keys.map { $0 == level.key ? 1 : 0 })
                    names.append(header + level.name)
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

extension ModeratorDesign {
    /// A moderator column read as numbers, or as a factor: each row's level key (trimmed,
    /// lowercased) and the levels sorted by their first-written spelling (Unicode code points,
    /// R's C-locale order), each with that spelling.
    enum Column {
        case numeric([Double])
        case factor(keys: [String], levels: [(key: String, name: String)])
    }

    /// Classifies the (trimmed, non-empty) cells of one moderator column; see ``ModeratorDesign``.
    static func classify(_ cells: [String], table: DataTable, column header: String) throws(MetaPoolError) -> Column {
        var values: [Double] = []
        values.reserveCapacity(cells.count)
        var firstBad: Int?
        var allNumberLike = true
        for (row, text) in cells.enumerated() {
            if let value = try? ColumnReader.parseNumber(text, at: InputLocation()) {
                values.append(value)
            } else if looksNumeric(text) {
                if firstBad == nil { firstBad = row }
            } else {
                allNumberLike = false
                break
            }
        }
        if allNumberLike {
            if let row = firstBad {
                // Rethrow the effect columns' message (not finite, hex, comma) at the cell.
                _ = try ColumnReader.parseNumber(cells[row], at: table.location(row: row, column: header))
            }
            var sumSquares = 0.0, largest = 0
            for (i, x) in values.enumerated() {
                sumSquares += x * x
                if abs(x) > abs(values[largest]) { largest = i }
            }
            guard sumSquares.isFinite else {
                throw MetaPoolError(.invalidValue, "the moderator \"\(header)\" holds \(cells[largest]), too large for the cross-products of the design in double precision (the sum of its squares overflows; metafor refuses it too); rescale the column, e.g. divide it by a power of 10",
                                    at: table.location(row: largest, column: header))
            }
            return .numeric(values)
        }
        var names: [String: String] = [:]
        var keys: [String] = []
        keys.reserveCapacity(cells.count)
        for text in cells {
            let key = text.lowercased()
            keys.append(key)
            if names[key] == nil { names[key] = text }
        }
        let levels = names.map { (key: $0.key, name: $0.value) }
            .sorted { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
        return .factor(keys: keys, levels: levels)
    }

    /// Whether a cell that is not a finite decimal number still reads as a number in some
    /// spelling: NaN, an infinity, an overflowing exponent or hex (as Swift's and C's `strtod`
    /// read them), or a decimal comma or thousands separator.
    static func looksNumeric(_ text: String) -> Bool {
        Double(text) != nil || DataTable.commaHint(text) != nil
    }
}

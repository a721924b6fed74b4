// The column that names the studies: chosen by the caller, else recognised by its name.

extension DataTable {
    /// The column names recognised as study labels when none is chosen, in the order they are
    /// tried (matched like every column name: case ignored, spaces trimmed).
    public static let labelColumnNames = ["study", "author", "trial", "name"]

    /// The column whose cells label the studies (in results, plots and error messages), as the
    /// header writes it: the one chosen with ``labeled(by:)``, else the first of
    /// ``labelColumnNames`` the table has; `nil` when there is none (studies are then "Study 1", …).
    public var labelColumn: String? { labelColumnIndex.map { columns[$0].trimmingSpaces() } }

    /// The index of ``labelColumn``.
    var labelColumnIndex: Int? {
        if let chosenLabelColumn { return columnIndex(chosenLabelColumn) }
        for name in Self.labelColumnNames {
            if let index = columnIndex(name) { return index }
        }
        return nil
    }

    /// The table with `column` as its study labels (``labelColumn``).
    ///
    /// - Throws: ``MetaPoolError`` `.missingColumn`, naming the column, when the table has no such column.
    public func labeled(by column: String) throws(MetaPoolError) -> DataTable {
        let name = column.trimmingSpaces()
        guard columnIndex(name) != nil else {
            throw MetaPoolError(.missingColumn,
                                "{setting} names column \"\(name)\", which the input does not have (columns: \(columns.joined(separator: ", ")))",
                                at: InputLocation(file: source, column: name), setting: .studyLabels)
        }
        var labeled = self
        labeled.chosenLabelColumn = name
        return labeled
    }
}

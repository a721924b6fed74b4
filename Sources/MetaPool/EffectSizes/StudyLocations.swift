// Where each study came from in the input, for the error messages of later stages: made one at
// a time when an error names a study, not held as 10⁶ InputLocation values (80 bytes each).

/// The input location of each study of an ``EffectSizes`` (or ``TwoGroupCounts``), in study
/// order: a collection of ``InputLocation`` values made when read. Studies read from a table
/// share its row numbers, lines and label cells; a study's location is built from them only when
/// it is asked for.
public struct StudyLocations: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    enum Storage: Sendable {
        /// Locations given one by one.
        case given([InputLocation])
        /// Data rows 1, 2, … of no file (values given in code).
        case numbered(Int)
        /// Rows of a table (``TableRows``).
        case table(TableRows)
    }

    /// What a table's locations are made from: ``DataTable/location(row:column:)`` of the rows
    /// `rows` (all rows in order when `nil`), without a column.
    struct TableRows: Sendable {
        let source: String?
        let rowNumbers: [Int]
        let lines: [Int?]
        /// The label column's cells, or `nil` without a label column.
        let studies: [String?]?
        /// The table row of each study; `nil` for every row in order.
        let rows: [Int]?
        let count: Int

        func location(_ i: Int) -> InputLocation {
            let r = rows?[i] ?? i
            return InputLocation(file: source, row: r < rowNumbers.count ? rowNumbers[r] : r + 1,
                                 line: r < lines.count ? lines[r] : nil, column: nil, study: studies?[r])
        }
    }

    let storage: Storage

    /// The locations given.
    public init(_ locations: [InputLocation]) { storage = .given(locations) }

    public init(arrayLiteral elements: InputLocation...) { storage = .given(elements) }

    /// Rows 1 through `count`, with no file, line or study.
    init(numbered count: Int) { storage = .numbered(count) }

    /// The rows of `table`, in order: ``DataTable/location(row:column:)`` of each, without a column.
    init(table: DataTable) {
        storage = .table(TableRows(source: table.source, rowNumbers: table.rowNumbers, lines: table.lines,
                                   studies: table.labelColumnIndex.map { table.cells(inColumn: $0) }, rows: nil, count: table.rowCount))
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .given(let locations): locations.count
        case .numbered(let count): count
        case .table(let rows): rows.count
        }
    }

    public subscript(i: Int) -> InputLocation {
        switch storage {
        case .given(let locations): return locations[i]
        case .numbered(let count):
            precondition(i >= 0 && i < count, "index out of range")
            return InputLocation(row: i + 1)
        case .table(let rows):
            precondition(i >= 0 && i < rows.count, "index out of range")
            return rows.location(i)
        }
    }

    /// The locations of the studies at `indices` (in that order), still made when read.
    func subset(_ indices: [Int]) -> StudyLocations {
        switch storage {
        case .given(let locations): return StudyLocations(indices.map { locations[$0] })
        case .numbered: return StudyLocations(indices.map { self[$0] })
        case .table(let t):
            let rows = t.rows.map { r in indices.map { r[$0] } } ?? indices
            return StudyLocations(storage: .table(TableRows(source: t.source, rowNumbers: t.rowNumbers, lines: t.lines,
                                                            studies: t.studies, rows: rows, count: indices.count)))
        }
    }

    private init(storage: Storage) { self.storage = storage }

    /// The input row number of study `i` (``InputLocation/row``), without the rest of its location.
    func rowNumber(_ i: Int) -> Int? {
        switch storage {
        case .given(let locations): return locations[i].row
        case .numbered: return i + 1
        case .table(let t):
            let r = t.rows?[i] ?? i
            return r < t.rowNumbers.count ? t.rowNumbers[r] : r + 1
        }
    }

    /// The file of the first study, without making the others' locations.
    var firstFile: String? { isEmpty ? nil : self[0].file }

    public static func == (a: StudyLocations, b: StudyLocations) -> Bool {
        a.count == b.count && a.elementsEqual(b)
    }
}

// A rectangular table of text cells read from CSV or JSON, with the place each row came from.

/// A table of cells as read from the input, before any column is interpreted.
///
/// Reading is the first stage of the pipeline (rows → effect sizes → fit → inference);
/// it checks structure only (encoding, quoting, row lengths, duplicate headers) and keeps
/// the physical line of every row so later stages can name it in errors.
///
/// A table read from CSV or JSON holds its cells one array per column (16 bytes a cell, no
/// array per row: 10⁶ rows of three cells in 48 MB rather than 130 MB); read them with
/// ``cell(row:column:)``, ``rowCount`` and ``cells(inColumn:)``. ``rows`` builds the arrays of
/// the rows each time it is read from such a table.
public struct DataTable: Sendable, Equatable {
    /// The file name used in error messages (`nil` for in-memory data).
    public var source: String?
    /// Column names in input order.
    public var columns: [String]
    /// The cells (``CellStorage``).
    var storage: CellStorage
    /// For each row, the physical line where it starts (CSV), or `nil` (JSON).
    public var lines: [Int?]
    /// For each row, its 1-based number among the input's data rows; errors name this row
    /// even after a selection (`selecting(_:)`) has dropped others.
    public var rowNumbers: [Int]
    /// The field separator the rows were read with (`nil` for JSON and tables built in code).
    public var delimiter: CSVDelimiter?
    /// The column named by ``labeled(by:)``; `nil` lets ``labelColumn`` find one.
    var chosenLabelColumn: String?

    /// A table of `rows` under `columns`; `lines` gives each row's physical line (all `nil` by default).
    public init(source: String? = nil, columns: [String], rows: [[String?]], lines: [Int?]? = nil) {
        self.source = source
        self.columns = columns
        self.storage = .rows(rows)
        self.lines = lines ?? Array(repeating: nil, count: rows.count)
        self.rowNumbers = Array(1 ..< rows.count + 1)
    }

    /// A table whose cells are held one array per column (`cells[c]` of column `c`, each
    /// `count` long); rows numbered from 1.
    init(source: String?, columns: [String], columnCells cells: [[String?]], count: Int, lines: [Int?]) {
        self.source = source
        self.columns = columns
        self.storage = .columns(cells, count: count)
        self.lines = lines
        self.rowNumbers = Array(1 ..< count + 1)
    }

    /// Cells, one array per data row, each as long as `columns` (for a table read from CSV or
    /// JSON). `nil` is a missing value (an empty CSV cell, a JSON `null` or an absent key).
    ///
    /// A table read from a file holds its cells by column: reading `rows` builds an array per
    /// row every time (O(rows × columns)); loops over a large table read ``cell(row:column:)``.
    /// Setting `rows` replaces every cell.
    public var rows: [[String?]] {
        get {
            switch storage {
            case .rows(let rows): return rows
            case .columns(let cells, let count): return (0..<count).map { r in cells.map { $0[r] } }
            }
        }
        set { storage = .rows(newValue) }
    }

    /// The number of data rows.
    public var rowCount: Int {
        switch storage {
        case .rows(let rows): rows.count
        case .columns(_, let count): count
        }
    }

    /// The cell of `row` (0-based) in column `column` (an index into ``columns``); `nil` for a
    /// missing value and for a column past the end of a row shorter than the header (a table built in code).
    @inline(__always)
    public func cell(row: Int, column: Int) -> String? {
        switch storage {
        case .rows(let rows): column < rows[row].count ? rows[row][column] : nil
        case .columns(let cells, _): column < cells.count ? cells[column][row] : nil
        }
    }

    /// How many cells `row` has: the number of columns for a table read from CSV or JSON; a
    /// table built in code may have rows of other lengths.
    public func cellCount(ofRow row: Int) -> Int {
        switch storage {
        case .rows(let rows): rows[row].count
        case .columns(let cells, _): cells.count
        }
    }

    /// The cells of one row (``cell(row:column:)`` of each of its columns).
    public func row(_ row: Int) -> [String?] {
        switch storage {
        case .rows(let rows): rows[row]
        case .columns(let cells, _): cells.map { $0[row] }
        }
    }

    /// The cells of column `column` in row order, `nil` where a row is shorter; the table's own
    /// array (no copy) for a table read from a file.
    public func cells(inColumn column: Int) -> [String?] {
        switch storage {
        case .rows(let rows): rows.map { column < $0.count ? $0[column] : nil }
        case .columns(let cells, let count): column < cells.count ? cells[column] : Array(repeating: nil, count: count)
        }
    }

    /// The rows at `indices` (0-based, in that order, as many times as listed), with their lines
    /// and row numbers, held as this table holds its cells.
    func selectingRows(_ indices: [Int]) -> DataTable {
        var selected = self
        switch storage {
        case .rows(let rows): selected.storage = .rows(indices.map { rows[$0] })
        case .columns(let cells, _): selected.storage = .columns(cells.map { column in indices.map { column[$0] } }, count: indices.count)
        }
        selected.lines = indices.map { $0 < lines.count ? lines[$0] : nil }
        selected.rowNumbers = indices.map { $0 < rowNumbers.count ? rowNumbers[$0] : $0 + 1 }
        return selected
    }

    /// Equal tables have the same cells, whichever way each holds them, and the same names, lines,
    /// row numbers, delimiter and label column.
    public static func == (a: DataTable, b: DataTable) -> Bool {
        guard a.source == b.source, a.columns == b.columns, a.lines == b.lines, a.rowNumbers == b.rowNumbers,
              a.delimiter == b.delimiter, a.chosenLabelColumn == b.chosenLabelColumn, a.rowCount == b.rowCount else { return false }
        switch (a.storage, b.storage) {
        case (.rows(let x), .rows(let y)): return x == y
        case (.columns(let x, _), .columns(let y, _)): return x == y
        default: return a.rowCount == 0 || (0..<a.rowCount).allSatisfy { a.row($0) == b.row($0) }
        }
    }

    /// The index of a column, matched case-insensitively after trimming spaces.
    public func columnIndex(_ name: String) -> Int? {
        let wanted = name.lowercased()
        return columns.firstIndex { $0.trimmingSpaces().lowercased() == wanted }
    }

    /// The location of a cell, for error messages. `row` is 0-based here. A row outside the
    /// table has no line or study; a negative one (or `Int.max`) has no row number either.
    public func location(row: Int, column: String? = nil) -> InputLocation {
        var study: String?
        if let s = labelColumnIndex, row >= 0, row < rowCount { study = cell(row: row, column: s) }
        let number: Int? = row >= 0 && row < rowNumbers.count ? rowNumbers[row] : (row >= 0 && row < Int.max ? row + 1 : nil)
        return InputLocation(file: source, row: number, line: row >= 0 && row < lines.count ? lines[row] : nil, column: column, study: study)
    }

    /// The row number ``location(row:column:)`` names for the 0-based `row`, without the rest of
    /// the location (the label column is not looked up): for loops over every row.
    func rowNumber(_ row: Int) -> Int? {
        row >= 0 && row < rowNumbers.count ? rowNumbers[row] : (row >= 0 && row < Int.max ? row + 1 : nil)
    }
}

/// How a ``DataTable`` holds its cells.
enum CellStorage: Sendable {
    /// One array per row: tables built in code (whose rows may be shorter or longer than the
    /// header) and JSON Lines (whose batch analyses are cut out row by row).
    case rows([[String?]])
    /// One array per column, each `count` long: tables read from CSV or a JSON array.
    case columns([[String?]], count: Int)
}

extension DataTable {
    /// Reads CSV or JSON bytes. JSON is recognised by a first non-space byte of `[`;
    /// everything else is read as CSV (RFC 4180, header row) with `delimiter`, or with the
    /// delimiter the header line uses when it is `nil` (see ``readCSV(_:source:delimiter:)``).
    public static func read(bytes: [UInt8], source: String?, delimiter: CSVDelimiter? = nil) throws(MetaPoolError) -> DataTable {
        var validator = TextValidator(source: source)
        try validator.check(bytes, final: true)
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        guard let first = bytes[start...].first(where: { !CSVScanner.isSpace($0) }) else {
            throw MetaPoolError(.emptyInput, "the input is empty; expected a CSV header row and data rows, or a JSON array of objects", at: InputLocation(file: source))
        }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            return try readJSON(String(decoding: bytes[start...], as: UTF8.self), source: source)
        }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(MetaPoolError) -> DataTable in
            try readCSV(UnsafeBufferPointer(rebasing: buffer[start...]), source: source, delimiter: delimiter)
        }
    }

    /// Validates UTF-8 and strips a leading byte-order mark.
    /// Decodes input bytes as UTF-8 text (a BOM is dropped), with the same errors as ``read(bytes:source:)``
    /// for text that is not UTF-8 (Latin-1, UTF-16, NUL bytes).
    public static func decodeText(_ bytes: [UInt8], source: String?) throws(MetaPoolError) -> String {
        try decodeUTF8(bytes, source: source)
    }

    static func decodeUTF8(_ bytes: [UInt8], source: String?) throws(MetaPoolError) -> String {
        var validator = TextValidator(source: source)
        try validator.check(bytes, final: true)
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
        return String(decoding: body, as: UTF8.self)
    }

    /// Recognises UTF-32 and UTF-16 by their byte-order marks, or (without one) by the NUL
    /// bytes that ASCII text has in every other (or every fourth) byte in those encodings.
    static func wideEncoding(_ bytes: ArraySlice<UInt8>) -> String? {
        if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return "UTF-32BE" }
        if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) { return "UTF-32LE" }
        if bytes.starts(with: [0xFE, 0xFF]) { return "UTF-16BE" }
        if bytes.starts(with: [0xFF, 0xFE]) { return "UTF-16LE" }
        let head = Array(bytes.prefix(64))
        guard head.count >= 4, head.count % 2 == 0 else { return nil }
        let even = stride(from: 0, to: head.count, by: 2).map { head[$0] }
        let odd = stride(from: 1, to: head.count, by: 2).map { head[$0] }
        if head.count % 4 == 0 {
            let quads = stride(from: 0, to: head.count, by: 4).map { Array(head[$0..<$0 + 4]) }
            if quads.allSatisfy({ $0[1] == 0 && $0[2] == 0 && $0[3] == 0 && $0[0] != 0 }) { return "UTF-32LE" }
            if quads.allSatisfy({ $0[0] == 0 && $0[1] == 0 && $0[2] == 0 && $0[3] != 0 }) { return "UTF-32BE" }
        }
        if odd.allSatisfy({ $0 == 0 }) && even.allSatisfy({ $0 != 0 }) { return "UTF-16LE" }
        if even.allSatisfy({ $0 == 0 }) && odd.allSatisfy({ $0 != 0 }) { return "UTF-16BE" }
        return nil
    }
}

/// Checks input bytes as they arrive, so that reading stops at the first byte that cannot be
/// text (a device such as /dev/zero or /dev/urandom is refused after one chunk, not read until
/// memory runs out): UTF-16 or UTF-32 (recognised in the first 64 bytes), then NUL bytes and
/// invalid UTF-8 (RFC 3629, section 4: no overlong forms, surrogates or values past U+10FFFF).
struct TextValidator {
    let source: String?
    /// The bytes checked so far (a sequence split across two reads waits for the next).
    private(set) var checked = 0
    private var line = 1
    private var headChecked = false
    /// How far past an invalid byte a NUL marks the file as binary (waited for before the error,
    /// so the message does not depend on how the input arrived in pieces).
    static let binaryWindow = 1024

    init(source: String?) { self.source = source }

    /// Checks `bytes[checked..<end]` (`end` the bytes' count by default), all the bytes read so
    /// far; `final` when no more will come after `end`.
    mutating func check(_ bytes: [UInt8], final: Bool, end: Int? = nil) throws(MetaPoolError) {
        if !headChecked {
            // The UTF-16/32 test looks at the first 64 bytes after a BOM.
            guard final || bytes.count >= 67 else { return }
            let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF])
            if let encoding = DataTable.wideEncoding(bom ? bytes[3...] : bytes[...]) {
                throw MetaPoolError(.notUTF8, "the file is \(encoding), not UTF-8; save it as UTF-8 (e.g. iconv -f \(encoding) -t UTF-8)", at: InputLocation(file: source))
            }
            if bom { checked = 3 }
            headChecked = true
        }
        let n = min(end ?? bytes.count, bytes.count)
        var i = checked
        while i < n {
            // Eight ASCII bytes at a time, none of them NUL (the LFs among them counted).
            if i + 8 <= n, let lines = Self.asciiLineFeeds(bytes, at: i) {
                line += lines
                i += 8
                continue
            }
            let b = bytes[i]
            if b < 0x80 {
                if b == 0 { throw nul(at: i) }
                if b == 0x0A { line += 1 }
                i += 1
                continue
            }
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default:
                if final || n - i >= Self.binaryWindow { throw invalid(at: i, in: bytes) }
                checked = i
                return
            }
            if i + length > n {
                // Wait for the rest of the sequence unless what is there is already wrong.
                let available = bytes[(i + 1)...]
                let fine = available.enumerated().allSatisfy { $0.offset == 0 ? second.contains($0.element) : (0x80...0xBF).contains($0.element) }
                if final || (!fine && n - i >= Self.binaryWindow) { throw invalid(at: i, in: bytes) }
                break
            }
            guard second.contains(bytes[i + 1]), bytes[(i + 2)..<(i + length)].allSatisfy({ (0x80...0xBF).contains($0) }) else {
                if final || n - i >= Self.binaryWindow { throw invalid(at: i, in: bytes) }
                break
            }
            i += length
        }
        checked = i
    }

    /// The number of LF bytes among `bytes[i..<i + 8]` when all eight are ASCII and none is NUL,
    /// else `nil` (bit tricks on one 64-bit word: a byte is zero where `((x & 0x7F…) + 0x7F…) | x`
    /// has its high bit clear; Warren, "Hacker's Delight", 2nd ed., section 6-1).
    @inline(__always)
    static func asciiLineFeeds(_ bytes: [UInt8], at i: Int) -> Int? {
        let word = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: i, as: UInt64.self) }
        let high: UInt64 = 0x8080_8080_8080_8080, low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        func zeroBytes(_ x: UInt64) -> UInt64 { ~(((x & low) &+ low) | x | low) }
        guard word & high == 0, zeroBytes(word) == 0 else { return nil }
        return zeroBytes(word ^ 0x0A0A_0A0A_0A0A_0A0A).nonzeroBitCount
    }

    private func nul(at index: Int) -> MetaPoolError {
        MetaPoolError(.notUTF8, "the file contains NUL bytes (the first is byte \(index + 1)); it looks binary, not CSV or JSON text",
                      at: InputLocation(file: source, line: line))
    }

    /// The error for the sequence starting at `index`, or for a NUL within ``binaryWindow`` bytes
    /// after it: a binary file (an image, a random stream) is named as binary.
    private func invalid(at index: Int, in bytes: [UInt8]) -> MetaPoolError {
        if let zero = bytes[index..<min(bytes.count, index + Self.binaryWindow)].firstIndex(of: 0) {
            var error = nul(at: zero)
            error.location.line = line + bytes[index..<zero].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            return error
        }
        return MetaPoolError(.notUTF8, "byte \(index + 1) (0x\(String(bytes[index], radix: 16, uppercase: true))) is not valid UTF-8; save the file as UTF-8",
                             at: InputLocation(file: source, line: line))
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF (``StringProtocol/trimmingSpaces()``);
    /// itself, with no copy, when its first and last bytes are none of these: a space character is
    /// one byte, so a first (last) character that is one starts (ends) with that byte.
    func trimmingSpaces() -> String {
        func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        if let first = utf8.first, let last = utf8.last, !isSpaceByte(first), !isSpaceByte(last) { return self }
        return self[...].trimmingSpaces()
    }

    /// The string without the leading and trailing Unicode scalars of Foundation's
    /// `CharacterSet.whitespaces` (tab and the space separators: U+0020, U+00A0, U+1680,
    /// U+2000–U+200A, U+202F, U+205F, U+3000; swift-corelibs-foundation adds U+200B), scalar by
    /// scalar as `trimmingCharacters(in: .whitespaces)` trims: CR and LF are kept, and so is a
    /// combining mark after a removed space. The CLI's `--mods` list and `--order-by` cells are
    /// read so, without Foundation.
    package func trimmingWhitespace() -> String {
        func isWhitespace(_ s: Unicode.Scalar) -> Bool {
            switch s.value {
            case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000: return true
            #if !canImport(Darwin)
            case 0x200B: return true
            #endif
            default: return false
            }
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isWhitespace($0) }),
              let last = scalars.lastIndex(where: { !isWhitespace($0) }) else { return "" }
        return String(scalars[first...last])
    }
}

// The one column formatter of every table the commands print: headers and rows, numbers
// right-aligned and labels left-aligned under their headers, columns two spaces apart.

import MetaPool

/// A fixed-width text table. Each column is as wide as its widest cell (header included);
/// numeric columns are right-aligned, label columns left-aligned, and columns are separated by
/// at least two spaces, so that a cell never runs into its neighbour (`0.0410 -11.5444`).
/// Trailing spaces are trimmed. An empty cell is written as `-`, so every row has one cell per column.
/// Cells and headers hold text from the input (labels, factor levels, ids), so control and bidi
/// characters are shown escaped (``SafeText/terminal(_:)``): a label cannot break a row or drive the terminal.
struct TextTable {
    enum Alignment { case left, right }

    struct Column {
        var header: String
        var alignment: Alignment

        /// A label column (left-aligned).
        static func label(_ header: String) -> Column { Column(header: header, alignment: .left) }
        /// A numeric column (right-aligned).
        static func number(_ header: String) -> Column { Column(header: header, alignment: .right) }
    }

    var columns: [Column]
    var rows: [[String]] = []
    /// Spaces before the first column.
    var indent = 0

    init(_ columns: [Column], indent: Int = 0) {
        self.columns = columns
        self.indent = indent
    }

    /// Appends one row; missing cells become `-`, extra cells are an error of the caller and dropped.
    mutating func append(_ cells: [String]) {
        var row = Array(cells.prefix(columns.count)).map { $0.isEmpty ? "-" : $0 }
        while row.count < columns.count { row.append("-") }
        rows.append(row)
    }

    /// The header line and one line per row, each ending in a newline.
    func render() -> String {
        let columns = columns.map { Column(header: SafeText.terminal($0.header), alignment: $0.alignment) }
        let rows = rows.map { $0.map(SafeText.terminal) }
        let widths = columns.indices.map { j in
            max(columns[j].header.count, rows.map { $0[j].count }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            var out = String(repeating: " ", count: indent)
            for (j, cell) in cells.enumerated() {
                if j > 0 { out += "  " }
                let fill = String(repeating: " ", count: max(0, widths[j] - cell.count))
                out += columns[j].alignment == .right ? fill + cell : cell + fill
            }
            while out.last == " " { out.removeLast() }
            return out + "\n"
        }
        return line(columns.map(\.header)) + rows.map(line).joined()
    }
}

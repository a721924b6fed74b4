// A TextTable of many rows written without holding them: the rows are made twice, once to
// measure the columns and once to write them, straight into a TextSink. Same text as render().

import MetaPool

extension TextTable {
    /// Writes the table with `count` rows, row `i` made by `row(i, &cells)` (into an emptied
    /// array): the text of ``render()`` of the same rows, byte for byte, without a `[[String]]`
    /// of them or a String of the whole table. `row` is called twice for each row, in order.
    static func write(_ columns: [Column], indent: Int = 0, count: Int, row: (Int, inout [String]) -> Void,
                      into out: inout TextSink) {
        let headers = columns.map { SafeText.terminal($0.header) }
        var widths = headers.map(displayWidth)
        var cells: [String] = []
        cells.reserveCapacity(columns.count + 4)
        /// Makes row `i` as append(_:) and render() keep it: extra cells dropped, missing or empty
        /// ones "-", then escaped; true when every cell is printable ASCII (one byte a character).
        func make(_ i: Int) -> Bool {
            cells.removeAll(keepingCapacity: true)
            row(i, &cells)
            if cells.count > columns.count { cells.removeLast(cells.count - columns.count) }
            while cells.count < columns.count { cells.append("-") }
            var ascii = true
            for j in cells.indices {
                if cells[j].isEmpty { cells[j] = "-"; continue }
                if SafeText.isPrintableASCII(cells[j]) { continue }
                ascii = false
                cells[j] = SafeText.terminal(cells[j])
            }
            return ascii
        }
        for i in 0..<count {
            if make(i) {
                for j in cells.indices { widths[j] = max(widths[j], cells[j].utf8.count) }
            } else {
                for j in cells.indices { widths[j] = max(widths[j], displayWidth(cells[j])) }
            }
        }
        let alignments = columns.map(\.alignment)
        writeLine(headers, ascii: headers.allSatisfy(SafeText.isPrintableASCII), widths: widths, alignments: alignments,
                  indent: indent, into: &out)
        for i in 0..<count {
            let ascii = make(i)
            writeLine(cells, ascii: ascii, widths: widths, alignments: alignments, indent: indent, into: &out)
        }
    }

    /// The width ``render()`` gives a cell: its characters (bytes, for ASCII text, where they
    /// are the same once ``SafeText/terminal(_:)`` has escaped CR and LF).
    static func displayWidth(_ text: String) -> Int {
        SafeText.isPrintableASCII(text) ? text.utf8.count : text.count
    }

    /// One line as ``render()`` writes it: cells padded to `widths`, two spaces apart, trailing spaces trimmed.
    private static func writeLine(_ cells: [String], ascii: Bool, widths: [Int], alignments: [Alignment], indent: Int,
                                  into out: inout TextSink) {
        guard ascii else {
            // Other text (a label in Greek, a combining mark after a space): render()'s own
            // per-character rule, so that widths and the trimmed end are counted as it counts them.
            var line = String(repeating: " ", count: indent)
            for (j, cell) in cells.enumerated() {
                if j > 0 { line += "  " }
                let fill = String(repeating: " ", count: max(0, widths[j] - cell.count))
                line += alignments[j] == .right ? fill + cell : cell + fill
            }
            while line.last == " " { line.removeLast() }
            out.write(line + "\n")
            return
        }
        let space = UInt8(ascii: " ")
        out.withBuffer { bytes in
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(space, count: indent))
            for (j, cell) in cells.enumerated() {
                if j > 0 { bytes.append(space); bytes.append(space) }
                let fill = max(0, widths[j] - cell.utf8.count)
                if alignments[j] == .right { bytes.append(contentsOf: repeatElement(space, count: fill)) }
                bytes.append(contentsOf: cell.utf8)
                if alignments[j] == .left { bytes.append(contentsOf: repeatElement(space, count: fill)) }
            }
            while bytes.count > start, bytes[bytes.count - 1] == space { bytes.removeLast() }
            bytes.append(UInt8(ascii: "\n"))
        }
    }
}

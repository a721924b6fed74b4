// Every command's table output, run through the built binary on the shipped datasets: each table
// (a header line of at least three columns followed by its rows, up to a blank line) has its
// cells under their headers — numbers ending where the header ends, labels starting where it
// starts — and columns at least two spaces apart.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

/// The columns of the tables in a command's output, found from the text alone.
enum TableLayout {
    /// One cell of a line: its text and its first and last character positions.
    struct Cell: Equatable {
        var text: String
        var start: Int
        var end: Int
    }

    /// A header line and the rows under it.
    struct Table {
        var header: [Cell]
        var rows: [[Cell]]
        var lines: [String]
    }

    /// The cells of `line`: runs of text separated by two or more spaces (a single space stays
    /// inside a cell, as in `natural scale [CI]` or `Aronson 1948`).
    static func cells(_ line: String) -> [Cell] {
        let characters = Array(line)
        var cells: [Cell] = []
        var i = 0
        while i < characters.count {
            while i < characters.count, characters[i] == " " { i += 1 }
            guard i < characters.count else { break }
            let start = i
            var end = i
            while i < characters.count {
                if characters[i] == " " {
                    if i + 1 >= characters.count || characters[i + 1] == " " { break }
                } else {
                    end = i
                }
                i += 1
            }
            cells.append(Cell(text: String(characters[start...end]), start: start, end: end))
        }
        return cells
    }

    /// The tables of an output: blocks of non-blank lines whose first line has at least three
    /// cells (prose and `name = value` lines have fewer).
    static func tables(in output: String) -> [Table] {
        var blocks: [[String]] = [[]]
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !blocks[blocks.count - 1].isEmpty { blocks.append([]) }
            } else {
                blocks[blocks.count - 1].append(line)
            }
        }
        return blocks.compactMap { block in
            guard let first = block.first, block.count > 1 else { return nil }
            let header = cells(first)
            guard header.count >= 3 else { return nil }
            return Table(header: header, rows: block.dropFirst().map(cells), lines: block)
        }
    }

    /// A number as the tables print it: `-0.1234`, `12`, `87.5%`, `<.0001`, `7 *` excluded.
    static func isNumber(_ text: String) -> Bool {
        var t = Substring(text)
        if t.hasPrefix("<") { t = t.dropFirst() }
        if t.hasSuffix("%") { t = t.dropLast() }
        return Double(t) != nil
    }

    /// What is wrong with a table's layout, one sentence per fault; empty when every cell is under its header.
    static func faults(_ table: Table) -> [String] {
        var faults: [String] = []
        for (r, row) in table.rows.enumerated() where row.count != table.header.count {
            faults.append("row \(r + 1) has \(row.count) cells for \(table.header.count) headers (cells closer than two spaces, or an empty cell): \"\(table.lines[r + 1])\"")
        }
        guard faults.isEmpty else { return faults }
        for j in table.header.indices {
            let column = table.rows.map { $0[j] }
            // Placeholders for absent values do not decide the column's kind; they stand for numbers.
            let values = column.filter { !["-", "NA"].contains($0.text) }
            let numeric = values.allSatisfy { isNumber($0.text) }
            let header = table.header[j]
            for (r, cell) in column.enumerated() {
                if numeric, cell.end != header.end {
                    faults.append("\"\(cell.text)\" (row \(r + 1)) ends at \(cell.end), its header \"\(header.text)\" at \(header.end)")
                } else if !numeric, cell.start != header.start {
                    faults.append("\"\(cell.text)\" (row \(r + 1)) starts at \(cell.start), its header \"\(header.text)\" at \(header.start)")
                }
            }
        }
        for line in [table.header] + table.rows {
            for (a, b) in zip(line, line.dropFirst()) where b.start - a.end - 1 < 2 {
                faults.append("\"\(a.text)\" and \"\(b.text)\" are \(b.start - a.end - 1) space(s) apart")
            }
        }
        return faults
    }
}

@Suite("Table output: every column under its header")
struct TableOutputTests {
    static let repository = HeadlineAnalysisTests.repository
    static let bcg = "Datasets/bcg-vaccine.csv"
    static let pritz = "Datasets/pritz1997-hyperdynamic-therapy.csv"
    static let hazard = "Datasets/her2-bm-hazard-ratios.csv"
    static let response = "Datasets/her2-bm-intracranial-response.csv"

    /// Each command with the number of tables its output has (--by: the subgroups and their prediction intervals).
    static let commands: [(arguments: [String], tables: Int)] = [
        (["pool", pritz], 2),
        (["pool", bcg], 2),
        (["pool", bcg, "--method", "FE", "--ci", "wald"], 2),
        (["pool", bcg, "--ci", "hksj"], 2),
        (["pool", hazard, "--where", "endpoint=PFS"], 2),
        (["pool", response, "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"], 2),
        (["pool", bcg, "--by", "allocation"], 2),
        (["pool", bcg, "--by", "allocation", "--common-tau2"], 2),
        (["pool", response, "--by", "drug_class", "--where", "endpoint=IC-ORR", "--where", "endpoint=CNS-ORR"], 2),
        (["pool", bcg, "--method", "MH"], 1),
        (["pool", bcg, "--method", "MH", "--measure", "RR"], 1),
        (["pool", bcg, "--method", "PETO"], 1),
        (["pool", bcg, "--method", "GLMM"], 1),
        (["pool", pritz, "--method", "GLMM"], 1),
        (["pool", bcg, "--method", "MH", "--by", "allocation"], 1),
        (["regress", bcg, "--mods", "latitude"], 1),
        (["regress", bcg, "--mods", "latitude,allocation", "--ci", "hksj"], 1),
        (["regress", bcg, "--mods", "latitude", "--permutations", "200"], 1),
        (["sensitivity", bcg], 3),
        (["sensitivity", pritz, "--method", "DL"], 3),
        (["bias", bcg], 1),
        (["bias", pritz], 1),
    ]

    @Test("every table of every command is aligned under its headers", arguments: commands.indices)
    func aligned(_ index: Int) throws {
        let (arguments, expected) = Self.commands[index]
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let result = try MetapoolBinary.run(binary, arguments, in: Self.repository, stdinFile: nil)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        let tables = TableLayout.tables(in: result.stdout)
        #expect(tables.count == expected, "\(arguments): \(tables.count) tables found, \(expected) expected:\n\(result.stdout)")
        for table in tables {
            let faults = TableLayout.faults(table)
            #expect(faults.isEmpty, "\(arguments):\n\(faults.prefix(5).joined(separator: "\n"))\n\(table.lines.joined(separator: "\n"))")
        }
    }

    @Test("the batch table: aligned, with whole analysis names and the analyses that failed listed")
    func batch() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = "trastuzumab deruxtecan, active brain metastases"
        let csv = """
        analysis,yi,vi
        \"\(long)\",0.2,0.04
        \"\(long)\",0.5,0.02
        \"\(long)\",0.1,0.05
        short,-1.5,0.1
        short,-11.25,0.2
        short,-0.75,0.3
        """
        try csv.write(to: dir.appendingPathComponent("batch.csv"), atomically: true, encoding: .utf8)
        let result = try MetapoolBinary.run(binary, ["pool", "--batch", "batch.csv", "--method", "DL"], in: dir, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let tables = TableLayout.tables(in: result.stdout)
        #expect(tables.count == 1, "\(result.stdout)")
        let table = try #require(tables.first)
        #expect(TableLayout.faults(table).isEmpty, "\(TableLayout.faults(table))\n\(result.stdout)")
        #expect(table.rows.map { $0.first?.text } == [long, "short"], "\(result.stdout)")
    }

    @Test("the checker finds what was wrong before: cells one space apart, numbers off their headers")
    func checkerRejectsMisalignment() {
        // The regress table as it was printed before TextTable (two cells run together).
        let merged = """
                  estimate      se     zval    pval    ci.lb    ci.ub
        intrcpt     0.2515  0.2596   0.9686  0.3327  -0.2574   0.7603
        latitude    0.0410 -11.5444  0.0100  <.0001  -0.0502  -0.0311
        """
        let mergedTables = TableLayout.tables(in: merged)
        #expect(mergedTables.count == 1 && !TableLayout.faults(mergedTables[0]).isEmpty)
        // Numbers one character right of their header.
        let shifted = "  estimate      se    zval\n    0.2417   0.2429  0.9948\n"
        let shiftedTables = TableLayout.tables(in: shifted)
        #expect(shiftedTables.count == 1 && TableLayout.faults(shiftedTables[0]).contains { $0.contains("\"0.2429\"") })
        // A label column not left-aligned.
        let labels = "study     k  estimate\n  Aronson  3    0.1000\n"
        let labelTables = TableLayout.tables(in: labels)
        #expect(labelTables.count == 1 && TableLayout.faults(labelTables[0]).contains { $0.contains("\"Aronson\"") })
        // And a well-formed table passes.
        let good = "study    k  estimate\nAronson  3    0.1000\nTPT     12   -1.2500\n"
        #expect(TableLayout.tables(in: good).map(TableLayout.faults) == [[]])
    }
}

// A table read from CSV or JSON holds its cells one array per column; a table built in code holds
// one array per row. On random tables both must give the same cells, selections, locations and
// errors (kind, message, file, row, line, column, study).

import Testing
@testable import MetaPool

@Suite("DataTable: cells held by column give what cells held by row give")
struct CellStorageTests {
    /// A random table of `k` rows: a label column, a subgroup column and two numeric columns whose
    /// cells are now and then empty, NA, not numbers or spaced.
    static func randomRows(_ k: Int, next: (Int) -> Int) -> [[String?]] {
        let labels = ["A", "B 2", "Smith 2001", "Müller", "A", "試験", "a long label past fifteen bytes"]
        let groups = ["x", "y", " X ", "z"]
        let numbers = ["0.5", "-1.25", "3", "1e-2", " 7 ", "0.04", "2.5E+1"]
        let odd: [String?] = [nil, "abc", "1,5", "inf", "0x10"]
        func number() -> String? { next(12) == 0 ? odd[next(odd.count)] : numbers[next(numbers.count)] }
        return (0..<k).map { _ in [labels[next(labels.count)], groups[next(groups.count)], number(), number()] }
    }

    /// The rows as CSV text (every cell quoted, an empty cell for a missing one).
    static func csv(_ columns: [String], _ rows: [[String?]]) -> String {
        columns.joined(separator: ",") + "\n"
            + rows.map { $0.map { $0.map { "\"\($0)\"" } ?? "" }.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func outcome<T>(_ body: () throws(MetaPoolError) -> T) -> Result<T, MetaPoolError> {
        do { return .success(try body()) } catch { return .failure(error) }
    }

    @Test("500 random tables: cells, rows, columns, selections and locations agree")
    func randomTables() throws {
        var state: UInt64 = 15_2024
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let columns = ["study", "group", "yi", "vi"]
        var compared = 0
        for _ in 0..<500 {
            let rows = Self.randomRows(1 + next(12), next: next)
            let byRow = DataTable(source: "t.csv", columns: columns, rows: rows, lines: rows.indices.map { $0 + 2 })
            var byColumn = try DataTable.readCSV(Self.csv(columns, rows), source: "t.csv")
            guard case .columns = byColumn.storage, case .rows = byRow.storage else {
                Issue.record("the tables do not hold their cells as expected")
                return
            }
            byColumn.delimiter = nil
            #expect(byColumn == byRow)
            #expect(byColumn.rows == rows)
            #expect(byColumn.rowCount == rows.count)
            for r in rows.indices {
                #expect(byColumn.row(r) == rows[r])
                #expect(byColumn.cellCount(ofRow: r) == 4)
                for c in columns.indices { #expect(byColumn.cell(row: r, column: c) == rows[r][c]) }
                #expect(byColumn.location(row: r, column: "yi") == byRow.location(row: r, column: "yi"))
            }
            for c in columns.indices { #expect(byColumn.cells(inColumn: c) == rows.map { $0[c] }) }
            // Selections keep the storage and give the same rows, lines and row numbers.
            let picked = (0..<next(rows.count + 1)).map { _ in next(rows.count) }
            let a = byColumn.selectingRows(picked), b = byRow.selectingRows(picked)
            #expect(a == b && a.rows == picked.map { rows[$0] } && a.rowNumbers == picked.map { $0 + 1 })
            if case .columns = a.storage {} else { Issue.record("a selection of a column table holds rows") }
            let condition = RowCondition(column: "group", value: "x")
            let selected = (Self.outcome { () throws(MetaPoolError) in try byColumn.selecting([condition]) },
                            Self.outcome { () throws(MetaPoolError) in try byRow.selecting([condition]) })
            switch selected {
            case (.success(let x), .success(let y)): #expect(x == y && x.rowNumbers == y.rowNumbers)
            case (.failure(let x), .failure(let y)): #expect(x == y)
            default: Issue.record("one selection failed, the other did not")
            }
            // Effect sizes: the same values, or the same error at the same place.
            let effects = (Self.outcome { () throws(MetaPoolError) in try EffectSizes(table: byColumn) },
                           Self.outcome { () throws(MetaPoolError) in try EffectSizes(table: byRow) })
            switch effects {
            case (.success(let x), .success(let y)):
                #expect(x == y && x.labels == y.labels && x.locations == y.locations)
                // Each study's location, made when read, is the table's location of its row.
                #expect(Array(x.locations) == rows.indices.map { byRow.location(row: $0) })
                let some = (0...next(3)).map { _ in next(rows.count) }
                #expect(try Array(x.subset(some).locations) == some.map { byRow.location(row: $0) })
                #expect(x.locations.subset(some).indices.map { x.locations.subset(some).rowNumber($0) } == some.map { $0 + 1 })
                compared += 1
            case (.failure(let x), .failure(let y)):
                #expect(x == y && x.location == y.location, "\(x) vs \(y)")
            default: Issue.record("one table gave effect sizes, the other an error")
            }
            #expect(byColumn.distinctValues(ofColumn: "group").map(\.value) == byRow.distinctValues(ofColumn: "group").map(\.value))
        }
        // Both outcomes are reached often enough for the comparison to mean something.
        #expect(compared > 50 && compared < 450, "\(compared) of 500 gave effect sizes")
    }

    @Test("a JSON array is held by column and reads to the cells a table built in code holds")
    func json() throws {
        let table = try DataTable.readJSON(#"[{"study": "A", "yi": 0.5, "vi": null}, {"yi": "x", "vi": 0.1, "extra": "e"}]"#, source: "t.json")
        guard case .columns = table.storage else { Issue.record("not held by column"); return }
        #expect(table.columns == ["study", "yi", "vi", "extra"])
        #expect(table.rows == [["A", "0.5", nil, nil], [nil, "x", "0.1", "e"]])
        #expect(table == DataTable(source: "t.json", columns: table.columns, rows: table.rows))
        #expect(table.cell(row: 1, column: 3) == "e")
        #expect(table.location(row: 0, column: "vi") == InputLocation(file: "t.json", row: 1, column: "vi", study: "A"))
    }

    @Test("setting rows replaces the cells; a short row built in code still names its length")
    func settingRows() throws {
        var table = try DataTable.readCSV("study,yi,vi\nA,1,0.1\n", source: "s.csv")
        table.rows = [["B", "2"]]
        #expect(table.rowCount == 1 && table.cell(row: 0, column: 0) == "B" && table.cell(row: 0, column: 2) == nil)
        #expect(table.cellCount(ofRow: 0) == 2)
        #expect(throws: MetaPoolError(.malformedInput, "this row has 2 cells but the table has 3 columns; every row needs one cell per column",
                                      at: InputLocation(file: "s.csv", row: 1, line: 2, column: "vi", study: "B"))) {
            try EffectSizes(table: table)
        }
    }
}

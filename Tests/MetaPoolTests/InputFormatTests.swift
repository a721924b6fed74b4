// Reading the table: semicolon- and tab-separated files (the delimiter sniffed from the header
// line), decimal commas under semicolons as R's read.csv2 reads them, thousands separators named,
// the study-label column, and --where's nearest values.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Input: delimiters, number text, label column, selection hints")
struct InputFormatTests {
    static func bad(_ name: String) -> String { FixtureFolder.url("bad").appendingPathComponent(name).path }

    static func fit(_ table: DataTable) throws -> MetaAnalysis { try MetaAnalysis(EffectSizes(table: table)) }

    @Test("a semicolon file with decimal commas pools exactly like its comma-separated equivalent")
    func semicolonEqualsComma() throws {
        let semicolon = try DataTable.read(path: Self.bad("semicolon_comma_decimal.csv"))
        let comma = try DataTable.read(path: Self.bad("comma_equivalent.csv"))
        #expect(semicolon.delimiter == .semicolon)
        #expect(comma.delimiter == .comma)
        #expect(semicolon.rows == comma.rows)
        let a = try Self.fit(semicolon), b = try Self.fit(comma)
        #expect(a.pooled == b.pooled)
        #expect(a.tauSquaredEstimate == b.tauSquaredEstimate)
        #expect(a.q == b.q)
        // Forcing the delimiter the file has reads the same table.
        #expect(try DataTable.read(path: Self.bad("semicolon_comma_decimal.csv"), delimiter: .semicolon).rows == semicolon.rows)
    }

    @Test("a tab-separated file pools exactly like its comma-separated equivalent")
    func tabEqualsComma() throws {
        let tab = try DataTable.read(path: Self.bad("tab_separated.tsv"))
        #expect(tab.delimiter == .tab)
        let comma = try DataTable.read(bytes: Array("study,events,total\nAlpha,3,10\nBeta,5,12\n".utf8), source: "t.csv")
        #expect(tab.rows == comma.rows)
        #expect(try Self.fit(tab).pooled == Self.fit(comma).pooled)
    }

    @Test("the delimiter is the one the header line holds most often outside quotes; a comma on a tie or none", arguments: [
        ("a,b,c\n1,2,3\n", CSVDelimiter.comma), ("a;b;c\n1;2;3\n", .semicolon), ("a\tb\tc\n1\t2\t3\n", .tab),
        ("\"x;y\",b\n1,2\n", .comma), ("\"x,y\";b\n1;2\n", .semicolon), ("\n\na;b\n1;2\n", .semicolon),
        ("a,b;c\n", .comma), ("abc\n1\n", .comma), ("a;b,c;d\n1;2,5;3\n", .semicolon),
    ])
    func sniff(_ text: String, _ expected: CSVDelimiter) {
        #expect(DataTable.sniffDelimiter(text) == expected)
    }

    @Test("under semicolons a number with a decimal comma gets a point; other cells are kept", arguments: [
        ("0,42", "0.42"), ("-1,5e-3", "-1.5e-3"), (" 12,5 ", "12.5"), ("+3,0E2", "+3.0E2"), ("0.42", "0.42"),
        ("Smith, 2001", "Smith, 2001"), ("1,2,3", "1,2,3"), (",5", ",5"), ("5,", "5,"), ("1,5x", "1,5x"), ("1,5e", "1,5e"),
    ])
    func decimalPoint(_ cell: String, _ expected: String) {
        #expect(DataTable.decimalPoint(cell) == expected)
    }

    @Test("a decimal comma in a semicolon file is read in every cell kind; text keeps its commas")
    func semicolonTable() throws {
        let t = try DataTable.read(bytes: Array("study;yi;vi\n\"Smith, 2001\";-0,5;0,04\nLee;1,25e-1;0,05\n".utf8), source: "s.csv")
        #expect(t.rows == [["Smith, 2001", "-0.5", "0.04"], ["Lee", "1.25e-1", "0.05"]])
        let e = try EffectSizes(table: t)
        #expect(e.yi == [-0.5, 0.125])
        #expect(e.labels == ["Smith, 2001", "Lee"])
        // A comma file keeps the decimal comma and refuses it.
        #expect(throws: MetaPoolError.self) { try EffectSizes(table: DataTable.read(bytes: Array("study,yi,vi\nA,\"0,5\",0.04\n".utf8), source: "c.csv")) }
    }

    @Test("thousands separators are named, the single ambiguous group explained; decimal commas kept apart", arguments: [
        ("1,234", "looks like a number with a thousands separator; write 1234 (or 1.234 if the comma is a decimal comma: R's read.csv reads neither as a number)"),
        ("12,345,678", "looks like a number with a thousands separator; write 12345678"),
        ("-1,234.5", "looks like a number with a thousands separator; write -1234.5"),
        ("0,42", "uses a comma as decimal separator; write it with a dot (0.42)"),
        ("1,5", "uses a comma as decimal separator; write it with a dot (1.5)"),
        ("0,123", "uses a comma as decimal separator; write it with a dot (0.123)"),
        ("1,2345", "uses a comma as decimal separator; write it with a dot (1.2345)"),
    ])
    func commaHints(_ cell: String, _ reason: String) throws {
        let hint = try #require(DataTable.commaHint(cell))
        #expect(hint.hasPrefix("\"\(cell)\" \(reason)"), "\(hint)")
        let error = #expect(throws: MetaPoolError.self) {
            try EffectSizes(table: DataTable(columns: ["study", "yi", "vi"], rows: [["A", cell, "0.1"]]))
        }
        #expect(error?.reason == hint)
        #expect(error?.location.column == "yi")
    }

    @Test("cells that are not numbers for another reason get no comma hint", arguments: ["abc", "1,2,3", "12,34,567", "1,,2", "a,b"])
    func noCommaHint(_ cell: String) {
        #expect(DataTable.commaHint(cell) == nil)
    }

    @Test("the label column: study, author, trial, name in that order, case ignored; else none")
    func labelColumn() throws {
        let cases: [([String], String?)] = [
            (["study", "author", "yi", "vi"], "study"), (["Author", "trial", "yi", "vi"], "Author"), (["yi", "vi", "TRIAL", "name"], "TRIAL"),
            (["name", "yi", "vi"], "name"), (["yi", "vi", "arm"], nil),
        ]
        for (columns, expected) in cases {
            let row = columns.map { $0.lowercased() == "yi" ? "0.1" : $0.lowercased() == "vi" ? "0.01" : "L-\($0)" }
            let t = DataTable(columns: columns, rows: [row, row])
            #expect(t.labelColumn == expected, "\(columns)")
            let labels = try EffectSizes(table: t).labels
            #expect(labels == (expected.map { ["L-\($0)", "L-\($0)"] } ?? ["Study 1", "Study 2"]), "\(columns)")
        }
    }

    @Test("labeled(by:) chooses the column, errors name it; the label names the study in errors")
    func labeledBy() throws {
        let t = DataTable(source: "x.csv", columns: ["author", "year", "yi", "vi"],
                          rows: [["Smith", "2001", "0.1", "0.01"], ["Lee", "2004", "0.2", "-1"]], lines: [2, 3])
        let byYear = try t.labeled(by: " Year ")
        #expect(byYear.labelColumn == "year")
        let e1 = #expect(throws: MetaPoolError.self) { try EffectSizes(table: t) }
        #expect(e1?.location.study == "Lee")
        let e2 = #expect(throws: MetaPoolError.self) { try EffectSizes(table: byYear) }
        #expect(e2?.location.study == "2004")
        let missing = #expect(throws: MetaPoolError.self) { try t.labeled(by: "trial") }
        #expect(missing?.kind == .missingColumn)
        #expect(missing?.location.column == "trial")
        #expect(missing?.description == "x.csv, column \"trial\": the label column setting names column \"trial\", which the input does not have (columns: author, year, yi, vi)")
        // A selection keeps the chosen column.
        #expect(try byYear.selecting([RowCondition(column: "author", value: "smith")]).labelColumn == "year")
    }

    @Test("--where matching no row lists the column's values with counts and the nearest ones")
    func whereHint() throws {
        let t = DataTable(source: "e.csv", columns: ["study", "endpoint", "yi", "vi"],
                          rows: [["A", "PFS", "1", "1"], ["B", "PFS", "1", "1"], ["C", "OS", "1", "1"], ["D", "ORR", "1", "1"]])
        let e = #expect(throws: MetaPoolError.self) { try t.selecting([RowCondition(column: "endpoint", value: "PSF")]) }
        #expect(e?.kind == .insufficientData)
        #expect(e?.reason == "no row matches {setting} endpoint=PSF (of 4 rows); endpoint holds PFS (2 rows), OS (1 row), ORR (1 row); did you mean PFS?")
        // Nothing near: the values alone.
        let far = #expect(throws: MetaPoolError.self) { try t.selecting([RowCondition(column: "endpoint", value: "toxicity")]) }
        #expect(far?.reason.hasSuffix("; endpoint holds PFS (2 rows), OS (1 row), ORR (1 row)") == true, "\(String(describing: far))")
        // Each column matches some row; only their combination matches none: no list.
        let both = #expect(throws: MetaPoolError.self) { try t.selecting([RowCondition(column: "endpoint", value: "OS"), RowCondition(column: "study", value: "A")]) }
        #expect(both?.reason == "no row matches {setting} endpoint=OS {setting} study=A (of 4 rows)")
        // More than 20 values: 20 listed and the rest counted.
        let many = DataTable(source: "m.csv", columns: ["study", "yi", "vi"], rows: (1...25).map { ["S\($0)", "1", "1"] })
        let m = #expect(throws: MetaPoolError.self) { try many.selecting([RowCondition(column: "study", value: "S99")]) }
        #expect(m?.reason.contains("S20 (1 row), and 5 more; did you mean") == true, "\(String(describing: m))")
    }

    @Test("nearest values: adjacent transpositions, one typo, case, containment", arguments: [
        ("PSF", ["PFS", "OS", "ORR"], ["PFS"]), ("os", ["PFS", "OS", "ORR"], ["OS"]), ("orr ", ["PFS", "OS", "ORR"], ["ORR"]),
        ("IC-OR", ["IC-ORR", "ORR"], ["IC-ORR"]), ("zzz", ["a", "b"], []), ("Alhpa", ["Alpha", "Beta", "Gamma"], ["Alpha"]),
    ])
    func nearest(_ asked: String, _ values: [String], _ expected: [String]) {
        #expect(DataTable.nearest(to: [asked], among: values) == expected)
    }

    @Test("edit distance (optimal string alignment)", arguments: [
        ("", "", 0), ("abc", "", 3), ("psf", "pfs", 1), ("kitten", "sitting", 3), ("ca", "abc", 3), ("abc", "abc", 0),
    ])
    func editDistance(_ a: String, _ b: String, _ d: Int) {
        #expect(DataTable.editDistance(a, b) == d)
    }
}

// How ModeratorDesign reads a moderator column (issue 18, item 3 and item 10): numeric by the
// effect columns' number rules, an error at the cell where a numeric column holds nan, inf, 1e999,
// hex or a decimal comma, factors with levels compared ignoring case (as --by and --where), and
// moderators too large for double precision refused as data errors naming the column.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Moderator columns: numbers, factors and what is refused")
struct ModeratorParsingTests {
    static func table(_ x: [String]) throws -> DataTable {
        var csv = "study,yi,vi,x\n"
        for (i, cell) in x.enumerated() { csv += "S\(i + 1),\(0.1 * Double(i + 1)),0.0\(i + 1),\(cell.contains(",") ? "\"\(cell)\"" : cell)\n" }
        return try DataTable.read(bytes: Array(csv.utf8), source: "m.csv")
    }

    static func error(_ x: [String]) throws -> MetaPoolError? {
        do {
            _ = try ModeratorDesign(table: try table(x), moderators: ["x"])
            return nil
        } catch let e as MetaPoolError {
            return e
        }
    }

    @Test("a numeric column with one non-finite, overflowing or hex cell is an error at that cell, not a factor",
          arguments: [("nan", "not a finite number"), ("NaN", "not a finite number"), ("inf", "not a finite number"),
                      ("-Inf", "not a finite number"), ("1e999", "too large"), ("-1e999", "too large"),
                      ("0x10", "is not a number"), ("2,5", "decimal")])
    func badCell(_ cell: String, _ reason: String) throws {
        let e = try #require(try Self.error(["1", "2", cell, "4"]), "\(cell) was accepted")
        #expect(e.kind == .invalidValue && e.location.row == 3 && e.location.column == "x" && e.location.file == "m.csv", "\(cell): \(e)")
        #expect(e.reason.contains(reason), "\(cell): \(e.reason)")
    }

    @Test("a column of hex numbers is refused at its first cell")
    func hexColumn() throws {
        let e = try #require(try Self.error(["0x10", "0x20", "0x30"]))
        #expect(e.kind == .invalidValue && e.location.row == 1)
    }

    @Test("numeric columns: decimal numbers with signs, exponents and spaces")
    func numeric() throws {
        let d = try ModeratorDesign(table: try Self.table(["1", "-2.5", " +3e1 ", ".5"]), moderators: ["x"])
        #expect(d.predictors == ["intrcpt", "x"])
        let column: [Double] = (0..<4).map { d.matrix[$0 * 2 + 1] }
        #expect(column == [1, -2.5, 30, 0.5])
    }

    @Test("text with a number-like word is a factor: nan is a level beside words")
    func textFactor() throws {
        let d = try ModeratorDesign(table: try Self.table(["low", "nan", "high", "low"]), moderators: ["x"])
        #expect(d.predictors == ["intrcpt", "xlow", "xnan"])
    }

    @Test("factor levels differing only in case are one level, named as first written (as --by and --where)")
    func caseInsensitiveLevels() throws {
        let d = try ModeratorDesign(table: try Self.table(["Low", "HIGH", "low", "high", "LOW"]), moderators: ["x"])
        #expect(d.predictors == ["intrcpt", "xLow"])
        let column: [Double] = (0..<5).map { d.matrix[$0 * 2 + 1] }
        #expect(column == [1, 0, 1, 0, 1])
        let e = try #require(try Self.error(["a", "A", "a"]))
        #expect(e.kind == .insufficientData && e.reason.contains("one level"))
    }

    @Test("a moderator whose squares overflow is a data error at its largest cell (metafor refuses it too)",
          arguments: [(["1", "2", "1e300", "4"], 3), (["1", "-1e300", "3", "1e300"], 2), (["1", "2", "3", "1e160"], 4)])
    func overflow(_ x: [String], _ row: Int) throws {
        let e = try #require(try Self.error(x))
        #expect(e.kind == .invalidValue && e.location.column == "x" && e.location.row == row, "\(e)")
        #expect(e.reason.contains("rescale"))
    }

    @Test("MetaRegression: a moderator too large for XᵀWX is a data error naming it, not a LAPACK usage error")
    func weightedOverflow() throws {
        // Σx² = 1e300 is representable, Σx²/v is not.
        let y = [0.1, 0.3, 0.2, 0.5], v = [1e-10, 0.2, 0.1, 0.3]
        let x = [1e150, 2, 3, 4]
        do {
            _ = try MetaRegression(y: y, v: v, design: x.flatMap { [1, $0] }, predictors: ["intrcpt", "dose"])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.column == "dose" && error.reason.contains("rescale"), "\(error)")
        }
    }
}

// `--where`: row selection gives exactly the analysis of the selected rows.

import Testing
import MetaPool
@testable import MetaPoolTestSupport

@Suite("Row selection (--where)")
struct RowSelectionTests {
    static let csv = """
    study,events,total,class,population
    A,12,20,ADC,active
    B,8,25,TKI,active
    C,30,41,ADC,stable
    D,5,18,TKI,stable
    E,17,22,ADC,Active
    F,9,30,mAb,active

    """

    func table() throws -> DataTable { try DataTable.read(bytes: Array(Self.csv.utf8), source: "arms.csv") }

    @Test("parsing COLUMN=VALUE")
    func parsing() {
        #expect(RowCondition(parsing: "endpoint=IC-ORR") == RowCondition(column: "endpoint", value: "IC-ORR"))
        #expect(RowCondition(parsing: " class = ADC ") == RowCondition(column: "class", value: "ADC"))
        #expect(RowCondition(parsing: "note=a=b") == RowCondition(column: "note", value: "a=b"))
        #expect(RowCondition(parsing: "class") == nil)
        #expect(RowCondition(parsing: "=ADC") == nil)
    }

    @Test("COLUMN!=VALUE leaves rows out, combines with COLUMN=VALUE, and refuses an exclusion that matches no row")
    func exclusion() throws {
        #expect(RowCondition(parsing: "study!=KAMILLA") == RowCondition(column: "study", value: "KAMILLA", excludes: true))
        #expect(RowCondition(parsing: " study != A ")?.description == "study!=A")
        #expect(RowCondition(parsing: "!=A") == nil)
        let t = try table()
        let notAdc = try t.selecting([RowCondition(column: "class", value: "ADC", excludes: true)])
        #expect(notAdc.rows.map { $0[0] } == ["B", "D", "F"])
        #expect(notAdc.rowNumbers == [2, 4, 6])
        // Alternatives kept on one column, a study left out on another: (ADC or TKI) and not E.
        let mixed = try t.selecting([RowCondition(column: "class", value: "ADC"), RowCondition(column: "class", value: "TKI"),
                                     RowCondition(column: "study", value: " e ", excludes: true)])
        #expect(mixed.rows.map { $0[0] } == ["A", "B", "C", "D"])
        // Same column kept and left out: active, but not the TKI arm among them.
        let both = try t.selecting([RowCondition(column: "population", value: "active"), RowCondition(column: "class", value: "TKI", excludes: true)])
        #expect(both.rows.map { $0[0] } == ["A", "E", "F"])
        // A misspelt exclusion would leave everything in: it is an error naming the near value.
        do {
            _ = try t.selecting([RowCondition(column: "class", value: "ADX", excludes: true)])
            Issue.record("an exclusion matching no row was accepted")
        } catch {
            #expect(error.kind == .insufficientData)
            #expect(error.description.contains("class!=ADX leaves out no row") && error.description.contains("did you mean ADC?"), "\(error)")
        }
        // Leaving out every row is the usual no-row error.
        #expect(throws: MetaPoolError.self) {
            try t.selecting(["ADC", "TKI", "mAb"].map { RowCondition(column: "class", value: $0, excludes: true) })
        }
    }

    @Test("same column: alternatives; different columns: all must match; case and spaces ignored")
    func semantics() throws {
        let t = try table()
        let adc = try t.selecting([RowCondition(column: "class", value: "adc")])
        #expect(adc.rows.map { $0[0] } == ["A", "C", "E"])
        #expect(adc.rowNumbers == [1, 3, 5])
        let adcOrTki = try t.selecting([RowCondition(column: "class", value: "ADC"), RowCondition(column: "class", value: "TKI")])
        #expect(adcOrTki.rows.map { $0[0] } == ["A", "B", "C", "D", "E"])
        let adcActive = try t.selecting([RowCondition(column: "Class", value: "ADC"), RowCondition(column: "population", value: "active")])
        #expect(adcActive.rows.map { $0[0] } == ["A", "E"])
        #expect(adcActive.lines == [2, 6])
    }

    @Test("the selected analysis equals the analysis of a file holding only those rows")
    func equivalence() throws {
        let selected = try table().selecting([RowCondition(column: "class", value: "ADC")])
        let subset = try DataTable.read(bytes: Array("study,events,total\nA,12,20\nC,30,41\nE,17,22\n".utf8), source: "subset.csv")
        let a = try MetaAnalysis(EffectSizes(table: selected, measure: nil), method: .derSimonianLaird, ciMethod: .wald)
        let b = try MetaAnalysis(EffectSizes(table: subset, measure: nil), method: .derSimonianLaird, ciMethod: .wald)
        #expect(a.count == 3)
        #expect(a.estimate == b.estimate && a.standardError == b.standardError)
        #expect(a.tauSquared == b.tauSquared)
    }

    @Test("errors name the column, or say that nothing matched")
    func errors() throws {
        let t = try table()
        do {
            _ = try t.selecting([RowCondition(column: "drug", value: "ADC")])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .missingColumn && error.location.column == "drug" && error.location.file == "arms.csv")
        }
        do {
            _ = try t.selecting([RowCondition(column: "class", value: "RT")])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData && error.reason.contains("class=RT"))
        }
    }
}

// ForestPlot keeps its studies as columns of values and makes each Row when it is read: the rows
// of a plot with subgroups come out in order, and each study keeps its inputs and shown interval.

import Testing
@testable import MetaPool

@Suite("ForestPlot rows made from the columns of study values")
struct ForestRowsTests {
    static let csv = "study,group,events,total\nA,x,3,10\nB,y,5,20\nC,x,0,8\nD,y,7,7\n"

    static func describe(_ row: ForestPlot.Row) -> String {
        switch row {
        case .subgroupHeader(let label): "header \(label)"
        case .study(let s): "study \(s.label)"
        case .subgroupDiamond(let d): "diamond \(d.label) k=\(d.k)"
        }
    }

    @Test("subgroups: header, its studies in input order, its diamond; every row read twice is the same")
    func subgroupLayout() throws {
        let table = try DataTable.read(bytes: Array(Self.csv.utf8), source: "p.csv")
        let plot = try ForestPlot(table: table, by: "group")
        let described = plot.rows.map(Self.describe)
        #expect(described == ["header x", "study A", "study C", "diamond x k=2", "header y", "study B", "study D", "diamond y k=2"])
        #expect(plot.rows.indices.map { Self.describe(plot.rows[$0]) } == described)
        #expect(plot.studies.map { $0.inputs.map { "\($0.0)=\($0.1)" } } == [["events=3", "total=10"], ["events=0", "total=8"],
                                                                             ["events=5", "total=20"], ["events=7", "total=7"]])
    }

    @Test("proportions show Clopper-Pearson intervals; withStudyIntervals(.analysisScale) shows the Wald ones")
    func intervals() throws {
        let table = try DataTable.read(bytes: Array(Self.csv.utf8), source: "p.csv")
        let plot = try ForestPlot(table: table)
        let counts: [(Double, Double)] = [(3, 10), (5, 20), (0, 8), (7, 7)]
        #expect(plot.studies.count == 4)
        for (s, (events, total)) in zip(plot.studies, counts) {
            let cp = try ProportionIntervalMethod.clopperPearson.interval(events: events, total: total, level: 0.95)
            #expect(s.interval == StudyInterval(lower: cp.lower, upper: cp.upper, source: .proportion(.clopperPearson)))
            #expect(s.shownLower == cp.lower && s.shownUpper == cp.upper)
            #expect(s.shownLower != s.ciLower)
        }
        let wald = try plot.withStudyIntervals(.analysisScale)
        #expect(wald.studies.map(\.label) == ["A", "B", "C", "D"])
        for (s, before) in zip(wald.studies, plot.studies) {
            #expect(s.interval == StudyInterval(lower: before.ciLower, upper: before.ciUpper, source: .analysisScale))
            #expect(s.shownLower == before.ciLower && s.shownUpper == before.ciUpper)
            #expect(s.estimate == before.estimate && s.weight == before.weight && s.yi == before.yi && s.vi == before.vi)
        }
    }
}

// The study intervals of a ForestPlot (ForestPlot+StudyIntervals.swift) through the library:
// the defaults, the choice of method, what is shown when a row cannot have the chosen interval,
// and the legend. Reference values: R's binom.test(4, 37) and prop.test(4, 37, correct = FALSE)
// (Tests/MetaPoolTests/Fixtures/proportion_intervals/reference.json).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("forest plot study intervals (library)")
struct StudyIntervalPlotTests {
    static func table(_ csv: String) throws -> DataTable { try DataTable.read(bytes: Array(csv.utf8), source: "s.csv") }

    @Test("proportions: Clopper-Pearson by default, another method on request, the diamond unchanged")
    func proportions() throws {
        let plot = try ForestPlot(table: Self.table("study,events,total\nA,4,37\nB,4,20\nC,2,4\n"))
        #expect(plot.studyIntervalMethod == .proportion(.clopperPearson))
        let a = try #require(plot.studies.first)
        #expect(a.interval?.source == .proportion(.clopperPearson))
        // binom.test(4, 37)$conf.int
        expectClose(a.shownLower, 0.030251965068749623, relative: 1e-10, absolute: 0)
        expectClose(a.shownUpper, 0.25417593607747885, relative: 1e-10, absolute: 0)
        // The Wald interval of escalc stays in ciLower/ciUpper.
        expectClose(a.ciLower, 1 / (1 + exp(2.1102132003465894 + 1.959963984540054 * 0.2803030303030303.squareRoot())), relative: 1e-12, absolute: 0)
        #expect(plot.intervalLegend == "Studies: 95% Clopper-Pearson CI; pooled: Random-effects model (REML), 95% Wald CI")

        let wilson = try plot.withStudyIntervals(.proportion(.wilson))
        let w = try #require(wilson.studies.first)
        // prop.test(4, 37, correct = FALSE)$conf.int
        expectClose(w.shownLower, 0.042851899404114734, relative: 1e-9, absolute: 0)
        expectClose(w.shownUpper, 0.2470853154412602, relative: 1e-9, absolute: 0)
        #expect(wilson.overall.ciLower == plot.overall.ciLower && wilson.overall.ciUpper == plot.overall.ciUpper)
        #expect(wilson.studyIntervalDescription == "95% Wilson CI")

        let escalc = try plot.withStudyIntervals(.analysisScale)
        #expect(escalc.studies.allSatisfy { $0.shownLower == $0.ciLower && $0.shownUpper == $0.ciUpper })
        #expect(escalc.studyIntervalDescription == "95% Wald CI on the logit proportion scale")
    }

    @Test("without the input table (no counts to read) the rows keep escalc's interval, and the legend says so")
    func withoutTable() throws {
        let effects = try EffectSizes(table: Self.table("study,events,total\nA,4,37\nB,4,20\nC,2,4\n"))
        let plot = try ForestPlot(MetaAnalysis(effects))
        #expect(plot.studies.allSatisfy { $0.interval?.source == .analysisScale && $0.shownLower == $0.ciLower })
        #expect(plot.studyIntervalDescription == "95% Wald CI on the logit proportion scale")
    }

    @Test("hazard ratios: the published CI at the plot's level, exactly as given; otherwise escalc's")
    func hazardRatios() throws {
        let csv = "study,hr,hr_lower,hr_upper,hr_level\nA,0.38,0.25,0.58,0.95\nNALA,0.66,0.41,1.05,0.95\nC,0.5,0.3,0.8,0.9\n"
        let plot = try ForestPlot(table: Self.table(csv))
        #expect(plot.studyIntervalMethod == .published)
        #expect(plot.studies.map { $0.interval?.source } == [.published, .published, .analysisScale])
        #expect(plot.studies[1].shownLower == 0.41 && plot.studies[1].shownUpper == 1.05)
        #expect(plot.studies[1].ciUpper > 1.056 && plot.studies[1].ciUpper < 1.0563)
        #expect(plot.studyIntervalDescription
                == "95% published CI (rows given with a CI); 95% Wald CI on the log hazard ratio scale (the other rows)")
        // At 90% the third row's CI is the published one, the others are recomputed.
        let at90 = try ForestPlot(table: Self.table(csv), level: 0.9)
        #expect(at90.studies.map { $0.interval?.source } == [.analysisScale, .analysisScale, .published])
        // escalc for every row, as metafor's forest().
        let escalc = try plot.withStudyIntervals(.analysisScale)
        #expect(escalc.studies.allSatisfy { $0.interval?.source == .analysisScale })
    }

    @Test("--study-ci codes parse both ways and the proportion methods apply to proportions only")
    func codes() {
        for code in StudyIntervalMethod.allCodes {
            #expect(StudyIntervalMethod(code: code)?.code == code)
        }
        #expect(StudyIntervalMethod(code: "CP") == .proportion(.clopperPearson))
        #expect(StudyIntervalMethod(code: "exact") == nil)
        #expect(StudyIntervalMethod.proportion(.jeffreys).applies(to: .freemanTukeyProportion))
        #expect(!StudyIntervalMethod.proportion(.jeffreys).applies(to: .oddsRatio))
        #expect(StudyIntervalMethod.analysisScale.applies(to: .hazardRatio))
        #expect(StudyIntervalMethod.defaultMethod(for: .rawProportion) == .proportion(.clopperPearson))
        #expect(StudyIntervalMethod.defaultMethod(for: .riskRatio) == .published)
    }
}

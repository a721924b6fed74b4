// The study listing of `metapool pool` (the default table) against metafor: each study's
// estimate and CI on the natural scale and its weight in the fitted model; the interval printed
// is the one shown for the study (Clopper-Pearson, binom.test, for proportions; a hazard
// ratio's published CI), the escalc interval stays in the typed plot and the JSON.
// Fixture: Tests/MetaPoolTests/Fixtures/study_listing/expected.json, written by
// `Rscript Tests/Reference/generate_study_listing.R` from the files in Datasets/.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Study listing of pool against metafor")
struct StudyListingTests {
    struct Study: Decodable {
        var study: String
        var estimate, ci_lower, ci_upper, weight: Double
        /// The interval shown: binom.test's for events/total, the published HR CI, else escalc's.
        var study_ci_lower, study_ci_upper: Double
    }
    struct Analysis: Decodable, CustomTestStringConvertible {
        var name, file, measure, method: String
        var `where`: [String]
        var level, tau2: Double
        var studies: [Study]
        var testDescription: String { name }
    }
    struct Expected: Decodable { var analyses: [Analysis] }

    static func expected() throws -> [Analysis] {
        let data = try Data(contentsOf: FixtureFolder.url("study_listing").appendingPathComponent("expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data).analyses
    }

    static let analyses: [Analysis] = (try? expected()) ?? []

    @Test("the fixture has the three datasets")
    func present() throws {
        #expect(try Self.expected().map(\.name) == ["pritz1997", "bcg", "her2-pfs"])
    }

    /// The typed values the listing prints: the forest-plot rows of the fit, from the same table.
    @Test("each study's natural-scale estimate, CI and weight, as metafor's summary(escalc) and weights(rma)", arguments: analyses)
    func typed(_ a: Analysis) throws {
        let conditions = a.where.compactMap(RowCondition.init(parsing:))
        let table = try DataTable.read(path: FixtureFolder.root.appendingPathComponent(a.file).path).selecting(conditions)
        let fit = try MetaAnalysis(EffectSizes(table: table, measure: EffectMeasure(rawValue: a.measure)), method: .restrictedMaximumLikelihood,
                                   level: a.level)
        expectClose(fit.tauSquared, a.tau2, relative: 1e-8, absolute: 1e-10, "tau^2")
        let plot = try ForestPlot(fit, table: table)
        let studies = plot.rows.compactMap { row -> ForestPlot.Study? in if case .study(let s) = row { s } else { nil } }
        #expect(studies.count == a.studies.count)
        for (s, e) in zip(studies, a.studies) {
            #expect(s.label.hasPrefix(e.study), "\(s.label) vs \(e.study)")
            expectClose(s.estimate, e.estimate, relative: 1e-12, absolute: 1e-14, "\(e.study) estimate")
            expectClose(s.ciLower, e.ci_lower, relative: 1e-12, absolute: 1e-14, "\(e.study) ci.lb")
            expectClose(s.ciUpper, e.ci_upper, relative: 1e-12, absolute: 1e-14, "\(e.study) ci.ub")
            // The shown interval: beta quantiles to ~1e-12 against R's qbeta; published bounds exactly.
            expectClose(s.shownLower, e.study_ci_lower, relative: 1e-10, absolute: 1e-12, "\(e.study) study CI lower")
            expectClose(s.shownUpper, e.study_ci_upper, relative: 1e-10, absolute: 1e-12, "\(e.study) study CI upper")
            // Weights depend on tau^2, converged to 1e-13 on both sides.
            expectClose(s.weight, e.weight, relative: 1e-7, absolute: 1e-9, "\(e.study) weight")
        }
    }

    /// The printed listing: four decimals for the estimate and CI, two for the weight (in %),
    /// so each must be within half a unit of the last printed digit of metafor's value.
    @Test("the printed listing of pool agrees with metafor to its printed decimals", arguments: analyses)
    func printed(_ a: Analysis) throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        var arguments = ["pool", a.file, "--level", "\(a.level)"]
        for w in a.where { arguments += ["--where", w] }
        let result = try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let table = try #require(TableLayout.tables(in: result.stdout).first { $0.header.first?.text == "study" }, "\(result.stdout)")
        #expect(table.rows.count == a.studies.count)
        for (row, e) in zip(table.rows, a.studies) {
            let cells = row.map(\.text)
            #expect(cells[0].hasPrefix(e.study))
            let n = cells.count
            let numbers = cells[(n - 4)..<(n - 1)].map { Double($0) ?? .nan }
            let weight = Double(cells[n - 1].dropLast()) ?? .nan
            #expect(abs(numbers[0] - e.estimate) <= 0.5e-4 + 1e-12, "\(e.study): \(cells)")
            #expect(abs(numbers[1] - e.study_ci_lower) <= 0.5e-4 + 1e-12, "\(e.study): \(cells)")
            #expect(abs(numbers[2] - e.study_ci_upper) <= 0.5e-4 + 1e-12, "\(e.study): \(cells)")
            #expect(abs(weight - e.weight) <= 0.5e-2 + 1e-12, "\(e.study): \(cells)")
        }
    }
}

// Every fitted model answers the same questions (FittedModel): weights, prediction intervals,
// heterogeneity, and the later stages (plots, report, summaries) take any fit.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Fitted models: one vocabulary")
struct FittedModelTests {
    struct Fixture: Decodable {
        struct Weights: Decodable { let dataset: String; let method: String; let measure: String; let weights: [Double] }
        struct Prediction: Decodable {
            let dataset: String
            let quadrature_points: Int
            let estimate: Double, se: Double, tau2: Double, pi_lower: Double, pi_upper: Double
        }
        let weights: [Weights]
        let prediction: [Prediction]
    }

    static func fixture() throws -> Fixture {
        let url = FixtureFolder.url("fitted").appendingPathComponent("weights_and_prediction.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func table(_ folder: String, _ name: String) throws -> DataTable {
        try DataTable.read(path: FixtureFolder.url(folder).appendingPathComponent("\(name).csv").path)
    }

    @Test("MH and Peto study weights equal metafor's weights() (relative 1e-10)")
    func countBasedWeights() throws {
        let cases = try Self.fixture().weights
        #expect(cases.count == 16)
        for c in cases {
            let pooling = try #require(PoolingMethod(code: c.method))
            let spec = AnalysisSpecification(pooling: pooling, measure: EffectMeasure(code: c.measure))
            let fit = try spec.fit(Self.table("mh_peto", c.dataset))
            let got = try #require(fit.studies.weights, "\(c.dataset) \(c.method) \(c.measure)")
            #expect(got.count == c.weights.count, "\(c.dataset) \(c.method) \(c.measure)")
            for (g, e) in zip(got, c.weights) {
                #expect(abs(g - e) <= 1e-10 * max(abs(e), 1e-3), "\(c.dataset) \(c.method) \(c.measure): \(g) vs \(e)")
            }
            #expect(fit.studies.effects.count == got.count)
            // Percentages of the total over all studies: for RD a double-zero study keeps its
            // weight n₁n₂/n in the estimate (metafor) but has no row here, so the sum may be below 100.
            #expect(got.reduce(0, +) <= 100 + 1e-9)
        }
    }

    // Tolerances as GLMMTests: 1e-5, and 1e-3 relative for the Laplace approximation, whose
    // standard error lme4 takes from a finite-difference Hessian of modes converged to ~1e-7.
    @Test("the GLMM's prediction interval is metafor's predict() of rma.glmm")
    func glmmPredictionInterval() throws {
        let cases = try Self.fixture().prediction
        #expect(cases.count == 6)
        for c in cases {
            let fit = try GeneralizedLinearMixedModel(table: Self.table("glmm", c.dataset), quadraturePoints: c.quadrature_points)
            let pi = try #require(fit.predictionInterval)
            #expect(abs(fit.estimate - c.estimate) <= 1e-5, "\(c.dataset) Q=\(c.quadrature_points)")
            let tolerance = { (e: Double) in c.quadrature_points == 1 ? 1e-3 * abs(e) : 1e-5 }
            #expect(abs(pi.lower - c.pi_lower) <= tolerance(c.pi_lower) && abs(pi.upper - c.pi_upper) <= tolerance(c.pi_upper),
                    "\(c.dataset) Q=\(c.quadrature_points): [\(pi.lower), \(pi.upper)] vs [\(c.pi_lower), \(c.pi_upper)]")
        }
    }

    @Test("every model conforms: the shared answers equal the model's own fields")
    func sharedAnswers() throws {
        let bcg = try Self.table("mh_peto", "bcg")
        let fits: [any FittedModel] = [
            try AnalysisSpecification(pooling: .inverseVariance(.restrictedMaximumLikelihood), measure: .riskRatio).fit(bcg),
            try AnalysisSpecification(pooling: .inverseVariance(.fixedEffect), measure: .oddsRatio).fit(bcg),
            try AnalysisSpecification(pooling: .mantelHaenszel, measure: .riskRatio).fit(bcg),
            try AnalysisSpecification(pooling: .peto).fit(bcg),
            try AnalysisSpecification(pooling: .glmm(quadraturePoints: 1), measure: .oddsRatio).fit(bcg),
            try AnalysisSpecification(pooling: .glmm(quadraturePoints: 7)).fit(Self.table("glmm", "debruin2009")),
        ]
        for fit in fits {
            let p = fit.pooled
            // The interval and test follow from the estimate and SE alone.
            let z = Normal.standard.survivalQuantile((1 - p.level) / 2)
            #expect(abs(p.confidenceInterval.lower - (p.estimate - z * p.standardError)) <= 1e-12, "\(fit.modelName)")
            #expect(abs(p.statistic - p.estimate / p.standardError) <= 1e-12 * abs(p.statistic), "\(fit.modelName)")
            let het = fit.heterogeneity
            #expect(het.iSquared >= 0 && het.iSquared <= 100 && het.hSquared >= 0, "\(fit.modelName)")
            #expect((fit.predictionInterval == nil) == (het.tauSquared == nil), "\(fit.modelName)")
            #expect(fit.studies.effects.count >= 2)
            // Every fit draws a forest plot and goes into the report and the JSON summary.
            let plot = try ForestPlot(fit)
            #expect(plot.studies.count == fit.studies.effects.count, "\(fit.modelName)")
            #expect(abs(plot.overall.estimate - fit.backTransform(p.estimate)) <= 1e-12 * max(1, abs(plot.overall.estimate)))
            let html = try Report(fit, title: "t").html()
            #expect(html.contains("<svg") && html.contains(fit.modelName.replacingOccurrences(of: "&", with: "&amp;")))
            guard case .object(let members) = try fit.jsonSummary() else { Issue.record("not an object"); continue }
            #expect(members.contains { $0.0 == "estimate" })
        }
    }

    @Test("subgroup blocks are found by input row, not by matching labels")
    func subgroupRows() throws {
        // Two rows whose group labels differ only in case and spacing, and a label that is a
        // prefix of another: membership comes from the rows each subgroup's effects came from.
        let csv = "study,yi,vi,g\nA,0.1,0.01,x\nB,0.5,0.02, X \nC,0.3,0.03,xx\nD,0.2,0.01,xx\nE,0.4,0.02,x\n"
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "g.csv")
        let groups = try SubgroupAnalysis(table: table, by: "g", method: .derSimonianLaird)
        let plot = try ForestPlot(groups, table: table)
        var blocks: [String: [String]] = [:]
        var current = ""
        for row in plot.rows {
            switch row {
            case .subgroupHeader(let label): current = label
            case .study(let s): blocks[current, default: []].append(s.label)
            case .subgroupDiamond: break
            }
        }
        #expect(blocks == ["x": ["A", "B", "E"], "xx": ["C", "D"]])
        #expect(groups.subgroups.map(\.rows) == [[1, 2, 5], [3, 4]])
        // After a row selection the rows keep their input numbers.
        let selected = try table.selecting([RowCondition(column: "study", value: "B"), RowCondition(column: "study", value: "C"),
                                            RowCondition(column: "study", value: "D"), RowCondition(column: "study", value: "E")])
        let fits = try SubgroupFits(table: selected, by: "g", specification: AnalysisSpecification(pooling: .inverseVariance(.fixedEffect)))
        #expect(fits.groups.map(\.rows) == [[2, 5], [3, 4]])
    }
}

@Suite("Library messages speak of the analysis, not of command-line options")
struct LibraryMessageTests {
    @Test("no library error names a CLI flag; the CLI names its options from the error's setting and remedy")
    func noFlags() throws {
        let csv = "study,yi,vi,g,treat_events\nA,0.1,0.01,x,1\nB,0.1,0.02,x,2\nC,0.1,0.03,x,3\n"
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "m.csv")
        let effects = try EffectSizes(table: table, measure: .generic)
        var errors: [MetaPoolError] = []
        func collect(_ body: () throws(MetaPoolError) -> Void) {
            do { try body() } catch { errors.append(error) }
        }
        collect { () throws(MetaPoolError) in _ = try MetaAnalysis(effects.subset([0])) }
        collect { () throws(MetaPoolError) in _ = try MetaAnalysis(effects, ciMethod: .hartungKnapp) }
        collect { () throws(MetaPoolError) in _ = try table.selecting([RowCondition(column: "nope", value: "1")]) }
        collect { () throws(MetaPoolError) in _ = try table.selecting([RowCondition(column: "g", value: "y")]) }
        collect { () throws(MetaPoolError) in _ = try SubgroupAnalysis(table: table, by: "nope") }
        collect { () throws(MetaPoolError) in _ = try SubgroupAnalysis(table: table, by: "g", measure: .generic, commonTauSquared: true) }
        collect { () throws(MetaPoolError) in _ = try ModeratorDesign(table: table, moderators: ["dose"]) }
        #expect(errors.count == 7)
        for e in errors {
            #expect(!e.description.contains("--"), "\(e.description)")
        }
        #expect(errors[0].remedy == .methods(["FE"]) && errors[1].remedy == .intervals(["hksj-adhoc", "t"]))
        #expect(errors[2].setting == .rowSelection && errors[4].setting == .subgroups && errors[5].setting == .commonTauSquared && errors[6].setting == .moderators)
        #expect(errors[3].description.contains("no row matches the selection g=y"))
    }
}

@Suite("README: the library example runs as written")
struct ReadmeLibraryExampleTests {
    @Test("the FittedModel pipeline example: MH fit, forest plot, report, subgroups")
    func pipelineExample() throws {
        let table = try DataTable.read(path: FixtureFolder.root.appendingPathComponent("Datasets/bcg-vaccine.csv").path)
        let spec = AnalysisSpecification(pooling: .mantelHaenszel, measure: .riskRatio)
        let mh = try spec.fit(table)
        let svg = try ForestPlot(mh, table: table).svg()
        let html = try Report(mh, table: table, title: "BCG").html()
        let groups = try SubgroupFits(table: table, by: "allocation", specification: spec)
        #expect(svg.contains("Mantel-Haenszel") && html.contains("<svg"))
        #expect(groups.groups.count == 3 && groups.qBetweenDegreesOfFreedom == 2)
        #expect(groups.qBetween > 0 && groups.qBetweenPValue < 0.05)
    }
}

@Suite("Effect sizes carry the studies' sample sizes")
struct SampleSizeTests {
    @Test("n for proportions, n1 + n2 for two-group counts, none for generic effects; Peters' test needs no table")
    func sampleSizes() throws {
        let table = try DataTable.read(path: FixtureFolder.root.appendingPathComponent("Datasets/bcg-vaccine.csv").path)
        let effects = try EffectSizes(table: table, measure: .oddsRatio)
        let totals = try table.totalSampleSizes()
        #expect(effects.sampleSizes == totals)
        #expect(try effects.subset([2, 0]).sampleSizes == [totals[2], totals[0]])
        let proportions = try EffectSizes.proportions(events: [4, 9], totals: [15, 30])
        #expect(proportions.sampleSizes == [15, 30])
        #expect(try EffectSizes.generic(yi: [0.1, 0.2], vi: [0.1, 0.1]).sampleSizes == nil)
        let fromEffects = try EggerTest.peters(effects)
        let fromTable = try EggerTest.peters(effects, sampleSizes: totals)
        #expect(fromEffects.statistic == fromTable.statistic && fromEffects.pValue == fromTable.pValue)
    }
}

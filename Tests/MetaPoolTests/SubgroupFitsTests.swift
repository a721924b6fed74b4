// Subgroups of count-based fits (MH, Peto, GLMM) against metafor: each subgroup alone and the
// Wald test between the subgroup estimates (Tests/Reference/generate_subgroup_fits.R).

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Subgroups of MH, Peto and GLMM fits")
struct SubgroupFitsTests {
    struct Case: Decodable {
        struct Group: Decodable { let label: String; let k: Int; let estimate: Double; let se: Double }
        struct Test: Decodable { let q: Double; let df: Int; let p_value: Double }
        let file: String, method: String, measure: String
        let quadrature_points: Int?
        let groups: [Group]
        let test: Test
    }

    static let folder = FixtureFolder.url("subgroup_fits")

    static func cases() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: folder.appendingPathComponent("cases.json"))).cases
    }

    // MH and Peto are closed forms (1e-10); the GLMM is an optimum that glmer reaches to ~1e-7
    // with tightened control (GLMMTests), so 1e-5 relative there.
    @Test("every subgroup and the test between them match metafor")
    func matchesMetafor() throws {
        let cases = try Self.cases()
        #expect(cases.count == 6)
        for c in cases {
            let pooling = try #require(PoolingMethod(code: c.method, quadraturePoints: c.quadrature_points ?? 7))
            let spec = AnalysisSpecification(pooling: pooling, measure: EffectMeasure(code: c.measure))
            let table = try DataTable.read(path: Self.folder.appendingPathComponent(c.file).path)
            let fits = try SubgroupFits(table: table, by: "g", specification: spec)
            let rel = c.method == "GLMM" ? 1e-5 : 1e-10
            let context = "\(c.file) \(c.method) \(c.measure)"
            #expect(fits.groups.map(\.label) == c.groups.map(\.label), "\(context)")
            for (got, want) in zip(fits.groups, c.groups) {
                #expect(got.fit.studies.effects.count <= want.k)
                expectClose(got.fit.pooled.estimate, want.estimate, relative: rel, absolute: 1e-12, "\(context) \(want.label) estimate")
                expectClose(got.fit.pooled.standardError, want.se, relative: rel, absolute: 1e-12, "\(context) \(want.label) se")
            }
            expectClose(fits.qBetween, c.test.q, relative: c.method == "GLMM" ? 1e-4 : 1e-9, absolute: 1e-10, "\(context) Q")
            #expect(fits.qBetweenDegreesOfFreedom == c.test.df)
            expectClose(fits.qBetweenPValue, c.test.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p")
            // The plot has a block per subgroup with every study of the subgroup in it.
            let plot = try ForestPlot(fits, table: table)
            let headers = plot.rows.compactMap { if case .subgroupHeader(let l) = $0 { l } else { nil } }
            #expect(headers == c.groups.map(\.label))
            #expect(plot.subgroupTest?.statistic == fits.qBetween)
        }
    }

    @Test("a subgroup that cannot be fitted is named in the error")
    func failingSubgroupNamed() throws {
        let csv = "study,events,total,g\nA,4,20,x\nB,6,25,x\nC,3,10,y\n"
        let table = try DataTable.read(bytes: Array(csv.utf8), source: "s.csv")
        do {
            _ = try SubgroupFits(table: table, by: "g", specification: AnalysisSpecification(pooling: .glmm(quadraturePoints: 7)))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .insufficientData)
            #expect(error.reason.hasPrefix("subgroup \"y\":"), "\(error)")
            #expect(error.location.file == "s.csv")
        }
    }
}

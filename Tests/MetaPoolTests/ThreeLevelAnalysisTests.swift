// ThreeLevelAnalysis, the three-level model fitted to a table's studies: chosen by
// AnalysisSpecification.cluster, with metafor's weights(), QE and the per-cluster estimates
// (Fixtures/threelevel, `Rscript Tests/Reference/generate_threelevel.R`), the forest plot's
// cluster blocks, leave-one-cluster-out, and the settings it refuses. Tolerance 1e-6 absolute
// (the fits agree with metafor's to ~1e-9).

import Foundation
@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ThreeLevelAnalysisFixture: Decodable {
    struct Data: Decodable { var yi, vi: [Double]; var cluster, cohort: [String] }
    struct ClusterMeans: Decodable { var cluster: [String]; var k: [Int]; var estimate, se: [Double] }
    struct Fit: Decodable {
        var estimate, se, QE, QEp, I2_total: Double
        var sigma2: [Double]
        var weights: [Double]
        var cluster_means: ClusterMeans
    }
    var data: Data
    var fits: [String: Fit]

    static func table(_ name: String) throws -> (DataTable, ThreeLevelAnalysisFixture) {
        let url = FixtureFolder.url("threelevel").appendingPathComponent(name + ".expected.json")
        let f = try JSONDecoder().decode(ThreeLevelAnalysisFixture.self, from: Foundation.Data(contentsOf: url))
        let rows: [[String?]] = f.data.yi.indices.map { i in
            ["\(f.data.cluster[i]) / \(f.data.cohort[i])", " \(f.data.cluster[i].uppercased()) ", "\(f.data.yi[i])", "\(f.data.vi[i])"]
        }
        return (DataTable(source: name + ".csv", columns: ["study", "district", "yi", "vi"], rows: rows), f)
    }
}

@Suite("ThreeLevelAnalysis: the three-level model of a table, as every later stage takes it")
struct ThreeLevelAnalysisTests {
    @Test("AnalysisSpecification.cluster fits it: weights, QE, I², per-cluster estimates against metafor",
          arguments: ["konstantopoulos2011", "assink2016", "her2_cohorts"])
    func specification(_ name: String) throws {
        let (table, fixture) = try ThreeLevelAnalysisFixture.table(name)
        for (method, code) in [(TauSquaredMethod.maximumLikelihood, "ML"), (.restrictedMaximumLikelihood, "REML")] {
            let r = try #require(fixture.fits[code])
            var spec = AnalysisSpecification(pooling: .inverseVariance(method), measure: .generic)
            spec.cluster = "district"
            spec.robust = .cr2
            let fit = try #require(try spec.fit(table) as? ThreeLevelAnalysis)
            #expect(abs(fit.pooled.estimate - r.estimate) < 1e-6 && abs(fit.pooled.standardError - r.se) < 1e-6)
            #expect(abs(fit.fit.clusterVariance - r.sigma2[0]) < 1e-6 && abs(fit.fit.cohortVariance - r.sigma2[1]) < 1e-6)
            #expect(abs(fit.q - r.QE) < 1e-6 && abs(fit.qPValue - r.QEp) < 1e-6)
            #expect(abs(fit.heterogeneity.iSquared - r.I2_total) < 1e-6)
            #expect(fit.heterogeneity.tauSquared.map { abs($0 - r.sigma2[0] - r.sigma2[1]) < 1e-6 } == true)
            #expect(fit.weights.count == r.weights.count)
            for (w, e) in zip(fit.weights, r.weights) { #expect(abs(w - e) < 1e-6, "\(name) \(code) weight \(w) vs \(e)") }
            // Clusters compared with spaces trimmed and case ignored, named as first written.
            let clusters = fit.clusterEstimates
            #expect(clusters.map(\.label) == r.cluster_means.cluster.map { $0.uppercased() })
            for (c, i) in zip(clusters, clusters.indices) {
                #expect(c.studies.count == r.cluster_means.k[i])
                #expect(abs(c.estimate - r.cluster_means.estimate[i]) < 1e-6 && abs(c.standardError - r.cluster_means.se[i]) < 1e-6)
            }
            #expect(fit.robust != nil && fit.robustType == .cr2)
            // The forest plot: one heading and one diamond per cluster of several cohorts.
            let plot = try ForestPlot(fit, table: table)
            let several = r.cluster_means.k.filter { $0 > 1 }.count
            let headings = plot.rows.filter { if case .subgroupHeader = $0 { true } else { false } }.count
            let diamonds = plot.rows.filter { if case .subgroupDiamond = $0 { true } else { false } }.count
            #expect(headings == several && diamonds == several && plot.studies.count == fixture.data.yi.count)
            #expect(plot.threeLevel?.column == "district")
        }
    }

    @Test("leave one cluster out: each refit is the three-level model of the other clusters' studies")
    func leaveOneClusterOut() throws {
        let (table, _) = try ThreeLevelAnalysisFixture.table("konstantopoulos2011")
        var spec = AnalysisSpecification(pooling: .inverseVariance(.restrictedMaximumLikelihood), measure: .generic)
        spec.cluster = "district"
        let fit = try #require(try spec.fit(table) as? ThreeLevelAnalysis)
        let loco = try LeaveOneClusterOut(fit)
        #expect(loco.fits.count == fit.fit.clusterCount)
        let first = try #require(loco.fits.first)
        let kept = table.selectingRows(Array(fit.clusters.ids.indices.filter { fit.clusters.ids[$0] != 0 }))
        let refit = try #require(try spec.fit(kept) as? ThreeLevelAnalysis)
        #expect(first.omitted == fit.clusters.names[0] && first.count == kept.rowCount)
        #expect(abs(first.pooled.estimate - refit.pooled.estimate) < 1e-12 && first.clusterVariance == refit.fit.clusterVariance)
    }

    @Test("settings without a three-level form are refused before any data is read")
    func refusals() {
        var dl = AnalysisSpecification(pooling: .inverseVariance(.derSimonianLaird))
        dl.cluster = "trial"
        #expect(throws: MetaPoolError.self) { try dl.validate() }
        var hksj = AnalysisSpecification(ciMethod: .hartungKnapp)
        hksj.cluster = "trial"
        #expect(throws: MetaPoolError.self) { try hksj.validate() }
        var robust = AnalysisSpecification()
        robust.robust = .cr1
        #expect(throws: MetaPoolError.self) { try robust.validate() }
        #expect(ClusterRobustType(code: " cr1 ") == .cr1 && ClusterRobustType(code: "HC0") == nil)
    }
}

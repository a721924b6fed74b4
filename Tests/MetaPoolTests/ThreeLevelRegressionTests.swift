// The three-level meta-regression against metafor's rma.mv(yi, vi, mods = ~ ..., random = ~ 1 |
// cluster/cohort) by ML and REML: coefficients with z and t tests, both variance components with
// their profile-likelihood intervals, logLik, QE, QM (χ² and F), the LRT against the two-level
// meta-regression, metafor's CR1 robust() and clubSandwich's CR2 with Satterthwaite df. Fixtures:
// Tests/MetaPoolTests/Fixtures/threelevel_regression, written by
// `Rscript Tests/Reference/generate_threelevel_regression.R`.

import Foundation
@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ThreeLevelRegressionFixture: Decodable {
    struct TwoLevel: Decodable { var tau2, logLik: Double }
    struct CR1: Decodable {
        var se, tval, pval, ci_lb, ci_ub, vcov: [Double]
        var df: Int
        var QM, QM_pval: Double
        var QM_df: [Int]
    }
    struct CR2: Decodable {
        var se, tval, df, pval, ci_lb, ci_ub, vcov: [Double]
        /// clubSandwich's Wald_test(test = "HTZ"); null where it fails (a singular CR2 block).
        var htz_F, htz_df_denom, htz_pval: Double?
        var htz_df_num: Int?
    }
    struct Fit: Decodable {
        var estimate, se, zval, pval, ci_lb, ci_ub: [Double]
        var tval, t_pval, t_ci_lb, t_ci_ub: [Double]
        var t_df: Int
        var vcov, sigma2: [Double]
        var sigma2_ci: [[Double?]]
        var logLik, QE, QE_pval, QM, QM_pval, t_QM, t_QM_pval: Double
        var QE_df, QM_df: Int
        var t_QM_df: [Int]
        var two_level: TwoLevel
        var lrt, lrt_pval: Double
        var cr1: CR1
        var cr2: CR2
    }
    var case_: String
    var input, cluster: String
    var columns: [String]
    var centre: Bool
    var k, p, n_clusters: Int
    var predictors: [String]
    var fits: [String: Fit]

    enum CodingKeys: String, CodingKey {
        case case_ = "case", input, cluster, columns, centre, k, p, n_clusters, predictors, fits
    }

    static let directory = FixtureFolder.url("threelevel_regression")
    static var names: [String] { FixtureFolder.names(in: directory, suffix: ".expected.json") }

    static func load(_ name: String) throws -> ThreeLevelRegressionFixture {
        try JSONDecoder().decode(Self.self, from: Data(contentsOf: directory.appendingPathComponent(name + ".expected.json")))
    }

    /// The model built from the fixture's CSV as the CLI builds it: ModeratorDesign on the moderator
    /// columns (centred where the R formula centres), the cluster column's values as integers.
    func model() throws -> ThreeLevelRegression {
        let table = try DataTable.read(path: Self.directory.appendingPathComponent(input).path)
        let effects = try EffectSizes(table: table)
        let design = try ModeratorDesign(table: table, moderators: columns)
        var matrix = design.matrix
        let p = design.predictors.count
        if centre {
            for j in 1..<p {
                var mean = 0.0
                for i in 0..<table.rowCount { mean += matrix[i * p + j] }
                mean /= Double(table.rowCount)
                for i in 0..<table.rowCount { matrix[i * p + j] -= mean }
            }
        }
        let c = try #require(table.columnIndex(cluster))
        var ids: [String: Int] = [:]
        let clusters = (0..<table.rowCount).map { row in
            let key = table.cell(row: row, column: c) ?? ""
            if let id = ids[key] { return id }
            ids[key] = ids.count
            return ids.count - 1
        }
        return try ThreeLevelRegression(yi: effects.yi, vi: effects.vi, cluster: clusters, design: matrix, predictors: design.predictors)
    }
}

/// The largest absolute differences from R per case, printed for the record.
final class DifferenceLog: @unchecked Sendable {
    var worst: [String: Double] = [:]
    func check(_ actual: Double, _ expected: Double, _ group: String, tolerance: Double, _ what: String,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let difference = abs(actual - expected)
        worst[group] = max(worst[group] ?? 0, difference.isNaN ? .infinity : difference)
        expectClose(actual, expected, relative: tolerance, absolute: tolerance, what, sourceLocation: sourceLocation)
    }
}

@Suite("Three-level meta-regression against metafor's rma.mv(mods) and clubSandwich")
struct ThreeLevelRegressionTests {
    @Test("the fixtures are there")
    func fixturesPresent() {
        let names = ThreeLevelRegressionFixture.names
        #expect(names.count >= 4, "\(names)")
        for name in ["konstantopoulos2011_year", "konstantopoulos2011_schools", "assink2016_deltype", "her2_drugclass"] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test("ML and REML: coefficients, variance components with profile CIs, logLik, QE, QM, LRT, CR1, CR2",
          arguments: ThreeLevelRegressionFixture.names)
    func dataset(_ name: String) throws {
        let fixture = try ThreeLevelRegressionFixture.load(name)
        let model = try fixture.model()
        #expect(model.count == fixture.k && model.clusterCount == fixture.n_clusters && model.coefficientCount == fixture.p)
        // R names the centred column I(year - mean(year)); the design names it by its column.
        if !fixture.centre {
            #expect(model.predictors == fixture.predictors.map { $0 == "(Intercept)" ? "intrcpt" : $0 }, "\(model.predictors)")
        }
        let log = DifferenceLog()
        let p = fixture.p
        for (code, method) in [("ML", TauSquaredMethod.maximumLikelihood), ("REML", .restrictedMaximumLikelihood)] {
            let e = try #require(fixture.fits[code])
            let context = "\(name) \(code)"
            let tol = 1e-6
            let z = try model.fit(method: method)
            func check(_ a: Double, _ b: Double, _ group: String, _ what: String, tolerance: Double = tol) {
                log.check(a, b, "\(code) \(group)", tolerance: tolerance, "\(context) \(what)")
            }
            check(z.clusterVariance, e.sigma2[0], "model", "sigma2 cluster")
            check(z.cohortVariance, e.sigma2[1], "model", "sigma2 cohort")
            check(z.logLikelihood, e.logLik, "model", "logLik")
            for j in 0..<p {
                let c = z.coefficients[j]
                check(c.estimate, e.estimate[j], "model", "b[\(j)]")
                check(c.standardError, e.se[j], "model", "se[\(j)]")
                check(c.statistic, e.zval[j], "model", "z[\(j)]")
                check(c.pValue, e.pval[j], "model", "p[\(j)]")
                check(c.confidenceInterval.lower, e.ci_lb[j], "model", "ci.lb[\(j)]")
                check(c.confidenceInterval.upper, e.ci_ub[j], "model", "ci.ub[\(j)]")
            }
            for i in 0..<(p * p) { check(z.covariance[i], e.vcov[i], "model", "vcov[\(i)]") }
            check(z.residualQ, e.QE, "model", "QE")
            check(z.residualQPValue, e.QE_pval, "model", "QE p")
            #expect(z.residualQDegreesOfFreedom == e.QE_df)
            let qm = try #require(z.moderatorTest)
            check(qm.statistic, e.QM, "model", "QM")
            check(qm.pValue, e.QM_pval, "model", "QM p")
            #expect(qm.degreesOfFreedom == e.QM_df && qm.denominatorDegreesOfFreedom == nil)
            check(z.twoLevelTauSquared, e.two_level.tau2, "model", "two-level tau2")
            check(z.twoLevelLogLikelihood, e.two_level.logLik, "model", "two-level logLik")
            check(z.likelihoodRatio, e.lrt, "model", "LRT")
            check(z.likelihoodRatioPValue, e.lrt_pval, "model", "LRT p")
            // test = "t": t on k − p df, F(m, k − p).
            let t = try model.fit(method: method, tDistribution: true)
            #expect(t.degreesOfFreedom == e.t_df, "\(context) t df")
            for j in 0..<p {
                let c = t.coefficients[j]
                check(c.statistic, e.tval[j], "model", "t[\(j)]")
                check(c.pValue, e.t_pval[j], "model", "t p[\(j)]")
                check(c.confidenceInterval.lower, e.t_ci_lb[j], "model", "t ci.lb[\(j)]")
                check(c.confidenceInterval.upper, e.t_ci_ub[j], "model", "t ci.ub[\(j)]")
            }
            let f = try #require(t.moderatorTest)
            check(f.statistic, e.t_QM, "model", "F")
            check(f.pValue, e.t_QM_pval, "model", "F p")
            #expect([f.degreesOfFreedom, f.denominatorDegreesOfFreedom ?? -1] == e.t_QM_df)
            // Profile-likelihood intervals (metafor's confint).
            for (m, isCluster) in [(0, true), (1, false)] {
                let interval = try model.varianceInterval(z, cluster: isCluster)
                let want = e.sigma2_ci[m]
                if let lb = want[0] { check(interval.lower, lb, "profile CI", "sigma2[\(m)] ci.lb", tolerance: 1e-5) }
                if let ub = want[1] { check(interval.upper, ub, "profile CI", "sigma2[\(m)] ci.ub", tolerance: 1e-5) }
            }
            // CR1: metafor's robust(fit, cluster).
            let cr1 = try #require(z.clusterRobust)
            #expect(cr1.adjustment == .cr1)
            for j in 0..<p {
                let c = cr1.coefficients[j]
                #expect(c.degreesOfFreedom == Double(e.cr1.df), "\(context) CR1 df")
                check(c.standardError, e.cr1.se[j], "CR1", "CR1 se[\(j)]")
                check(c.statistic, e.cr1.tval[j], "CR1", "CR1 t[\(j)]")
                check(c.pValue, e.cr1.pval[j], "CR1", "CR1 p[\(j)]")
                check(c.confidenceInterval.lower, e.cr1.ci_lb[j], "CR1", "CR1 ci.lb[\(j)]")
                check(c.confidenceInterval.upper, e.cr1.ci_ub[j], "CR1", "CR1 ci.ub[\(j)]")
            }
            for i in 0..<(p * p) { check(cr1.covariance[i], e.cr1.vcov[i], "CR1", "CR1 vcov[\(i)]") }
            // metafor's robust F-test; where the robust covariance of the tested block is singular
            // (her2_drugclass: two levels are one single-row cluster each) metafor prints a
            // meaningless ~1e16 and MetaPool reports no test.
            if e.cr1.QM < 1e10 {
                let test = try #require(cr1.moderatorTest, "\(context) CR1 QM")
                check(test.statistic, e.cr1.QM, "CR1", "CR1 QM")
                check(test.pValue, e.cr1.QM_pval, "CR1", "CR1 QM p")
                #expect([test.numeratorDegreesOfFreedom, Int(test.denominatorDegreesOfFreedom)] == e.cr1.QM_df)
            }
            // CR2: clubSandwich's coef_test(vcov = "CR2") with Satterthwaite df.
            let cr2 = try #require(model.clusterRobustCR2(z), "\(context) CR2")
            #expect(cr2.adjustment == .cr2)
            for j in 0..<p {
                let c = cr2.coefficients[j]
                check(c.standardError, e.cr2.se[j], "CR2", "CR2 se[\(j)]")
                check(c.degreesOfFreedom, e.cr2.df[j], "CR2", "CR2 df[\(j)]")
                check(c.statistic, e.cr2.tval[j], "CR2", "CR2 t[\(j)]")
                check(c.pValue, e.cr2.pval[j], "CR2", "CR2 p[\(j)]")
                check(c.confidenceInterval.lower, e.cr2.ci_lb[j], "CR2", "CR2 ci.lb[\(j)]")
                check(c.confidenceInterval.upper, e.cr2.ci_ub[j], "CR2", "CR2 ci.ub[\(j)]")
            }
            for i in 0..<(p * p) { check(cr2.covariance[i], e.cr2.vcov[i], "CR2", "CR2 vcov[\(i)]") }
            if let fStat = e.cr2.htz_F, let df2 = e.cr2.htz_df_denom, let pHTZ = e.cr2.htz_pval {
                let htz = try #require(cr2.moderatorTest, "\(context) HTZ")
                check(htz.statistic, fStat, "CR2", "HTZ F")
                check(htz.denominatorDegreesOfFreedom, df2, "CR2", "HTZ df2")
                check(htz.pValue, pHTZ, "CR2", "HTZ p")
                #expect(htz.numeratorDegreesOfFreedom == e.cr2.htz_df_num)
            } else {
                #expect(cr2.moderatorTest == nil, "\(context) HTZ where clubSandwich has none")
            }
        }
        let summary = log.worst.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2e", $0.value))" }.joined(separator: "; ")
        print("threelevel_regression \(name) max |MetaPool - R|: \(summary)")
    }

    @Test("the intercept-only regression is ThreeLevelModel's fit", arguments: ThreeLevelFixture.names)
    func interceptOnly(_ name: String) throws {
        let raw = try Foundation.Data(contentsOf: ThreeLevelFixture.directory.appendingPathComponent(name + ".expected.json"))
        let fixture = try JSONDecoder().decode(ThreeLevelFixture.self, from: raw)
        var ids: [String: Int] = [:]
        let cluster = fixture.data.cluster.map { c in ids[c] ?? { ids[c] = ids.count; return ids.count - 1 }() }
        let k = fixture.data.yi.count
        let plain = try ThreeLevelModel(yi: fixture.data.yi, vi: fixture.data.vi, cluster: cluster)
        let regression = try ThreeLevelRegression(yi: fixture.data.yi, vi: fixture.data.vi, cluster: cluster,
                                                  design: [Double](repeating: 1, count: k), predictors: ["intrcpt"])
        for method in [TauSquaredMethod.maximumLikelihood, .restrictedMaximumLikelihood] {
            let a = try plain.fit(method: method), b = try regression.fit(method: method)
            let context = "\(name) \(method.rawValue)"
            expectClose(b.clusterVariance, a.clusterVariance, relative: 1e-8, absolute: 1e-10, "\(context) sigma2 cluster")
            expectClose(b.cohortVariance, a.cohortVariance, relative: 1e-8, absolute: 1e-10, "\(context) sigma2 cohort")
            expectClose(b.logLikelihood, a.logLikelihood, relative: 1e-12, absolute: 1e-10, "\(context) logLik")
            expectClose(b.coefficients[0].estimate, a.pooled.estimate, relative: 1e-8, absolute: 1e-10, "\(context) mu")
            expectClose(b.coefficients[0].standardError, a.pooled.standardError, relative: 1e-8, absolute: 1e-10, "\(context) se")
            expectClose(b.twoLevelLogLikelihood, a.twoLevelLogLikelihood, relative: 1e-10, absolute: 1e-10, "\(context) two-level logLik")
            #expect(b.moderatorTest == nil)
            let r1 = try #require(b.clusterRobust), c1 = try #require(a.clusterRobust)
            expectClose(r1.coefficients[0].standardError, c1.standardError, relative: 1e-8, absolute: 1e-10, "\(context) CR1 se")
            let r2 = try #require(regression.clusterRobustCR2(b)), c2 = try #require(plain.clusterRobustCR2(a))
            expectClose(r2.coefficients[0].standardError, c2.standardError, relative: 1e-7, absolute: 1e-10, "\(context) CR2 se")
            expectClose(r2.coefficients[0].degreesOfFreedom, c2.degreesOfFreedom, relative: 1e-7, absolute: 1e-10, "\(context) CR2 df")
            for cluster in [true, false] {
                let ia = try plain.varianceInterval(a, cluster: cluster), ib = try regression.varianceInterval(b, cluster: cluster)
                expectClose(ib.lower, ia.lower, relative: 1e-7, absolute: 1e-9, "\(context) ci.lb")
                expectClose(ib.upper, ia.upper, relative: 1e-7, absolute: 1e-9, "\(context) ci.ub")
            }
        }
    }

    @Test("bad input: shapes, k ≤ p, non-finite values, collinear moderators, one study per cluster, methods")
    func badInput() throws {
        let y = [0.1, 0.3, 0.2, 0.5, 0.4, 0.25], v = [0.01, 0.02, 0.015, 0.03, 0.02, 0.01]
        let cluster = [1, 1, 2, 2, 3, 3]
        let x1 = [1.0, 2, 3, 4, 5, 7]
        func design(_ columns: [[Double]]) -> [Double] {
            var out: [Double] = []
            for i in 0..<y.count { out.append(1); for c in columns { out.append(c[i]) } }
            return out
        }
        func expectError(_ kind: MetaPoolError.Kind, _ text: String? = nil, _ body: () throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try body()
                Issue.record("accepted", sourceLocation: sourceLocation)
            } catch {
                guard let error = error as? MetaPoolError else { Issue.record("\(error)", sourceLocation: sourceLocation); return }
                #expect(error.kind == kind, "\(error.reason)", sourceLocation: sourceLocation)
                if let text { #expect(error.reason.contains(text), "\(error.reason)", sourceLocation: sourceLocation) }
            }
        }
        // Shapes.
        expectError(.invalidArgument) { _ = try ThreeLevelRegression(yi: y, vi: v, cluster: [1, 1], design: design([x1]), predictors: ["intrcpt", "x"]) }
        expectError(.invalidArgument) { _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([x1]), predictors: ["intrcpt"]) }
        expectError(.invalidArgument) { _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: [], predictors: []) }
        // Fewer studies than coefficients (k ≤ p).
        expectError(.insufficientData, "needs more than") {
            _ = try ThreeLevelRegression(yi: Array(y[0..<2]), vi: Array(v[0..<2]), cluster: [1, 1], design: [1, 0, 1, 1], predictors: ["intrcpt", "x"])
        }
        // Non-finite values.
        expectError(.invalidValue) { _ = try ThreeLevelRegression(yi: [.nan] + y.dropFirst(), vi: v, cluster: cluster, design: design([x1]), predictors: ["intrcpt", "x"]) }
        expectError(.invalidValue) {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([[.infinity] + x1.dropFirst()]), predictors: ["intrcpt", "x"])
        }
        expectError(.invalidValue) { _ = try ThreeLevelRegression(yi: y, vi: [0] + v.dropFirst(), cluster: cluster, design: design([x1]), predictors: ["intrcpt", "x"]) }
        expectError(.invalidValue, "too large") {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([[1e300] + x1.dropFirst()]), predictors: ["intrcpt", "x"])
        }
        // Collinear moderators: x2 = 2·x1, and a constant column next to the intercept.
        expectError(.insufficientData, "linearly dependent") {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([x1, x1.map { 2 * $0 }]), predictors: ["intrcpt", "a", "b"])
        }
        expectError(.insufficientData, "linearly dependent") {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([[Double](repeating: 3, count: 6)]), predictors: ["intrcpt", "c"])
        }
        // One study per cluster: the two-level model.
        expectError(.insufficientData, "reduces to the two-level") {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: [1, 2, 3, 4, 5, 6], design: design([x1]), predictors: ["intrcpt", "x"])
        }
        // Bad test indices, methods and levels.
        expectError(.invalidArgument) {
            _ = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([x1]), predictors: ["intrcpt", "x"], testing: [2])
        }
        let model = try ThreeLevelRegression(yi: y, vi: v, cluster: cluster, design: design([x1]), predictors: ["intrcpt", "x"])
        expectError(.invalidArgument, "ML or REML") { _ = try model.fit(method: .derSimonianLaird) }
        expectError(.invalidArgument) { _ = try model.fit(level: 1.5) }
        // A fit on these few studies is still well defined, and the robust tests need n > p.
        let fit = try model.fit()
        #expect(fit.coefficients.allSatisfy { $0.estimate.isFinite && $0.standardError.isFinite })
        #expect(fit.clusterRobust != nil)
        let two = try ThreeLevelRegression(yi: Array(y[0..<4]), vi: Array(v[0..<4]), cluster: [1, 1, 2, 2], design: Array(design([x1])[0..<8]),
                                           predictors: ["intrcpt", "x"])
        let small = try two.fit(method: .maximumLikelihood)
        #expect(small.clusterRobust == nil)  // n = p = 2: robust() has no df
    }

    @Test("a cluster-level moderator (constant within every cluster) fits and its CR2 df are finite")
    func clusterLevelModerator() throws {
        let fixture = try ThreeLevelRegressionFixture.load("konstantopoulos2011_schools")
        let model = try fixture.model()
        let fit = try model.fit()
        #expect(fit.clusterVariance > 0 && fit.cohortVariance > 0)
        let cr2 = try #require(model.clusterRobustCR2(fit))
        #expect(cr2.coefficients.allSatisfy { $0.degreesOfFreedom > 0 && $0.degreesOfFreedom < Double(fit.clusterCount) })
    }
}

// The three-level binomial GLMM (cohorts within clusters, random intercepts on the logit scale)
// against lme4's glmer(cbind(x, n − x) ~ 1 + (1 | cluster/cohort), family = binomial, nAGQ = 1):
// μ̂ with the SE of vcov(use.hessian = TRUE), its z and t tests and intervals, σ̂²₁ and σ̂²₂, the
// Laplace log-likelihood, the two-level Laplace fit and the likelihood-ratio test (anova()), the
// prediction intervals, I² per level and the population-averaged rate. Fixtures:
// Tests/MetaPoolTests/Fixtures/threelevel_glmm, written by
// `Rscript Tests/Reference/generate_threelevel_glmm.R`.

import Foundation
@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct ThreeLevelBinomialFixture: Decodable {
    struct Data: Decodable { var events, total: [Double]; var cluster, cohort: [String] }
    struct TwoLevel: Decodable { var estimate, se, tau2, logLik: Double }
    /// glmer's own answers (before the polish): its vcov() with and without the Hessian, logLik, anova().
    struct Lme4: Decodable {
        var estimate, logLik, se_vcov_hessian, se_vcov_rx, two_level_estimate, two_level_logLik, anova_chisq, anova_pval: Double
        var sigma2: [Double]
    }
    var dataset: String
    var k, n_clusters, t_df, lrt_df: Int
    var data: Data
    var estimate, se, zval, pval, ci_lb, ci_ub: Double
    var tval, t_pval, t_ci_lb, t_ci_ub: Double
    var sigma2: [Double]
    var logLik, pi_lb, pi_ub, t_pi_lb, t_pi_ub, typical_vi, I2_cluster, I2_cohort, I2_total: Double
    var marginal_rate: Double
    var marginal_rate_ci: [Double]
    /// Profile-likelihood intervals [[lb, ub] cluster, [lb, ub] cohort].
    var sigma2_ci: [[Double]]
    /// The profile-likelihood interval of μ, and the binomial log-likelihood at the conditional modes.
    var mu_profile_ci: [Double]
    var conditional_logLik: Double
    var two_level: TwoLevel
    var lrt, lrt_pval: Double
    var lme4: Lme4

    static let directory = FixtureFolder.url("threelevel_glmm")
    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".expected.json") }.map { String($0.dropLast(".expected.json".count)) }.sorted()
    }
    static func load(_ name: String) throws -> ThreeLevelBinomialFixture {
        let raw = try Foundation.Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(ThreeLevelBinomialFixture.self, from: raw)
    }
    /// Cluster labels as integers, in order of first appearance.
    var clusterIDs: [Int] {
        var ids: [String: Int] = [:]
        return data.cluster.map { c in ids[c] ?? { ids[c] = ids.count; return ids.count - 1 }() }
    }
}

@Suite("Three-level binomial GLMM against lme4's glmer (Laplace)")
struct ThreeLevelBinomialModelTests {
    @Test("the fixtures are there: HER2 cohorts, Hasselblad (1998) arms, simulated sets (two with a variance at 0)")
    func fixturesPresent() {
        let names = ThreeLevelBinomialFixture.names
        #expect(names.count >= 5, "\(names)")
        for name in ["her2_cohorts", "hasselblad1998", "simulated40", "boundary_cluster", "boundary_cohort"] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test("a variance component estimated at 0 is exactly 0, with the LRT then 0 (σ²₁) and p = 1")
    func boundary() throws {
        let cluster = try ThreeLevelBinomialFixture.load("boundary_cluster")
        let a = try ThreeLevelBinomialModel(events: cluster.data.events, totals: cluster.data.total, cluster: cluster.clusterIDs).fit()
        #expect(cluster.sigma2[0] < 1e-20)
        #expect(a.clusterVariance == 0)
        #expect(a.cohortVariance > 0.1)
        #expect(a.likelihoodRatio == 0)
        #expect(a.likelihoodRatioPValue == 1)
        #expect(a.logLikelihood == a.twoLevelLogLikelihood)
        let cohort = try ThreeLevelBinomialFixture.load("boundary_cohort")
        let b = try ThreeLevelBinomialModel(events: cohort.data.events, totals: cohort.data.total, cluster: cohort.clusterIDs).fit()
        #expect(cohort.sigma2[1] < 1e-20)
        #expect(b.cohortVariance == 0)
        #expect(b.clusterVariance > 0.05)
        #expect(b.likelihoodRatio > 1)
    }

    @Test("estimate, SE, variance components, logLik, two-level fit, LRT, PI, I², population-averaged rate",
          arguments: ThreeLevelBinomialFixture.names)
    func dataset(_ name: String) throws {
        let e = try ThreeLevelBinomialFixture.load(name)
        let model = try ThreeLevelBinomialModel(events: e.data.events, totals: e.data.total, cluster: e.clusterIDs)
        #expect(model.count == e.k)
        #expect(model.clusterCount == e.n_clusters)
        let z = try model.fit()
        // The fixture: glmer's optimum polished by Newton on the Laplace log-likelihood written out in R
        // (which lme4's deviance function evaluates, up to its PIRLS noise of ~1e-9). Measured
        // agreement: estimates, σ², log-likelihoods and the LRT to < 1e-9 (checked at 1e-7).
        let tight = 1e-7
        // Quantities through the SE (finite-difference Hessians on both sides): measured < 1e-8 (I² in
        // percent < 1e-7), checked at 1e-6, tighter than the 1e-5 asked for.
        let tol = 1e-6
        expectClose(z.pooled.estimate, e.estimate, relative: 0, absolute: tight, "\(name) estimate")
        expectClose(z.clusterVariance, e.sigma2[0], relative: 0, absolute: tight, "\(name) sigma2 cluster")
        expectClose(z.cohortVariance, e.sigma2[1], relative: 0, absolute: tight, "\(name) sigma2 cohort")
        expectClose(z.logLikelihood, e.logLik, relative: 0, absolute: tight, "\(name) logLik")
        expectClose(z.twoLevel.estimate, e.two_level.estimate, relative: 0, absolute: tight, "\(name) two-level estimate")
        expectClose(z.twoLevelTauSquared, e.two_level.tau2, relative: 0, absolute: tight, "\(name) two-level tau2")
        expectClose(z.twoLevelLogLikelihood, e.two_level.logLik, relative: 0, absolute: tight, "\(name) two-level logLik")
        expectClose(z.likelihoodRatio, e.lrt, relative: 0, absolute: tight, "\(name) LRT")
        #expect(e.lrt_df == 1)
        // (Near a statistic of 0 the p-value moves as its square root: 1e-14 gives 1e-7.)
        expectClose(z.likelihoodRatioPValue, e.lrt_pval, relative: 0, absolute: tol, "\(name) LRT p")
        // SE: the inverse of the full observed information of (μ, θ₁, θ₂), the definition of lme4's
        // vcov(use.hessian = TRUE); the fixture's from a Richardson-extrapolated Hessian of the Laplace
        // log-likelihood written out in R (agrees to ~1e-9). lme4's own deriv12 Hessian is noisy
        // (PIRLS tolerance; 1.5e-4 off on her2_cohorts), so against it only 1e-3; the RX-based
        // vcov(use.hessian = FALSE) is another quantity, further off.
        expectClose(z.pooled.standardError, e.se, relative: 0, absolute: tol, "\(name) se")
        expectClose(z.pooled.standardError, e.lme4.se_vcov_hessian, relative: 0, absolute: 1e-3, "\(name) se vs lme4 vcov")
        #expect(abs(z.pooled.standardError - e.lme4.se_vcov_rx) > 5e-4, "\(name): the SE is the RX-based one")
        // glmer's unpolished optimum and its anova(): within its tolerance.
        expectClose(z.pooled.estimate, e.lme4.estimate, relative: 0, absolute: 1e-5, "\(name) lme4 estimate")
        expectClose(z.clusterVariance, e.lme4.sigma2[0], relative: 0, absolute: 1e-5, "\(name) lme4 sigma2 cluster")
        expectClose(z.cohortVariance, e.lme4.sigma2[1], relative: 0, absolute: 1e-5, "\(name) lme4 sigma2 cohort")
        expectClose(z.logLikelihood, e.lme4.logLik, relative: 0, absolute: 1e-7, "\(name) lme4 logLik")
        expectClose(z.twoLevelLogLikelihood, e.lme4.two_level_logLik, relative: 0, absolute: 1e-7, "\(name) lme4 two-level logLik")
        expectClose(z.likelihoodRatio, e.lme4.anova_chisq, relative: 0, absolute: 1e-6, "\(name) anova chisq")
        expectClose(z.likelihoodRatioPValue, e.lme4.anova_pval, relative: 0, absolute: 1e-6, "\(name) anova p")
        expectClose(z.twoLevel.standardError, e.two_level.se, relative: 0, absolute: tol, "\(name) two-level se")
        expectClose(z.pooled.statistic, e.zval, relative: 0, absolute: tol, "\(name) z")
        expectClose(z.pooled.pValue, e.pval, relative: 0, absolute: tol, "\(name) p")
        expectClose(z.pooled.confidenceInterval.lower, e.ci_lb, relative: 0, absolute: tol, "\(name) ci.lb")
        expectClose(z.pooled.confidenceInterval.upper, e.ci_ub, relative: 0, absolute: tol, "\(name) ci.ub")
        expectClose(z.predictionInterval.lower, e.pi_lb, relative: 0, absolute: tol, "\(name) pi.lb")
        expectClose(z.predictionInterval.upper, e.pi_ub, relative: 0, absolute: tol, "\(name) pi.ub")
        // ṽ from the escalc variances only: to rounding.
        expectClose(z.typicalVariance, e.typical_vi, relative: 1e-12, absolute: 0, "\(name) typical vi")
        expectClose(z.iSquaredCluster, e.I2_cluster, relative: 0, absolute: tol, "\(name) I2 cluster")
        expectClose(z.iSquaredCohort, e.I2_cohort, relative: 0, absolute: tol, "\(name) I2 cohort")
        expectClose(z.iSquaredTotal, e.I2_total, relative: 0, absolute: tol, "\(name) I2 total")
        let rate = z.populationAveragedRate
        expectClose(rate.estimate, e.marginal_rate, relative: 0, absolute: tight, "\(name) marginal rate")
        expectClose(rate.lower, e.marginal_rate_ci[0], relative: 0, absolute: tol, "\(name) marginal rate lb")
        expectClose(rate.upper, e.marginal_rate_ci[1], relative: 0, absolute: tol, "\(name) marginal rate ub")
        #expect(z.iterations > 0)

        // Profile-likelihood intervals of both components (root finding to 1e-10 or better on both
        // sides; measured < 1e-13).
        for (m, isCluster) in [(0, true), (1, false)] {
            let interval = try model.varianceInterval(z, cluster: isCluster)
            expectClose(interval.lower, e.sigma2_ci[m][0], relative: 0, absolute: tol, "\(name) sigma2[\(m)] ci.lb")
            expectClose(interval.upper, e.sigma2_ci[m][1], relative: 0, absolute: tol, "\(name) sigma2[\(m)] ci.ub")
            let estimate = m == 0 ? z.clusterVariance : z.cohortVariance
            #expect(interval.lower <= estimate && estimate < interval.upper, "\(name) sigma2[\(m)]")
        }

        // The profile-likelihood interval of μ (θ₁, θ₂ maximised at each point; the reference by bobyqa on
        // lme4's deviance function and uniroot to 1e-12; measured < 2e-13), and the binomial log-likelihood at
        // the modes (measured < 2e-9: the mode solves on both sides).
        let muInterval = try model.meanInterval(z)
        expectClose(muInterval.lower, e.mu_profile_ci[0], relative: 0, absolute: tol, "\(name) mu profile ci.lb")
        expectClose(muInterval.upper, e.mu_profile_ci[1], relative: 0, absolute: tol, "\(name) mu profile ci.ub")
        #expect(muInterval.lower < z.pooled.estimate && z.pooled.estimate < muInterval.upper, "\(name) mu inside its interval")
        expectClose(z.conditionalLogLikelihood, e.conditional_logLik, relative: 0, absolute: tight, "\(name) conditional logLik")
        #expect(z.conditionalLogLikelihood > z.logLikelihood, "\(name): the conditional log-likelihood omits the penalty and log-determinant")

        // t on k − 1 df for the test, the interval and the prediction interval; estimates unchanged.
        let t = try model.fit(tDistribution: true)
        #expect(t.pooled.degreesOfFreedom == e.t_df)
        expectClose(t.pooled.estimate, z.pooled.estimate, relative: 0, absolute: 1e-12, "\(name) t estimate")
        expectClose(t.pooled.statistic, e.tval, relative: 0, absolute: tol, "\(name) t")
        expectClose(t.pooled.pValue, e.t_pval, relative: 0, absolute: tol, "\(name) t p")
        expectClose(t.pooled.confidenceInterval.lower, e.t_ci_lb, relative: 0, absolute: tol, "\(name) t ci.lb")
        expectClose(t.pooled.confidenceInterval.upper, e.t_ci_ub, relative: 0, absolute: tol, "\(name) t ci.ub")
        expectClose(t.predictionInterval.lower, e.t_pi_lb, relative: 0, absolute: tol, "\(name) t pi.lb")
        expectClose(t.predictionInterval.upper, e.t_pi_ub, relative: 0, absolute: tol, "\(name) t pi.ub")
    }

    @Test("the fit does not depend on the order of the rows or on the cluster numbers")
    func rowOrder() throws {
        let e = try ThreeLevelBinomialFixture.load("her2_cohorts")
        let ids = e.clusterIDs
        let reference = try ThreeLevelBinomialModel(events: e.data.events, totals: e.data.total, cluster: ids).fit()
        let order = Array(e.data.events.indices.reversed())
        let shuffled = try ThreeLevelBinomialModel(events: order.map { e.data.events[$0] }, totals: order.map { e.data.total[$0] },
                                                   cluster: order.map { 1000 - 7 * ids[$0] }).fit()
        expectClose(shuffled.pooled.estimate, reference.pooled.estimate, relative: 0, absolute: 1e-8, "estimate")
        expectClose(shuffled.clusterVariance, reference.clusterVariance, relative: 0, absolute: 1e-8, "sigma2 cluster")
        expectClose(shuffled.cohortVariance, reference.cohortVariance, relative: 0, absolute: 1e-8, "sigma2 cohort")
        expectClose(shuffled.logLikelihood, reference.logLikelihood, relative: 0, absolute: 1e-10, "logLik")
        // Merging two clusters changes the model: the grouping is used.
        var merged = ids
        for i in merged.indices where merged[i] == 1 { merged[i] = 0 }
        let other = try ThreeLevelBinomialModel(events: e.data.events, totals: e.data.total, cluster: merged).fit()
        #expect(abs(other.logLikelihood - reference.logLikelihood) > 1e-6)
    }

    @Test("the two-level fit (σ²₁ = 0) is the two-level GLMM with the Laplace approximation")
    func twoLevelAgrees() throws {
        let e = try ThreeLevelBinomialFixture.load("hasselblad1998")
        let three = try ThreeLevelBinomialModel(events: e.data.events, totals: e.data.total, cluster: e.clusterIDs).fit()
        let two = try GeneralizedLinearMixedModel(events: e.data.events, totals: e.data.total, quadraturePoints: 1)
        expectClose(three.twoLevel.estimate, two.pooled.estimate, relative: 0, absolute: 1e-7, "estimate")
        expectClose(three.twoLevelTauSquared, two.tauSquared, relative: 0, absolute: 1e-7, "tau2")
        expectClose(three.twoLevelLogLikelihood, two.marginalLogLikelihood, relative: 0, absolute: 1e-9, "logLik")
        expectClose(three.twoLevel.standardError, two.pooled.standardError, relative: 0, absolute: 1e-6, "se")
    }

    @Test("the analytic gradient of the Laplace log-likelihood agrees with differences of its values")
    func gradient() throws {
        let e = try ThreeLevelBinomialFixture.load("simulated40")
        let model = try ThreeLevelBinomialModel(events: e.data.events, totals: e.data.total, cluster: e.clusterIDs)
        var laplace = ThreeLevelBinomialLaplace(events: model.events, totals: model.totals, starts: model.starts)
        for point in [SIMD3<Double>(-1.8, 0.6, 0.3), SIMD3(-0.5, 1.5, 0.05), SIMD3(-3, 0.2, 2), SIMD3(-1, -0.7, 0.9)] {
            let g = laplace.evaluate(point).gradient
            for i in 0..<3 {
                let h = 1e-5
                var up = point, down = point
                up[i] += h
                down[i] -= h
                let numeric = (laplace.evaluate(up).value - laplace.evaluate(down).value) / (2 * h)
                expectClose(g[i], numeric, relative: 1e-6, absolute: 1e-6, "component \(i) at \(point)")
            }
        }
    }

    @Test("totals of 10⁶ (the log-likelihood's rounding error far above 1e-13 of its value) and a cluster with no events")
    func awkwardCounts() throws {
        let large = try ThreeLevelBinomialModel(events: [300000, 500000, 900000, 200000], totals: [1e6, 1.1e6, 3e6, 2.5e6],
                                                cluster: [1, 1, 2, 2])
        let a = try large.fit()
        #expect(a.pooled.standardError > 0.3 && a.pooled.standardError < 0.6, "\(a.pooled)")
        #expect(a.cohortVariance > 0.5 && a.cohortVariance < 0.9, "\(a.cohortVariance)")
        for cluster in [true, false] {
            let interval = try large.varianceInterval(a, cluster: cluster)
            let estimate = cluster ? a.clusterVariance : a.cohortVariance
            #expect(interval.lower <= estimate && estimate < interval.upper && interval.upper.isFinite)
        }
        let zeros = try ThreeLevelBinomialModel(events: [0, 0, 9, 2, 7, 1], totals: [20, 22, 30, 25, 40, 10], cluster: [1, 1, 2, 2, 3, 3])
        let b = try zeros.fit()
        #expect(b.pooled.estimate.isFinite && b.clusterVariance > 0 && b.logLikelihood > b.twoLevelLogLikelihood)
    }

    @Test("bad input: lengths, counts, a single study, one study per cluster, no events, level")
    func badInput() throws {
        func kind(_ body: () throws -> Void) -> MetaPoolError.Kind? {
            do { try body(); return nil } catch let error as MetaPoolError { return error.kind } catch { return nil }
        }
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [1, 2], totals: [10], cluster: [1, 1]) } == .invalidArgument)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [1, 2], totals: [10, 10], cluster: [1]) } == .invalidArgument)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [11, 2, 3], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [-1, 2, 3], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [1.5, 2, 3], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [1, 2, 3], totals: [10, 10.5, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [0, 2, 3], totals: [0, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [.nan, 2, 3], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [1, 2, 3], totals: [.infinity, 10, 10], cluster: [1, 1, 2]) } == .invalidValue)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [3], totals: [10], cluster: [1]) } == .insufficientData)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [0, 0, 0], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .insufficientData)
        #expect(kind { _ = try ThreeLevelBinomialModel(events: [0, 10, 0], totals: [10, 10, 10], cluster: [1, 1, 2]) } == .noConvergence)
        do {
            _ = try ThreeLevelBinomialModel(events: [1, 2, 3], totals: [10, 10, 10], cluster: [1, 2, 3])
            Issue.record("one study per cluster was accepted")
        } catch {
            #expect(error.kind == .insufficientData)
            #expect(error.reason.contains("reduces to the two-level"), "\(error.reason)")
        }
        let model = try ThreeLevelBinomialModel(events: [1, 2, 3, 5], totals: [10, 10, 10, 12], cluster: [1, 1, 2, 2])
        #expect(kind { _ = try model.fit(level: 1.5) } == .invalidArgument)
        #expect(kind { _ = try model.fit(level: 0) } == .invalidArgument)
        let fit = try model.fit()
        #expect(kind { _ = try model.varianceInterval(fit, cluster: true, level: 1) } == .invalidArgument)
        #expect(kind { _ = try model.varianceInterval(fit, cluster: false, level: .nan) } == .invalidArgument)
    }
}

// The Bayesian random-effects model of log odds ratios with the exact conditional (noncentral
// hypergeometric) likelihood (OddsRatioBayesianMetaAnalysis) against posteriors computed in R by an
// independent quadrature (Tests/Reference/generate_bayes_or.R; fixtures in Tests/MetaPoolTests/Fixtures/
// bayes_or), against Stan's NUTS (Tests/Reference/generate_bayes_or_mcmc.R, *.mcmc.json) within Monte Carlo
// error, and on its own properties: the study integral, swapping the groups, uninformative studies,
// invalid input and improper posteriors.

import Foundation
@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

extension OddsRatioBayesFixture.Case: CountBayesCase {}

struct OddsRatioBayesFixture: Decodable {
    struct Data: Decodable { var treat_events, treat_totals, control_events, control_totals: [Double]; var labels: [String] }
    struct Case: Decodable {
        var name: String
        var tau_prior, mu_prior: BayesFixture.Prior
        var tau, mu, prediction: BinomialBayesFixture.Summary
        var p_mu_above, p_prediction_above: Double
        var theta: BinomialBayesFixture.Theta
        var theta_quantiles: BinomialBayesFixture.ThetaQuantiles?
        var log_marginal_likelihood, bf_tau0, bf_mu0: Double?
    }
    var dataset: String
    var level, threshold: Double
    var k: Int
    var data: Data
    var cases: [Case]

    static let directory = FixtureFolder.url("bayes_or")
    static var names: [String] { FixtureFolder.names(in: directory, suffix: ".expected.json") }
    static func load(_ name: String) throws -> OddsRatioBayesFixture {
        let raw = try Foundation.Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(OddsRatioBayesFixture.self, from: raw)
    }
}

@Suite("Bayesian hypergeometric–normal meta-analysis of odds ratios (exact conditional likelihood, quadrature)")
struct OddsRatioBayesianMetaAnalysisTests {
    /// As for the binomial model: 1e-6 absolute, or relative above 1 in magnitude (R's grids 241 × 161, error
    /// about 1e-8).
    static let tolerance = 1e-6

    static func model(_ f: OddsRatioBayesFixture, _ c: OddsRatioBayesFixture.Case) throws -> OddsRatioBayesianMetaAnalysis {
        let prior = try #require(BayesFixture.tauPrior(c.tau_prior), "prior \(c.tau_prior.type)")
        return try OddsRatioBayesianMetaAnalysis(treatEvents: f.data.treat_events, treatTotals: f.data.treat_totals,
                                                 controlEvents: f.data.control_events, controlTotals: f.data.control_totals,
                                                 tauPrior: prior, muPrior: BayesFixture.muPrior(c.mu_prior))
    }

    @Test("the fixtures are there: hine1989 and nielweise6, each with its MCMC run")
    func fixturesPresent() {
        #expect(OddsRatioBayesFixture.names == ["hine1989", "nielweise6"], "\(OddsRatioBayesFixture.names)")
        for name in OddsRatioBayesFixture.names {
            #expect(FileManager.default.fileExists(atPath: OddsRatioBayesFixture.directory.appendingPathComponent(name + ".mcmc.json").path), "\(name).mcmc.json")
        }
    }

    @Test("τ, μ, θ_new, θᵢ, probabilities, marginal likelihood and Bayes factors against R; the MCMC case against Stan's NUTS",
          arguments: OddsRatioBayesFixture.names)
    func dataset(_ name: String) throws {
        let fixture = try OddsRatioBayesFixture.load(name)
        let chains = try BinomialMCMCFixture.load(name, directory: OddsRatioBayesFixture.directory)
        #expect(fixture.cases.contains { $0.name == chains.case }, "\(name): the MCMC run's case \(chains.case) is a case of the fixture")
        for c in fixture.cases {
            let context = "\(name) \(c.name)"
            let started = Date()
            let model = try Self.model(fixture, c)
            let s = try model.summary(level: fixture.level, threshold: fixture.threshold)
            print("\(context): \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
            #expect(model.likelihoodName == "hypergeometric-normal")
            expectPosteriors(s, of: model, match: c, k: fixture.k, level: fixture.level, tolerance: Self.tolerance, context)
            if c.name == chains.case { Self.compare(s, with: chains, context) }
        }
    }

    /// The quadrature's posteriors against Stan's draws (4 × 300000): means and 2.5%, 50%, 97.5% quantiles
    /// within 4 Monte Carlo SEs plus 2e-4 (the noise of the batch-means MCSE itself), as for the binomial model.
    static func compare(_ s: BayesianMetaAnalysisSummary, with chains: BinomialMCMCFixture, _ context: String) {
        #expect(chains.divergent == 0, "\(context): \(chains.divergent) divergent transitions")
        func check(_ key: String, mean: Double, median: Double, lower: Double, upper: Double) {
            guard let q = chains.quantities[key] else { Issue.record("\(context): no \(key) in the MCMC fixture"); return }
            for (got, want, se, what) in [(mean, q.mean, q.mean_mcse, "mean"), (lower, q.q025, q.q025_mcse, "2.5%"),
                                           (median, q.q50, q.q50_mcse, "median"), (upper, q.q975, q.q975_mcse, "97.5%")] {
                // The draws are precise enough to test anything: MCSE below 1% of the posterior's scale (the flat-μ
                // case of nielweise6 has θ posteriors with SD about 1 and 2.5% quantiles with MCSE up to 0.0064).
                #expect(se > 0 && se < 1e-2, "\(context) \(key) \(what) MCSE \(se)")
                #expect(abs(got - want) <= 4 * se + 2e-4, "\(context) \(key) \(what): quadrature \(got), MCMC \(want) ± \(se)")
            }
        }
        for (key, p) in [("tau", s.tau), ("mu", s.mu), ("prediction", s.prediction)] {
            check(key, mean: p.mean, median: p.median, lower: p.central.lower, upper: p.central.upper)
        }
        for (i, p) in s.studies.enumerated() {
            check("theta_\(i + 1)", mean: p.mean, median: p.median, lower: p.central.lower, upper: p.central.upper)
        }
    }

    /// Three small studies, one with a zero cell.
    static let small = (a: [2.0, 0, 7], n1: [40.0, 30, 50], c: [6.0, 4, 9], n2: [41.0, 28, 52])

    @Test("the study integral: the trapezoidal rule agrees with a quarter of its step; f sums to 1 over a")
    func studyIntegral() {
        var worst = 0.0
        for (a, n1, c, n2) in [(2.0, 40.0, 6.0, 41.0), (0, 30, 4, 28), (5, 5, 1, 9), (30, 100, 2, 7)] {
            let study = HypergeometricCounts(treatEvents: a, treatTotal: n1, controlEvents: c, controlTotal: n2)
            for tau in [1e-6, 0.1, 0.5, 2, 8] {
                for mu in [-2.0, 0, 1.5] {
                    let x = BinomialStudyIntegral.evaluate(study, mu: mu, tau: tau)
                    let y = BinomialStudyIntegral.evaluate(study, mu: mu, tau: tau, stepScale: 0.25)
                    worst = max(worst, abs(x.log - y.log), abs(x.first - y.first))
                }
            }
            // Σ_a P(a | m, θ) = 1.
            let m = a + c
            var total = 0.0
            for u in stride(from: max(0, m - n2), through: min(n1, m), by: 1) {
                let s = HypergeometricCounts(treatEvents: u, treatTotal: n1, controlEvents: m - u, controlTotal: n2)
                total += Double.exp(StudyCounts.hypergeometric(s).logLikelihood(0.7))
            }
            #expect(abs(total - 1) < 1e-13, "Σ P = \(total)")
        }
        #expect(worst < 1e-12, "\(worst)")
    }

    @Test("swapping treatment and control negates μ, θ_new and every θᵢ and leaves τ")
    func swap() throws {
        let d = Self.small
        let prior = TauPrior.halfNormal(scale: 0.5)
        let one = try OddsRatioBayesianMetaAnalysis(treatEvents: d.a, treatTotals: d.n1, controlEvents: d.c, controlTotals: d.n2,
                                                    tauPrior: prior, muPrior: .normal(mean: 0, standardDeviation: 4)).summary()
        let two = try OddsRatioBayesianMetaAnalysis(treatEvents: d.c, treatTotals: d.n2, controlEvents: d.a, controlTotals: d.n1,
                                                    tauPrior: prior, muPrior: .normal(mean: 0, standardDeviation: 4)).summary()
        expectClose(one.tau.mean, two.tau.mean, relative: 1e-9, absolute: 1e-9, "tau")
        expectClose(one.mu.mean, -two.mu.mean, relative: 1e-9, absolute: 1e-9, "mu")
        expectClose(one.mu.central.lower, -two.mu.central.upper, relative: 1e-8, absolute: 1e-8, "mu lb")
        expectClose(one.prediction.median, -two.prediction.median, relative: 1e-8, absolute: 1e-8, "prediction")
        for i in one.studies.indices {
            expectClose(one.studies[i].mean, -two.studies[i].mean, relative: 1e-9, absolute: 1e-9, "theta[\(i)]")
            expectClose(one.studies[i].median, -two.studies[i].median, relative: 1e-8, absolute: 1e-8, "theta[\(i)] median")
        }
    }

    @Test("a study without events (or with only events) drops out: μ and τ unchanged, its θᵢ is the predictive")
    func uninformative() throws {
        let d = Self.small
        let prior = TauPrior.halfNormal(scale: 0.5)
        let base = try OddsRatioBayesianMetaAnalysis(treatEvents: d.a, treatTotals: d.n1, controlEvents: d.c, controlTotals: d.n2,
                                                     tauPrior: prior, muPrior: .normal(mean: 0, standardDeviation: 4))
        let more = try OddsRatioBayesianMetaAnalysis(treatEvents: d.a + [0, 20], treatTotals: d.n1 + [20, 20],
                                                     controlEvents: d.c + [0, 15], controlTotals: d.n2 + [25, 15],
                                                     tauPrior: prior, muPrior: .normal(mean: 0, standardDeviation: 4))
        #expect(more.uninformative == [3, 4])
        #expect(base.uninformative.isEmpty)
        let s = try base.summary(), t = try more.summary()
        expectClose(s.mu.mean, t.mu.mean, relative: 1e-10, absolute: 1e-10, "mu")
        expectClose(s.tau.median, t.tau.median, relative: 1e-9, absolute: 1e-9, "tau")
        #expect(t.studies.count == 5)
        expectClose(t.studies[3].mean, t.prediction.mean, relative: 1e-8, absolute: 1e-8, "theta_4 = prediction")
        expectClose(t.studies[4].standardDeviation, t.prediction.standardDeviation, relative: 1e-7, absolute: 1e-7, "theta_5 sd")
        expectClose(t.studies[3].median, t.prediction.median, relative: 1e-7, absolute: 1e-7, "theta_4 median")
    }

    @Test("invalid counts, the Jeffreys prior and improper posteriors are refused")
    func errors() {
        let h = TauPrior.halfNormal(scale: 0.5)
        func fails(_ kind: MetaPoolError.Kind, _ a: [Double], _ n1: [Double], _ c: [Double], _ n2: [Double],
                   _ tau: TauPrior = .halfNormal(scale: 0.5), _ mu: EffectPrior = .normal(mean: 0, standardDeviation: 4), column: String? = nil) {
            do {
                _ = try OddsRatioBayesianMetaAnalysis(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2, tauPrior: tau, muPrior: mu)
                Issue.record("no error for \(a) \(n1) \(c) \(n2)")
            } catch {
                #expect(error.kind == kind, "\(error)")
                if let column { #expect(error.location.column == column, "\(error)") }
            }
        }
        fails(.insufficientData, [], [], [], [])
        fails(.invalidArgument, [1], [10, 10], [1], [10])
        fails(.invalidValue, [11], [10], [1], [10], column: "treat_events")
        fails(.invalidValue, [1], [10], [1.5], [10], column: "control_events")
        fails(.invalidValue, [1], [0], [1], [10], column: "treat_total")
        fails(.invalidValue, [1], [10], [-1], [10], column: "control_events")
        fails(.invalidArgument, [1], [10], [2], [10], .jeffreys)
        // No information at all.
        fails(.insufficientData, [0, 5], [10, 5], [0, 7], [12, 7])
        // Flat μ: every study at its lower bound (no treatment events), so ΠLᵢ → 1 as μ → −∞.
        fails(.insufficientData, [0, 0], [10, 12], [3, 4], [10, 12], h, .flat)
        // A flat τ prior with one study without a zero cell and a normal μ prior: a = 0 + 1.
        fails(.insufficientData, [2], [10], [3], [10], .flat)
        // The same with two: a = 2 > 1, proper.
        #expect(throws: Never.self) {
            _ = try OddsRatioBayesianMetaAnalysis(treatEvents: [2, 3], treatTotals: [10, 12], controlEvents: [3, 5], controlTotals: [10, 12],
                                                  tauPrior: .halfNormal(scale: 0.5), muPrior: .flat)
        }
    }
}

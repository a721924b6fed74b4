// The Bayesian binomial–normal model for proportions (BinomialBayesianMetaAnalysis) against posteriors
// computed in R by an independent quadrature (Tests/Reference/generate_bayes_binomial.R: a double-exponential
// rule for Lᵢ, splines and integrate() over μ and τ; fixtures in Tests/MetaPoolTests/Fixtures/bayes_binomial),
// against Stan's NUTS (Tests/Reference/generate_bayes_binomial_mcmc.R, *.mcmc.json) within Monte Carlo
// error, and on its own properties: the accuracy of the study integral, invalid input, improper posteriors,
// symmetry, and the normal–normal model as the limit of large totals.

import Foundation
@testable import MetaPool
import Testing
@testable import MetaPoolTestSupport

struct BinomialBayesFixture: Decodable {
    struct Data: Decodable { var events, totals: [Double]; var labels: [String] }
    struct Summary: Decodable {
        var mean, sd, median: Double
        var central: [Double]
        var shortest: [Double]?
    }
    struct Theta: Decodable { var mean, sd: [Double] }
    struct ThetaQuantiles: Decodable { var index: [Int]; var median, central_lb, central_ub: [Double] }
    struct Rate: Decodable { var mean, sd, median: Double; var central: [Double] }
    struct Rates: Decodable { var conditional, population: Rate }
    struct Case: Decodable {
        var name: String
        var tau_prior, mu_prior: BayesFixture.Prior
        var tau, mu, prediction: Summary
        var p_mu_above, p_prediction_above: Double
        var theta: Theta
        var theta_quantiles: ThetaQuantiles?
        var rates: Rates
        var log_marginal_likelihood, bf_tau0, bf_mu0: Double?
    }
    var dataset: String
    var level, threshold: Double
    var k: Int
    var data: Data
    var cases: [Case]

    static let directory = FixtureFolder.url("bayes_binomial")
    static func names(_ suffix: String) -> [String] { FixtureFolder.names(in: directory, suffix: suffix) }
    static var names: [String] { names(".expected.json") }
    static func load(_ name: String) throws -> BinomialBayesFixture {
        let raw = try Foundation.Data(contentsOf: directory.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(BinomialBayesFixture.self, from: raw)
    }
}

/// A case of an R fixture of a Bayesian model of counts (binomial–normal, hypergeometric–normal): what
/// ``expectPosteriors(_:of:match:k:level:tolerance:_:)`` compares.
protocol CountBayesCase {
    var tau: BinomialBayesFixture.Summary { get }
    var mu: BinomialBayesFixture.Summary { get }
    var prediction: BinomialBayesFixture.Summary { get }
    var p_mu_above: Double { get }
    var p_prediction_above: Double { get }
    var theta: BinomialBayesFixture.Theta { get }
    var theta_quantiles: BinomialBayesFixture.ThetaQuantiles? { get }
    var log_marginal_likelihood: Double? { get }
    var bf_tau0: Double? { get }
    var bf_mu0: Double? { get }
}

extension BinomialBayesFixture.Case: CountBayesCase {}

/// τ, μ and θ_new (mean, SD, median, central and shortest intervals), P(μ > c), P(θ_new > c), every θᵢ's
/// mean and SD and the quantiles of those the case has, the log marginal likelihood and the Bayes factors
/// against the R case to `tol` (absolute, or relative above 1 in magnitude); and the distribution
/// functions at the summaries to 1e-10.
func expectPosteriors(_ s: BayesianMetaAnalysisSummary, of model: some BayesianPosterior, match c: some CountBayesCase, k: Int,
                      level: Double, tolerance tol: Double, _ context: String) {
    func check(_ got: PosteriorSummary, _ want: BinomialBayesFixture.Summary, _ what: String) {
        expectClose(got.mean, want.mean, relative: tol, absolute: tol, "\(context) \(what) mean")
        expectClose(got.standardDeviation, want.sd, relative: tol, absolute: tol, "\(context) \(what) sd")
        expectClose(got.median, want.median, relative: tol, absolute: tol, "\(context) \(what) median")
        expectClose(got.central.lower, want.central[0], relative: tol, absolute: tol, "\(context) \(what) central lb")
        expectClose(got.central.upper, want.central[1], relative: tol, absolute: tol, "\(context) \(what) central ub")
        if let shortest = want.shortest {
            expectClose(got.shortest.lower, shortest[0], relative: tol, absolute: tol, "\(context) \(what) shortest lb")
            expectClose(got.shortest.upper, shortest[1], relative: tol, absolute: tol, "\(context) \(what) shortest ub")
        }
    }
    check(s.tau, c.tau, "tau")
    check(s.mu, c.mu, "mu")
    check(s.prediction, c.prediction, "prediction")
    expectClose(s.probabilityMuAbove, c.p_mu_above, relative: tol, absolute: tol, "\(context) P(mu > c)")
    expectClose(s.probabilityPredictionAbove, c.p_prediction_above, relative: tol, absolute: tol, "\(context) P(theta_new > c)")
    #expect(s.studies.count == k)
    for (i, study) in s.studies.enumerated() where i < c.theta.mean.count {
        expectClose(study.mean, c.theta.mean[i], relative: tol, absolute: tol, "\(context) theta[\(i)] mean")
        expectClose(study.standardDeviation, c.theta.sd[i], relative: tol, absolute: tol, "\(context) theta[\(i)] sd")
    }
    if let q = c.theta_quantiles {
        for (j, index) in q.index.enumerated() where index >= 1 && index <= s.studies.count {
            let study = s.studies[index - 1]
            expectClose(study.median, q.median[j], relative: tol, absolute: tol, "\(context) theta[\(index - 1)] median")
            expectClose(study.central.lower, q.central_lb[j], relative: tol, absolute: tol, "\(context) theta[\(index - 1)] lb")
            expectClose(study.central.upper, q.central_ub[j], relative: tol, absolute: tol, "\(context) theta[\(index - 1)] ub")
        }
    }
    expectClose(s.logMarginalLikelihood, c.log_marginal_likelihood, relative: tol, absolute: tol, "\(context) log p(x)")
    expectClose(s.bayesFactorTauZero, c.bf_tau0, relative: tol, absolute: tol, "\(context) BF tau = 0")
    expectClose(s.bayesFactorMuZero, c.bf_mu0, relative: tol, absolute: tol, "\(context) BF mu = 0")
    // The distribution functions agree with the summaries.
    expectClose(model.tauCDF(s.tau.median), 0.5, relative: 0, absolute: 1e-10, "\(context) tau CDF at median")
    expectClose(model.muCDF(s.mu.central.upper), 1 - (1 - level) / 2, relative: 0, absolute: 1e-10, "\(context) mu CDF")
    expectClose(model.predictiveCDF(s.prediction.central.lower), (1 - level) / 2, relative: 0, absolute: 1e-10, "\(context) prediction CDF")
}

struct BinomialMCMCFixture: Decodable {
    struct Quantity: Decodable {
        var mean, mean_mcse, q025, q025_mcse, q50, q50_mcse, q975, q975_mcse: Double
    }
    var dataset: String, `case`: String
    var divergent: Int
    var quantities: [String: Quantity]

    /// `NAME.mcmc.json` in `directory` (the binomial model's fixtures by default).
    static func load(_ name: String, directory: URL = BinomialBayesFixture.directory) throws -> BinomialMCMCFixture {
        let raw = try Foundation.Data(contentsOf: directory.appendingPathComponent(name + ".mcmc.json"))
        return try JSONDecoder().decode(BinomialMCMCFixture.self, from: raw)
    }
}

@Suite("Bayesian binomial–normal meta-analysis of proportions (exact likelihood, quadrature)")
struct BinomialBayesianMetaAnalysisTests {
    /// Every posterior quantity agrees with the R quadrature to 1e-6 (absolute, or relative for values
    /// above 1 in magnitude). The R reference is good to about 1e-8 (its splines); the Swift quadrature
    /// to about 1e-10 (τ) and 1e-12 (μ, θ).
    static let tolerance = 1e-6

    static func model(_ f: BinomialBayesFixture, _ c: BinomialBayesFixture.Case) throws -> BinomialBayesianMetaAnalysis {
        let prior = try #require(BayesFixture.tauPrior(c.tau_prior), "prior \(c.tau_prior.type)")
        return try BinomialBayesianMetaAnalysis(events: f.data.events, totals: f.data.totals, tauPrior: prior,
                                                muPrior: BayesFixture.muPrior(c.mu_prior))
    }

    @Test("the fixtures are there: HER2 T-DXd, two DEBBRAH cohorts, Pritz (1997)")
    func fixturesPresent() {
        #expect(BinomialBayesFixture.names == ["her2_tdxd", "her2_two", "pritz1997"], "\(BinomialBayesFixture.names)")
        #expect(BinomialBayesFixture.names(".mcmc.json") == ["her2_tdxd", "pritz1997"], "\(BinomialBayesFixture.names(".mcmc.json"))")
    }

    @Test("τ, μ, θ_new, θᵢ, rates, probabilities, marginal likelihood and Bayes factors against R", arguments: BinomialBayesFixture.names)
    func dataset(_ name: String) throws {
        let fixture = try BinomialBayesFixture.load(name)
        #expect(fixture.cases.count >= 2)
        let tol = Self.tolerance
        for c in fixture.cases {
            let context = "\(name) \(c.name)"
            let model = try Self.model(fixture, c)
            let s = try model.summary(level: fixture.level, threshold: fixture.threshold)
            expectPosteriors(s, of: model, match: c, k: fixture.k, level: fixture.level, tolerance: tol, context)
            let r = try model.rates(level: fixture.level)
            for (got, want, what) in [(r.conditional, c.rates.conditional, "conditional rate"), (r.populationAveraged, c.rates.population, "population rate")] {
                expectClose(got.mean, want.mean, relative: tol, absolute: tol, "\(context) \(what) mean")
                expectClose(got.standardDeviation, want.sd, relative: tol, absolute: tol, "\(context) \(what) sd")
                expectClose(got.median, want.median, relative: tol, absolute: tol, "\(context) \(what) median")
                expectClose(got.central.lower, want.central[0], relative: tol, absolute: tol, "\(context) \(what) lb")
                expectClose(got.central.upper, want.central[1], relative: tol, absolute: tol, "\(context) \(what) ub")
            }
        }
    }

    @Test("Stan’s NUTS (4 × 300000 draws): means and quantiles within 4 Monte Carlo SEs", arguments: ["her2_tdxd", "pritz1997"])
    func mcmc(_ name: String) throws {
        let chains = try BinomialMCMCFixture.load(name)
        let fixture = try BinomialBayesFixture.load(name)
        let c = try #require(fixture.cases.first { $0.name == chains.case })
        let model = try Self.model(fixture, c)
        let s = try model.summary()
        let r = try model.rates()
        #expect(chains.divergent == 0)
        func check(_ key: String, mean: Double, q025: Double, q50: Double, q975: Double) {
            guard let q = chains.quantities[key] else { Issue.record("\(name): no \(key)"); return }
            // 4 MCSE, plus 2e-4 for the noise of the batch-means MCSE itself (and of quantiles' MCSE).
            for (got, want, se, what) in [(mean, q.mean, q.mean_mcse, "mean"), (q025, q.q025, q.q025_mcse, "2.5%"),
                                           (q50, q.q50, q.q50_mcse, "median"), (q975, q.q975, q.q975_mcse, "97.5%")] {
                #expect(se > 0 && se < 5e-3, "\(name) \(key) \(what) MCSE \(se)")
                #expect(abs(got - want) <= 4 * se + 2e-4, "\(name) \(key) \(what): quadrature \(got), MCMC \(want) ± \(se)")
            }
        }
        check("tau", mean: s.tau.mean, q025: s.tau.central.lower, q50: s.tau.median, q975: s.tau.central.upper)
        check("mu", mean: s.mu.mean, q025: s.mu.central.lower, q50: s.mu.median, q975: s.mu.central.upper)
        check("prediction", mean: s.prediction.mean, q025: s.prediction.central.lower, q50: s.prediction.median, q975: s.prediction.central.upper)
        check("conditional_rate", mean: r.conditional.mean, q025: r.conditional.central.lower, q50: r.conditional.median, q975: r.conditional.central.upper)
        check("population_rate", mean: r.populationAveraged.mean, q025: r.populationAveraged.central.lower,
              q50: r.populationAveraged.median, q975: r.populationAveraged.central.upper)
        for (i, study) in s.studies.enumerated() {
            check("theta_\(i + 1)", mean: study.mean, q025: study.central.lower, q50: study.median, q975: study.central.upper)
        }
    }

    @Test("the study integral Lᵢ: the trapezoidal rule at the mode agrees with the rule of a quarter of its step to 1e-13")
    func studyIntegralAccuracy() {
        var worst = 0.0, worstDerivative = 0.0
        for (x, n) in [(0.0, 5.0), (1, 10), (61, 77), (10, 10), (2, 4), (0, 200), (500, 1000), (3, 100000)] {
            let c = Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
            for tau in [1e-8, 1e-3, 0.1, 0.5, 2, 8, 50] {
                for mu in [-6.0, -1, 0, 1.5, 5] {
                    let a = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu, tau: tau)
                    let b = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu, tau: tau, stepScale: 0.25)
                    // 1e-13 absolute, or a few ulp of log L where that is larger than 1e-13.
                    let bound = 1e-13 + 4e-16 * abs(a.log)
                    worst = max(worst, abs(a.log - b.log) / bound)
                    #expect(abs(a.log - b.log) < bound, "x \(x) n \(n) mu \(mu) tau \(tau): \(a.log) vs \(b.log)")
                    #expect(abs(a.mean - b.mean) < 1e-12 * max(1, abs(a.mean)))
                    // ∂ log L/∂μ against a central difference.
                    let h = 1e-5
                    let up = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu + h, tau: tau).log
                    let down = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu - h, tau: tau).log
                    let numeric = (up - down) / (2 * h)
                    worstDerivative = max(worstDerivative, abs(numeric - a.first) / max(1, abs(a.first)))
                    #expect(abs(numeric - a.first) <= 1e-6 * max(1, abs(a.first)), "x \(x) n \(n) mu \(mu) tau \(tau): d/dmu \(a.first) vs \(numeric)")
                }
            }
        }
        // Zero events (and all events) with a wide N(μ, τ²): the plateau rule against the trapezoidal rule
        // (with its step small enough for the logistic edge) where both apply.
        for (x, n) in [(0.0, 1.0), (0.0, 20), (0.0, 500), (7, 7)] {
            for tau in [12.0, 25, 40] {
                for mu in [-2.5 * tau, -3.0, 0, 2, 2.5 * tau] {
                    let c = Double.logGamma(n + 1) - Double.logGamma(x + 1) - Double.logGamma(n - x + 1)
                    let a = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu, tau: tau)
                    let b = BinomialStudyIntegral.evaluate(x: x, n: n, logChoose: c, mu: mu, tau: tau, stepScale: 0.25, plateau: false)
                    #expect(abs(a.log - b.log) < 1e-12, "plateau x \(x) n \(n) mu \(mu) tau \(tau): \(a.log) vs \(b.log)")
                    #expect(abs(a.first - b.first) < 1e-9 * max(1, abs(b.first)), "plateau d/dmu x \(x) n \(n) mu \(mu) tau \(tau): \(a.first) vs \(b.first)")
                    #expect(abs(a.second - b.second) < 1e-9 * max(1, abs(b.second)), "plateau d2/dmu2 x \(x) n \(n) mu \(mu) tau \(tau): \(a.second) vs \(b.second)")
                    #expect(abs(a.mean - b.mean) < 1e-9 * max(1, abs(b.mean)), "plateau mean x \(x) n \(n) mu \(mu) tau \(tau)")
                    #expect(abs(a.variance - b.variance) < 1e-9 * max(1, b.variance), "plateau variance x \(x) n \(n) mu \(mu) tau \(tau)")
                }
            }
        }
        // ∫(1 − expit θ)N(θ; 0, τ²)dθ = ½ for every τ (expit(θ) + expit(−θ) = 1).
        for tau in [10.0, 200, 1e4, 1e8] {
            let half = BinomialStudyIntegral.evaluate(x: 0, n: 1, logChoose: 0, mu: 0, tau: tau)
            expectClose(half.log, -Double.log(2), relative: 1e-14, absolute: 0, "x = 0, n = 1, mu = 0, tau \(tau)")
            // ∂ log L/∂μ → −φ(0)/τ ÷ ½, up to O(1/τ²) from the width of the logistic edge.
            expectClose(half.first, -2 / (tau * (2 * Double.pi).squareRoot()), relative: 20 / (tau * tau), absolute: 0, "slope at tau \(tau)")
        }
        // At τ = 0 the integral is the binomial probability itself.
        let exact = BinomialStudyIntegral.evaluate(x: 3, n: 10, logChoose: Double.log(120), mu: 0.2, tau: 0).log
        expectClose(exact, Double.log(120) + 3 * 0.2 - 10 * Double.log(1 + Double.exp(0.2)), relative: 1e-15, absolute: 0, "tau = 0")
        // Continuity at τ → 0.
        let near = BinomialStudyIntegral.evaluate(x: 3, n: 10, logChoose: Double.log(120), mu: 0.2, tau: 1e-7).log
        expectClose(near, exact, relative: 0, absolute: 1e-12, "tau = 1e-7")
        #expect(worst < 1 && worstDerivative < 1e-6)
    }

    @Test("errors: bad counts name the row; lengths, no studies, priors, improper posteriors, level")
    func errors() throws {
        func expectError(_ kind: MetaPoolError.Kind, _ contains: String, _ body: () throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try body()
                Issue.record("no error", sourceLocation: sourceLocation)
            } catch let error as MetaPoolError {
                #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
                #expect(error.description.contains(contains), "\(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("not a MetaPoolError: \(error)", sourceLocation: sourceLocation)
            }
        }
        let hn = TauPrior.halfNormal(scale: 0.5)
        func fit(_ x: [Double], _ n: [Double], _ tau: TauPrior = .halfNormal(scale: 0.5), _ mu: EffectPrior = .flat) throws {
            _ = try BinomialBayesianMetaAnalysis(events: x, totals: n, tauPrior: tau, muPrior: mu)
        }
        // Counts.
        expectError(.invalidValue, "study 2") { try fit([3, 2.5], [10, 10]) }
        expectError(.invalidValue, "study 2") { try fit([3, 11], [10, 10]) }
        expectError(.invalidValue, "study 1") { try fit([0, 3], [0, 10]) }
        expectError(.invalidValue, "study 1") { try fit([-1, 3], [10, 10]) }
        expectError(.invalidValue, "study 3") { try fit([1, 3, 2], [10, 10, .nan]) }
        expectError(.invalidValue, "study 2") { try fit([1, .infinity], [10, 10]) }
        expectError(.invalidValue, "study 1") { try fit([1, 3], [9.5, 10]) }
        do {
            try fit([3, 12], [10, 10])
            Issue.record("no error for 12 events of 10")
        } catch let error as MetaPoolError {
            #expect(error.location.row == 2)
            #expect(error.location.column == "events")
        }
        // Shape.
        expectError(.invalidArgument, "one total per event count") { try fit([1, 2], [10]) }
        expectError(.insufficientData, "at least 1 study") { try fit([], []) }
        // Priors.
        for bad in [TauPrior.halfNormal(scale: 0), .halfNormal(scale: -1), .halfCauchy(scale: .nan), .logNormal(mu: 0, sigma: 0), .uniform(upper: 0)] {
            expectError(.invalidArgument, "tau prior") { try fit([1, 2, 3], [10, 10, 10], bad) }
        }
        expectError(.invalidArgument, "prior for mu") { try fit([1, 2, 3], [10, 10, 10], hn, .normal(mean: 0, standardDeviation: 0)) }
        expectError(.invalidArgument, "Jeffreys") { try fit([1, 2, 3], [10, 10, 10], .jeffreys) }
        // Improper: flat τ with too few informative studies (0 < x < n); flat μ with no events or no non-events.
        expectError(.insufficientData, "improper") { try fit([1, 2], [10, 10], .flat) }
        expectError(.insufficientData, "improper") { try fit([1, 2, 0, 10], [10, 10, 10, 10], .flat) }
        expectError(.insufficientData, "improper") { try fit([3], [10], .flat, .normal(mean: 0, standardDeviation: 2)) }
        expectError(.insufficientData, "no study has an event") { try fit([0, 0, 0], [10, 20, 5]) }
        expectError(.insufficientData, "only events") { try fit([10, 20], [10, 20]) }
        // ... but proper with 3 informative studies (flat μ), 2 with a normal μ prior, or zero events and a normal μ prior.
        try fit([1, 2, 4], [10, 10, 10], .flat)
        try fit([1, 2], [10, 10], .flat, .normal(mean: 0, standardDeviation: 2))
        try fit([0, 0], [10, 20], hn, .normal(mean: 0, standardDeviation: 2))
        // Level and threshold.
        let model = try BinomialBayesianMetaAnalysis(events: [1, 2, 4], totals: [10, 10, 10], tauPrior: hn)
        for level in [0, 1, 1.5, -0.1, .nan] {
            expectError(.invalidArgument, "level") { _ = try model.summary(level: level) }
            expectError(.invalidArgument, "level") { _ = try model.rates(level: level) }
        }
        expectError(.invalidArgument, "threshold") { _ = try model.summary(threshold: .infinity) }
        #expect(model.tauQuantile(2).isNaN)
        #expect(model.muQuantile(-0.1).isNaN)
        #expect(model.tauCDF(.nan).isNaN)
        #expect(model.populationRateQuantile(1.5).isNaN)
    }

    @Test("exchanging events and non-events negates μ, θ_new and every θᵢ and leaves τ alone")
    func symmetry() throws {
        let x: [Double] = [16, 10, 4, 43, 10, 25], n: [Double] = [17, 12, 8, 58, 10, 42]
        let prior = EffectPrior.normal(mean: 0, standardDeviation: 4)
        let a = try BinomialBayesianMetaAnalysis(events: x, totals: n, tauPrior: .halfCauchy(scale: 0.5), muPrior: prior)
        let b = try BinomialBayesianMetaAnalysis(events: zip(x, n).map { $1 - $0 }, totals: n, tauPrior: .halfCauchy(scale: 0.5), muPrior: prior)
        let sa = try a.summary(), sb = try b.summary()
        let tol = 1e-9
        expectClose(sa.tau.median, sb.tau.median, relative: tol, absolute: tol, "tau median")
        expectClose(sa.tau.mean, sb.tau.mean, relative: tol, absolute: tol, "tau mean")
        expectClose(sa.mu.median, -sb.mu.median, relative: tol, absolute: tol, "mu median")
        expectClose(sa.mu.central.lower, -sb.mu.central.upper, relative: tol, absolute: tol, "mu interval")
        expectClose(sa.prediction.central.upper, -sb.prediction.central.lower, relative: tol, absolute: tol, "prediction interval")
        expectClose(sa.probabilityMuAbove, 1 - sb.probabilityMuAbove, relative: tol, absolute: tol, "P(mu > 0)")
        expectClose(sa.logMarginalLikelihood, sb.logMarginalLikelihood, relative: tol, absolute: tol, "log p(x)")
        for (p, q) in zip(sa.studies, sb.studies) {
            expectClose(p.mean, -q.mean, relative: tol, absolute: tol, "theta mean")
            expectClose(p.median, -q.median, relative: tol, absolute: tol, "theta median")
            expectClose(p.central.lower, -q.central.upper, relative: tol, absolute: tol, "theta interval")
        }
        let ra = try a.rates(), rb = try b.rates()
        expectClose(ra.populationAveraged.median, 1 - rb.populationAveraged.median, relative: tol, absolute: tol, "population rate")
        expectClose(ra.conditional.mean, 1 - rb.conditional.mean, relative: tol, absolute: tol, "conditional rate")
    }

    @Test("large totals: the binomial model approaches the normal–normal model on the logits")
    func normalLimit() throws {
        let p = [0.3, 0.42, 0.25, 0.36]
        let n = 200_000.0
        let x = p.map { ($0 * n).rounded() }
        let yi = x.map { Double.log($0 / (n - $0)) }
        let vi = x.map { 1 / $0 + 1 / (n - $0) }
        let binomial = try BinomialBayesianMetaAnalysis(events: x, totals: [Double](repeating: n, count: x.count), tauPrior: .halfNormal(scale: 0.5))
        let normal = try BayesianMetaAnalysis(yi: yi, vi: vi, tauPrior: .halfNormal(scale: 0.5))
        let sb = try binomial.summary(), sn = try normal.summary()
        // The difference is O(1/n) in the location (the skewness of the binomial likelihood) and far below
        // the posterior spread; 1e-3 would fail for n of a few hundred.
        expectClose(sb.mu.median, sn.mu.median, relative: 0, absolute: 1e-3, "mu median")
        expectClose(sb.mu.central.lower, sn.mu.central.lower, relative: 0, absolute: 1e-3, "mu lb")
        expectClose(sb.tau.median, sn.tau.median, relative: 0, absolute: 1e-3, "tau median")
        expectClose(sb.tau.central.upper, sn.tau.central.upper, relative: 0, absolute: 1e-3, "tau ub")
        expectClose(sb.prediction.central.upper, sn.prediction.central.upper, relative: 0, absolute: 1e-3, "prediction ub")
        for (a, b) in zip(sb.studies, sn.studies) { expectClose(a.mean, b.mean, relative: 0, absolute: 1e-3, "theta mean") }
    }

    @Test("one study, flat μ prior: the posterior of τ is its prior; CDFs and quantiles invert each other")
    func consistency() throws {
        let one = try BinomialBayesianMetaAnalysis(events: [7], totals: [20], tauPrior: .halfNormal(scale: 0.5))
        // ∫L(μ, τ)dμ = ∫Binom(7 | 20, expit θ)dθ whatever τ.
        expectClose(one.tauQuantile(0.5), 0.5 * Normal.standard.quantile(0.75), relative: 1e-9, absolute: 0, "k = 1 tau median")
        expectClose(one.tauDensity(0.3), 2 * Normal(mean: 0, standardDeviation: 0.5).density(0.3), relative: 1e-9, absolute: 0, "k = 1 tau density")
        let model = try BinomialBayesianMetaAnalysis(events: [61, 38, 2, 4, 11, 47, 20], totals: [77, 61, 4, 9, 15, 104, 44],
                                                     tauPrior: .logNormal(mu: -1, sigma: 0.8), muPrior: .normal(mean: 0, standardDeviation: 3))
        for p in [0.001, 0.1, 0.5, 0.9, 0.999] {
            expectClose(model.tauCDF(model.tauQuantile(p)), p, relative: 0, absolute: 1e-12, "tau p = \(p)")
            expectClose(model.muCDF(model.muQuantile(p)), p, relative: 0, absolute: 1e-12, "mu p = \(p)")
            expectClose(model.predictiveCDF(model.predictiveQuantile(p)), p, relative: 0, absolute: 1e-12, "prediction p = \(p)")
            expectClose(model.populationRateCDF(model.populationRateQuantile(p)), p, relative: 0, absolute: 1e-10, "rate p = \(p)")
        }
        // The population-averaged rate: both rules agree across τ = 20, and R(0, τ) = ½.
        for mu in [-3.0, 0.4, 2] {
            let below = BinomialBayesianMetaAnalysis.populationRate(mu, 20), above = BinomialBayesianMetaAnalysis.populationRate(mu, 20.000001)
            expectClose(below.rate, above.rate, relative: 1e-7, absolute: 0, "R(\(mu), 20)")
            expectClose(below.slope, above.slope, relative: 1e-6, absolute: 0, "R'(\(mu), 20)")
        }
        for tau in [0.3, 5, 50, 1e6] {
            expectClose(BinomialBayesianMetaAnalysis.populationRate(0, tau).rate, 0.5, relative: 1e-14, absolute: 0, "R(0, \(tau))")
        }
        #expect(model.tauCDF(0) == 0)
        #expect(model.tauCDF(.infinity) == 1)
        #expect(model.tauDensity(-1) == 0)
        // The tabulated densities integrate to the CDFs.
        let a = model.muQuantile(0.2), b = model.muQuantile(0.7)
        var integral = 0.0
        let rule = GaussLegendreRule(points: 40)
        for i in 0..<40 { integral += rule.weights[i] * (b - a) / 2 * model.muDensity((a + b) / 2 + (b - a) / 2 * rule.nodes[i]) }
        expectClose(integral, 0.5, relative: 1e-10, absolute: 0, "∫ mu density")
    }
}

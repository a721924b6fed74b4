// The GLMM for proportions (binomial–normal model by adaptive Gauss–Hermite quadrature) against
// metafor's rma.glmm(measure = "PLO"), which calls lme4::glmer. Fixtures: Tests/MetaPoolTests/
// Fixtures/glmm, written by `Rscript Tests/Reference/generate_glmm.R`.
//
// Tolerances. `expected` in each fixture is metafor with glmer's tolerances tightened (see the
// script): glmer then stops within ~1e-7 of the maximum, so estimate, SE, CI, τ², the
// log-likelihood and the back-transformed values must agree to 1e-5 relative, test statistics and
// p-values to 1e-4 relative. One exception: for Q = 1 (Laplace) lme4's standard error comes from a
// finite-difference Hessian of its Laplace deviance, whose conditional modes are converged only to
// ~1e-5 even with tolPwrss = 1e-12; that Hessian is off by up to ~3e-4 (dat.debruin2009), so the
// Laplace SE, z, p and CI are compared to 1e-3 relative. `metafor_default` is metafor as a user runs
// it: for Q ≥ 2 glmer's Nelder–Mead stops at parameter changes of ~1e-5, so those agree to 1e-4
// relative (absolute 5e-5 on the logit scale); for Q = 1 its loose penalized IRLS (tolPwrss = 1e-7)
// makes the Laplace deviance a step function and metafor's defaults are off the Laplace maximum by
// up to 1e-3 (estimates) and 1e-2 (SE), which is not a target.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct GLMMFixture: Decodable {
    struct Back: Decodable {
        var estimate: Double
        var ci_lower: Double
        var ci_upper: Double
    }
    struct Values: Decodable {
        var k: Int
        var estimate: Double
        var se: Double
        var statistic: Double
        var p_value: Double
        var ci_lower: Double
        var ci_upper: Double
        var tau2: Double
        var i2: Double
        var h2: Double
        var qe_wald: Double
        var qe_wald_df: Int
        var qe_wald_p_value: Double
        var qe_lrt: Double
        var qe_lrt_df: Int
        var qe_lrt_p_value: Double
        var log_likelihood: Double
        var back_transformed: Back
    }
    struct Case: Decodable {
        var quadrature_points: Int
        var level: Double
        var expected: Values
        var metafor_default: Values
    }
    var dataset: String
    var input: String
    var cases: [Case]

    static let directory = FixtureFolder.url("glmm")
    /// The odds-ratio (UM.FS) fixtures.
    static let oddsRatioDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/glmm_or")
    static func names(in folder: URL = directory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(".expected.json".count)) }.sorted()
    }
    static func load(_ name: String, in folder: URL = directory) throws -> GLMMFixture {
        let data = try Data(contentsOf: folder.appendingPathComponent(name + ".expected.json"))
        return try JSONDecoder().decode(GLMMFixture.self, from: data)
    }
}

private func expectError<T>(_ kind: MetaPoolError.Kind, _ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let value = try body()
        Issue.record("expected a MetaPoolError of kind \(kind), got \(value)", sourceLocation: sourceLocation)
    } catch let error as MetaPoolError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a MetaPoolError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("GLMM for proportions (rma.glmm PLO) against metafor")
struct GLMMTests {
    static func fit(_ fixture: GLMMFixture, _ c: GLMMFixture.Case) throws -> GeneralizedLinearMixedModel {
        let table = try DataTable.read(path: GLMMFixture.directory.appendingPathComponent(fixture.input).path)
        return try GeneralizedLinearMixedModel(table: table, quadraturePoints: c.quadrature_points, level: c.level)
    }

    @Test("fixtures are present")
    func present() { #expect(GLMMFixture.names().count >= 5) }

    @Test("every case matches metafor with tight glmer tolerances", arguments: GLMMFixture.names())
    func tight(_ name: String) throws {
        let fixture = try GLMMFixture.load(name)
        #expect(fixture.cases.count >= 3)
        for c in fixture.cases {
            let m = try Self.fit(fixture, c)
            let e = c.expected
            let context = "\(name) Q=\(c.quadrature_points) level=\(c.level)"
            let laplace = c.quadrature_points == 1
            let rel = 1e-5, seRel = laplace ? 1e-3 : 1e-5, testRel = laplace ? 1e-3 : 1e-4
            #expect(m.count == e.k)
            expectClose(m.estimate, e.estimate, relative: rel, absolute: 1e-7, "\(context) estimate")
            expectClose(m.standardError, e.se, relative: seRel, absolute: 1e-12, "\(context) se")
            expectClose(m.confidenceInterval.lower, e.ci_lower, relative: seRel, absolute: 1e-6, "\(context) ci_lower")
            expectClose(m.confidenceInterval.upper, e.ci_upper, relative: seRel, absolute: 1e-6, "\(context) ci_upper")
            expectClose(m.statistic, e.statistic, relative: testRel, absolute: 1e-12, "\(context) statistic")
            // A p-value moves by z·Δz relative to itself; Δz/z is bounded by the SE tolerance.
            expectClose(m.pValue, e.p_value, relative: max(testRel, e.statistic * e.statistic * seRel), absolute: 1e-12, "\(context) p_value")
            // τ² = 0 exactly in our fit; glmer's bobyqa stops at τ ≈ 1e-40.
            expectClose(m.tauSquared, e.tau2, relative: 2 * rel, absolute: 1e-10, "\(context) tau2")
            expectClose(m.iSquared, e.i2, relative: 2 * rel, absolute: 1e-8, "\(context) i2")
            expectClose(m.hSquared, e.h2, relative: 2 * rel, absolute: 1e-12, "\(context) h2")
            expectClose(m.logLikelihood, e.log_likelihood, relative: rel, absolute: 1e-12, "\(context) log_likelihood")
            // The heterogeneity tests do not depend on the fit: closed forms vs glm, to 1e-6.
            expectClose(m.waldTest.statistic, e.qe_wald, relative: 1e-6, absolute: 1e-12, "\(context) qe_wald")
            #expect(m.waldTest.degreesOfFreedom == e.qe_wald_df)
            expectClose(m.waldTest.pValue, e.qe_wald_p_value, relative: 1e-6, absolute: 1e-12, "\(context) qe_wald_p_value")
            expectClose(m.likelihoodRatioTest.statistic, e.qe_lrt, relative: 1e-8, absolute: 1e-12, "\(context) qe_lrt")
            #expect(m.likelihoodRatioTest.degreesOfFreedom == e.qe_lrt_df)
            expectClose(m.likelihoodRatioTest.pValue, e.qe_lrt_p_value, relative: 1e-6, absolute: 1e-12, "\(context) qe_lrt_p_value")
            expectClose(m.backTransform(m.estimate), e.back_transformed.estimate, relative: rel, absolute: 1e-12, "\(context) back estimate")
            expectClose(m.backTransform(m.confidenceInterval.lower), e.back_transformed.ci_lower, relative: seRel, absolute: 1e-12, "\(context) back ci_lower")
            expectClose(m.backTransform(m.confidenceInterval.upper), e.back_transformed.ci_upper, relative: seRel, absolute: 1e-12, "\(context) back ci_upper")
        }
    }

    @Test("Q ≥ 2 matches metafor run with its defaults", arguments: GLMMFixture.names())
    func defaults(_ name: String) throws {
        let fixture = try GLMMFixture.load(name)
        for c in fixture.cases where c.quadrature_points >= 2 {
            let m = try Self.fit(fixture, c)
            let e = c.metafor_default
            let context = "\(name) Q=\(c.quadrature_points) default control"
            expectClose(m.estimate, e.estimate, relative: 1e-4, absolute: 5e-5, "\(context) estimate")
            expectClose(m.standardError, e.se, relative: 1e-4, absolute: 1e-12, "\(context) se")
            expectClose(m.confidenceInterval.lower, e.ci_lower, relative: 1e-4, absolute: 5e-5, "\(context) ci_lower")
            expectClose(m.confidenceInterval.upper, e.ci_upper, relative: 1e-4, absolute: 5e-5, "\(context) ci_upper")
            expectClose(m.tau, e.tau2.squareRoot(), relative: 1e-4, absolute: 5e-5, "\(context) tau")
            expectClose(m.logLikelihood, e.log_likelihood, relative: 1e-5, absolute: 1e-12, "\(context) log_likelihood")
            expectClose(m.iSquared, e.i2, relative: 2e-4, absolute: 1e-6, "\(context) i2")
        }
    }

    struct IndependentCheck: Decodable {
        struct Values: Decodable {
            var estimate: Double
            var tau2: Double
            var se: Double
            var marginal_log_likelihood: Double?
        }
        var dataset: String
        var events: [Double]
        var total: [Double]
        var quadrature_points: Int
        var independent: Values
        var metafor_tight: Values
    }

    /// Where glmer's finite-difference SE is off (large n: noise in its deviance; see
    /// generate_glmm.R), against a separate R implementation of the AGHQ likelihood maximised by
    /// Newton's method with numDeriv's Richardson derivatives: the point estimates to 1e-6, the SE
    /// to 1e-6, while metafor's SE is off by up to 3%.
    @Test("where glmer's SE is off, ours matches an independent R computation")
    func independentCheck() throws {
        struct File: Decodable { var checks: [IndependentCheck] }
        let data = try Data(contentsOf: GLMMFixture.directory.appendingPathComponent("independent_check.json"))
        let checks = try JSONDecoder().decode(File.self, from: data).checks
        #expect(checks.count >= 3)
        for c in checks {
            let m = try GeneralizedLinearMixedModel(events: c.events, totals: c.total, quadraturePoints: c.quadrature_points)
            let context = "\(c.dataset) Q=\(c.quadrature_points)"
            expectClose(m.estimate, c.independent.estimate, relative: 1e-6, absolute: 1e-12, "\(context) estimate")
            expectClose(m.tauSquared, c.independent.tau2, relative: 1e-5, absolute: 1e-12, "\(context) tau2")
            expectClose(m.standardError, c.independent.se, relative: 1e-6, absolute: 1e-12, "\(context) se")
            if let ll = c.independent.marginal_log_likelihood {
                expectClose(m.marginalLogLikelihood, ll, relative: 1e-10, absolute: 1e-12, "\(context) marginal log-likelihood")
            }
        }
    }

    @Test("summary has metafor's names in order")
    func summary() throws {
        let m = try GeneralizedLinearMixedModel(events: [4, 0, 11, 2, 4, 20], totals: [15, 8, 15, 4, 9, 44])
        guard case .object(let members) = try m.jsonSummary() else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["measure", "method", "quadrature_points", "level", "k", "estimate", "se", "statistic",
                                     "p_value", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "pi_method", "tau2", "tau", "i2", "h2", "qe_wald", "qe_wald_df",
                                     "qe_wald_p_value", "qe_lrt", "qe_lrt_df", "qe_lrt_p_value", "log_likelihood",
                                     "marginal_log_likelihood", "back_transformed", "population_averaged", "profile_likelihood"])
        #expect(members[0].1 == .string("PLO"))
        #expect(members[1].1 == .string("GLMM"))
        #expect(members[2].1 == .integer(7))
        #expect(members[4].1 == .integer(6))
        guard case .object(let back) = members.first(where: { $0.0 == "back_transformed" })!.1 else { Issue.record("back_transformed not an object"); return }
        // The prediction interval: metafor's z for the library's fit (--pi sets it; PredictionIntervalCLITests).
        #expect(back.map(\.0) == ["estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"])
        #expect(members.first { $0.0 == "pi_method" }?.1 == .string("z"))
        let text = try m.jsonSummary().serialized()
        #expect(text.contains("\"method\": \"GLMM\""))
    }

    @Test("array initializer equals the table initializer; labels default")
    func arrays() throws {
        let fixture = try GLMMFixture.load("pritz1997")
        let fromTable = try Self.fit(fixture, fixture.cases[1])
        let fromArrays = try GeneralizedLinearMixedModel(events: fromTable.events, totals: fromTable.totals)
        #expect(fromArrays.estimate == fromTable.estimate)
        #expect(fromArrays.standardError == fromTable.standardError)
        #expect(fromArrays.labels.first == "Study 1")
        #expect(fromTable.labels.first == "Giannotta et al.")
        #expect(fromTable.randomEffects.count == fromTable.count)
        // The marginal AGHQ log-likelihood is below the conditional one metafor prints.
        #expect(fromTable.marginalLogLikelihood < fromTable.logLikelihood)
    }

    @Test("two studies, and data with only zero or all-event studies plus one informative study")
    func small() throws {
        let two = try GeneralizedLinearMixedModel(events: [3, 7], totals: [10, 10])
        #expect(two.count == 2)
        #expect(two.tauSquared > 0)
        let edge = try GeneralizedLinearMixedModel(events: [0, 3, 12, 8, 5], totals: [10, 12, 12, 20, 9], quadraturePoints: 1)
        #expect(edge.estimate.isFinite && edge.standardError > 0)
    }

    @Test("a study of 10^9 patients among 2,000: Laplace converges in few iterations, to the fit with 10^8 (issue 18)")
    func hugeStudy() throws {
        // Fixtures/glmm_stall/registry_1e9.csv: 2,000 studies of 10–200 patients (Python's random,
        // seed 2, logit p ~ N(−1, 0.25)) and a registry of 3·10⁸ events in 10⁹. log C(n, x) and the
        // registry's binomial kernel are each ~10¹⁰ and cancel, leaving rounding errors of ~10⁻⁶ in
        // ℓ: the search crept for hundreds of iterations of ever shorter steps (50 s here, past
        // 600 s at k = 2·10⁵) because it compared values below their rounding error. The
        // registry's size barely moves the random-effects fit, so 10⁸ (no stall) is the reference.
        let table = try DataTable.read(path: FixtureFolder.url("glmm_stall").appendingPathComponent("registry_1e9.csv").path)
        let m = try GeneralizedLinearMixedModel(table: table, quadraturePoints: 1)
        var events = m.events, totals = m.totals
        events[events.count - 1] = 3e7
        totals[totals.count - 1] = 1e8
        let reference = try GeneralizedLinearMixedModel(events: events, totals: totals, quadraturePoints: 1)
        #expect(m.count == 2001 && m.iterations <= 40, "\(m.iterations) Newton iterations")
        expectClose(m.estimate, reference.estimate, relative: 1e-6, absolute: 1e-9, "estimate")
        expectClose(m.tauSquared, reference.tauSquared, relative: 1e-5, absolute: 1e-9, "tau2")
        expectClose(m.standardError, reference.standardError, relative: 1e-4, absolute: 1e-9, "se")
    }

    @Test("homogeneous data give tau^2 = 0 exactly and the equal-effects estimate")
    func homogeneous() throws {
        let m = try GeneralizedLinearMixedModel(events: [10, 11, 9, 10, 12], totals: [50, 50, 50, 50, 60])
        #expect(m.tauSquared == 0)
        #expect(m.iSquared == 0 && m.hSquared == 1)
        expectClose(m.estimate, Double.log(52.0 / 208.0), relative: 1e-14, absolute: 1e-12, "FE logit")
        // SE of the equal-effects logit: 1/√(N p̄(1 − p̄)).
        expectClose(m.standardError, 1 / (260 * 0.2 * 0.8).squareRoot(), relative: 1e-8, absolute: 1e-12, "FE se")
    }

    @Test("Gauss–Hermite rules integrate polynomials of degree ≤ 2Q − 1 exactly against φ")
    func gaussHermite() throws {
        for q in [1, 2, 3, 7, 15, 25, 50, 100] {
            let rule = try GaussHermiteRule(points: q)
            #expect(rule.nodes.count == q)
            expectClose(rule.weights.reduce(0, +), 1, relative: 1e-14, absolute: 1e-12, "Q=\(q) Σw")
            // E z^(2j) = (2j − 1)!!
            var doubleFactorial = 1.0
            for j in 1..<min(q, 12) {
                doubleFactorial *= Double(2 * j - 1)
                var m = 0.0
                for (z, w) in zip(rule.nodes, rule.weights) { m += w * Double.pow(z, 2 * j) }
                expectClose(m, doubleFactorial, relative: 1e-11, absolute: 1e-12, "Q=\(q) E z^\(2 * j)")
            }
            var odd = 0.0
            for (z, w) in zip(rule.nodes, rule.weights) { odd += w * z * z * z }
            #expect(abs(odd) < 1e-12)
        }
        // Q = 3: nodes 0, ±√3, weights 2/3, 1/6.
        let three = try GaussHermiteRule(points: 3)
        expectClose(three.nodes[2], 3.0.squareRoot(), relative: 1e-15, absolute: 1e-12, "Q=3 node")
        expectClose(three.weights[1], 2.0 / 3.0, relative: 1e-15, absolute: 1e-12, "Q=3 weight")
    }

    @Test("the analytic gradient of the AGHQ log-likelihood matches finite differences")
    func gradient() throws {
        let x: [Double] = [16, 10, 4, 43, 10, 25, 0, 12], n: [Double] = [17, 12, 8, 58, 10, 42, 14, 12]
        for q in [1, 2, 7] {
            let l = BinomialNormalLikelihood(events: x, totals: n, rule: try GaussHermiteRule(points: q))
            for (mu, tau) in [(1.3, 0.8), (-0.5, 2.5), (0.2, -0.4), (1.0, 1e-3)] {
                let g = l.gradient(mu: mu, tau: tau)
                let d = 1e-5
                let fdMu = (l.logLikelihood(mu: mu + d, tau: tau) - l.logLikelihood(mu: mu - d, tau: tau)) / (2 * d)
                let fdTau = (l.logLikelihood(mu: mu, tau: tau + d) - l.logLikelihood(mu: mu, tau: tau - d)) / (2 * d)
                expectClose(g.mu, fdMu, relative: 1e-6, absolute: 1e-7, "Q=\(q) μ=\(mu) τ=\(tau) ∂ℓ/∂μ")
                expectClose(g.tau, fdTau, relative: 1e-6, absolute: 1e-7, "Q=\(q) μ=\(mu) τ=\(tau) ∂ℓ/∂τ")
                // ℓ is even in τ.
                expectClose(l.logLikelihood(mu: mu, tau: -tau), l.logLikelihood(mu: mu, tau: tau), relative: 1e-13, absolute: 1e-12, "even in τ")
            }
        }
    }

    @Test("more quadrature points converge to the exact marginal likelihood")
    func quadratureConvergence() throws {
        let x: [Double] = [4, 0, 11, 2, 4, 20], n: [Double] = [15, 8, 15, 4, 9, 44]
        let exact = BinomialNormalLikelihood(events: x, totals: n, rule: try GaussHermiteRule(points: 100)).logLikelihood(mu: -0.4, tau: 0.9)
        let q25 = BinomialNormalLikelihood(events: x, totals: n, rule: try GaussHermiteRule(points: 25)).logLikelihood(mu: -0.4, tau: 0.9)
        let q7 = BinomialNormalLikelihood(events: x, totals: n, rule: try GaussHermiteRule(points: 7)).logLikelihood(mu: -0.4, tau: 0.9)
        #expect(abs(q25 - exact) < 1e-10)
        #expect(abs(q7 - exact) < 1e-4)
    }

    @Test("Newton ascent leaves a saddle at tau = 0 and finds tau = 0 when it is the maximum")
    func newtonSaddle() throws {
        // ℓ = −(β − 1)² + τ² − τ⁴: a saddle at (1, 0), maxima at τ = ±1/√2.
        let saddle = { (b: Double, t: Double) in
            LikelihoodEvaluation(value: -(b - 1) * (b - 1) + t * t - t * t * t * t, gradient: (-2 * (b - 1), 2 * t - 4 * t * t * t))
        }
        let up = try newtonAscent(beta: 1, tau: 0, bound: 100, evaluate: saddle)
        expectClose(abs(up.tau), 0.5.squareRoot(), relative: 1e-10, absolute: 1e-12, "τ from the saddle")
        let fromFar = try maximizeEvenInTau(starts: [(3, 1e-9)], betaAtZero: 1, bound: 100, evaluate: saddle)
        expectClose(fromFar.tau, 0.5.squareRoot(), relative: 1e-10, absolute: 1e-12, "τ ≥ 0")
        // ℓ = −(β − 1)² − τ² − τ⁴: the maximum is τ = 0.
        let bowl = { (b: Double, t: Double) in
            LikelihoodEvaluation(value: -(b - 1) * (b - 1) - t * t - t * t * t * t, gradient: (-2 * (b - 1), -2 * t - 4 * t * t * t))
        }
        let zero = try maximizeEvenInTau(starts: [(0, 0.5)], betaAtZero: 1, bound: 100, evaluate: bowl)
        #expect(zero.tau == 0 && zero.beta == 1)
    }

    // MARK: Errors

    @Test("bad arguments and data throw typed errors")
    func errors() throws {
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 5], quadraturePoints: 0) }
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 5], quadraturePoints: -3) }
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 5], quadraturePoints: 101) }
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 5], level: 95) }
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 5], level: .nan) }
        expectError(.invalidArgument) { try GeneralizedLinearMixedModel(events: [1, 2, 3], totals: [5, 5]) }
        expectError(.insufficientData) { try GeneralizedLinearMixedModel(events: [3], totals: [10]) }
        expectError(.insufficientData) { try GeneralizedLinearMixedModel(events: [], totals: []) }
        expectError(.insufficientData) { try GeneralizedLinearMixedModel(events: [0, 0, 0], totals: [5, 8, 9]) }
        expectError(.insufficientData) { try GeneralizedLinearMixedModel(events: [5, 8], totals: [5, 8]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, -2], totals: [5, 5]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, 6], totals: [5, 5]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, 2.5], totals: [5, 5]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, 0]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, .nan], totals: [5, 5]) }
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(events: [1, 2], totals: [5, .infinity]) }
        // Complete separation: only studies with no or all events; τ runs off to infinity.
        expectError(.noConvergence) { try GeneralizedLinearMixedModel(events: [0, 5, 0], totals: [5, 5, 7]) }
        expectError(.noConvergence) { try GeneralizedLinearMixedModel(events: [0, 10], totals: [10, 10], quadraturePoints: 1) }
    }

    @Test("table input: missing columns and bad cells name the place")
    func tableErrors() throws {
        let missing = try DataTable.read(bytes: Array("study,events,n\nA,1,5\nB,2,6\n".utf8), source: "t.csv")
        expectError(.missingColumn) { try GeneralizedLinearMixedModel(table: missing) }
        let bad = try DataTable.read(bytes: Array("study,events,total\nA,1,5\nB,7,6\n".utf8), source: "t.csv")
        do {
            _ = try GeneralizedLinearMixedModel(table: bad)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue)
            #expect(error.location.row == 2)
            #expect(error.location.study == "B")
            #expect(error.location.column == "events")
        }
        let text = try DataTable.read(bytes: Array("study,events,total\nA,1,5\nB,x,6\n".utf8), source: "t.csv")
        expectError(.invalidValue) { try GeneralizedLinearMixedModel(table: text) }
    }
}

// MARK: - Odds ratios, unconditional model with fixed study effects (UM.FS)

// Tolerances. glmer fits UM.FS by optimising all k + 2 parameters (k study intercepts, the log
// odds ratio and τ) with a derivative-free optimiser; even with tightened control (the fixtures'
// `expected`) its optimum moves by ~1e-5 and its finite-difference SE by ~1e-4 between optimisers
// (dat.bcg, Q = 7: bobyqa, Nelder–Mead and NLopt give SEs 0.1755545, 0.1755767, 0.1755557; ours
// 0.1755622). So estimate, τ², CI, log-likelihood and back-transformed values are compared to 1e-4
// relative, SE and z to 2e-4, p-values to z²·2e-4 (a p-value moves by z·Δz relative). The tests for
// heterogeneity do not depend on the mixed model: 1e-6. With metafor's default control (Nelder–Mead
// stops at parameter changes of ~1e-4 here, with a convergence warning) agreement is 2e-3.

@Suite("GLMM for odds ratios (rma.glmm OR, UM.FS) against metafor")
struct OddsRatioGLMMTests {
    static func fit(_ fixture: GLMMFixture, _ c: GLMMFixture.Case) throws -> OddsRatioMixedModel {
        let table = try DataTable.read(path: GLMMFixture.oddsRatioDirectory.appendingPathComponent(fixture.input).path)
        return try OddsRatioMixedModel(table: table, quadraturePoints: c.quadrature_points, level: c.level)
    }

    @Test("fixtures are present")
    func present() { #expect(GLMMFixture.names(in: GLMMFixture.oddsRatioDirectory).count >= 3) }

    @Test("every case matches metafor with tightened glmer control", arguments: GLMMFixture.names(in: GLMMFixture.oddsRatioDirectory))
    func tight(_ name: String) throws {
        let fixture = try GLMMFixture.load(name, in: GLMMFixture.oddsRatioDirectory)
        #expect(fixture.cases.count >= 2)
        for c in fixture.cases {
            let m = try Self.fit(fixture, c)
            let e = c.expected
            let context = "\(name) OR UM.FS Q=\(c.quadrature_points)"
            let rel = 1e-4, seRel = 2e-4
            #expect(m.count == e.k, "\(context) k")
            expectClose(m.estimate, e.estimate, relative: rel, absolute: 1e-6, "\(context) estimate")
            expectClose(m.standardError, e.se, relative: seRel, absolute: 1e-12, "\(context) se")
            expectClose(m.confidenceInterval.lower, e.ci_lower, relative: rel, absolute: 1e-5, "\(context) ci_lower")
            expectClose(m.confidenceInterval.upper, e.ci_upper, relative: rel, absolute: 1e-5, "\(context) ci_upper")
            expectClose(m.statistic, e.statistic, relative: seRel, absolute: 1e-12, "\(context) statistic")
            expectClose(m.pValue, e.p_value, relative: max(1e-4, e.statistic * e.statistic * seRel), absolute: 1e-12, "\(context) p_value")
            expectClose(m.tauSquared, e.tau2, relative: rel, absolute: 1e-9, "\(context) tau2")
            expectClose(m.iSquared, e.i2, relative: rel, absolute: 1e-7, "\(context) i2")
            expectClose(m.hSquared, e.h2, relative: rel, absolute: 1e-12, "\(context) h2")
            expectClose(m.logLikelihood, e.log_likelihood, relative: rel, absolute: 1e-12, "\(context) log_likelihood")
            expectClose(m.waldTest.statistic, e.qe_wald, relative: 1e-6, absolute: 1e-12, "\(context) qe_wald")
            #expect(m.waldTest.degreesOfFreedom == e.qe_wald_df)
            expectClose(m.waldTest.pValue, e.qe_wald_p_value, relative: 1e-6, absolute: 1e-12, "\(context) qe_wald_p_value")
            expectClose(m.likelihoodRatioTest.statistic, e.qe_lrt, relative: 1e-8, absolute: 1e-12, "\(context) qe_lrt")
            #expect(m.likelihoodRatioTest.degreesOfFreedom == e.qe_lrt_df)
            expectClose(m.likelihoodRatioTest.pValue, e.qe_lrt_p_value, relative: 1e-6, absolute: 1e-12, "\(context) qe_lrt_p_value")
            expectClose(m.backTransform(m.estimate), e.back_transformed.estimate, relative: rel, absolute: 1e-12, "\(context) back estimate")
            expectClose(m.backTransform(m.confidenceInterval.lower), e.back_transformed.ci_lower, relative: rel, absolute: 1e-12, "\(context) back ci_lower")
            expectClose(m.backTransform(m.confidenceInterval.upper), e.back_transformed.ci_upper, relative: rel, absolute: 1e-12, "\(context) back ci_upper")
        }
    }

    @Test("every case matches metafor run with its defaults to 2e-3", arguments: GLMMFixture.names(in: GLMMFixture.oddsRatioDirectory))
    func defaults(_ name: String) throws {
        let fixture = try GLMMFixture.load(name, in: GLMMFixture.oddsRatioDirectory)
        for c in fixture.cases {
            let m = try Self.fit(fixture, c)
            let e = c.metafor_default
            let context = "\(name) OR UM.FS Q=\(c.quadrature_points) default control"
            expectClose(m.estimate, e.estimate, relative: 2e-3, absolute: 1e-5, "\(context) estimate")
            expectClose(m.standardError, e.se, relative: 2e-3, absolute: 1e-12, "\(context) se")
            expectClose(m.tauSquared, e.tau2, relative: 2e-3, absolute: 1e-8, "\(context) tau2")
            expectClose(m.logLikelihood, e.log_likelihood, relative: 1e-4, absolute: 1e-12, "\(context) log_likelihood")
        }
    }

    @Test("studies without events (or with only events) in both groups are left out")
    func dropsDoubleZero() throws {
        let fixture = try GLMMFixture.load("nielweise2007", in: GLMMFixture.oddsRatioDirectory)
        let m = try Self.fit(fixture, fixture.cases[1])
        #expect(m.excludedStudies == ["Yucel 2004"])
        #expect(m.count == 17)
        #expect(m.studyEffects.count == 17 && m.randomEffects.count == 17)
        guard case .object(let members) = try m.jsonSummary() else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["measure", "method", "model", "quadrature_points", "level", "k", "excluded_studies",
                                     "estimate", "se", "statistic", "p_value", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
                                     "pi_method", "tau2", "tau", "i2",
                                     "h2", "qe_wald", "qe_wald_df", "qe_wald_p_value", "qe_lrt", "qe_lrt_df",
                                     "qe_lrt_p_value", "log_likelihood", "marginal_log_likelihood", "back_transformed"])
        #expect(members[2].1 == .string("UM.FS"))
        #expect(members[6].1 == .array([.string("Yucel 2004")]))
    }

    @Test("the analytic gradient of a study's AGHQ log-likelihood matches finite differences")
    func gradient() throws {
        for q in [1, 3, 7] {
            let l = FixedStudyEffectsLikelihood(treatEvents: [0, 5, 12], treatTotals: [20, 30, 12], controlEvents: [3, 9, 7],
                                                controlTotals: [25, 30, 15], rule: try GaussHermiteRule(points: q))
            for i in 0..<3 {
                for (alpha, beta, tau) in [(-1.0, -0.8, 0.7), (0.5, 1.2, 2.0), (-2.0, 0.1, -0.3), (0.0, -0.5, 1e-3)] {
                    let e = l.study(i, alpha: alpha, beta: beta, tau: tau)
                    let d = 1e-5
                    let fd = { (da: Double, db: Double, dt: Double) in
                        (l.study(i, alpha: alpha + da, beta: beta + db, tau: tau + dt).value
                            - l.study(i, alpha: alpha - da, beta: beta - db, tau: tau - dt).value) / (2 * d)
                    }
                    let context = "Q=\(q) study \(i) (\(alpha), \(beta), \(tau))"
                    expectClose(e.alpha, fd(d, 0, 0), relative: 1e-6, absolute: 1e-7, "\(context) ∂/∂α")
                    expectClose(e.beta, fd(0, d, 0), relative: 1e-6, absolute: 1e-7, "\(context) ∂/∂β")
                    expectClose(e.tau, fd(0, 0, d), relative: 1e-6, absolute: 1e-7, "\(context) ∂/∂τ")
                }
            }
        }
    }

    @Test("very large groups: converges, and mirrored data give a log odds ratio of 0")
    func largeCounts() throws {
        // Study 2 is study 1 with the groups swapped, so β̂ = 0 by symmetry; with n ~ 10⁶ the
        // log-likelihood carries rounding noise of ~1e-10 that the searches must tolerate.
        let m = try OddsRatioMixedModel(treatEvents: [1211142, 72737], treatTotals: [1554501, 121247],
                                        controlEvents: [72737, 1211142], controlTotals: [121247, 1554501], quadraturePoints: 25)
        #expect(abs(m.estimate) < 1e-8)
        #expect(abs(m.tauSquared - 0.731) < 0.01 && m.standardError.isFinite)
        let p = try GeneralizedLinearMixedModel(events: [100_000, 900_000, 250_000], totals: [1_000_000, 1_000_000, 500_000])
        #expect(abs(p.estimate) < 1e-8)
        #expect(p.tauSquared > 1 && p.standardError.isFinite)
    }

    @Test("bad arguments and data throw typed errors")
    func errors() throws {
        let a: [Double] = [3, 5], n1: [Double] = [20, 20], c: [Double] = [6, 9], n2: [Double] = [20, 20]
        expectError(.invalidArgument) { try OddsRatioMixedModel(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2, quadraturePoints: 0) }
        expectError(.invalidArgument) { try OddsRatioMixedModel(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2, level: 1) }
        expectError(.invalidArgument) { try OddsRatioMixedModel(treatEvents: a, treatTotals: n1, controlEvents: [6], controlTotals: n2) }
        expectError(.invalidValue) { try OddsRatioMixedModel(treatEvents: [3, 25], treatTotals: n1, controlEvents: c, controlTotals: n2) }
        expectError(.invalidValue) { try OddsRatioMixedModel(treatEvents: a, treatTotals: n1, controlEvents: [6, -1], controlTotals: n2) }
        // One informative study once the double-zero study is left out.
        expectError(.insufficientData) { try OddsRatioMixedModel(treatEvents: [3, 0], treatTotals: n1, controlEvents: [6, 0], controlTotals: n2) }
        // No events in any treated group: the log odds ratio runs off to −∞.
        expectError(.noConvergence) { try OddsRatioMixedModel(treatEvents: [0, 0, 0], treatTotals: [20, 20, 30], controlEvents: [6, 9, 4], controlTotals: [20, 20, 30]) }
        let table = try DataTable.read(bytes: Array("study,treat_events,treat_total,control_events\nA,1,5,2\nB,2,6,3\n".utf8), source: "t.csv")
        expectError(.missingColumn) { try OddsRatioMixedModel(table: table) }
    }
}


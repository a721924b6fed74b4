// Profile-likelihood intervals of the GLMM for proportions against R.
//
// Fixture: Tests/MetaPoolTests/Fixtures/glmm_ci/reference.json (`profile`), written by
// `Rscript Tests/Reference/generate_glmm_ci.R`. `exact` solves the profile equations on lme4's own
// nAGQ = 7 deviance function with optimize() and uniroot() at tolerance 1e-12; our fit's maximum
// agrees with glmer's tightened one to ~1e-7, so the bounds agree to 1e-6 (absolute, logit and τ
// scales). `lme4` is confint(fit, method = "profile"), which interpolates the profile by splines:
// it differs from the exact solution by up to 2.3e-5 here, so it is compared to 5e-5.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct GLMMProfileReference: Decodable {
    struct Bounds: Decodable { var mu_lower: Double; var mu_upper: Double; var tau_lower: Double; var tau_upper: Double }
    struct Case: Decodable { var dataset: String; var level: Double; var mu: Double; var tau: Double; var exact: Bounds; var lme4: Bounds }
    var profile: [Case]

    static let shared: GLMMProfileReference? = {
        let url = FixtureFolder.url("glmm_ci").appendingPathComponent("reference.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(GLMMProfileReference.self, from: data)
    }()
}

@Suite("GLMM: profile-likelihood intervals for mu and tau")
struct GLMMProfileTests {
    static func model(_ dataset: String) throws -> GeneralizedLinearMixedModel {
        let path = dataset == "by_groups" ? FixtureFolder.url("glmm_ci").appendingPathComponent("by_groups.csv")
                                          : FixtureFolder.url("glmm").appendingPathComponent("\(dataset).csv")
        return try GeneralizedLinearMixedModel(table: try DataTable.read(path: path.path), quadraturePoints: 7)
    }

    @Test("bounds match the profile equations solved on lme4's deviance, and lme4's confint()")
    func matchesR() throws {
        let reference = try #require(GLMMProfileReference.shared)
        #expect(reference.profile.count == 4)
        for c in reference.profile {
            let m = try Self.model(c.dataset)
            let p = try m.profileLikelihoodIntervals(level: c.level)
            let context = "\(c.dataset) level \(c.level)"
            expectClose(m.estimate, c.mu, relative: 0, absolute: 1e-6, "\(context) mu-hat")
            for (bounds, tolerance, what) in [(c.exact, 1e-6, "exact"), (c.lme4, 5e-5, "lme4 confint")] {
                expectClose(p.mu.lower, bounds.mu_lower, relative: 0, absolute: tolerance, "\(context) \(what) mu lower")
                expectClose(p.mu.upper, bounds.mu_upper, relative: 0, absolute: tolerance, "\(context) \(what) mu upper")
                expectClose(p.tau.lower, bounds.tau_lower, relative: 0, absolute: tolerance, "\(context) \(what) tau lower")
                expectClose(p.tau.upper, bounds.tau_upper, relative: 0, absolute: tolerance, "\(context) \(what) tau upper")
            }
            #expect(p.tauSquared.lower == p.tau.lower * p.tau.lower && p.tauSquared.upper == p.tau.upper * p.tau.upper)
            #expect(p.mu.lower < m.estimate && m.estimate < p.mu.upper && p.tau.lower <= m.tau && m.tau < p.tau.upper)
        }
        // icorr_synthetic: the profile at tau = 0 is inside the cut-off, so the lower bound is 0.
        #expect(try Self.model("icorr_synthetic").profileLikelihoodIntervals().tau.lower == 0)
    }

    @Test("the summary carries the intervals; a bad level throws")
    func summary() throws {
        let m = try Self.model("pritz1997")
        let s = try #require(m.summary().profileLikelihood)
        let p = try m.profileLikelihoodIntervals()
        #expect(s.error == nil && s.ciLower == p.mu.lower && s.tau2CIUpper == p.tauSquared.upper && s.level == 0.95)
        #expect(throws: MetaPoolError.self) { try m.profileLikelihoodIntervals(level: 1.5) }
    }
}

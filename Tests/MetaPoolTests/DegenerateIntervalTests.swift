// Intervals that metafor gives as degenerate (issue 18): the hksj interval when the effects agree
// to rounding (metafor 3.8-1: SE = 0 and a zero-width CI from a relative spread of about 4e-9;
// exact SEs at 4e-8), refused as identical effects are; and the Q-profile interval for τ² when
// both bounds fall below 0, the empty set in metafor's confint() (bounds 0, with its note).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("Degenerate hksj and tau^2 intervals")
struct DegenerateIntervalTests {
    static let v = [0.1, 0.2, 0.15, 0.1]

    static func effects(_ e: Double) throws(MetaPoolError) -> EffectSizes {
        try EffectSizes.generic(yi: [0, 1, 0, 2].map { 0.5 + e * $0 }, vi: v)
    }

    @Test("hksj: effects agreeing to 8 significant digits are refused, as identical ones", arguments: [0, 1e-12, 1e-9])
    func hksjRefused(_ e: Double) throws {
        let effects = try Self.effects(e)
        do throws(MetaPoolError) {
            _ = try MetaAnalysis(effects, method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
            Issue.record("spread \(e) accepted")
        } catch {
            #expect(error.kind == .insufficientData && error.remedy == .intervals(["hksj-adhoc", "t"]), "\(error)")
        }
        // The other intervals are defined.
        #expect(try MetaAnalysis(try Self.effects(e), method: .restrictedMaximumLikelihood, ciMethod: .hartungKnappAdHoc).standardError > 0)
    }

    @Test("hksj: a spread of 4e-8 relative is fitted, with metafor's SE (5.15682e-9 for e = 1e-8)")
    func hksjFitted() throws {
        let fit = try MetaAnalysis(try Self.effects(1e-8), method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
        // metafor 3.8-1: rma(0.5 + 1e-8 * c(0, 1, 0, 2), c(0.1, 0.2, 0.15, 0.1), test = "knha")$se
        #expect(isClose(fit.standardError, 5.15682e-9, relative: 1e-5, absolute: 0), "\(fit.standardError)")
    }

    @Test("identical effects: the tau^2 CI is the empty set, bounds 0 as metafor's, with a note in the summary")
    func emptyTauSquaredInterval() throws {
        let fit = try MetaAnalysis(try Self.effects(0), method: .restrictedMaximumLikelihood)
        let intervals = try #require(try fit.heterogeneityIntervals())
        #expect(intervals.isEmpty && intervals.tauSquared.lower == 0 && intervals.tauSquared.upper == 0)
        let summary = try fit.summary()
        #expect(summary.tau2CINote == HeterogeneityIntervals.emptyNote && summary.tau2CIUpper == 0)
        // Heterogeneous effects: not empty, no note.
        let bcg = try MetaAnalysis(EffectSizes.generic(yi: [0.1, 0.9, -0.4, 0.5], vi: Self.v), method: .restrictedMaximumLikelihood)
        #expect(try bcg.heterogeneityIntervals()?.isEmpty == false && (try bcg.summary()).tau2CINote == nil)
    }
}

// What every harness asserts: a MetaPool call either throws a MetaPoolError or returns finite,
// coherent numbers. Anything else is a bug, reported with fatalError so that libFuzzer stops and
// writes the input that caused it.

import MetaPool

public enum Check {
    /// Stops the fuzzer: `what` was returned without an error but is not a usable number.
    public static func fail(_ what: String) -> Never {
        fatalError("MetaPool returned an unusable value without throwing: \(what)")
    }

    public static func finite(_ x: Double, _ name: String) {
        if !x.isFinite { fail("\(name) = \(x)") }
    }

    public static func finite(_ x: Double?, _ name: String) {
        if let x { finite(x, name) }
    }

    public static func probability(_ p: Double, _ name: String) {
        if !(p >= 0 && p <= 1) { fail("\(name) = \(p) is not a probability") }
    }

    /// lower ≤ x ≤ upper, all finite.
    public static func interval(_ i: Interval, contains x: Double, _ name: String) {
        finite(i.lower, "\(name).lower")
        finite(i.upper, "\(name).upper")
        if !(i.lower <= x && x <= i.upper) { fail("\(name) [\(i.lower), \(i.upper)] does not contain \(x)") }
    }

    /// Everything a fit reports: estimate, SE, CI, test, τ², I², H², Q, PI, weights, study CIs.
    public static func fit(_ f: MetaAnalysis) {
        let tag = "\(f.method.rawValue)/\(f.ciMethod.rawValue) k=\(f.count)"
        finite(f.estimate, "\(tag) estimate")
        finite(f.standardError, "\(tag) se")
        if !(f.standardError >= 0) { fail("\(tag) se = \(f.standardError)") }
        interval(f.confidenceInterval, contains: f.estimate, "\(tag) CI")
        finite(f.statistic, "\(tag) statistic")
        probability(f.pValue, "\(tag) p")
        finite(f.tauSquaredEstimate, "\(tag) tau2")
        if !(f.tauSquaredEstimate >= 0) { fail("\(tag) tau2 = \(f.tauSquaredEstimate)") }
        finite(f.iSquared, "\(tag) I2")
        finite(f.hSquared, "\(tag) H2")
        finite(f.q, "\(tag) Q")
        probability(f.qPValue, "\(tag) Q p")
        if let pi = f.predictionInterval { interval(pi, contains: f.estimate, "\(tag) PI") }
        for (i, w) in f.weights.enumerated() where !(w.isFinite && w >= 0) { fail("\(tag) weight \(i) = \(w)") }
        for (i, s) in f.studyConfidenceIntervals.enumerated() { interval(s, contains: f.effects.yi[i], "\(tag) study \(i) CI") }
        let back = f.backTransform(f.estimate)
        if !back.isNaN || f.effects.measure != .freemanTukeyProportion {
            // exp of a large log ratio may overflow to +inf: that is the natural scale, not a fit error,
            // but NaN never is (PFT without totals is the one documented NaN).
            if back.isNaN { fail("\(tag) back-transformed estimate is NaN") }
        }
    }

    /// The JSON summary (`pool --format json`): the fit's numbers and the Q-profile intervals.
    public static func summary(_ f: MetaAnalysis) {
        do {
            let s = try f.summary()
            finite(s.estimate, "summary estimate")
            finite(s.tau2CILower, "summary tau2 CI lower")
            finite(s.tau2CIUpper, "summary tau2 CI upper")
            finite(s.i2CILower, "summary I2 CI lower")
            finite(s.i2CIUpper, "summary I2 CI upper")
            if let l = s.tau2CILower, let u = s.tau2CIUpper, !(l <= u && l >= 0) { fail("tau2 CI [\(l), \(u)]") }
        } catch {
            // A typed error is an answer.
        }
    }

    public static func subgroups(_ s: SubgroupAnalysis) {
        fit(s.overall)
        for g in s.subgroups {
            finite(g.estimate, "subgroup \(g.label) estimate")
            finite(g.standardError, "subgroup \(g.label) se")
            interval(g.confidenceInterval, contains: g.estimate, "subgroup \(g.label) CI")
            finite(g.tauSquared, "subgroup \(g.label) tau2")
            finite(g.iSquared, "subgroup \(g.label) I2")
            probability(g.pValue, "subgroup \(g.label) p")
            if let a = g.analysis { fit(a) }
        }
        finite(s.qBetween, "Q between")
        // One subgroup: no test (0 df), reported as NA / null by design.
        if s.qBetweenDegreesOfFreedom > 0 || !s.qBetweenPValue.isNaN { probability(s.qBetweenPValue, "Q between p") }
    }

    public static func batch(_ outcome: BatchAnalysis.Outcome) {
        guard case .success(let r) = outcome else { return }
        let tag = "batch \(r.id)"
        finite(r.estimate, "\(tag) estimate")
        finite(r.standardError, "\(tag) se")
        interval(r.confidenceInterval, contains: r.estimate, "\(tag) CI")
        finite(r.statistic, "\(tag) statistic")
        probability(r.pValue, "\(tag) p")
        finite(r.tauSquared, "\(tag) tau2")
        finite(r.iSquared, "\(tag) I2")
        finite(r.q, "\(tag) Q")
        probability(r.qPValue, "\(tag) Q p")
        if let pi = r.predictionInterval { interval(pi, contains: r.estimate, "\(tag) PI") }
    }

    /// The whole pipeline the CLI runs on a file's bytes: table, effect sizes, a fit per model
    /// (with its summary), subgroups by the first text column, the forest and funnel plots.
    public static func pipeline(bytes: [UInt8], source: String) {
        let table: DataTable
        do { table = try DataTable.read(bytes: bytes, source: source) } catch { return }
        let effects: EffectSizes
        do { effects = try EffectSizes(table: table) } catch { return }
        let models: [(TauSquaredMethod, ConfidenceIntervalMethod)] = [
            (.restrictedMaximumLikelihood, .wald), (.fixedEffect, .t), (.derSimonianLaird, .hartungKnapp),
            (.pauleMandel, .hartungKnappAdHoc), (.maximumLikelihood, .wald), (.empiricalBayes, .t),
        ]
        for (m, ci) in models {
            guard let f = try? MetaAnalysis(effects, method: m, ciMethod: ci) else { continue }
            fit(f)
            if m == .restrictedMaximumLikelihood {
                summary(f)
                _ = (try? FunnelPlot(f))?.svg()
            }
        }
        if let column = table.columns.first(where: { !["events", "total", "yi", "vi", "se"].contains($0) }),
           let s = try? SubgroupAnalysis(table: table, by: column) {
            subgroups(s)
        }
        if let plot = try? ForestPlot(table: table) { _ = plot.svg() }
    }
}

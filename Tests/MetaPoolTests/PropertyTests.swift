// Properties of the pooling that hold for any data, checked on generated datasets with
// x-sheep/swift-property-based (100 datasets per property unless stated; a failure prints the
// input and a seed to reproduce it with `.fixedSeed(...)`).
//
// Each property is a function that returns the list of its violations for one dataset, and the
// @Test expects that list to be empty. `PropertyTests.checksCanFail` feeds deliberately wrong
// transformations through the same functions and expects violations, so no property holds
// vacuously.
//
// Data: k from 2 to 40 studies; effects yᵢ uniform in [-2, 2]; variances vᵢ = 10^u with u uniform
// in [-4, 1] (1e-4 to 10, so both heterogeneous and homogeneous datasets occur and τ̂² = 0 is
// common for the truncated estimators). Proportions: totals 1 to 500, events from a fraction in
// [-0.1, 1.1] clamped to [0, 1], so about 1 study in 12 has no events and 1 in 12 has all events.
//
// Tolerances ("close" below): |a − b| ≤ 1e-9·max(|a|, |b|) + 1e-9·floor, where the floor is the
// natural scale of the quantity: max|yᵢ| (plus |c| after a shift) for the estimate, its CI and PI;
// √v̄ for the SE; τ̂² + v̄ for τ² (v̄ the mean sampling variance, the scale SafeguardedRoot converges
// in: steps below 1e-13·max(τ², v̄), so two runs of an iterative estimator differ by ~1e-12·v̄,
// far inside 1e-9); max(Q, 1) for Q; 100 (percent) for I². Without the floor a relative test is
// meaningless for a quantity that is 0 up to rounding (an estimate of 1e-17 from summing in
// another order, or DL's (Q − (k−1))/C when Q ≈ k − 1).

import Foundation
import PropertyBased
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

// MARK: - Data and generators

/// One generated dataset of generic effects.
struct GeneratedStudies: Sendable, CustomStringConvertible {
    var y: [Double]
    var v: [Double]
    var k: Int { y.count }
    var meanVariance: Double { v.reduce(0, +) / Double(v.count) }
    var maxAbsEffect: Double { y.map(abs).max() ?? 0 }
    var description: String { "k = \(k), yi = \(y), vi = \(v)" }

    func effects() throws(MetaPoolError) -> EffectSizes { try EffectSizes.generic(yi: y, vi: v) }
}

/// Counts for single-arm proportions.
struct GeneratedCounts: Sendable, CustomStringConvertible {
    var events: [Double]
    var totals: [Double]
    var description: String { "events = \(events.map { Int($0) }), totals = \(totals.map { Int($0) })" }
}

enum Generators {
    /// (yᵢ, vᵢ) pairs, k in `sizes`.
    static func studies(_ sizes: ClosedRange<Int> = 2...40) -> Generator<GeneratedStudies, some SendableSequenceType> {
        zip(Gen.double(in: -2...2), Gen.double(in: -4...1))
            .array(of: sizes)
            .map { pairs in GeneratedStudies(y: pairs.map(\.0), v: pairs.map { Foundation.pow(10, $0.1) }) }
    }

    static func counts(_ sizes: ClosedRange<Int> = 2...40) -> Generator<GeneratedCounts, some SendableSequenceType> {
        zip(Gen.int(in: 1...500), Gen.double(in: -0.1...1.1))
            .array(of: sizes)
            .map { pairs in
                let totals = pairs.map { Double($0.0) }
                let events = pairs.map { n, f in (min(max(f, 0), 1) * Double(n)).rounded() }
                return GeneratedCounts(events: events, totals: totals)
            }
    }

    /// A seed for a permutation, a shift or a choice.
    static let seed = Gen.int(in: 0...Int.max)
}

// MARK: - What is compared

/// The numbers of one fit that the properties compare.
struct FitNumbers {
    var estimate, se, lower, upper, tau2, q, i2: Double
    var piLower, piUpper: Double?
    var weights: [Double]

    init(_ fit: MetaAnalysis) {
        estimate = fit.estimate
        se = fit.standardError
        lower = fit.confidenceInterval.lower
        upper = fit.confidenceInterval.upper
        tau2 = fit.tauSquaredEstimate
        q = fit.q
        i2 = fit.iSquared ?? 0
        piLower = fit.predictionInterval?.lower
        piUpper = fit.predictionInterval?.upper
        weights = fit.weights
    }
}

enum Property {
    static let relative = 1e-9

    /// |a − b| ≤ relative·max(|a|, |b|) + relative·floor. Not `isClose`: this bound is a sum, which
    /// max(absolute, relative·scale) cannot state without tightening it up to twofold.
    static func close(_ a: Double, _ b: Double, floor: Double) -> Bool {
        abs(a - b) <= relative * max(abs(a), abs(b)) + relative * floor
    }

    /// Every method and CI method.
    static var models: [(TauSquaredMethod, ConfidenceIntervalMethod)] {
        TauSquaredMethod.allCases.flatMap { m in ConfidenceIntervalMethod.allCases.map { (m, $0) } }
    }

    static func fit(_ effects: EffectSizes, _ method: TauSquaredMethod, _ ci: ConfidenceIntervalMethod,
                    _ violations: inout [String]) -> MetaAnalysis? {
        do {
            return try MetaAnalysis(effects, method: method, ciMethod: ci)
        } catch {
            violations.append("\(method.rawValue)/\(ci.rawValue): threw \(error)")
            return nil
        }
    }

    /// Compares `b` with `a` mapped by an affine map x ↦ s·x + c on the effect scale: estimate, CI
    /// and PI map with it, the SE scales by |s|, τ² by s², and Q, I² do not change.
    static func compareAffine(_ a: FitNumbers, _ b: FitNumbers, shift c: Double, scale s: Double,
                              data: GeneratedStudies, context: String) -> [String] {
        var out: [String] = []
        let effectFloor = (data.maxAbsEffect * abs(s) + abs(c))
        let varianceFloor = (a.tau2 + data.meanVariance) * s * s
        func check(_ name: String, _ expected: Double, _ actual: Double, _ floor: Double) {
            if !close(expected, actual, floor: floor) { out.append("\(context) \(name): expected \(expected), got \(actual)") }
        }
        check("estimate", s * a.estimate + c, b.estimate, effectFloor)
        check("se", abs(s) * a.se, b.se, abs(s) * data.meanVariance.squareRoot())
        check("ci.lb", s * a.lower + c, s > 0 ? b.lower : b.upper, effectFloor)
        check("ci.ub", s * a.upper + c, s > 0 ? b.upper : b.lower, effectFloor)
        check("tau2", s * s * a.tau2, b.tau2, varianceFloor)
        check("Q", a.q, b.q, max(a.q, 1))
        check("I2", a.i2, b.i2, 100)
        if let al = a.piLower, let au = a.piUpper, let bl = b.piLower, let bu = b.piUpper {
            check("pi.lb", s * al + c, s > 0 ? bl : bu, effectFloor)
            check("pi.ub", s * au + c, s > 0 ? bu : bl, effectFloor)
        } else if (a.piLower == nil) != (b.piLower == nil) {
            out.append("\(context): prediction interval present in one fit only")
        }
        return out
    }

    // MARK: Properties, each returning its violations

    /// Fitting the studies in another order gives the same fit (weights permuted with the studies).
    static func orderInvariance(_ data: GeneratedStudies, permutation: [Int]) -> [String] {
        var out: [String] = []
        let permuted = GeneratedStudies(y: permutation.map { data.y[$0] }, v: permutation.map { data.v[$0] })
        guard let e1 = try? data.effects(), let e2 = try? permuted.effects() else { return ["effects rejected"] }
        for (m, ci) in models {
            guard let a = fit(e1, m, ci, &out), let b = fit(e2, m, ci, &out) else { continue }
            let na = FitNumbers(a), nb = FitNumbers(b)
            out += compareAffine(na, nb, shift: 0, scale: 1, data: data, context: "\(m.rawValue)/\(ci.rawValue) permuted")
            for (j, i) in permutation.enumerated() where !close(na.weights[i], nb.weights[j], floor: 100) {
                out.append("\(m.rawValue)/\(ci.rawValue): weight of study \(i) \(na.weights[i]) vs \(nb.weights[j]) after permuting")
            }
        }
        return out
    }

    /// yᵢ ↦ s·yᵢ + c, vᵢ ↦ s²·vᵢ: the fit maps with it (see ``compareAffine``).
    static func affineEquivariance(_ data: GeneratedStudies, shift c: Double, scale s: Double,
                                   varianceScale: Double? = nil) -> [String] {
        var out: [String] = []
        let vs = varianceScale ?? s * s
        let moved = GeneratedStudies(y: data.y.map { s * $0 + c }, v: data.v.map { vs * $0 })
        guard let e1 = try? data.effects(), let e2 = try? moved.effects() else { return ["effects rejected"] }
        for (m, ci) in models {
            guard let a = fit(e1, m, ci, &out), let b = fit(e2, m, ci, &out) else { continue }
            out += compareAffine(FitNumbers(a), FitNumbers(b), shift: c, scale: s, data: data,
                                 context: "\(m.rawValue)/\(ci.rawValue) y*\(s)+\(c)")
        }
        return out
    }

    /// Where a random-effects method estimates τ² = 0 (always so for identical effects), its
    /// estimate, SE and CI are those of FE with the same CI method, to rounding.
    static func fixedEqualsRandomAtZero(_ data: GeneratedStudies, requireZero: Bool) -> [String] {
        var out: [String] = []
        guard let e = try? data.effects() else { return ["effects rejected"] }
        let effectFloor = data.maxAbsEffect, seFloor = data.meanVariance.squareRoot()
        for ci in ConfidenceIntervalMethod.allCases {
            if requireZero && ci == .hartungKnapp {
                // Identical effects leave hksj without a scale (SE 0): every method refuses alike.
                for m in TauSquaredMethod.allCases {
                    do {
                        let f = try MetaAnalysis(e, method: m, ciMethod: ci)
                        out.append("\(m.rawValue)/hksj on identical effects: expected an error, got SE \(f.standardError)")
                    } catch where error.kind == .insufficientData && error.remedy == .intervals(["hksj-adhoc", "t"]) {
                    } catch {
                        out.append("\(m.rawValue)/hksj on identical effects: unexpected \(error)")
                    }
                }
                continue
            }
            guard let fe = fit(e, .fixedEffect, ci, &out) else { continue }
            for m in TauSquaredMethod.allCases where m != .fixedEffect {
                guard let re = fit(e, m, ci, &out) else { continue }
                if requireZero && !(re.tauSquaredEstimate <= 1e-12 * data.meanVariance) {
                    out.append("\(m.rawValue): tau^2 = \(re.tauSquaredEstimate) for identical effects, expected 0")
                }
                guard re.tauSquaredEstimate == 0 || requireZero else { continue }
                let pairs = [("estimate", fe.estimate, re.estimate, effectFloor), ("se", fe.standardError, re.standardError, seFloor),
                             ("ci.lb", fe.confidenceInterval.lower, re.confidenceInterval.lower, effectFloor),
                             ("ci.ub", fe.confidenceInterval.upper, re.confidenceInterval.upper, effectFloor)]
                for (name, x, y, floor) in pairs where !close(x, y, floor: floor) {
                    out.append("\(m.rawValue)/\(ci.rawValue) with tau^2 = \(re.tauSquaredEstimate): \(name) FE \(x) vs RE \(y)")
                }
            }
        }
        return out
    }

    /// Finite ends and lower ≤ x ≤ upper.
    static func contains(_ i: Interval, _ x: Double) -> Bool {
        i.lower.isFinite && i.upper.isFinite && i.lower <= x && x <= i.upper
    }

    /// lower ≤ estimate ≤ upper for the pooled CI, the PI (which also contains the CI) and
    /// every study's CI; all finite.
    static func intervalsContainEstimates(_ data: GeneratedStudies) -> [String] {
        var out: [String] = []
        guard let e = try? data.effects() else { return ["effects rejected"] }
        for (m, ci) in models {
            guard let f = fit(e, m, ci, &out) else { continue }
            let c = f.confidenceInterval
            if !contains(c, f.estimate) {
                out.append("\(m.rawValue)/\(ci.rawValue): CI [\(c.lower), \(c.upper)] vs estimate \(f.estimate)")
            }
            if let p = f.predictionInterval, !(p.lower <= c.lower && c.upper <= p.upper) {
                out.append("\(m.rawValue)/\(ci.rawValue): PI [\(p.lower), \(p.upper)] does not contain CI [\(c.lower), \(c.upper)]")
            }
            for (i, s) in f.studyConfidenceIntervals.enumerated() where !contains(s, data.y[i]) {
                out.append("\(m.rawValue)/\(ci.rawValue): study \(i) CI [\(s.lower), \(s.upper)] vs y \(data.y[i])")
            }
        }
        return out
    }

    /// The hksj-adhoc interval is at least as wide as the Wald interval (t quantile ≥ z, scale
    /// factor max(1, s²) ≥ 1), and as the t and hksj intervals, for every τ² method.
    /// `adhocLevel` other than 0.95 exists only to show the check can fail.
    static func adhocNotNarrower(_ data: GeneratedStudies, than other: ConfidenceIntervalMethod = .wald,
                                 adhocLevel: Double = 0.95) -> [String] {
        var out: [String] = []
        guard let e = try? data.effects() else { return ["effects rejected"] }
        for m in TauSquaredMethod.allCases {
            let adhoc: MetaAnalysis
            do { adhoc = try MetaAnalysis(e, method: m, ciMethod: .hartungKnappAdHoc, level: adhocLevel) }
            catch { out.append("\(m.rawValue)/hksj-adhoc: threw \(error)"); continue }
            guard let base = fit(e, m, other, &out) else { continue }
            let wa = adhoc.confidenceInterval.upper - adhoc.confidenceInterval.lower
            let wb = base.confidenceInterval.upper - base.confidenceInterval.lower
            if !(wa >= wb * (1 - 1e-12)) { out.append("\(m.rawValue): hksj-adhoc width \(wa) < \(other.rawValue) width \(wb)") }
        }
        return out
    }

    /// Removing one copy of a duplicated study gives the same fit as removing the other copy.
    /// `removeInstead` (another position to remove instead of the second copy) only shows the check can fail.
    static func duplicateRemoval(_ data: GeneratedStudies, duplicate j: Int, insertAt p: Int, removeInstead: Int? = nil) -> [String] {
        var out: [String] = []
        var y = data.y, v = data.v
        y.insert(data.y[j], at: p)
        v.insert(data.v[j], at: p)
        // The copies are now at positions `first` and `second`.
        let first = p <= j ? p : j, second = p <= j ? j + 1 : p
        func removing(_ i: Int) -> GeneratedStudies {
            var yy = y, vv = v
            yy.remove(at: i)
            vv.remove(at: i)
            return GeneratedStudies(y: yy, v: vv)
        }
        let a = removing(first), b = removing(removeInstead ?? second)
        guard let ea = try? a.effects(), let eb = try? b.effects() else { return ["effects rejected"] }
        for (m, ci) in models {
            guard let fa = fit(ea, m, ci, &out), let fb = fit(eb, m, ci, &out) else { continue }
            let na = FitNumbers(fa), nb = FitNumbers(fb)
            out += compareAffine(na, nb, shift: 0, scale: 1, data: data, context: "\(m.rawValue)/\(ci.rawValue) drop copy 1 vs 2")
            // The remaining copy carries the same weight in both fits.
            let wa = na.weights[second - 1], wb = nb.weights[first]
            if !close(wa, wb, floor: 100) { out.append("\(m.rawValue)/\(ci.rawValue): remaining copy's weight \(wa) vs \(wb)") }
        }
        return out
    }

    /// Back-transforms of fitted proportions: monotone (the back-transformed CI and PI bracket the
    /// back-transformed estimate) and, for PLO, PAS and PFT, inside [0, 1].
    static func proportionBackTransforms(_ counts: GeneratedCounts, measure: EffectMeasure,
                                         requireBounds: Bool? = nil) -> [String] {
        var out: [String] = []
        let effects: EffectSizes
        do { effects = try EffectSizes.proportions(events: counts.events, totals: counts.totals, measure: measure) }
        catch { return ["\(measure.rawValue): effects rejected: \(error)"] }
        // Every study at 0 events, or every study at all events with equal totals, gives identical
        // effects; hksj then has no scale and every method refuses it alike (as in
        // fixedEqualsRandomAtZero).
        let identical = effects.yi.allSatisfy { $0 == effects.yi[0] }
        for (m, ci) in models {
            if identical && ci == .hartungKnapp {
                do {
                    _ = try MetaAnalysis(effects, method: m, ciMethod: ci)
                    out.append("\(measure.rawValue) \(m.rawValue)/hksj on identical effects: expected an error")
                } catch where error.kind == .insufficientData && error.remedy == .intervals(["hksj-adhoc", "t"]) {
                } catch {
                    out.append("\(measure.rawValue) \(m.rawValue)/hksj on identical effects: unexpected \(error)")
                }
                continue
            }
            guard let f = fit(effects, m, ci, &out) else { continue }
            var values = [f.confidenceInterval.lower, f.estimate, f.confidenceInterval.upper]
            if let p = f.predictionInterval { values = [p.lower] + values + [p.upper] }
            let back = values.map { f.backTransform($0) }
            if zip(back, back.dropFirst()).contains(where: { !($0 <= $1) }) {
                out.append("\(measure.rawValue) \(m.rawValue)/\(ci.rawValue): back-transformed PI/CI/estimate not in order: \(values) -> \(back)")
            }
            if requireBounds ?? boundedMeasures.contains(measure), back.contains(where: { !(0...1).contains($0) }) {
                out.append("\(measure.rawValue) \(m.rawValue)/\(ci.rawValue): back-transform outside [0, 1]: \(back)")
            }
        }
        return out
    }

    /// The measures whose back-transform maps the whole real line into [0, 1]. Not PR (identity:
    /// a Wald CI of a raw proportion can pass 0 or 1, as in metafor) nor PLN (exp: a CI of a log
    /// proportion near 1 passes 0 on the log scale, so exp exceeds 1, as in metafor).
    static let boundedMeasures: Set<EffectMeasure> = [.logitProportion, .arcsineProportion, .freemanTukeyProportion]

    /// The back-transform of `measure` on sorted points of the real line: non-decreasing, and in
    /// [0, 1] for the bounded measures (exp: positive).
    static func backTransformMonotone(_ points: [Double], measure: EffectMeasure, harmonicMean n: Double,
                                      transform: ((Double) -> Double)? = nil) -> [String] {
        let xs = points.sorted()
        let t = measure.backTransform
        let back = xs.map { transform?($0) ?? t.apply($0, harmonicMeanTotal: n) }
        var out: [String] = []
        for i in 1..<back.count where !(back[i - 1] <= back[i]) {
            out.append("\(measure.rawValue) (n = \(n)): f(\(xs[i - 1])) = \(back[i - 1]) > f(\(xs[i])) = \(back[i])")
        }
        if boundedMeasures.contains(measure) {
            for (x, b) in zip(xs, back) where !(0...1).contains(b) { out.append("\(measure.rawValue) (n = \(n)): f(\(x)) = \(b) outside [0, 1]") }
        }
        if measure == .logProportion {
            for (x, b) in zip(xs, back) where !(b >= 0 && b.isFinite || x > 700) { out.append("PLN: exp(\(x)) = \(b)") }
        }
        return out
    }
}

// MARK: - Tests

@Suite("Properties of the pooling on generated data")
struct PropertyTests {
    @Test("pooling does not depend on study order")
    func order() async {
        await propertyCheck(input: Generators.studies(), Generators.seed) { data, seed in
            var rng = SplitMix64(seed: seed)
            let permutation = Array(0..<data.k).shuffled(using: &rng)
            let violations = Property.orderInvariance(data, permutation: permutation)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("shifting every effect by c shifts estimate, CI and PI by c; tau^2, Q and I^2 unchanged")
    func shift() async {
        await propertyCheck(input: Generators.studies(), Gen.double(in: -10...10)) { data, c in
            let violations = Property.affineEquivariance(data, shift: c, scale: 1)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("effects times s and variances times s^2: estimate times s, tau^2 times s^2, Q and I^2 unchanged")
    func scale() async {
        // s = ±10^u, u in [-3, 3]; a negative s also mirrors the effects (the CI's ends swap).
        await propertyCheck(input: Generators.studies(), Gen.double(in: -3...3), Gen.bool) { data, u, negative in
            let s = (negative ? -1 : 1) * Foundation.pow(10, u)
            let violations = Property.affineEquivariance(data, shift: 0, scale: s)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("identical effects: every method gives tau^2 = 0 and the FE estimate, SE and CI (hksj: the same error)")
    func identicalEffects() async {
        await propertyCheck(input: Generators.studies(), Gen.double(in: -5...5)) { data, value in
            let same = GeneratedStudies(y: Array(repeating: value, count: data.k), v: data.v)
            let violations = Property.fixedEqualsRandomAtZero(same, requireZero: true)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("wherever a method estimates tau^2 = 0, it agrees with FE")
    func truncatedTauSquared() async {
        await propertyCheck(input: Generators.studies()) { data in
            let violations = Property.fixedEqualsRandomAtZero(data, requireZero: false)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("every CI, PI and study CI contains its estimate")
    func intervalsContain() async {
        await propertyCheck(input: Generators.studies()) { data in
            let violations = Property.intervalsContainEstimates(data)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("hksj-adhoc is never narrower than wald, t or hksj")
    func adhocWidth() async {
        await propertyCheck(input: Generators.studies()) { data in
            var violations = Property.adhocNotNarrower(data, than: .wald)
            violations += Property.adhocNotNarrower(data, than: .t)
            violations += Property.adhocNotNarrower(data, than: .hartungKnapp)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("removing either copy of a duplicated study gives the same fit")
    func duplicateStudy() async {
        await propertyCheck(input: Generators.studies(), Generators.seed) { data, seed in
            var rng = SplitMix64(seed: seed)
            let j = Int.random(in: 0..<data.k, using: &rng), p = Int.random(in: 0...data.k, using: &rng)
            let violations = Property.duplicateRemoval(data, duplicate: j, insertAt: p)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("back-transformed proportions: monotone; in [0, 1] for PLO, PAS, PFT",
          arguments: [EffectMeasure.rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion])
    func proportions(_ measure: EffectMeasure) async {
        await propertyCheck(count: 50, input: Generators.counts()) { counts in
            let violations = Property.proportionBackTransforms(counts, measure: measure)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    @Test("back-transforms are monotone on the real line; PLO, PAS, PFT stay in [0, 1]",
          arguments: [EffectMeasure.rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion])
    func backTransformLine(_ measure: EffectMeasure) async {
        // Points spanning the whole useful range of each scale and beyond (logit ±40, arcsine and
        // Freeman-Tukey -1 to 3 around [0, π/2]); n is the harmonic mean of the totals (PFT only).
        let range: ClosedRange<Double> = measure == .logitProportion || measure == .logProportion ? -40...40 : -1...3
        await propertyCheck(input: Gen.double(in: range).array(of: 2...200), Gen.double(in: 1...2000)) { points, n in
            let violations = Property.backTransformMonotone(points, measure: measure, harmonicMean: n)
            #expect(violations.isEmpty, "\(violations.prefix(5))")
        }
    }

    /// The properties are not vacuous: the same checks report violations when the transformation
    /// is wrong or the claim is false.
    @Test("each property check reports a violation when its claim is false")
    func checksCanFail() {
        let data = GeneratedStudies(y: [0.1, 0.5, -0.3, 0.9, 0.2], v: [0.02, 0.05, 0.01, 0.1, 0.03])
        // The true claims pass on this dataset.
        #expect(Property.affineEquivariance(data, shift: 1.5, scale: -3).isEmpty)
        #expect(Property.orderInvariance(data, permutation: [4, 2, 0, 1, 3]).isEmpty)
        #expect(Property.adhocNotNarrower(data).isEmpty)
        #expect(Property.duplicateRemoval(data, duplicate: 1, insertAt: 4).isEmpty)
        // Variances scaled by s instead of s²: τ² and the weights no longer follow.
        #expect(!Property.affineEquivariance(data, shift: 0, scale: 3, varianceScale: 3).isEmpty)
        // A shift applied to the data but not expected (c = 0.5 only on one side) is caught.
        #expect(!Property.compareAffine(FitNumbers(try! MetaAnalysis(try! data.effects())),
                                        FitNumbers(try! MetaAnalysis(try! data.effects())),
                                        shift: 0.5, scale: 1, data: data, context: "").isEmpty)
        // A "permutation" that duplicates a study changes the fit.
        #expect(!Property.orderInvariance(data, permutation: [0, 0, 2, 3, 4]).isEmpty)
        // Heterogeneous data: requiring τ² = 0 fails.
        #expect(!Property.fixedEqualsRandomAtZero(data, requireZero: true).isEmpty)
        // A 50% hksj-adhoc interval is narrower than the 95% Wald interval.
        #expect(!Property.adhocNotNarrower(data, adhocLevel: 0.5).isEmpty)
        // Removing another study instead of the second copy changes the fit.
        #expect(!Property.duplicateRemoval(data, duplicate: 1, insertAt: 4, removeInstead: 0).isEmpty)
        // An interval that misses its estimate, or has an infinite end, is caught.
        #expect(!Property.contains(Interval(0.2, 0.4), 0.1))
        #expect(!Property.contains(Interval(-.infinity, 0.4), 0.1))
        // A decreasing map, and a map leaving [0, 1], are caught.
        #expect(!Property.backTransformMonotone([0, 1, 2], measure: .logitProportion, harmonicMean: .nan, transform: { -$0 }).isEmpty)
        #expect(!Property.backTransformMonotone([0, 1, 2], measure: .logitProportion, harmonicMean: .nan, transform: { $0 }).isEmpty)
        // PR and PLN are not asserted to stay in [0, 1] because they do not (nor in metafor):
        // a raw proportion's Wald CI passes 0 for small counts, and exp of a log proportion's CI
        // passes 1 when every patient responded.
        let rare = GeneratedCounts(events: [0, 1, 0, 2], totals: [10, 12, 8, 15])
        #expect(!Property.proportionBackTransforms(rare, measure: .rawProportion, requireBounds: true).isEmpty)
        let all = GeneratedCounts(events: [10, 12, 8, 15], totals: [10, 12, 8, 15])
        #expect(!Property.proportionBackTransforms(all, measure: .logProportion, requireBounds: true).isEmpty)
        #expect(Property.proportionBackTransforms(all, measure: .logitProportion).isEmpty)
        // Identical effects (every study at all events): hksj refuses, the other intervals pass.
        let allSame = GeneratedCounts(events: [12, 12, 12], totals: [12, 12, 12])
        for measure in [EffectMeasure.rawProportion, .logitProportion, .arcsineProportion, .freemanTukeyProportion, .logProportion] {
            #expect(Property.proportionBackTransforms(allSame, measure: measure, requireBounds: false).isEmpty, "\(measure)")
        }
        // The tolerance itself: 1e-6 relative is a failure, 1e-10 is not.
        #expect(!Property.close(1, 1 + 1e-6, floor: 1))
        #expect(Property.close(1, 1 + 1e-10, floor: 1))
    }
}

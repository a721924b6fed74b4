// Small-study effects / publication bias against metafor 3.8-1: regtest() (Egger, Peters and the
// meta-regression test), ranktest() (Begg & Mazumdar) and trimfill() (Duval & Tweedie).
// Fixtures: Tests/MetaPoolTests/Fixtures/bias, written by `Rscript Tests/Reference/generate_bias.R`.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

struct BiasFixture: Decodable {
    struct Filled: Decodable {
        var yi: Double
        var vi: Double
    }
    struct Expected: Decodable {
        // regtest
        var statistic: Double?
        var df: Int?
        var p_value: Double?
        var limit_estimate: Double?
        var limit_ci_lower: Double?
        var limit_ci_upper: Double?
        var slope: Double?
        var tau2: Double?
        // ranktest
        var tau: Double?
        var exact: Bool?
        // trimfill
        var side: String?
        var k0: Int?
        var se_k0: Double?
        var p_k0: Double?
        var filled: [Filled]?
        var k: Int?
        var estimate: Double?
        var se: Double?
        var ci_lower: Double?
        var ci_upper: Double?
    }
    struct Case: Decodable {
        var test: String
        var measure: String
        var method: String?
        var ci_method: String?
        var level: Double?
        var model: String?
        var predictor: String?
        var estimator: String?
        var side_given: String?
        var exact: Bool?
        var expected: Expected
    }
    var input: String
    var metafor_version: String
    var cases: [Case]

    static let directory = FixtureFolder.url("bias")
    static func names() -> [String] {
        FixtureFolder.names(in: directory, suffix: ".expected.json")
    }
}

private func expectError<T>(_ kind: MetaPoolError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () throws -> T) {
    do {
        let value = try body()
        Issue.record("expected a \(kind) error, got \(value)", sourceLocation: sourceLocation)
    } catch let error as MetaPoolError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.reason.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a MetaPoolError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("Bias: regtest, ranktest and trimfill against metafor")
struct BiasTests {
    @Test("fixtures are present")
    func present() {
        let names = BiasFixture.names()
        #expect(names.count >= 6)
        #expect(Set(["bcg", "hackshaw1998", "pritz1997", "bangertdrowns2004", "hine1989", "lehmann2018"]).isSubset(of: names))
    }

    @Test("every case matches metafor", arguments: BiasFixture.names())
    func dataset(_ name: String) throws {
        let data = try Data(contentsOf: BiasFixture.directory.appendingPathComponent(name + ".expected.json"))
        let fixture = try JSONDecoder().decode(BiasFixture.self, from: data)
        #expect(fixture.metafor_version == "3.8.1")
        let table = try DataTable.read(path: BiasFixture.directory.appendingPathComponent(fixture.input).path)
        let sampleSizes = try? table.totalSampleSizes()
        #expect(fixture.cases.count >= 30)
        var counts: [String: Int] = [:]
        for c in fixture.cases {
            counts[c.test, default: 0] += 1
            let effects = try EffectSizes(table: table, measure: EffectMeasure(code: c.measure))
            switch c.test {
            case "regtest": try checkRegression(c, effects, sampleSizes, name)
            case "ranktest": try checkRank(c, effects, name)
            case "trimfill": try checkTrimAndFill(c, effects, name)
            default: Issue.record("unknown test \(c.test)")
            }
        }
        #expect(counts["regtest", default: 0] >= 15 && counts["ranktest", default: 0] >= 1 && counts["trimfill", default: 0] >= 12)
    }

    func checkRegression(_ c: BiasFixture.Case, _ effects: EffectSizes, _ sampleSizes: [Double]?, _ name: String) throws {
        let model = try #require(EggerTest.Model(rawValue: c.model ?? ""))
        let predictor = try #require(EggerTest.Predictor(rawValue: c.predictor ?? ""))
        let method = try #require(TauSquaredMethod(code: c.method ?? ""))
        let ci = try #require(ConfidenceIntervalMethod(rawValue: c.ci_method ?? ""))
        let context = "\(name) \(c.measure) regtest \(c.model!) \(c.predictor!) \(c.method!) \(c.ci_method!) \(c.level ?? 0.95)"
        let test = try EggerTest(effects, model: model, predictor: predictor, sampleSizes: sampleSizes, method: method,
                                 ciMethod: ci, level: c.level ?? 0.95)
        let e = c.expected
        expectClose(test.statistic, e.statistic, relative: 1e-6, absolute: 1e-10, "\(context) statistic \(test.statistic) vs \(e.statistic ?? .nan)")
        #expect(test.degreesOfFreedom == e.df, "\(context) df")
        expectClose(test.pValue, e.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p \(test.pValue) vs \(e.p_value ?? .nan)")
        expectClose(test.slope, e.slope, relative: 1e-6, absolute: 1e-10, "\(context) slope")
        expectClose(test.limitEstimate, e.limit_estimate, relative: 1e-6, absolute: 1e-10, "\(context) limit estimate \(String(describing: test.limitEstimate))")
        expectClose(test.limitConfidenceInterval?.lower, e.limit_ci_lower, relative: 1e-6, absolute: 1e-10, "\(context) limit ci lower")
        expectClose(test.limitConfidenceInterval?.upper, e.limit_ci_upper, relative: 1e-6, absolute: 1e-10, "\(context) limit ci upper")
        expectClose(test.tauSquared, e.tau2, relative: 1e-6, absolute: 1e-9, "\(context) tau2 \(String(describing: test.tauSquared)) vs \(String(describing: e.tau2))")
        if model == .weightedRegression && predictor == .inverseSampleSize {
            // Peters' test is this case through its convenience.
            let peters = try EggerTest.peters(effects, sampleSizes: sampleSizes, level: c.level ?? 0.95)
            #expect(peters.statistic == test.statistic && peters.pValue == test.pValue, "\(context) peters()")
        }
    }

    func checkRank(_ c: BiasFixture.Case, _ effects: EffectSizes, _ name: String) throws {
        let test = try RankCorrelationTest(effects, exact: c.exact ?? true)
        let e = c.expected
        let context = "\(name) \(c.measure) ranktest exact \(c.exact ?? true)"
        expectClose(test.tau, e.tau, relative: 1e-6, absolute: 1e-10, "\(context) tau \(test.tau) vs \(e.tau ?? .nan)")
        expectClose(test.pValue, e.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p \(test.pValue) vs \(e.p_value ?? .nan)")
        #expect(test.isExact == e.exact, "\(context) exact")
    }

    func checkTrimAndFill(_ c: BiasFixture.Case, _ effects: EffectSizes, _ name: String) throws {
        let estimator = try #require(TrimAndFill.Estimator(rawValue: c.estimator ?? ""))
        let method = try #require(TauSquaredMethod(code: c.method ?? ""))
        let ci = try #require(ConfidenceIntervalMethod(rawValue: c.ci_method ?? ""))
        let side = try c.side_given.map { try #require(TrimAndFill.Side(rawValue: $0)) }
        let context = "\(name) \(c.measure) trimfill \(c.estimator!) \(c.method!) \(c.ci_method!) side \(c.side_given ?? "auto")"
        let tf = try TrimAndFill(effects, estimator: estimator, side: side, method: method, ciMethod: ci)
        let e = c.expected
        #expect(tf.side.rawValue == e.side, "\(context) side \(tf.side) vs \(e.side ?? "")")
        #expect(tf.sideWasChosen == (side == nil))
        #expect(tf.converged)
        #expect(tf.missingStudies == e.k0, "\(context) k0 \(tf.missingStudies) vs \(e.k0 ?? -1)")
        expectClose(tf.missingStudiesStandardError, e.se_k0, relative: 1e-6, absolute: 1e-10, "\(context) se_k0 \(String(describing: tf.missingStudiesStandardError)) vs \(String(describing: e.se_k0))")
        expectClose(tf.missingStudiesPValue, e.p_k0, relative: 1e-4, absolute: 1e-12, "\(context) p_k0")
        let filled = e.filled ?? []
        #expect(tf.filled.count == filled.count, "\(context) filled count")
        for (got, want) in zip(tf.filled, filled) {
            expectClose(got.yi, want.yi, relative: 1e-6, absolute: 1e-10, "\(context) filled yi \(got.yi) vs \(want.yi)")
            #expect(got.vi == want.vi || isClose(got.vi, want.vi, relative: 1e-6, absolute: 1e-10), "\(context) filled vi")
            #expect(effects.vi[got.mirroredStudy] == got.vi, "\(context) mirrored study")
        }
        #expect(tf.fit.count == e.k, "\(context) k")
        expectClose(tf.estimate, e.estimate, relative: 1e-6, absolute: 1e-10, "\(context) estimate \(tf.estimate) vs \(e.estimate ?? .nan)")
        expectClose(tf.standardError, e.se, relative: 1e-6, absolute: 1e-10, "\(context) se")
        expectClose(tf.confidenceInterval.lower, e.ci_lower, relative: 1e-6, absolute: 1e-10, "\(context) ci lower")
        expectClose(tf.confidenceInterval.upper, e.ci_upper, relative: 1e-6, absolute: 1e-10, "\(context) ci upper")
        expectClose(tf.fit.statistic, e.statistic, relative: 1e-6, absolute: 1e-10, "\(context) statistic")
        expectClose(tf.fit.pValue, e.p_value, relative: 1e-4, absolute: 1e-12, "\(context) p")
        #expect(tf.fit.degreesOfFreedom == e.df, "\(context) df")
        expectClose(tf.tauSquared, e.tau2, relative: 1e-6, absolute: 1e-9, "\(context) tau2 \(String(describing: tf.tauSquared)) vs \(String(describing: e.tau2))")
    }
}

@Suite("Bias: errors, Kendall's tau and summaries")
struct BiasUnitTests {
    static let small = try! EffectSizes.generic(yi: [0.1, 0.5], vi: [0.04, 0.09])
    static let equalVariances = try! EffectSizes.generic(yi: [0.1, 0.5, 0.3, 0.8], vi: [0.04, 0.04, 0.04, 0.04])
    static let bcgLike = try! EffectSizes.twoGroup(treatEvents: [4, 6, 3, 62, 33, 180], treatTotals: [123, 306, 231, 13598, 5069, 1541],
                                                  controlEvents: [11, 29, 11, 248, 47, 372], controlTotals: [139, 303, 220, 12867, 5808, 1451])

    @Test("fewer than 3 studies: insufficientData")
    func tooFew() {
        expectError(.insufficientData) { try EggerTest(Self.small) }
        expectError(.insufficientData) { try EggerTest(Self.small, model: .weightedRegression) }
        expectError(.insufficientData) { try RankCorrelationTest(Self.small) }
        expectError(.insufficientData) { try TrimAndFill(Self.small) }
        expectError(.insufficientData) { try TrimAndFill(Self.small, side: .left, method: .fixedEffect) }
    }

    @Test("equal sampling variances: the slope and the rank correlation are undefined")
    func equalVariances() throws {
        expectError(.insufficientData) { try EggerTest(Self.equalVariances) }
        expectError(.insufficientData) { try EggerTest(Self.equalVariances, model: .weightedRegression, predictor: .variance) }
        expectError(.insufficientData) { try RankCorrelationTest(Self.equalVariances) }
        expectError(.insufficientData) { try TrimAndFill(Self.equalVariances) }
        // With the side given, trim and fill needs no regression.
        let tf = try TrimAndFill(Self.equalVariances, side: .left, method: .fixedEffect)
        #expect(tf.side == .left && !tf.sideWasChosen)
    }

    @Test("sample sizes: needed for the n-based predictors, validated")
    func sampleSizes() throws {
        // Generic effects carry no sample sizes; two-group counts carry n1 + n2.
        expectError(.invalidArgument) { try EggerTest.peters(EffectSizes.generic(yi: Self.bcgLike.yi, vi: Self.bcgLike.vi)) }
        let implicit = try EggerTest.peters(Self.bcgLike)
        let explicit = try EggerTest.peters(Self.bcgLike, sampleSizes: [262, 609, 451, 26465, 10877, 2992])
        #expect(implicit.statistic == explicit.statistic && implicit.pValue == explicit.pValue)
        expectError(.invalidArgument) { try EggerTest.peters(Self.bcgLike, sampleSizes: [100, 200]) }
        expectError(.invalidValue) { try EggerTest.peters(Self.bcgLike, sampleSizes: [262, 609, 0, 26465, 10877, 2992]) }
        expectError(.invalidValue) { try EggerTest.peters(Self.bcgLike, sampleSizes: [262, 609, .nan, 26465, 10877, 2992]) }
        let peters = try EggerTest.peters(Self.bcgLike, sampleSizes: [262, 609, 451, 26465, 10877, 2992])
        #expect(peters.degreesOfFreedom == 4 && peters.limitEstimate != nil && peters.pValue > 0 && peters.pValue <= 1)
        // Proportions carry their totals.
        let proportions = try EffectSizes.proportions(events: [3, 8, 15, 30], totals: [10, 25, 60, 140])
        let n = try EggerTest(proportions, model: .weightedRegression, predictor: .sampleSize)
        #expect(n.limitEstimate == nil && n.limitConfidenceInterval == nil)
        expectError(.invalidArgument) { try EggerTest(Self.bcgLike, level: 95) }
        expectError(.invalidArgument) { try TrimAndFill(Self.bcgLike, level: 0) }
        expectError(.invalidArgument) { try TrimAndFill(Self.bcgLike, maxIterations: 0) }
    }

    @Test("DataTable.totalSampleSizes: n1 + n2, total, ni")
    func tableSampleSizes() throws {
        let twoGroup = try DataTable.read(bytes: Array("treat_events,treat_total,control_events,control_total\n1,10,2,12\n3,20,4,21\n".utf8), source: "t.csv")
        #expect(try twoGroup.totalSampleSizes() == [22, 41])
        let single = try DataTable.read(bytes: Array("events,total\n1,10\n3,20\n".utf8), source: "p.csv")
        #expect(try single.totalSampleSizes() == [10, 20])
        let generic = try DataTable.read(bytes: Array("yi,vi,ni\n0.1,0.2,30\n0.3,0.1,45\n".utf8), source: "g.csv")
        #expect(try generic.totalSampleSizes() == [30, 45])
        let none = try DataTable.read(bytes: Array("yi,vi\n0.1,0.2\n".utf8), source: "n.csv")
        expectError(.missingColumn) { try none.totalSampleSizes() }
        let bad = try DataTable.read(bytes: Array("events,total\n1,10\n0,0\n".utf8), source: "b.csv")
        do {
            _ = try bad.totalSampleSizes()
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidValue && error.location.row == 2 && error.location.column == "total")
        }
    }

    /// O(n²) reference: S and τ_b from every pair.
    static func bruteForce(_ x: [Double], _ y: [Double]) -> (s: Double, tau: Double) {
        var s = 0.0, tx = 0.0, ty = 0.0
        let n = x.count
        for i in 0..<n {
            for j in (i + 1)..<n {
                let a = (x[i] - x[j]).sign == .minus ? -1.0 : (x[i] == x[j] ? 0 : 1)
                let b = (y[i] - y[j]).sign == .minus ? -1.0 : (y[i] == y[j] ? 0 : 1)
                s += a * b
                if a == 0 { tx += 1 }
                if b == 0 { ty += 1 }
            }
        }
        let n0 = Double(n * (n - 1) / 2)
        return (s, s / ((n0 - tx) * (n0 - ty)).squareRoot())
    }

    @Test("Kendall's tau by Knight's algorithm agrees with counting every pair, with and without ties")
    func kendallAgainstBruteForce() throws {
        var generator = SplitMix64(seed: 1_938)
        for trial in 0..<200 {
            let n = 2 + trial % 40
            let levels = trial % 3 == 0 ? 4 : 1000   // few levels: many ties
            let x = (0..<n).map { _ in Double(Int.random(in: 0..<levels, using: &generator)) }
            let y = (0..<n).map { _ in Double(Int.random(in: 0..<levels, using: &generator)) }
            guard Set(x).count > 1, Set(y).count > 1 else { continue }
            let k = try KendallCorrelation(x, y)
            let reference = Self.bruteForce(x, y)
            #expect(k.score == reference.s, "trial \(trial): S \(k.score) vs \(reference.s)")
            #expect(abs(k.tau - reference.tau) <= 1e-12, "trial \(trial): tau")
            #expect(k.pValue >= 0 && k.pValue <= 1)
        }
    }

    @Test("the exact null distribution: Mahonian numbers, and the small tail keeps its accuracy")
    func exactDistribution() throws {
        let four = KendallCorrelation.inversionDistribution(n: 4, upTo: 6).map { ($0 * 24).rounded() }
        #expect(four == [1, 3, 5, 6, 5, 3, 1])
        let full = KendallCorrelation.inversionDistribution(n: 12, upTo: 66)
        #expect(abs(full.reduce(0, +) - 1) < 1e-14)
        // Against the recursion summed term by term (positive terms only).
        let n = 70, limit = 600
        var direct = [Double](repeating: 0, count: limit + 1)
        direct[0] = 1
        for m in 2...n {
            var next = direct
            for j in 0...limit {
                var s = 0.0
                for i in max(0, j - m + 1)...j { s += direct[i] }
                next[j] = s / Double(m)
            }
            direct = next
        }
        let fast = KendallCorrelation.inversionDistribution(n: n, upTo: limit)
        for j in stride(from: 0, through: limit, by: 7) where direct[j] > 0 {
            #expect(abs(fast[j] - direct[j]) <= 1e-12 * direct[j], "j = \(j): \(fast[j]) vs \(direct[j])")
        }
        // Perfect agreement of 6 pairs: p = 2/6! (R: cor.test(1:6, 1:6, method = "kendall")).
        let perfect = try KendallCorrelation([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6])
        #expect(perfect.isExact && perfect.tau == 1 && abs(perfect.pValue - 2.0 / 720) < 1e-15)
    }

    @Test("exact p-values for large k without ties, where metafor's are NaN")
    func largeExact() throws {
        var generator = SplitMix64(seed: 300)
        let k = 300
        let yi = (0..<k).map { _ in Double.random(in: -1...1, using: &generator) }
        let vi = (0..<k).map { _ in Double.random(in: 0.01...0.2, using: &generator) }
        let effects = try EffectSizes.generic(yi: yi, vi: vi)
        let exact = try RankCorrelationTest(effects)
        let normal = try RankCorrelationTest(effects, exact: false)
        #expect(exact.isExact && !normal.isExact)
        #expect(exact.tau == normal.tau)
        #expect(abs(exact.pValue - normal.pValue) < 0.01, "\(exact.pValue) vs \(normal.pValue)")
    }

    /// Of the random data sets below with unequal variances, at least this share must give
    /// finite results from each procedure (measured with the seed below: all of them), so an
    /// error thrown for everything cannot pass as "no trap".
    static let noTrapsMinimumFittedShare = 0.95

    @Test("no traps: small random data sets through every test either fit or throw MetaPoolError, and most fit")
    func noTraps() {
        var generator = SplitMix64(seed: 20_240_613)
        var attempts = [String: Int](), fitted = [String: Int]()
        for trial in 0..<150 {
            let k = 3 + trial % 6
            // Every fifth data set has equal variances: no slope, no rank correlation, no side to trim.
            let equalVariances = trial % 5 == 0
            let yi = (0..<k).map { _ in Double.random(in: -3...3, using: &generator) }
            let vi = (0..<k).map { _ in equalVariances ? 0.1 : Double.random(in: 1e-4...2, using: &generator) }
            let effects: EffectSizes
            do {
                effects = try EffectSizes.generic(yi: yi, vi: vi)
            } catch {
                Issue.record("trial \(trial): finite effects with positive variances rejected: \(error)")
                continue
            }
            /// Runs one procedure (whose initializers throw MetaPoolError only: typed throws) and
            /// counts whether it gave finite numbers; equal variances must be insufficientData.
            func attempt(_ procedure: String, _ body: () throws(MetaPoolError) -> Bool) {
                do {
                    let finite = try body()
                    #expect(!equalVariances, "trial \(trial): \(procedure) fitted equal variances")
                    attempts[procedure, default: 0] += 1
                    if finite { fitted[procedure, default: 0] += 1 }
                } catch {
                    if equalVariances {
                        #expect(error.kind == .insufficientData, "trial \(trial): \(procedure): \(error)")
                    } else {
                        attempts[procedure, default: 0] += 1
                    }
                }
            }
            for method in [TauSquaredMethod.fixedEffect, .derSimonianLaird, .restrictedMaximumLikelihood, .pauleMandel] {
                for estimator in TrimAndFill.Estimator.allCases {
                    attempt("trim and fill") { () throws(MetaPoolError) -> Bool in
                        let tf = try TrimAndFill(effects, estimator: estimator, method: method, ciMethod: .hartungKnapp)
                        #expect(tf.missingStudies >= 0 && tf.missingStudies < k && tf.filled.count == tf.missingStudies)
                        #expect(tf.estimate.isFinite && tf.standardError.isFinite)
                        #expect((try? tf.summary()) != nil)
                        return tf.estimate.isFinite && tf.standardError.isFinite
                    }
                }
                for model in EggerTest.Model.allCases {
                    attempt("Egger") { () throws(MetaPoolError) -> Bool in
                        let test = try EggerTest(effects, model: model, method: method)
                        #expect(test.pValue >= 0 && test.pValue <= 1)
                        return test.statistic.isFinite && test.slope.isFinite && test.pValue.isFinite
                    }
                }
            }
            attempt("rank correlation") { () throws(MetaPoolError) -> Bool in
                let rank = try RankCorrelationTest(effects)
                #expect(rank.pValue >= 0 && rank.pValue <= 1)
                return rank.tau.isFinite && rank.pValue.isFinite
            }
        }
        // 120 data sets with unequal variances, each through 4 methods × 2 estimators (trim and
        // fill), 4 methods × 2 models (Egger) and one rank correlation test.
        #expect(attempts == ["trim and fill": 960, "Egger": 960, "rank correlation": 120])
        for procedure in ["trim and fill", "Egger", "rank correlation"] {
            let n = attempts[procedure] ?? 0, share = Double(fitted[procedure] ?? 0) / Double(max(n, 1))
            #expect(share >= Self.noTrapsMinimumFittedShare,
                    "\(procedure): \(fitted[procedure] ?? 0) of \(n) data sets with unequal variances gave finite results")
        }
    }

    @Test("summaries use metafor's names")
    func summaries() throws {
        func keys(_ value: JSONValue) -> [String] {
            guard case .object(let members) = value else { return [] }
            return members.map(\.0)
        }
        let effects = try EffectSizes.generic(yi: [0.9, 0.6, 0.4, 0.35, 0.3, 0.1, 0.05], vi: [0.3, 0.2, 0.1, 0.08, 0.05, 0.02, 0.01])
        let lm = try EggerTest(effects, model: .weightedRegression)
        #expect(keys(try lm.summary()) == ["model", "predictor", "level", "k", "statistic", "df", "p_value", "slope", "slope_se",
                                           "limit_estimate", "limit_se", "limit_ci_lower", "limit_ci_upper"])
        let rma = try EggerTest(effects)
        #expect(keys(try rma.summary()) == ["model", "predictor", "method", "ci_method", "level", "k", "statistic", "p_value", "slope",
                                            "slope_se", "limit_estimate", "limit_se", "limit_ci_lower", "limit_ci_upper", "tau2"])
        #expect(keys(try RankCorrelationTest(effects).summary()) == ["k", "tau", "p_value", "exact"])
        let tf = try TrimAndFill(effects, estimator: .r0, method: .fixedEffect)
        #expect(tf.side == .left && tf.missingStudies > 0)
        let summary = try tf.summary()
        #expect(keys(summary) == ["estimator", "side", "side_chosen", "method", "ci_method", "level", "k_observed", "k0", "se_k0", "p_k0",
                                  "filled", "k", "estimate", "se", "ci_lower", "ci_upper", "statistic", "p_value", "back_transformed"])
        let text = summary.serialized()
        #expect(text.contains("\"mirrors\": \"Study 1\""))
    }
}

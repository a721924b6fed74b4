// Bad data through the public API: every call throws a typed MetaPoolError (or, for the pure
// math functions, returns NaN); nothing traps. `APITrapErrorTests` checks the kind of error for
// the inputs that used to trap; `APITrapTests` runs the bad inputs of every entry point in exit
// tests, child processes that must exit normally, so that a trap anywhere fails the test.

import Testing
import MetaPool
@testable import MetaPoolTestSupport

/// The kind of the MetaPoolError `body` throws, or `nil` (with an issue) when it returns or
/// throws something else.
private func thrownKind<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> MetaPoolError.Kind? {
    do {
        let value = try body()
        Issue.record("expected a MetaPoolError, got \(value)", sourceLocation: sourceLocation)
    } catch let error as MetaPoolError {
        return error.kind
    } catch {
        Issue.record("expected a MetaPoolError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("API traps: the typed error for inputs that used to trap")
struct APITrapErrorTests {
    // MARK: DataTable built in code

    @Test("location(row:) outside the table: no row number for negative rows, no line or study")
    func locationOutsideTheTable() {
        let table = DataTable(columns: ["study", "yi"], rows: [["A", "1"], ["B", "2"]], lines: [2, 3])
        #expect(table.location(row: 1, column: "yi") == InputLocation(row: 2, line: 3, column: "yi", study: "B"))
        #expect(table.location(row: 2) == InputLocation(row: 3))
        for row in [-1, Int.min] { #expect(table.location(row: row) == InputLocation()) }
        #expect(table.location(row: Int.max) == InputLocation())
    }

    @Test("a row shorter than the header is malformed input, named by row and column")
    func raggedRows() throws {
        let generic = DataTable(columns: ["study", "yi", "vi"], rows: [["A", "0.1", "0.01"], ["B", "0.2"]])
        do {
            _ = try EffectSizes(table: generic)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .malformedInput)
            #expect(error.location.row == 2 && error.location.column == "vi", "\(error)")
        }
        let counts = DataTable(columns: ["treat_events", "treat_total", "control_events", "control_total"], rows: [["1", "10", "2", "10"], ["1"]])
        #expect(thrownKind { try TwoGroupCounts(table: counts) } == .malformedInput)
        #expect(thrownKind { try OddsRatioMixedModel(table: counts) } == .malformedInput)
        let proportions = DataTable(columns: ["study", "events", "total"], rows: [["A", "1", "10"], []])
        #expect(thrownKind { try GeneralizedLinearMixedModel(table: proportions) } == .malformedInput)
        #expect(thrownKind { try proportions.totalSampleSizes() } == .malformedInput)
        // A short row without the study column gets the default label.
        let noStudy = DataTable(columns: ["yi", "vi", "study"], rows: [["0.1", "0.01", "A"], ["0.2", "0.02"]])
        #expect(try EffectSizes(table: noStudy).labels == ["A", "Study 2"])
    }

    @Test("TwoGroupCounts.isDoubleZero with an index outside the studies is an invalid argument")
    func doubleZeroIndex() throws {
        let counts = try TwoGroupCounts(treatEvents: [0, 3], treatTotals: [10, 10], controlEvents: [0, 4], controlTotals: [10, 10])
        #expect(try counts.isDoubleZero(0) && !counts.isDoubleZero(1))
        for i in [-1, 2, Int.min, Int.max] {
            #expect(thrownKind { try counts.isDoubleZero(i) } == .invalidArgument)
        }
    }

    // MARK: The τ² estimators' static API

    @Test("tauSquared(y:v:): mismatched lengths, fewer than 2 studies, non-finite or non-positive values",
          arguments: TauSquaredMethod.allCases.compactMap(\.estimator).map { ObjectIdentifier($0) })
    func estimatorInput(_ id: ObjectIdentifier) throws {
        let estimator = try #require(TauSquaredMethod.allCases.compactMap(\.estimator).first { ObjectIdentifier($0) == id })
        let y = [0.1, 0.5, -0.2], v = [0.1, 0.2, 0.05]
        for (ys, vs) in [(y, [0.1, 0.2]), (y, v + [0.3]), ([], [0.1]), ([0.1, 0.2], [])] {
            #expect(thrownKind { try estimator.tauSquared(y: ys, v: vs) } == .invalidArgument, "\(estimator) \(ys.count) vs \(vs.count)")
        }
        for (ys, vs) in [([Double](), [Double]()), ([0.1], [0.1])] {
            #expect(thrownKind { try estimator.tauSquared(y: ys, v: vs) } == .insufficientData, "\(estimator) k = \(ys.count)")
        }
        for bad in [Double.nan, .infinity, -.infinity] {
            #expect(thrownKind { try estimator.tauSquared(y: [0.1, bad, 0.3], v: v) } == .invalidValue, "\(estimator) y \(bad)")
        }
        for bad in [Double.nan, .infinity, 0, -0.1, EffectSizes.smallestVariance / 2] {
            #expect(thrownKind { try estimator.tauSquared(y: y, v: [0.1, bad, 0.3]) } == .invalidValue, "\(estimator) v \(bad)")
        }
        #expect(try estimator.tauSquared(y: y, v: v) >= 0)
    }

    @Test("REML's iteration count and meta-regression's R² check their input the same way")
    func estimatorCallers() throws {
        #expect(thrownKind { try RestrictedMaximumLikelihood.tauSquaredCountingIterations(y: [0.1, 0.2], v: [0.1]) } == .invalidArgument)
        let y = [0.1, 0.3, 0.5, 0.2, 0.9], v = [0.1, 0.2, 0.1, 0.3, 0.2]
        let fit = try MetaRegression(y: y, v: v, design: [1, 1, 1, 2, 1, 3, 1, 4, 1, 6], predictors: ["intrcpt", "x"], method: .derSimonianLaird)
        #expect(thrownKind { try fit.rSquared(y: y, v: [0.1]) } == .invalidArgument)
        #expect(thrownKind { try fit.rSquared(y: [0.1], v: [0.1]) } == .insufficientData)
    }

    // MARK: Meta-regression

    @Test("permutation test and weighted least squares: mismatched or non-finite input is a typed error")
    func regressionInput() throws {
        let y = [0.1, 0.3, 0.5, 0.2, 0.9], v = [0.1, 0.2, 0.1, 0.3, 0.2]
        let design = [1, 1, 1, 2, 1, 3, 1, 4, 1, 6.0]
        let fit = try MetaRegression(y: y, v: v, design: design, predictors: ["intrcpt", "x"], method: .derSimonianLaird)
        #expect(thrownKind { try PermutationTest(model: fit, y: y, v: [0.1, 0.2], design: design, iterations: 10) } == .invalidArgument)
        #expect(thrownKind { try PermutationTest(model: fit, y: y, v: v, design: [1, 2], iterations: 10) } == .invalidArgument)
        #expect(thrownKind { try PermutationTest(model: fit, y: y, v: v, design: design, iterations: 0) } == .invalidArgument)
        #expect(thrownKind { try PermutationTest(model: fit, y: [0.1, .nan, 0.5, 0.2, 0.9], v: v, design: design, iterations: 10) } == .invalidValue)
        #expect(thrownKind { try PermutationTest(model: fit, y: y, v: [0.1, 0, 0.1, 0.3, 0.2], design: design, iterations: 10) } == .invalidValue)
        #expect(try PermutationTest(model: fit, y: y, v: v, design: design, iterations: Int.max).exact)

        #expect(thrownKind { try WeightedLeastSquares(design: design, columns: 2, response: [0.1, .nan, 0.5, 0.2, 0.9], weights: v) } == .invalidValue)
        #expect(thrownKind { try WeightedLeastSquares(design: [1, 1, 1, .infinity, 1, 3, 1, 4, 1, 6], columns: 2, response: y, weights: v) } == .invalidValue)
        for p in [Int.min, -1, 0, 3, 6, Int.max] {
            #expect(thrownKind { try WeightedLeastSquares(design: design, columns: p, response: y, weights: v) } == .invalidArgument, "p = \(p)")
        }
        #expect(try WeightedLeastSquares(design: design, columns: 2, response: y, weights: v).coefficients.count == 2)
    }

    // MARK: Plots

    @Test("forest plot and report of estimates near ±1e308: insufficient data, not Int(NaN)")
    func forestPlotAxisOverflow() throws {
        // A fixed-effect fit accepts these (variances near 1e308 keep Q finite); the axis does not fit a Double.
        for rows in [[["-1e308", "1.7e308"], ["1e308", "1.7e308"]], [["0", "1.7e308"], ["1.7e308", "1.7e308"]]] {
            let table = DataTable(source: "huge.csv", columns: ["yi", "vi"], rows: rows)
            _ = try MetaAnalysis(EffectSizes(table: table), method: .fixedEffect)
            do {
                _ = try ForestPlot(table: table, method: .fixedEffect)
                Issue.record("expected an error")
            } catch {
                #expect(error.kind == .insufficientData)
                #expect(error.location.file == "huge.csv")
            }
            #expect(thrownKind { try Report(table: table, title: "huge", method: .fixedEffect) } == .insufficientData)
        }
    }

    @Test("funnel plot: invalid filled studies or centre, and effects too extreme to place on an axis")
    func funnelPlotInput() throws {
        let fit = try MetaAnalysis(EffectSizes.generic(yi: [0.1, 0.4, 0.3], vi: [0.01, 0.02, 0.04]))
        for filled in [[(yi: Double.nan, vi: 0.1)], [(0.1, .nan)], [(0.1, 0)], [(0.1, -1)], [(Double.infinity, 0.1)], [(0.1, .infinity)]] {
            #expect(thrownKind { try FunnelPlot(fit, filled: filled) } == .invalidValue, "\(filled)")
        }
        for center in [Double.nan, .infinity, -.infinity] {
            #expect(thrownKind { try FunnelPlot(fit, center: center) } == .invalidArgument)
        }
        // These made the tick search loop forever: a width that overflows, and equal effects near
        // 1e300 whose ±1 padding is lost to rounding.
        #expect(thrownKind { try FunnelPlot(fit, filled: [(-1e308, 1), (1e308, 1)]) } == .insufficientData)
        let equalHuge = try MetaAnalysis(EffectSizes.generic(yi: [1e300, 1e300], vi: [1, 1]), method: .fixedEffect)
        #expect(thrownKind { try FunnelPlot(equalHuge) } == .insufficientData)
        // Valid input draws as before.
        let plot = try FunnelPlot(fit, filled: [(0.7, 0.03)], center: 0.3)
        #expect(plot.points.count == 4 && plot.effectLower < plot.effectUpper)
        #expect(plot.svg().contains("funnel-plot"))
    }

    @Test("JSONValue.serialized(indent:): negative is compact, at most 10 spaces per level")
    func serializedIndent() {
        let value = JSONValue.object([("a", .array([.integer(1), .null]))])
        let compact = #"{"a":[1,null]}"#
        #expect(value.serialized(indent: 0) == compact)
        for indent in [-1, Int.min] { #expect(value.serialized(indent: indent) == compact) }
        #expect(value.serialized(indent: 2) == "{\n  \"a\": [\n    1,\n    null\n  ]\n}")
        #expect(value.serialized(indent: Int.max) == value.serialized(indent: 10))
        #expect(value.serialized(indent: 10).contains("\n" + String(repeating: " ", count: 20) + "1,"))
    }

    @Test("a moderator design of a table without rows is insufficient data")
    func moderatorDesignWithoutRows() {
        let empty = DataTable(columns: ["yi", "vi", "dose", "arm"], rows: [])
        for moderators in [["dose"], ["arm"], []] {
            #expect(thrownKind { try ModeratorDesign(table: empty, moderators: moderators) } == .insufficientData)
        }
    }
}

// MARK: - Exit tests

/// Runs `body` and ignores the MetaPoolError it may throw; any other error ends the process
/// with a failure. A trap inside `body` kills the process, which the exit test reports.
private func survive(_ body: () throws -> Void) {
    do { try body() } catch is MetaPoolError {} catch { fatalError("not a MetaPoolError: \(error)") }
}

/// Values no caller should pass: NaN, infinities, negatives, zeros, the extremes of a Double.
private let badNumbers: [Double] = [.nan, .infinity, -.infinity, -1, 0, -0.0, .leastNonzeroMagnitude,
                                    .leastNormalMagnitude / 2, 1e-300, 0.5, 1, 1e15, 1e300, 1e308, -1e308, .greatestFiniteMagnitude]
/// Arrays of every awkward length and content.
private let badArrays: [[Double]] = [[], [1], [0.2, 0.5], [0.1, 0.3, 0.5], [.nan, 1, 2], [1e308, -1e308, 0],
                                     [-1, 5, 3], [0, 0, 0], [.infinity, 1, 1], [3, 1e20, 2]]
/// Indices, counts and sizes no caller should pass.
private let badInts: [Int] = [Int.min, -1, 0, 1, 2, 3, 7, 100, 101, 1_000_000, Int.max]
/// Confidence levels, most of them invalid.
private let badLevels: [Double] = [.nan, .infinity, -.infinity, -1, 0, 1, 95, .leastNonzeroMagnitude, 1 - 1e-17, 0.95]

@Suite("API traps: bad data through every public entry point exits normally (exit tests)")
struct APITrapTests {
    @Test("the mechanism: an exit test sees a trap as a failure")
    func mechanismDetectsTraps() async {
        await #expect(processExitsWith: .failure) {
            let empty: [Int] = []
            _ = empty[Int.random(in: 0...0)]
        }
        await #expect(processExitsWith: .failure) {
            _ = Int(Double.nan + Double(Int.random(in: 0...0)))
        }
    }

    @Test("effect sizes and 2×2 counts from arrays")
    func effectSizesFromArrays() async {
        await #expect(processExitsWith: .success) {
            for a in badArrays {
                for b in badArrays {
                    survive { _ = try EffectSizes.generic(yi: a, vi: b) }
                    survive { _ = try EffectSizes.generic(yi: a, standardErrors: b) }
                    survive { _ = try EffectSizes.generic(yi: a, vi: b, labels: ["one"]) }
                    survive { _ = try EffectSizes.logHazardRatios(a, standardErrors: b) }
                    survive { _ = try EffectSizes.hazardRatios(a, lower: b, upper: a) }
                    for m in EffectMeasure.allCases {
                        survive { _ = try EffectSizes.proportions(events: a, totals: b, measure: m) }
                        survive { _ = try EffectSizes.twoGroup(treatEvents: a, treatTotals: b, controlEvents: a, controlTotals: b, measure: m) }
                    }
                    survive { _ = try TwoGroupCounts(treatEvents: a, treatTotals: b, controlEvents: b, controlTotals: a, labels: []) }
                }
            }
            for x in badNumbers {
                survive { _ = try EffectSizes.generic(yi: [x, 1], vi: [1, x]) }
                survive { _ = try EffectSizes.generic(yi: [x, 1], standardErrors: [1, x]) }
                survive { _ = try EffectSizes.proportions(events: [x, 1], totals: [10, x]) }
                survive { _ = try EffectSizes.twoGroup(treatEvents: [x, 1], treatTotals: [10, x], controlEvents: [1, x], controlTotals: [x, 10]) }
                survive { _ = try EffectSizes.hazardRatios([x, 1], lower: [0.5, x], upper: [x, 2]) }
            }
            survive {
                let counts = try TwoGroupCounts(treatEvents: [1, 0], treatTotals: [10, 10], controlEvents: [2, 0], controlTotals: [10, 10])
                for i in badInts { survive { _ = try counts.isDoubleZero(i) } }
            }
        }
    }

    @Test("tables built in code: short rows, no rows, no columns, row indices outside the table")
    func tablesBuiltInCode() async {
        await #expect(processExitsWith: .success) {
            let tables = [
                DataTable(columns: ["study", "yi", "vi", "g"], rows: [["A", "0.1", "0.01", "a"], ["B"], [], ["C", "0.3", "0.02", "b"]]),
                DataTable(columns: ["study", "events", "total", "g"], rows: [["A", "1", "10", "a"], ["B", "2"]], lines: [1]),
                DataTable(columns: ["study", "treat_events", "treat_total", "control_events", "control_total", "g"],
                          rows: [["A", "1", "10", "2", "10", "a"], ["B"], ["C", "1", "10", "2", "10"]]),
                DataTable(columns: ["hr", "hr_lower", "hr_upper", "g"], rows: [["1", "0.5"], ["2", "1", "3", "a"]]),
                DataTable(columns: ["yi", "vi", "g"], rows: []),
                DataTable(columns: [], rows: [[], ["x"]]),
                DataTable(columns: ["yi", "se", "g", "study"], rows: [["0.1", "0.2", "a"], ["0.4", "0.1", "b", "S"]]),
            ]
            for t in tables {
                for i in badInts { _ = t.location(row: i, column: "g") }
                survive { _ = try EffectSizes(table: t) }
                for m in EffectMeasure.allCases { survive { _ = try EffectSizes(table: t, measure: m) } }
                survive { _ = try TwoGroupCounts(table: t) }
                survive { _ = try GeneralizedLinearMixedModel(table: t, quadraturePoints: 1) }
                survive { _ = try OddsRatioMixedModel(table: t, quadraturePoints: 1) }
                survive { _ = try ModeratorDesign(table: t, moderators: ["g", "yi", "study"]) }
                survive { _ = try ModeratorDesign(table: t, moderators: []) }
                survive { _ = try t.totalSampleSizes() }
                survive { _ = try t.selecting([RowCondition(column: "g", value: "a"), RowCondition(column: "nope", value: "")]) }
                survive { _ = try t.selecting([RowCondition(column: "g", value: "a")]) }
                survive { _ = try BatchAnalysis.analyses(from: t, column: "g") }
                survive { _ = try SubgroupAnalysis(table: t, by: "g") }
                survive { _ = try SubgroupAnalysis(table: t, by: "g", commonTauSquared: true) }
                survive { _ = try ForestPlot(table: t, by: "g").svg() }
                survive { _ = try Report(table: t, title: "t", by: "g").html() }
            }
        }
    }

    @Test("τ² estimators' static API and R²: mismatched, short and non-finite arrays")
    func estimators() async {
        await #expect(processExitsWith: .success) {
            for method in TauSquaredMethod.allCases {
                guard let estimator = method.estimator else { continue }
                for y in badArrays { for v in badArrays { survive { _ = try estimator.tauSquared(y: y, v: v) } } }
            }
            for y in badArrays { for v in badArrays { survive { _ = try RestrictedMaximumLikelihood.tauSquaredCountingIterations(y: y, v: v) } } }
            survive {
                let fit = try MetaRegression(y: [0.1, 0.3, 0.5, 0.2, 0.9], v: [0.1, 0.2, 0.1, 0.3, 0.2], design: [1, 1, 1, 2, 1, 3, 1, 4, 1, 6],
                                             predictors: ["intrcpt", "x"])
                for y in badArrays { for v in badArrays { survive { _ = try fit.rSquared(y: y, v: v) } } }
            }
        }
    }

    @Test("MetaAnalysis: every method and interval at invalid levels and extreme but valid effects")
    func metaAnalysis() async {
        await #expect(processExitsWith: .success) {
            let sets: [([Double], [Double])] = [
                ([0.1, 0.5, 0.3, -0.2], [0.1, 0.2, 0.05, 0.3]), ([0.3], [0.1]), ([0.3, 0.3, 0.3], [0.1, 0.2, 0.3]),
                ([-1e308, 1e308], [1.7e308, 1.7e308]), ([1e300, 1e300], [1, 1]), ([0.1, 1e308], [2.3e-308, 1e308]),
                ([1e-300, 1, 1e300, -1e300], [1e-300, 1e300, 1e-10, 1e10]),
            ]
            for (y, v) in sets {
                survive {
                    let effects = try EffectSizes.generic(yi: y, vi: v)
                    for method in TauSquaredMethod.allCases {
                        for ci in ConfidenceIntervalMethod.allCases {
                            for level in badLevels {
                                survive {
                                    let fit = try MetaAnalysis(effects, method: method, ciMethod: ci, level: level)
                                    _ = fit.predictionInterval; _ = fit.studyConfidenceIntervals; _ = fit.backTransform(fit.estimate)
                                    survive { _ = try fit.heterogeneityIntervals() }
                                    survive { _ = try fit.summary() }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("leave-one-out, cumulative and influence: bad orders and keys, extreme effects")
    func sensitivity() async {
        await #expect(processExitsWith: .success) {
            let orders: [[Int]] = [[], [0], [0, 1, 2, 3], [3, 2, 1, 0], [0, 0, 1, 2], [-1, 0, 1, 2], [Int.min, Int.max, 0, 1], [0, 1, 2, 4], [0, 1, 2, 3, 4]]
            let keys: [[Double]] = [[], [.nan, 1, 2, 3], [.infinity, -.infinity, 0, 0], [1, 2], [1e308, -1e308, .leastNonzeroMagnitude, 0]]
            for (y, v) in [([0.1, 0.5, 0.3, -0.2], [0.1, 0.2, 0.05, 0.3]), ([-1e308, 1e308, 0, 1], [1.7e308, 1.7e308, 1, 1]),
                           ([1e300, 1e300, 1e300, 1e300], [1, 1, 1, 2.0]), ([0.3], [0.1]), ([1e-300, 1, 1e300, -1e300], [1e-300, 1e300, 1e-10, 1e10])] {
                survive {
                    let effects = try EffectSizes.generic(yi: y, vi: v)
                    for method in TauSquaredMethod.allCases {
                        for ci in ConfidenceIntervalMethod.allCases {
                            survive {
                                let fit = try MetaAnalysis(effects, method: method, ciMethod: ci)
                                survive { _ = try LeaveOneOut(fit).summary() }
                                survive { _ = try InfluenceDiagnostics(fit).summary() }
                                for order in orders { survive { _ = try CumulativeAnalysis(fit, order: order).summary() } }
                                for k in keys { survive { _ = try CumulativeAnalysis(fit, sortedBy: k) } }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("publication bias: rank correlation, Egger, Peters, trim and fill, Kendall's tau")
    func publicationBias() async {
        await #expect(processExitsWith: .success) {
            for (y, v) in [([0.1, 0.5, 0.3, -0.2, 0.8], [0.1, 0.2, 0.05, 0.3, 0.4]), ([0.1, 0.2], [0.1, 0.2]), ([0.1, 0.2, 0.3], [0.1, 0.1, 0.1]),
                           ([-1e308, 1e308, 0, 1], [1.7e308, 1.7e308, 1, 1]), ([1e300, 1e300, 1e300, 1e300], [1, 1, 1, 2.0]),
                           ([1e-300, 1, 1e300, -1e300], [1e-300, 1e300, 1e-10, 1e10])] {
                survive {
                    let effects = try EffectSizes.generic(yi: y, vi: v)
                    for exact in [true, false] { survive { _ = try RankCorrelationTest(effects, exact: exact).summary() } }
                    for predictor in EggerTest.Predictor.allCases {
                        for sizes in [nil, [], [1.0, 2], [Double.nan, 1, 2, 3, 4], [-1, 1, 2, 3, 4], [0, 0, 0, 0, 0], [1e308, 1, 2, 3, 4]] {
                            for level in [Double.nan, 0, 0.95] {
                                survive { _ = try EggerTest(effects, model: .weightedRegression, predictor: predictor, sampleSizes: sizes, level: level).summary() }
                                survive { _ = try EggerTest(effects, predictor: predictor, sampleSizes: sizes, method: .pauleMandel, ciMethod: .hartungKnapp, level: level) }
                            }
                        }
                    }
                    survive { _ = try EggerTest.peters(effects, sampleSizes: [1, 2, 3, 4, 5]) }
                    for method in TauSquaredMethod.allCases {
                        for estimator in TrimAndFill.Estimator.allCases {
                            for side in [nil, TrimAndFill.Side.left, .right] {
                                for iterations in [Int.min, -1, 0, 1, 100] {
                                    survive { _ = try TrimAndFill(effects, estimator: estimator, side: side, method: method, maxIterations: iterations).summary() }
                                }
                            }
                        }
                    }
                    survive { _ = try TrimAndFill(effects, level: .nan) }
                }
            }
            for x in badArrays { for y in badArrays { for exact in [nil, true, false] { survive { _ = try KendallCorrelation(x, y, exact: exact) } } } }
            let n = KendallCorrelation.exactLimit + 1
            let ranks = (0..<n).map(Double.init)
            survive { _ = try KendallCorrelation(ranks, Array(ranks.reversed()), exact: true) }
        }
    }

    @Test("meta-regression: shapes, tested coefficients, fixed τ², prediction-interval indices, permutations, WLS, moderators")
    func metaRegression() async {
        await #expect(processExitsWith: .success) {
            let y = [0.1, 0.3, 0.5, 0.2, 0.9], v = [0.1, 0.2, 0.1, 0.3, 0.2]
            let design = [1, 1, 1, 2, 1, 3, 1, 4, 1, 6.0]
            let predictors = ["intrcpt", "x"]
            for ys in badArrays + [y] {
                for vs in badArrays + [v] {
                    for d in [design, [], [1, 2], [1, .nan, 1, 2, 1, 3, 1, 4, 1, 6]] {
                        survive { _ = try MetaRegression(y: ys, v: vs, design: d, predictors: predictors) }
                    }
                }
            }
            survive { _ = try MetaRegression(y: y, v: v, design: design, predictors: []) }
            survive { _ = try MetaRegression(y: y, v: v, design: design, predictors: ["intrcpt", "intrcpt"]) }
            survive { _ = try MetaRegression(y: y, v: v, design: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], predictors: predictors) }
            for testing in [[Int.min], [Int.max], [-1], [2], [0, 0], [], [0, 1]] {
                survive { _ = try MetaRegression(y: y, v: v, design: design, predictors: predictors, testing: testing) }
            }
            for tau2 in badNumbers { survive { _ = try MetaRegression(y: y, v: v, design: design, predictors: predictors, tauSquared: tau2) } }
            for level in badLevels {
                for method in TauSquaredMethod.allCases {
                    for ci in ConfidenceIntervalMethod.allCases {
                        survive {
                            let fit = try MetaRegression(y: y, v: v, design: design, predictors: predictors, method: method, ciMethod: ci, level: level)
                            for i in badInts { _ = fit.predictionInterval(coefficient: i) }
                            _ = fit.iSquared; _ = fit.hSquared
                        }
                    }
                }
            }
            survive {
                let fit = try MetaRegression(y: y, v: v, design: design, predictors: predictors)
                for iterations in [Int.min, -1, 0, 1, 2, Int.max] {
                    survive { _ = try PermutationTest(model: fit, y: y, v: v, design: design, iterations: iterations, seed: 0) }
                }
                for (ys, vs, d) in [(y, [0.1], design), ([], [], []), (y, v, [1.0]), ([0.1, .nan, 0.5, 0.2, 0.9], v, design), (y, [0, 1, 1, 1, 1], design)] {
                    survive { _ = try PermutationTest(model: fit, y: ys, v: vs, design: d, iterations: 5) }
                }
            }
            for p in badInts {
                survive { _ = try WeightedLeastSquares(design: design, columns: p, response: y, weights: v) }
                survive { _ = try WeightedLeastSquares(design: [], columns: p, response: [], weights: []) }
            }
            for w in badArrays { survive { _ = try WeightedLeastSquares(design: design, columns: 2, response: y, weights: w) } }
            survive { _ = try WeightedLeastSquares(design: design, columns: 2, response: [.nan, 1, 2, 3, 4], weights: v) }
        }
    }

    @Test("GLMMs: quadrature points, levels and counts")
    func generalizedLinearMixedModels() async {
        await #expect(processExitsWith: .success) {
            for q in badInts {
                survive { _ = try GeneralizedLinearMixedModel(events: [1, 2, 3], totals: [10, 10, 10], quadraturePoints: q).summary() }
                survive {
                    _ = try OddsRatioMixedModel(treatEvents: [1, 2, 3], treatTotals: [10, 10, 10], controlEvents: [2, 3, 4],
                                                controlTotals: [10, 10, 10], quadraturePoints: q).summary()
                }
            }
            for level in badLevels {
                survive { _ = try GeneralizedLinearMixedModel(events: [1, 2, 3], totals: [10, 10, 10], quadraturePoints: 1, level: level) }
                survive {
                    _ = try OddsRatioMixedModel(treatEvents: [1, 2, 3], treatTotals: [10, 10, 10], controlEvents: [2, 3, 4],
                                                controlTotals: [10, 10, 10], quadraturePoints: 1, level: level)
                }
            }
            let counts: [[Double]] = [[], [1], [1, 2], [.nan, 1], [1e14, 1e14], [0, 0], [5, 5], [-1, 2], [0.5, 1], [1e16, 1]]
            for a in counts {
                for n in counts {
                    survive { _ = try GeneralizedLinearMixedModel(events: a, totals: n, labels: ["a", "b"], quadraturePoints: 2) }
                    survive { _ = try OddsRatioMixedModel(treatEvents: a, treatTotals: n, controlEvents: a, controlTotals: n, quadraturePoints: 2) }
                }
            }
            survive { _ = try GeneralizedLinearMixedModel(events: [0, 99_999_999_999_999], totals: [1e14, 1e14], quadraturePoints: 3) }
            survive { _ = try GeneralizedLinearMixedModel(events: [1, 1e14 - 1, 5], totals: [1e14, 1e14, 10], quadraturePoints: 100) }
        }
    }

    @Test("Mantel–Haenszel and Peto: every measure, invalid levels, extreme counts")
    func mantelHaenszelAndPeto() async {
        await #expect(processExitsWith: .success) {
            let tables: [([Double], [Double], [Double], [Double])] = [
                ([1, 2, 3], [10, 10, 10], [2, 3, 4], [10, 10, 10]), ([0, 0], [10, 10], [0, 0], [10, 10]), ([10, 10], [10, 10], [10, 10], [10, 10]),
                ([1e14, 0, 99_999_999_999_999], [1e14, 1e14, 1e14], [0, 1e14, 1], [1e14, 1e14, 1e14]), ([0, 5], [5, 5], [5, 0], [5, 5]), ([1], [1], [0], [1]),
            ]
            for (a, n1, c, n2) in tables {
                survive {
                    let counts = try TwoGroupCounts(treatEvents: a, treatTotals: n1, controlEvents: c, controlTotals: n2)
                    for level in badLevels {
                        for measure in EffectMeasure.allCases { survive { _ = try MantelHaenszel(counts, measure: measure, level: level).summary() } }
                        survive { _ = try Peto(counts, level: level).summary() }
                    }
                }
            }
        }
    }

    @Test("batch analysis: invalid analyses, levels, task counts and JSON Lines")
    func batch() async {
        await #expect(processExitsWith: .success) {
            var analyses: [BatchAnalysis.Analysis] = []
            for y in badArrays { for v in badArrays { survive { analyses.append(try BatchAnalysis.Analysis(id: "x", yi: y, vi: v)) } } }
            survive { analyses.append(try BatchAnalysis.Analysis(id: "huge", yi: [1e308, -1e308], vi: [1.7e308, 1.7e308])) }
            survive { analyses.append(BatchAnalysis.Analysis(id: "e", effects: try EffectSizes.generic(yi: [0.3], vi: [0.1]))) }
            for level in badLevels {
                for method in [TauSquaredMethod.fixedEffect, .pauleMandel] {
                    for tasks in [Int.min, -1, 0, 1, 2, 3, Int.max] {
                        _ = await BatchAnalysis(method: method, ciMethod: .hartungKnapp, level: level).run(analyses, tasks: tasks).enumerated().map { BatchAnalysis.summary(of: $1, for: analyses[$0]) }
                    }
                }
            }
            _ = await BatchAnalysis().run([], tasks: Int.min)
            let lines = ["", "\n\n", "{}", "[]", "1", #"{"analysis": 1, "yi": [], "vi": []}"#, #"{"analysis": 1, "yi": [1], "vi": [1, 2]}"#,
                         #"{"analysis": null, "yi": [1], "vi": [1]}"#, #"{"analysis": "a", "yi": [[1]], "vi": [1]}"#,
                         #"{"analysis": 1e999, "yi": [1e999], "vi": [1]}"#, #"{"analysis": "a", "events": [3, 4], "total": [2, 10]}"#,
                         String(repeating: "[", count: 10_000)]
            for text in lines {
                for measure in [nil] + EffectMeasure.allCases { survive { _ = try BatchAnalysis.analyses(jsonLines: text, source: nil, measure: measure) } }
            }
        }
    }

    @Test("forest plot, funnel plot, report and JSON output on extreme effects")
    func plotsAndOutput() async {
        await #expect(processExitsWith: .success) {
            let tables = [
                DataTable(columns: ["yi", "vi", "g"], rows: [["-1e308", "1.7e308", "a"], ["1e308", "1.7e308", "b"], ["0", "1", "a"]]),
                DataTable(columns: ["yi", "vi", "g"], rows: [["0", "1.7e308", "a"], ["1.7e308", "1.7e308", "a"], ["1", "1", "b"]]),
                DataTable(columns: ["yi", "vi", "g"], rows: [["1e300", "1", "a"], ["1e300", "1", "b"], ["1e300", "2", "b"]]),
                DataTable(columns: ["hr", "hr_lower", "hr_upper", "g"], rows: [["1e300", "1e-300", "1.7e308", "a"], ["1e-300", "5e-324", "1", "b"], ["2", "1", "3", "b"]]),
                DataTable(columns: ["events", "total", "g"], rows: [["0", "1e14", "a"], ["99999999999999", "1e14", "b"], ["1", "2", "a"]]),
            ]
            for t in tables {
                for method in [TauSquaredMethod.fixedEffect, .restrictedMaximumLikelihood] {
                    for by in [nil, "g"] {
                        for level in [0.95, 1e-9, 1 - 1e-9] {
                            survive { let f = try ForestPlot(table: t, method: method, level: level, by: by); _ = f.svg(); _ = f.summary() }
                            survive { _ = try Report(table: t, title: "<&>", method: method, level: level, by: by).html() }
                        }
                    }
                    survive {
                        let fit = try MetaAnalysis(EffectSizes(table: t), method: method)
                        for filled in [[], [(yi: Double.nan, vi: 1.0)], [(1e308, 1), (-1e308, 1)], [(1, .infinity)], [(1, 0)], [(1, 1e300)]] {
                            for center in [nil, Double.nan, 1e308, 0] {
                                survive { _ = try FunnelPlot(fit, filled: filled, center: center).svg() }
                            }
                        }
                    }
                }
            }
            let value = JSONValue.array([.object([("a", .array([.null, .number(.nan), .integer(.min), .string("\u{0}\"")]))])])
            for indent in badInts { _ = value.serialized(indent: indent) }
        }
    }

    @Test("reading: bytes, CSV, JSON, JSON values and paths that are not valid input")
    func reading() async {
        await #expect(processExitsWith: .success) {
            let texts = ["", "\u{FEFF}", "a\n", "a,b\n1", "[", #"[{"a":"#, #"[{"a": [[[[]]]]}]"#, String(repeating: "[", count: 100_000),
                         String(repeating: "{\"a\":", count: 10_000), #""\ud800""#, #"[{"s": "\udbff\udfff"}]"#, #"[{"s": "\u00zz"}]"#,
                         "yi,vi\n\"1,2", "\u{0}", "1e999", "-", #"{"a":1,"a":2}"#, "a,a\n1,2", ",\n1", "yi,vi\n1,2,3", "yi,vi\r\n1\r\n"]
            for t in texts {
                survive { _ = try DataTable.read(bytes: Array(t.utf8), source: nil) }
                survive { _ = try DataTable.readCSV(t, source: nil) }
                survive { _ = try DataTable.readJSON(t, source: nil) }
                survive { _ = try JSONValue.parse(t, source: nil) }
                _ = RowCondition(parsing: t); _ = TauSquaredMethod(code: t); _ = EffectMeasure(code: t)
            }
            for bytes: [UInt8] in [[0xFF, 0xFE], [0xFE, 0xFF, 0, 0x41], [0xC0], [0xEF, 0xBB, 0xBF], [0x80, 0x0A, 0xFF], [0, 0, 0, 0x41], [0xF4, 0x90, 0x80, 0x80]] {
                survive { _ = try DataTable.read(bytes: bytes, source: "x") }
                survive { _ = try DataTable.decodeText(bytes, source: "x") }
            }
            for path in ["/nonexistent/file.csv", "/", "", "/nonexistent/\u{0}x"] { survive { _ = try DataTable.read(path: path) } }
        }
    }

    @Test("distributions and special functions return NaN for invalid parameters")
    func distributions() async {
        await #expect(processExitsWith: .success) {
            let values: [Double] = [.nan, .infinity, -.infinity, -1, 0, .leastNonzeroMagnitude, 1e-300, 0.025, 0.5, 1, 2.5, 1e6, 1e300]
            for a in values {
                for x in values {
                    let distributions: [any ContinuousDistribution] = [
                        ChiSquared(degreesOfFreedom: a), StudentT(degreesOfFreedom: a),
                        FisherF(numeratorDegreesOfFreedom: a, denominatorDegreesOfFreedom: x), Normal(mean: a, standardDeviation: x),
                    ]
                    for d in distributions {
                        for p in [x, 0.975] { _ = d.cdf(p); _ = d.survival(p); _ = d.quantile(p); _ = d.survivalQuantile(p) }
                    }
                    _ = Normal(mean: a, standardDeviation: x).density(a)
                    _ = SpecialFunctions.regularizedGammaP(a, x); _ = SpecialFunctions.regularizedGammaQ(a, x)
                    _ = SpecialFunctions.regularizedBeta(x, a, 0.5); _ = SpecialFunctions.regularizedBetaComplement(x, 0.5, a)
                    for t in [BackTransform.identity, .exponential, .inverseLogit, .inverseArcsine, .inverseFreemanTukey] { _ = t.apply(a, harmonicMeanTotal: x) }
                }
            }
        }
    }
}

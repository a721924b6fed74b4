// Bad data through the public API: every call throws a typed MetaPoolError (or, for the pure
// math functions, returns NaN); nothing traps. `APITrapErrorTests` checks the kind of error for
// the inputs that used to trap; `APITrapTests` runs the bad inputs of every entry point in exit
// tests, child processes that must exit normally, so that a trap anywhere fails the test.

import Testing
import MetaPool

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

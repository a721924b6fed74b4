// The batch engine: many independent meta-analyses (simulation studies, living reviews) fitted
// across all cores with structured concurrency, one result per analysis, in input order.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fits many meta-analyses with the same model, in parallel.
///
/// ```swift
/// let batch = BatchAnalysis(method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
/// let results = await batch.run(analyses)   // one Result per analysis, input order
/// ```
/// Each fit is the same computation as ``MetaAnalysis`` (τ² estimate, interval, Q, I², prediction
/// interval) without the per-study outputs (weights, labels, Q-profile intervals), so that a
/// fit of k studies costs O(k) and two small allocations. A failing analysis (too few studies,
/// an estimator that does not converge) gives a result carrying its error; the others go on.
public struct BatchAnalysis: Sendable {
    /// One analysis: its identifier and effect sizes.
    public struct Analysis: Sendable {
        /// The analysis's identifier (its `analysis` cell or JSON Lines key).
        public let id: String
        /// The effect sizes yᵢ on the analysis scale.
        public let yi: [Double]
        /// The sampling variances vᵢ.
        public let vi: [Double]
        /// The effect measure of `yi`.
        public let measure: EffectMeasure
        /// For the Freeman–Tukey back-transform (NaN when not proportions).
        public let harmonicMeanTotal: Double

        /// An analysis of effect sizes already computed (any measure).
        public init(id: String, effects: EffectSizes) {
            self.id = id
            yi = effects.yi
            vi = effects.vi
            measure = effects.measure
            harmonicMeanTotal = effects.harmonicMeanTotal
        }

        /// Generic effects (`GEN`); validated as ``EffectSizes/generic(yi:vi:labels:)`` validates them.
        public init(id: String, yi: [Double], vi: [Double]) throws(MetaPoolError) {
            guard yi.count == vi.count, !yi.isEmpty else {
                throw MetaPoolError(.invalidArgument, "analysis \(id): yi has \(yi.count) values and vi \(vi.count); they must match and not be empty")
            }
            for i in yi.indices where !(yi[i].isFinite && vi[i].isFinite && vi[i] >= EffectSizes.smallestVariance) {
                throw MetaPoolError(.invalidValue, "analysis \(id), study \(i + 1): yi = \(yi[i]), vi = \(vi[i]); yi must be finite and vi finite and greater than 0")
            }
            self.id = id
            self.yi = yi
            self.vi = vi
            measure = .generic
            harmonicMeanTotal = .nan
        }
    }

    /// The fit of one analysis. A batch returns one `Swift.Result<Fit, MetaPoolError>` per
    /// analysis: a fit, or the error that stopped it (never NaN-filled numbers).
    public struct Fit: PooledResult, Sendable {
        /// The analysis's identifier.
        public let id: String
        /// The number of studies k.
        public let k: Int
        /// The effect measure.
        public let measure: EffectMeasure
        /// The pooled estimate with its standard error, interval and test (estimate, SE,
        /// interval, statistic, p-value and df are read from it through ``PooledResult``).
        public let pooled: EstimateInference
        /// τ̂², or `nil` for the fixed-effect model.
        public let tauSquared: Double?
        /// I² in percent (Q-based for the fixed-effect model, as metafor reports it).
        public let iSquared: Double?
        /// Cochran's Q on k − 1 df (metafor's QE).
        public let q: Double
        /// The p-value of Q (metafor's QEp).
        public let qPValue: Double
        /// The prediction interval on the analysis scale, or `nil` for the fixed-effect model.
        public let predictionInterval: Interval?
        /// The harmonic mean of the totals, for the Freeman–Tukey back-transform (NaN when not proportions).
        public let harmonicMeanTotal: Double
        /// The prediction behind `predictionInterval` (its method and df), `nil` for the fixed-effect model.
        public var prediction: Prediction? = nil

        /// Maps a value to the natural scale of the measure.
        public func backTransform(_ x: Double) -> Double {
            measure.backTransform.apply(x, harmonicMeanTotal: harmonicMeanTotal)
        }
    }

    /// A fit or the error that stopped it.
    public typealias Outcome = Swift.Result<Fit, MetaPoolError>

    /// The τ² estimator (or `FE`) every analysis is fitted with (metafor's `method`).
    public let method: TauSquaredMethod
    /// The confidence-interval and test method of every fit (metafor's `test`).
    public let ciMethod: ConfidenceIntervalMethod
    /// The confidence level in (0, 1), e.g. 0.95.
    public let level: Double
    /// The prediction interval of every fit, or `nil` for each analysis's measure default
    /// (``PredictionIntervalSetting/default(for:)``); metafor's unless set.
    public var predictionInterval: PredictionIntervalSetting? = .metafor

    /// A batch engine; by default REML with Wald (z) intervals at the 95% level, as ``MetaAnalysis``.
    public init(method: TauSquaredMethod = .restrictedMaximumLikelihood, ciMethod: ConfidenceIntervalMethod = .wald,
                level: Double = 0.95) {
        self.method = method
        self.ciMethod = ciMethod
        self.level = level
    }

    /// The number of processors online, the default number of parallel tasks.
    public static var processorCount: Int {
        #if canImport(Glibc) || canImport(Darwin)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }

    /// Fits one analysis (never throws: a failure is returned as `.failure`).
    public func fit(_ a: Analysis) -> Outcome {
        let k = a.yi.count
        do {
            try EstimateInference.checkLevel(level)
        } catch {
            return .failure(error)
        }
        if k == 0 || (k < 2 && (method != .fixedEffect || ciMethod.usesT)) {
            return .failure(MetaPoolError(.insufficientData, "analysis \(a.id) has \(k) stud\(k == 1 ? "y" : "ies"); the \(method.rawValue) model with the \(ciMethod.rawValue) interval needs at least 2"))
        }
        if var error = MetaAnalysis.hartungKnappUndefined(a.yi, ciMethod: ciMethod) {
            error.reason = "analysis \(a.id): \(error.reason)"
            return .failure(error)
        }
        let tau2: Double
        do {
            tau2 = try method.estimator?.tauSquared(y: a.yi, v: a.vi) ?? 0
        } catch {
            var located = error
            located.reason = "analysis \(a.id): \(error.reason)"
            return .failure(located)
        }
        let core = PooledEstimate(y: a.yi, v: a.vi, tau2: tau2, ciMethod: ciMethod, level: level)
        let random = method != .fixedEffect
        let setting = predictionInterval ?? .default(for: a.measure)
        let prediction = random
            ? core.inference.prediction(tauSquared: tau2, studies: k,
                                        method: setting.method(modelDegreesOfFreedom: core.inference.degreesOfFreedom))
            : nil
        let pi = prediction?.interval
        let heterogeneity = random
            ? Heterogeneity(tauSquared: tau2, typicalVariance: core.typicalVariance, q: core.q, count: k)
            : Heterogeneity(q: core.q, count: k)
        let i2 = heterogeneity.iSquared
        let e = core.inference
        // Every number finite (a sum, not an array: no allocation per fit; any NaN or ±∞ makes it non-finite).
        var checked = e.estimate + e.standardError + tau2 + core.q + e.statistic + e.pValue + e.confidenceInterval.lower
        checked += e.confidenceInterval.upper + (pi?.lower ?? 0) + (pi?.upper ?? 0)
        checked += random ? core.typicalVariance + i2 + (core.typicalVariance > 0 ? 0 : .nan) : i2 + heterogeneity.hSquared
        guard checked.isFinite || Self.allFinite(e, tau2: tau2, core: core, pi: pi, random: random, i2: i2, heterogeneity: heterogeneity) else {
            return .failure(MetaPoolError(.insufficientData, "analysis \(a.id): the effects or variances are too extreme to pool in double precision"))
        }
        return .success(Fit(id: a.id, k: k, measure: a.measure, pooled: e, tauSquared: random ? tau2 : nil,
                      iSquared: i2,
                      q: core.q, qPValue: core.qPValue, predictionInterval: pi, harmonicMeanTotal: a.harmonicMeanTotal,
                      prediction: prediction))
    }

    /// Whether every number of a fit is finite, one by one (a sum of finite numbers can overflow to
    /// ±∞, so a non-finite sum is checked again this way).
    private static func allFinite(_ e: EstimateInference, tau2: Double, core: PooledEstimate, pi: Interval?, random: Bool, i2: Double,
                                  heterogeneity: Heterogeneity) -> Bool {
        let checked = [e.estimate, e.standardError, tau2, core.q, e.statistic, e.pValue, e.confidenceInterval.lower,
                       e.confidenceInterval.upper, pi?.lower ?? 0, pi?.upper ?? 0]
            + (random ? [core.typicalVariance, i2, core.typicalVariance > 0 ? 0 : .nan] : [i2, heterogeneity.hSquared])
        return checked.allSatisfy(\.isFinite)
    }

    /// Fits every analysis on `tasks` parallel child tasks (a task group over contiguous chunks,
    /// several per task so that uneven costs even out) and returns the results in input order.
    public func run(_ analyses: [Analysis], tasks: Int = BatchAnalysis.processorCount) async -> [Outcome] {
        let n = analyses.count
        guard n > 0 else { return [] }
        let workers = max(1, min(tasks, n))
        if workers == 1 { return analyses.map(fit) }
        // The outcomes written in place, each task its own stretch of one buffer: no array per
        // chunk and no copy into the result (those made the second thread's malloc arena give its
        // memory back and fault it in again on every run: 169,000 page faults for 20 runs of
        // 10⁵ analyses on 2 tasks, against 32,500 on 1).
        let chunks = min(n, workers * 8)
        let size = (n + chunks - 1) / chunks
        let buffer = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: n)
        let shared = DisjointWrites(buffer: buffer)
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<chunks {
                let lower = c * size
                if lower >= n { break }
                let range = lower..<min(n, lower + size)
                group.addTask {
                    for i in range { (shared.buffer.baseAddress! + i).initialize(to: self.fit(analyses[i])) }
                }
            }
        }
        // Moved (not copied) into the array: no retain and release per outcome.
        let outcomes = [Outcome](unsafeUninitializedCapacity: n) { target, count in
            target.baseAddress!.moveInitialize(from: buffer.baseAddress!, count: n)
            count = n
        }
        buffer.deallocate()
        return outcomes
    }

    /// A buffer that child tasks write at disjoint indices (each task its own range), read only
    /// after every task has finished.
    private struct DisjointWrites: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<Outcome>
    }

    /// Splits a table into analyses by the value of `column` (order of first appearance; cells
    /// compared after trimming spaces). Effect sizes are computed for all rows at once, so a bad
    /// row is reported with its row and column whatever its analysis.
    public static func analyses(from table: DataTable, column: String = "analysis",
                                measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions()) throws(MetaPoolError) -> [Analysis] {
        _ = try table.batchIdentifierIndex(column)  // checked before any row is dropped
        let table = try table.excludingStudies(measure: measure, options: options).table
        let effects = try EffectSizes(table: table, measure: measure, options: options)
        return try table.batchGroups(column: column).map { id, rows in
            let totals = effects.totals.map { t in rows.map { t[$0] } }
            var harmonic = Double.nan
            if let totals, !totals.isEmpty { harmonic = Double(totals.count) / totals.reduce(0) { $0 + 1 / $1 } }
            return Analysis(id: id, yi: rows.map { effects.yi[$0] }, vi: rows.map { effects.vi[$0] },
                            measure: effects.measure, harmonicMeanTotal: harmonic)
        }
    }
}

extension BatchAnalysis {
    /// Reads JSON Lines: one analysis per line, an object with `analysis` (its identifier) and
    /// one array per input column, e.g. `{"analysis": "sim1", "yi": [0.1, 0.3], "vi": [0.02, 0.05]}`
    /// or `{"analysis": "A", "events": [4, 11], "total": [15, 15]}`. Blank lines are skipped.
    /// Errors name the line and, for a bad value, the study (row) and column; two lines with one
    /// identifier are refused (see ``DataTable/readJSONLines(_:source:idColumn:)``).
    public static func analyses(jsonLines text: String, source: String?, measure: EffectMeasure? = nil,
                                options: EffectSizeOptions = EffectSizeOptions()) throws(MetaPoolError) -> [Analysis] {
        let input = try DataTable.readJSONLines(text, source: source)
        return try analyses(jsonLines: input.table, keys: input.keys, column: input.idColumn, measure: measure, options: options).analyses
    }

    /// The analyses of JSON Lines read with ``DataTable/readJSONLines(_:source:idColumn:)``, after
    /// any selection of its rows (`table` is ``JSONLinesTable/table`` or rows of it: `--where`,
    /// `--label`). Each line's effect sizes come from the columns that line has (`keys`), so lines
    /// may hold different measures; rows left out by `options` (drop-missing, drop00) are returned
    /// with their analysis (their row is the study's number within its line) for the caller to
    /// list, and a line with no row left gives no analysis, as in a CSV batch.
    ///
    /// - Throws: ``MetaPoolError`` from the effect sizes, its reason starting `analysis ID:`, and
    ///   `.insufficientData` when every row was left out.
    public static func analyses(jsonLines table: DataTable, keys: [Int: [String]], column: String = "analysis",
                                measure: EffectMeasure? = nil, options: EffectSizeOptions = EffectSizeOptions())
        throws(MetaPoolError) -> (analyses: [Analysis], excluded: [(analysis: String, row: ExcludedRow)]) {
        let lines = try table.jsonLinesGroups(keys: keys, column: column)
        var result: [Analysis] = []
        var excluded: [(analysis: String, row: ExcludedRow)] = []
        result.reserveCapacity(lines.count)
        for (id, line, sub) in lines {
            do {
                let (kept, left) = try sub.partitioningStudies(measure: measure, options: options)
                excluded += left.map { (id, $0) }
                if kept.rowCount == 0 { continue }
                result.append(Analysis(id: id, effects: try EffectSizes(table: kept, measure: measure, options: options)))
            } catch {
                var e = error
                if e.location.line == nil { e.location.line = line }
                e.reason = "analysis \(id): " + e.reason
                throw e
            }
        }
        if result.isEmpty {
            throw DataTable.noRowLeft(excluded.map(\.row), of: table.rows.count, source: table.source)
        }
        return (result, excluded)
    }
}

extension DataTable {
    /// The rows of a batch table grouped by the identifier `column`, in order of first appearance:
    /// cells trimmed and compared case-insensitively (as `--by` and `--where` compare them), so "A"
    /// and "a" are one analysis, named as first written. An empty identifier is an error.
    func batchGroups(column: String) throws(MetaPoolError) -> [(id: String, rows: [Int])] {
        let index = try batchIdentifierIndex(column)
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for row in 0..<rowCount {
            let id = cell(row: row, column: index)?.trimmingSpaces() ?? ""
            guard !id.isEmpty else {
                throw MetaPoolError(.invalidValue, "the analysis cell is empty; every row needs one", at: location(row: row, column: columns[index]))
            }
            let key = id.lowercased()
            if members[key] == nil { order.append(id) }
            members[key, default: []].append(row)
        }
        return order.map { ($0, members[$0.lowercased()] ?? []) }
    }

    /// The index of a batch's identifier column; a missing column is an error listing the columns.
    func batchIdentifierIndex(_ column: String) throws(MetaPoolError) -> Int {
        guard let index = columnIndex(column) else {
            throw MetaPoolError(.missingColumn,
                                "a batch needs a column \"\(column)\" naming each row's analysis (columns: \(columns.joined(separator: ", ")))",
                                at: InputLocation(file: source, column: column))
        }
        return index
    }

    /// One table per line of JSON Lines input read by ``readJSONLines(_:source:idColumn:)``, in
    /// input order: the line's identifier, its number, and its rows with the line's own columns
    /// (all of the table's when `keys` does not list them).
    func jsonLinesGroups(keys: [Int: [String]], column: String) throws(MetaPoolError) -> [(id: String, line: Int, table: DataTable)] {
        guard let idIndex = columnIndex(column) else {
            throw MetaPoolError(.missingColumn, "the JSON Lines table has no identifier column \"\(column)\"", at: InputLocation(file: source, column: column))
        }
        var order: [Int] = []
        var rowsOfLine: [Int: [Int]] = [:]
        for r in rows.indices {
            guard r < lines.count, let line = lines[r] else {
                throw MetaPoolError(.invalidArgument, "row \(r + 1) of the JSON Lines table has no line number; read it with DataTable.readJSONLines")
            }
            if rowsOfLine[line] == nil { order.append(line) }
            rowsOfLine[line, default: []].append(r)
        }
        return order.map { line in
            let selected = rowsOfLine[line] ?? []
            let indices = (keys[line] ?? columns).compactMap { columnIndex($0) }
            var sub = self
            sub.columns = indices.map { columns[$0] }
            sub.rows = selected.map { r in indices.map { $0 < rows[r].count ? rows[r][$0] : nil } }
            sub.lines = selected.map { lines[$0] }
            sub.rowNumbers = selected.map { $0 < rowNumbers.count ? rowNumbers[$0] : $0 + 1 }
            return (rows[selected[0]][idIndex] ?? "", line, sub)
        }
    }
}

extension BatchAnalysis.Analysis {
    init(id: String, yi: [Double], vi: [Double], measure: EffectMeasure, harmonicMeanTotal: Double) {
        self.id = id
        self.yi = yi
        self.vi = vi
        self.measure = measure
        self.harmonicMeanTotal = harmonicMeanTotal
    }
}

extension BatchAnalysis {
    /// One JSON object per analysis: `analysis`, `k` and the fit with the key names of
    /// `pool --format json` and `back_transformed`, or `analysis`, `k` and `error`.
    public static func summary(of outcome: Outcome, for analysis: Analysis) -> JSONValue {
        switch outcome {
        case .success(let fit): fit.summary()
        case .failure(let error):
            .object([("analysis", .string(analysis.id)), ("k", .integer(analysis.yi.count)), ("error", .string(error.reason))])
        }
    }
}

extension BatchAnalysis.Fit {
    /// The JSON object of the fit (see ``BatchAnalysis/summary(of:for:)``).
    public func summary() -> JSONValue {
        func n(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        var m: [(String, JSONValue)] = [
            ("analysis", .string(id)), ("k", .integer(k)), ("estimate", n(estimate)), ("se", n(standardError)),
            ("ci_lower", n(confidenceInterval.lower)), ("ci_upper", n(confidenceInterval.upper)),
            ("statistic", n(statistic)), ("p_value", n(pValue)),
        ]
        if let df = degreesOfFreedom { m.append(("df", .integer(df))) }
        if let pi = predictionInterval { m += [("pi_lower", n(pi.lower)), ("pi_upper", n(pi.upper))] }
        if let p = prediction {
            m.append(("pi_method", .string(p.method.rawValue)))
            if let df = p.degreesOfFreedom { m.append(("pi_df", .integer(df))) }
        }
        if let tau2 = tauSquared { m.append(("tau2", n(tau2))) }
        if let i2 = iSquared { m.append(("i2", n(i2))) }
        m += [("q", n(q)), ("q_df", .integer(k - 1)), ("q_p_value", n(qPValue))]
        var back: [(String, Double)] = [("estimate", backTransform(estimate)),
                                        ("ci_lower", backTransform(confidenceInterval.lower)),
                                        ("ci_upper", backTransform(confidenceInterval.upper))]
        if let pi = predictionInterval { back += [("pi_lower", backTransform(pi.lower)), ("pi_upper", backTransform(pi.upper))] }
        m.append(("back_transformed", .backTransformed(back)))
        return .object(m)
    }
}

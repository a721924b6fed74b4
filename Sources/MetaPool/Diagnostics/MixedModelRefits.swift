// Leave-one-out and cumulative analyses for the binomial GLMMs: each subset refitted by maximum
// likelihood (metafor 3.8-1 defines leave1out() and cumul() for rma.uni, rma.mh and rma.peto but
// not for rma.glmm; the reference values refit rma.glmm to each subset).

/// Refits of a GLMM (``GeneralizedLinearMixedModel`` or ``OddsRatioMixedModel``, as the
/// specification selects) without each study in turn, and to the first j studies, j = 2 … k
/// (a GLMM needs at least two studies, so the cumulative rows start at the second study).
///
/// A subset the GLMM cannot fit (e.g. no finite maximum: every remaining study with 0 or all
/// events) gives a row with the reason instead of numbers; the other rows are unaffected.
public struct MixedModelRefits: Sendable {
    /// One refit: the study left out (leave-one-out) or added last (cumulative), the number of
    /// studies in the subset, and the fit's pooled inference and τ̂², or why it could not be fitted.
    public struct Row: Sendable {
        public let study: String
        public let count: Int
        public let result: Result<(pooled: EstimateInference, tauSquared: Double), MetaPoolError>

        /// metafor's column names in snake_case: study, k, estimate, se, statistic, p_value, (df),
        /// ci_lower, ci_upper, tau2; `error` instead of the numbers for a subset that cannot be fitted.
        public func json() -> [(String, JSONValue)] {
            func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
            var members: [(String, JSONValue)] = [("study", .string(study)), ("k", .integer(count))]
            switch result {
            case .success(let fit):
                let p = fit.pooled
                members += [("estimate", number(p.estimate)), ("se", number(p.standardError)),
                            ("statistic", number(p.statistic)), ("p_value", number(p.pValue))]
                if let df = p.degreesOfFreedom { members.append(("df", .integer(df))) }
                members += [("ci_lower", number(p.confidenceInterval.lower)), ("ci_upper", number(p.confidenceInterval.upper)),
                            ("tau2", number(fit.tauSquared))]
            case .failure(let error):
                members.append(("error", .string(error.reason)))
            }
            return members
        }
    }

    /// The specification every subset is fitted with.
    public let specification: AnalysisSpecification
    /// The table's rows in the order of the cumulative analysis (0-based).
    public let order: [Int]
    /// One row per study: the model without it, in input order.
    public let leaveOneOut: [Row]
    /// One row per study from the second on (in `order`): the model of the studies up to it.
    public let cumulative: [Row]

    /// Refits `specification` (a GLMM) to the subsets of `table`.
    /// - Parameters:
    ///   - order: the order of the cumulative analysis (a permutation of the row indices), or `nil` for input order.
    ///   - progress: called with (done, total) after each refit.
    /// - Throws: ``MetaPoolError`` `.invalidArgument` when the specification is not a GLMM or
    ///   `order` is not a permutation; whatever fitting the whole table throws.
    public init(table: DataTable, specification: AnalysisSpecification, order: [Int]? = nil,
                progress: ((Int, Int) -> Void)? = nil) throws(MetaPoolError) {
        guard case .glmm = specification.pooling else {
            throw MetaPoolError(.invalidArgument, "MixedModelRefits refits the GLMM; use LeaveOneOut and CumulativeAnalysis for \(specification.pooling.code)")
        }
        // The rows the model uses (--drop-missing, --drop00), and the whole fit first: its errors are the table's.
        let table = try table.excludingStudies(measure: specification.measure, options: specification.effectSizeOptions).table
        _ = try specification.fit(table)
        let k = table.rowCount
        let order = order ?? Array(0..<k)
        guard order.count == k, Set(order) == Set(0..<k) else {
            throw MetaPoolError(.invalidArgument, "the cumulative order must list each of the \(k) studies once")
        }
        self.specification = specification
        self.order = order
        let labels = ColumnReader(table: table).labels()
        let total = 2 * k - 1
        var done = 0
        func refit(_ rows: [Int], study: String) -> Row {
            let subset = table.selectingRows(rows)
            let result: Result<(pooled: EstimateInference, tauSquared: Double), MetaPoolError>
            do {
                let fit = try specification.fit(subset)
                result = .success((fit.pooled, fit.heterogeneity.tauSquared ?? 0))
            } catch {
                result = .failure(error)
            }
            done += 1
            progress?(done, total)
            return Row(study: study, count: rows.count, result: result)
        }
        leaveOneOut = (0..<k).map { i in refit((0..<k).filter { $0 != i }, study: labels[i]) }
        cumulative = k < 2 ? [] : (2...k).map { j in refit(Array(order.prefix(j)), study: labels[order[j - 1]]) }
    }

    /// The JSON `sensitivity --method GLMM --format json` prints.
    public func summary() -> JSONValue {
        let header: [(String, JSONValue)] = [
            ("measure", specification.measure.map { .string($0.rawValue) } ?? .null),
            ("method", .string("GLMM")), ("ci_method", .string(specification.ciMethod.rawValue)),
            ("level", .number(specification.level)),
        ]
        return .object([
            ("leave_one_out", .object(header + [("rows", .array(leaveOneOut.map { .object($0.json()) }))])),
            ("cumulative", .object(header + [("rows", .array(cumulative.map { .object($0.json()) }))])),
            ("influence", .null),
            ("influence_note", .string(Self.influenceNote)),
        ])
    }

    /// Why the GLMM has no influence diagnostics.
    public static let influenceNote = "influence diagnostics (studentized residuals, DFFITS, Cook's distance, hat values) are defined for the inverse-variance models; metafor's influence() has no method for rma.glmm, and none is computed for the GLMM"
}

// The analysis `pool --format json` records and `check` re-runs: input (path, SHA-256) and options.

import Crypto
import MetaPool

/// Everything needed to repeat an analysis: where the data came from and every option.
struct RecordedAnalysis {
    var file: String
    var measure: EffectMeasure?
    var pooling: PoolingMethod
    var ciMethod: ConfidenceIntervalMethod
    var level: Double
    var conditions: [RowCondition]
    var by: String?
    var commonTauSquared = false
    var quadraturePoints = 7
    /// Pool rows whose endpoint, outcome or measure column differs (`--allow-mixed-endpoints`).
    var allowMixedEndpoints = false
    /// `--delimiter`, when given.
    var delimiter: CSVDelimiter? = nil
    /// `--label`, when given.
    var label: String? = nil

    /// The lowercase hex SHA-256 of the input bytes (FIPS 180-4, via swift-crypto).
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Runs the analysis on `bytes` and returns the JSON `pool --format json` prints, with
    /// `input` and `options` appended so that `check` can repeat it.
    func run(bytes: [UInt8], noting note: (_ column: String, _ values: [(value: String, count: Int)]) -> Void = { _, _ in },
             notingInput inputNote: (String) -> Void = { _ in }) throws(MetaPoolError) -> JSONValue {
        let table = try ModelOptions.read(bytes: bytes, file: file, delimiter: delimiter, label: label, conditions: conditions,
                                          noting: inputNote)
        // The mixed-endpoint guard, as for the table output (ModelOptions.checkOutcomes).
        let exempt = conditions.map(\.column) + (by.map { [$0] } ?? [])
        if !allowMixedEndpoints { try table.requireSingleOutcome(exempting: exempt) }
        let mixed = allowMixedEndpoints ? table.mixedOutcomes(exempting: exempt) : []
        for (column, values) in mixed { note(column, values) }
        var pooling = self.pooling
        if case .glmm = pooling { pooling = .glmm(quadraturePoints: quadraturePoints) }
        let specification = AnalysisSpecification(pooling: pooling, measure: measure, ciMethod: ciMethod, level: level)
        var summary: JSONValue
        let forest: ForestPlot
        if let by, pooling.isCountBased {
            let groups = try SubgroupFits(table: table, by: by, specification: specification)
            summary = try groups.summary()
            forest = try ForestPlot(groups, table: table)
        } else if let by, case .inverseVariance(let method) = pooling {
            let analysis = try SubgroupAnalysis(table: table, by: by, measure: measure, method: method,
                                                ciMethod: ciMethod, level: level, commonTauSquared: commonTauSquared)
            summary = try analysis.summary()
            forest = try ForestPlot(analysis, table: table)
        } else {
            // One fit: the summary and the plot data both come from it.
            let fit = try specification.fit(table)
            summary = try fit.jsonSummary()
            forest = try ForestPlot(fit, table: table)
        }
        guard case .object(let members) = summary else { return summary }
        // Everything needed to draw the forest plot, for users who draw it their own way.
        // What --allow-mixed-endpoints let through, named in the output (absent when nothing was mixed).
        let mixedMember: [(String, JSONValue)] = mixed.isEmpty ? [] : [("mixed_outcomes", .array(mixed.map { column, values in
            .object([("column", .string(column)),
                     ("values", .array(values.map { .object([("value", .string($0.value)), ("rows", .integer($0.count))]) }))])
        }))]
        // The column the study labels came from (null: none, the studies are numbered).
        let labelMember: [(String, JSONValue)] = [("label_column", table.labelColumn.map { .string($0) } ?? .null)]
        return .object(members + mixedMember + labelMember + [("forest", forest.summary())] + recorded(bytes))
    }

    /// The `input` and `options` members that let `check` repeat the analysis.
    func recorded(_ bytes: [UInt8]) -> [(String, JSONValue)] {
        [("input", .object([("path", .string(file)), ("sha256", .string(Self.sha256(bytes)))])),
         ("options", .object([
            ("measure", measure.map { .string($0.rawValue) } ?? .null),
            ("method", .string(pooling.code)),
            ("ci", .string(ciMethod.rawValue)),
            ("level", .number(level)),
            ("where", .array(conditions.map { .string($0.description) })),
            ("by", by.map { .string($0) } ?? .null),
            ("common_tau2", .bool(commonTauSquared)),
         ] + (pooling.isGLMM ? [("quadrature_points", .integer(quadraturePoints))] : [])
           + (allowMixedEndpoints ? [("allow_mixed_endpoints", .bool(true))] : [])
           + (delimiter.map { [("delimiter", .string($0.name))] } ?? [])
           + (label.map { [("label", .string($0))] } ?? [])))]
    }
}

extension ModelOptions {
    func specification(by: String?, commonTauSquared: Bool = false) -> RecordedAnalysis {
        RecordedAnalysis(file: file, measure: measure, pooling: pooling, ciMethod: ciMethod, level: level,
                              conditions: rowConditions, by: by, commonTauSquared: commonTauSquared,
                              quadraturePoints: quadraturePoints, allowMixedEndpoints: allowMixedEndpoints,
                              delimiter: delimiter, label: label)
    }
}

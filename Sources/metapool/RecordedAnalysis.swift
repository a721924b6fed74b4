// The analysis `pool --format json` records and `check` re-runs: input (path, SHA-256) and options.

import Crypto
import MetaPool

/// Everything needed to repeat an analysis: where the data came from and every option.
struct AnalysisSpecification {
    var file: String
    var measure: EffectMeasure?
    var pooling: PoolingMethod
    var ciMethod: ConfidenceIntervalMethod
    var level: Double
    var conditions: [RowCondition]
    var by: String?
    var commonTauSquared = false
    var quadraturePoints = 7

    /// The lowercase hex SHA-256 of the input bytes (FIPS 180-4, via swift-crypto).
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Runs the analysis on `bytes` and returns the JSON `pool --format json` prints, with
    /// `input` and `options` appended so that `check` can repeat it.
    func run(bytes: [UInt8]) throws(MetaPoolError) -> JSONValue {
        let table = try DataTable.read(bytes: bytes, source: file).selecting(conditions)
        var members: [(String, JSONValue)]
        let method: TauSquaredMethod
        switch pooling {
        case .inverseVariance(let m): method = m
        case .glmm:
            let summary = try Self.glmm(table: table, measure: measure, quadraturePoints: quadraturePoints, level: level)
            guard case .object(let m) = summary else { return summary }
            return .object(m + recorded(bytes))
        case .mantelHaenszel, .peto:
            let counts = try TwoGroupCounts(table: table)
            let summary = pooling == .peto ? try Peto(counts, level: level).summary()
                                           : try MantelHaenszel(counts, measure: measure ?? .oddsRatio, level: level).summary()
            guard case .object(let m) = summary else { return summary }
            return .object(m + recorded(bytes))
        }
        if let by {
            let analysis = try SubgroupAnalysis(table: table, by: by, measure: measure, method: method,
                                                ciMethod: ciMethod, level: level, commonTauSquared: commonTauSquared)
            guard case .object(let m) = try analysis.summary() else { return .null }
            members = m
        } else {
            let fit = try MetaAnalysis(EffectSizes(table: table, measure: measure), method: method,
                                       ciMethod: ciMethod, level: level)
            guard let value = try? OrderedJSONEncoder.encode(fit.summary()), case .object(let m) = value else {
                throw MetaPoolError(.invalidArgument, "could not encode the summary")
            }
            members = m
        }
        // Everything needed to draw the forest plot, for users who draw it their own way.
        let forest = try ForestPlot(table: table, measure: measure, method: method, ciMethod: ciMethod, level: level,
                                    by: by, commonTauSquared: commonTauSquared)
        members.append(("forest", forest.summary()))
        return .object(members + recorded(bytes))
    }

    /// The GLMM for the table's data family: PLO for events/total, UM.FS OR for two-group counts.
    static func glmm(table: DataTable, measure: EffectMeasure?, quadraturePoints: Int, level: Double) throws(MetaPoolError) -> JSONValue {
        let twoGroup = measure == .oddsRatio || (measure == nil && table.columnIndex("treat_events") != nil)
        if twoGroup {
            return try OddsRatioMixedModel(table: table, quadraturePoints: quadraturePoints, level: level).summary()
        }
        return try GeneralizedLinearMixedModel(table: table, quadraturePoints: quadraturePoints, level: level).summary()
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
         ] + (pooling == .glmm ? [("quadrature_points", .integer(quadraturePoints))] : [])))]
    }
}

extension ModelOptions {
    func specification(by: String?, commonTauSquared: Bool = false) -> AnalysisSpecification {
        AnalysisSpecification(file: file, measure: measure, pooling: pooling, ciMethod: ciMethod, level: level,
                              conditions: rowConditions, by: by, commonTauSquared: commonTauSquared,
                              quadraturePoints: quadraturePoints)
    }
}

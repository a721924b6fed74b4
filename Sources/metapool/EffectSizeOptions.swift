// The options that say how effect sizes are derived from the columns: the level of hazard-ratio
// intervals, metafor escalc()'s continuity correction (--add, --to, --drop00), and leaving out rows
// with empty cells (--drop-missing). Part of ModelOptions, so every command that computes effect
// sizes takes them.

import ArgumentParser
import MetaPool

extension ContinuityCorrection.Target: CaseInsensitiveArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    public var defaultValueDescription: String { rawValue }
}

/// `--hr-level`, `--add`, `--to`, `--drop00`, `--drop-missing`: declared in ``ModelOptions`` itself
/// (Options.swift), not as an `@OptionGroup` of their own, since every group costs ArgumentParser
/// another pass of reflection and runtime type lookups at start-up (issue 15).
extension ModelOptions {
    /// The confidence level `--hr-level` gives (0.95 without it); `validate()` has checked it.
    var parsedHazardRatioLevel: Double {
        guard let hazardRatioLevel, case .success(let level) = EffectSizeOptions.parseLevel(hazardRatioLevel) else { return 0.95 }
        return level
    }

    /// The library's settings these options ask for.
    var effectSizeOptions: EffectSizeOptions {
        EffectSizeOptions(continuityCorrection: ContinuityCorrection(add: add, to: to, dropDoubleZero: dropDoubleZero),
                          hazardRatioLevel: parsedHazardRatioLevel, dropMissing: dropMissing)
    }

    /// The checks of these options, first among ModelOptions' (as when they were a group of their own).
    func validateEffectSizeArguments() throws {
        if let hazardRatioLevel, case .failure(let e) = EffectSizeOptions.parseLevel(hazardRatioLevel) {
            throw ValidationError("--hr-level: " + e.reason)
        }
        if let add, !(add.isFinite && add >= 0) {
            throw ValidationError("--add must be a finite number 0 or more (escalc's add, e.g. 0.5); got \(add)")
        }
    }
}

/// What the effect-size options refuse and report.
enum EffectSizeArguments {
    /// The continuity options apply to the effect sizes of the inverse-variance models; MH, PETO
    /// and GLMM pool the counts themselves.
    /// The usage message when they are given with one (nil when fine); ModelOptions and `check` ask.
    static func refusal(pooling: PoolingMethod, correction c: ContinuityCorrection) -> String? {
        guard pooling.isCountBased, c.add != nil || c.to != .onlyZero || c.dropDoubleZero else { return nil }
        let given = [c.add.map { _ in "--add" }, c.to != .onlyZero ? "--to" : nil, c.dropDoubleZero ? "--drop00" : nil].compactMap { $0 }
        return "\(given.joined(separator: ", ")) set the continuity correction of per-study effect sizes (inverse-variance models); --method \(pooling.code) pools the counts themselves"
    }

    /// The note on standard error for each row left out.
    static func note(_ excluded: [ExcludedRow]) {
        for row in excluded { printError("note: left out \(row.description)") }
    }
}

extension ExcludedRow {
    /// `{row, study, column}` (and `reason` for a double-zero study), as `pool --format json` lists it.
    var json: JSONValue {
        .object([("row", row.map { .integer($0) } ?? .null), ("study", .string(study)),
                 ("column", column.map { .string($0) } ?? .null)]
                 + (column == nil ? [("reason", .string(reason))] : []))
    }
}

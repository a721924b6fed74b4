// A baseline (the JSON of `pool --format json`) read back for `metapool check`: the analysis it
// recorded, that analysis re-run, and the members that moved.

import Foundation
import MetaPool

struct Baseline {
    /// The baseline file, as given or as found in a folder.
    let path: String
    let recorded: JSONValue
    /// The analysis to repeat; its `file` is where the input was found (see `specification`).
    let analysis: RecordedAnalysis
    /// `input.path` as recorded (kept when the baseline is re-recorded).
    let inputPath: String
    /// `input.sha256` as recorded.
    let sha256: String

    /// The largest baseline `check` reads: a recorded `pool --format json` is a few kB (a few MB
    /// for 10⁴ studies); a larger file is a wrong path (a device, a data dump), refused before it
    /// is read whole.
    static let maximumSize = 64 << 20

    /// Reads and parses the baseline and its `input` and `options`.
    init(path: String) throws(MetaPoolError) {
        self.path = path
        let bytes = try DataTable.readBytes(path: path, maximumSize: Self.maximumSize, what: "a baseline (the JSON of `metapool pool --format json`)")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MetaPoolError(.notUTF8, "the baseline is not UTF-8 text; give the JSON that `metapool pool --format json` wrote", at: InputLocation(file: path))
        }
        recorded = try JSONValue.parse(text, source: path)
        (analysis, inputPath, sha256) = try Self.specification(recorded, baseline: path)
    }

    /// The analysis re-run on the input as it is now.
    struct Rerun {
        /// What `pool --format json` prints now, with `input.path` as recorded.
        var json: JSONValue
        var sha256: String
    }

    func rerun() throws(MetaPoolError) -> Rerun {
        let bytes: [UInt8]
        var now: JSONValue
        do {
            bytes = try DataTable.readBytes(path: analysis.file)
            now = try analysis.run(bytes: bytes)
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = analysis.file }
            throw located
        }
        let sha = RecordedAnalysis.sha256(bytes)
        // The input may have been found beside the baseline: record the path as it was recorded.
        if case .object(var members) = now, let i = members.firstIndex(where: { $0.0 == "input" }) {
            members[i].1 = .object([("path", .string(inputPath)), ("sha256", .string(sha))])
            now = .object(members)
        }
        return Rerun(json: now, sha256: sha)
    }

    /// The recorded `metapool_version`; nil in baselines written before MetaPool recorded it.
    var version: JSONValue? { recorded["metapool_version"] }

    /// What `check` says about the version: a note when it differs or is absent (not drift by
    /// itself), a difference when the member is not a string.
    func versionNote() -> (note: String?, difference: Difference?) {
        let current = MetaPoolVersion.current
        switch version {
        case nil:
            return ("recorded before MetaPool wrote metapool_version; checking with \(current)", nil)
        case .string(let v)?:
            return (v == current ? nil : "recorded with MetaPool \(v), checking with \(current)", nil)
        case let other?:
            return (nil, Difference(path: "metapool_version", change: .value(old: other, new: .string(current), relative: nil)))
        }
    }

    /// Reads `input` and `options` from a baseline: the analysis (its file resolved), the
    /// recorded input path and SHA-256.
    static func specification(_ recorded: JSONValue, baseline: String) throws(MetaPoolError) -> (RecordedAnalysis, String, String) {
        let at = InputLocation(file: baseline)
        guard case .string(let path)? = recorded["input"]?["path"], case .string(let sha)? = recorded["input"]?["sha256"],
              case .object(let options)? = recorded["options"] else {
            throw MetaPoolError(.missingColumn, "not a MetaPool baseline: it needs \"input\" {path, sha256} and \"options\" (write it with `metapool pool FILE --format json > baseline.json`)", at: at)
        }
        func option(_ key: String) -> String? {
            if case .string(let s)? = options.first(where: { $0.0 == key })?.1 { return s }
            return nil
        }
        let level: Double? = switch options.first(where: { $0.0 == "level" })?.1 {
        case .number(let d)?: d
        case .integer(let i)?: Double(i)
        default: nil
        }
        let measure = option("measure").flatMap(EffectMeasure.init(code:))
        guard let method = option("method").flatMap(PoolingMethod.init(argument:)),
              let ci = option("ci").flatMap(ConfidenceIntervalMethod.init(code:)), let level else {
            throw MetaPoolError(.invalidValue, "the baseline's options (method, ci, level) are missing or unknown", at: at)
        }
        if path == "-" {
            throw MetaPoolError(.invalidArgument, "the baseline was recorded from standard input, which cannot be read again; record it from a file: metapool pool FILE --format json > baseline.json", at: at)
        }
        var recordedWhere: [String] = []
        if case .array(let items)? = options.first(where: { $0.0 == "where" })?.1 {
            for item in items {
                guard case .string(let s) = item else { throw MetaPoolError(.invalidValue, "the baseline's options.where holds a non-string", at: at) }
                recordedWhere.append(s)
            }
        }
        let conditions = recordedWhere.compactMap(RowCondition.init(parsing:))
        guard conditions.count == recordedWhere.count else {
            throw MetaPoolError(.invalidValue, "the baseline's options.where has an entry that is not COLUMN=VALUE", at: at)
        }
        var file = path
        if !FileManager.default.fileExists(atPath: path) {
            let besideBaseline = URL(fileURLWithPath: baseline).deletingLastPathComponent().appendingPathComponent(path).path
            if FileManager.default.fileExists(atPath: besideBaseline) { file = besideBaseline }
        }
        var common = false
        if case .bool(let flag)? = options.first(where: { $0.0 == "common_tau2" })?.1 { common = flag }
        var points = 7
        if case .integer(let n)? = options.first(where: { $0.0 == "quadrature_points" })?.1 { points = n }
        var allowMixed = false
        if case .bool(let flag)? = options.first(where: { $0.0 == "allow_mixed_endpoints" })?.1 { allowMixed = flag }
        var delimiter: CSVDelimiter?
        if let name = option("delimiter") {
            guard let d = CSVDelimiter(name: name) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.delimiter \"\(name)\" is not , ; or tab", at: at)
            }
            delimiter = d
        }
        var spec = RecordedAnalysis(file: file, measure: measure, pooling: method, ciMethod: ci, level: level,
                                    conditions: conditions, by: option("by"), commonTauSquared: common,
                                    quadraturePoints: points, allowMixedEndpoints: allowMixed,
                                    delimiter: delimiter, label: option("label"))
        spec.effectSizeOptions = try effectSizeOptions(options, at: at)
        return (spec, path, sha)
    }

    /// The effect-size options a baseline records (hr_level, add, to, drop00, drop_missing; absent = default).
    static func effectSizeOptions(_ options: [(String, JSONValue)], at: InputLocation) throws(MetaPoolError) -> EffectSizeOptions {
        func value(_ key: String) -> JSONValue? { options.first(where: { $0.0 == key })?.1 }
        func number(_ key: String) -> Double? {
            switch value(key) { case .number(let d)?: d; case .integer(let i)?: Double(i); default: nil }
        }
        var result = EffectSizeOptions()
        if let level = number("hr_level") { result.hazardRatioLevel = level }
        result.continuityCorrection.add = number("add")
        if case .string(let to)? = value("to") {
            guard let target = ContinuityCorrection.Target(rawValue: to) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.to is \"\(to)\"; expected only0, all, if0all or none", at: at)
            }
            result.continuityCorrection.to = target
        }
        if case .bool(let flag)? = value("drop00") { result.continuityCorrection.dropDoubleZero = flag }
        if case .bool(let flag)? = value("drop_missing") { result.dropMissing = flag }
        return result
    }
}

/// One member that differs between a baseline and the analysis re-run.
struct Difference {
    enum Change {
        /// Different values (`relative` for two numbers).
        case value(old: JSONValue, new: JSONValue, relative: Double?)
        /// A key in the new output only.
        case added(JSONValue)
        /// A key in the baseline only.
        case removed(JSONValue)
        /// Arrays of different lengths.
        case count(old: Int, new: Int)
    }

    /// Where, e.g. `tau2` or `forest.rows[3].estimate`; `(root)` for the whole object.
    var path: String
    var change: Change

    /// As `check` lists it.
    var checkLine: String {
        switch change {
        case .value(let old, let new, let relative?):
            "\(path): \(Self.describe(old)) in the baseline, \(Self.describe(new)) now (relative difference \(String(format: "%.2e", relative)))"
        case .value(let old, let new, nil): "\(path): \(Self.describe(old)) in the baseline, \(Self.describe(new)) now"
        case .added: "\(path): new, not in the baseline"
        case .removed: "\(path): in the baseline, missing now"
        case .count(let old, let new): "\(path): \(old) items in the baseline, \(new) now"
        }
    }

    /// As `check --update` lists it: old → new.
    var updateLine: String {
        switch change {
        case .value(let old, let new, _): "\(path): \(Self.describe(old)) → \(Self.describe(new))"
        case .added(let new): "\(path): (absent) → \(Self.describe(new))"
        case .removed(let old): "\(path): \(Self.describe(old)) → (absent)"
        case .count(let old, let new): "\(path): \(old) items → \(new) items"
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        default: value.serialized()
        }
    }

    /// Walks the baseline and the new result together; numbers must agree within `rtol`
    /// (|a − b| ≤ rtol·max(|a|, |b|), or both below 1e-300), everything else exactly. The root
    /// `input` and `metapool_version` are left to the caller (the hash and the version note).
    static func compare(_ old: JSONValue, _ new: JSONValue, path: String = "", rtol: Double,
                        differences: inout [Difference], compared: inout Int) {
        let here = path.isEmpty ? "(root)" : path
        func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        switch (old, new) {
        case (.object(let oldMembers), .object(let members)):
            var seen = Set<String>()
            for (key, value) in members {
                seen.insert(key)
                if path.isEmpty && (key == "input" || key == "metapool_version") { continue }
                guard let o = oldMembers.first(where: { $0.0 == key })?.1 else {
                    differences.append(Difference(path: child(key), change: .added(value))); continue
                }
                compare(o, value, path: child(key), rtol: rtol, differences: &differences, compared: &compared)
            }
            for (key, value) in oldMembers where !seen.contains(key) {
                if path.isEmpty && key == "metapool_version" { continue }
                differences.append(Difference(path: child(key), change: .removed(value)))
            }
        case (.array(let oldItems), .array(let items)):
            if oldItems.count != items.count {
                differences.append(Difference(path: here, change: .count(old: oldItems.count, new: items.count))); return
            }
            for (i, (o, n)) in zip(oldItems, items).enumerated() {
                compare(o, n, path: "\(path)[\(i)]", rtol: rtol, differences: &differences, compared: &compared)
            }
        case (.number, _), (.integer, _), (_, .number), (_, .integer):
            guard let a = old.doubleValue, let b = new.doubleValue else {
                differences.append(Difference(path: here, change: .value(old: old, new: new, relative: nil))); return
            }
            compared += 1
            let scale = max(abs(a), abs(b))
            if abs(a - b) > rtol * scale && scale > 1e-300 {
                differences.append(Difference(path: here, change: .value(old: old, new: new, relative: abs(a - b) / scale)))
            }
        default:
            if old != new { differences.append(Difference(path: here, change: .value(old: old, new: new, relative: nil))) }
        }
    }
}

extension Difference {
    /// The new result with every number that agrees with the baseline within `rtol` kept as
    /// recorded: re-recording changes the members listed as moved and nothing else (no
    /// last-bit noise from another BLAS kernel). Keys, their order and every other value come
    /// from `new`.
    static func merge(_ old: JSONValue, _ new: JSONValue, rtol: Double) -> JSONValue {
        switch (old, new) {
        case (.object(let oldMembers), .object(let members)):
            return .object(members.map { key, value in
                guard let o = oldMembers.first(where: { $0.0 == key })?.1 else { return (key, value) }
                return (key, merge(o, value, rtol: rtol))
            })
        case (.array(let oldItems), .array(let items)) where oldItems.count == items.count:
            return .array(zip(oldItems, items).map { merge($0, $1, rtol: rtol) })
        case (.number, .number), (.integer, .integer), (.number, .integer), (.integer, .number):
            guard let a = old.doubleValue, let b = new.doubleValue else { return new }
            let scale = max(abs(a), abs(b))
            return abs(a - b) > rtol * scale && scale > 1e-300 ? new : old
        default:
            return new
        }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first(where: { $0.0 == key })?.1 }
        return nil
    }

    var doubleValue: Double? {
        switch self {
        case .number(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
}

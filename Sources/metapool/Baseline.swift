// A baseline (the JSON of `pool --format json`) read back for `metapool check`: the analysis it
// recorded, that analysis re-run, and the members that moved.

#if canImport(FoundationEssentials)
import FoundationEssentials  // URL, FileManager; full Foundation is not linked (start-up time, issue 15)
#else
import Foundation
#endif
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
    /// recorded input path and SHA-256. A baseline is refused (malformed) when a number in it is
    /// not finite or a key repeats, when an option has the wrong type, an unknown value or a name
    /// `pool` does not record, and when the options are a combination `pool` refuses (with
    /// `pool`'s message).
    static func specification(_ recorded: JSONValue, baseline: String) throws(MetaPoolError) -> (RecordedAnalysis, String, String) {
        let at = InputLocation(file: baseline)
        // The recorded results are checked by `check` (``requireWellFormed``); `--update` replaces them.
        if let input = recorded["input"] { try requireWellFormed(input, baseline: baseline, path: "input") }
        if let options = recorded["options"] { try requireWellFormed(options, baseline: baseline, path: "options") }
        guard case .string(let path)? = recorded["input"]?["path"], case .string(let sha)? = recorded["input"]?["sha256"],
              case .object(let options)? = recorded["options"] else {
            throw MetaPoolError(.missingColumn, "not a MetaPool baseline: it needs \"input\" {path, sha256} and \"options\" (write it with `metapool pool FILE --format json > baseline.json`)", at: at)
        }
        let read = try RecordedOptions(options, at: at)
        var measure: EffectMeasure?
        if let code = try read.string("measure") {
            guard let m = EffectMeasure(code: code) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.measure \"\(code)\" is not a measure (\(EffectMeasure.allCases.map(\.rawValue).joined(separator: " ")))", at: at)
            }
            measure = m
        }
        guard let method = try read.string("method").flatMap(PoolingMethod.init(argument:)),
              let ci = try read.string("ci").flatMap(ConfidenceIntervalMethod.init(code:)), let level = try read.number("level") else {
            throw MetaPoolError(.invalidValue, "the baseline's options (method, ci, level) are missing or unknown", at: at)
        }
        if path == "-" {
            throw MetaPoolError(.invalidArgument, "the baseline was recorded from standard input, which cannot be read again; record it from a file: metapool pool FILE --format json > baseline.json", at: at)
        }
        var recordedWhere: [String] = []
        if let items = try read.array("where") {
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
        var delimiter: CSVDelimiter?
        if let name = try read.string("delimiter") {
            guard let d = CSVDelimiter(name: name) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.delimiter \"\(name)\" is not , ; or tab", at: at)
            }
            delimiter = d
        }
        let by = try read.string("by"), common = try read.bool("common_tau2") ?? false
        let points = try read.integer("quadrature_points") ?? 7
        let allowMixed = try read.bool("allow_mixed_endpoints") ?? false, label = try read.string("label")
        var spec = RecordedAnalysis(file: file, measure: measure, pooling: method, ciMethod: ci, level: level,
                                    conditions: conditions, by: by, commonTauSquared: common,
                                    quadraturePoints: points, allowMixedEndpoints: allowMixed,
                                    delimiter: delimiter, label: label)
        spec.effectSizeOptions = try effectSizeOptions(read, at: at)
        if let code = try read.string("study_ci") {
            guard let method = StudyIntervalMethod(code: code) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.study_ci is \"\(code)\"; expected \(StudyIntervalMethod.allCodes.joined(separator: ", "))", at: at)
            }
            spec.studyInterval = method
        }
        if let name = try read.string("pi") {
            guard let setting = PredictionIntervalSetting(rawValue: name) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.pi \"\(name)\" is not a prediction interval method (\(PredictionIntervalSetting.allCases.map(\.rawValue).joined(separator: " ")))", at: at)
            }
            spec.predictionInterval = setting
        }
        spec.threshold = try read.number("threshold")
        spec.cluster = try read.string("cluster")
        if try read.bool("bayes") == true {
            guard let tauText = try read.string("tau_prior"), case .success(let tau) = PriorText.tau(tauText) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.tau_prior is missing or not a prior (\(PriorText.tauForms))", at: at)
            }
            let muText = try read.string("mu_prior") ?? "flat"
            guard case .success(let mu) = PriorText.mu(muText) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.mu_prior \"\(muText)\" is not normal(MEAN, SD) or flat", at: at)
            }
            guard spec.cluster == nil, !spec.commonTauSquared else {
                throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: --bayes cannot be combined with --cluster or --common-tau2", at: at)
            }
            let likelihoodText = try read.string("likelihood") ?? "normal"
            guard let likelihood = BayesLikelihood(rawValue: likelihoodText) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.likelihood \"\(likelihoodText)\" is not normal or binomial", at: at)
            }
            if let message = BayesLikelihood.refusal(likelihood, measure: spec.measure) {
                throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: \(message)", at: at)
            }
            spec.bayes = BayesChoice(tau: tau, mu: mu, likelihood: likelihood)
        }
        if let code = try read.string("robust") {
            guard let type = ClusterRobustType(code: code) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.robust is \"\(code)\"; expected CR2 or CR1", at: at)
            }
            guard spec.cluster != nil else {
                throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: --robust needs --cluster COLUMN", at: at)
            }
            spec.robust = type
        }
        // What pool refuses on the command line, check refuses in a baseline, in the same words.
        if let refusal = ModelOptions.refusal(pooling: method, measure: measure, ciMethod: ci, level: level, quadraturePoints: points,
                                              correction: spec.effectSizeOptions.continuityCorrection)
            ?? SubgroupOptions.refusal(by: by, commonTauSquared: common, pooling: method)
            ?? ModelOptions.clusterRefusal(cluster: spec.cluster, pooling: method, ciMethod: ci) {
            throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: \(refusal)", at: at)
        }
        return (spec, path, sha)
    }

    /// The effect-size options a baseline records (hr_level, add, to, drop00, drop_missing; absent = default).
    static func effectSizeOptions(_ read: RecordedOptions, at: InputLocation) throws(MetaPoolError) -> EffectSizeOptions {
        var result = EffectSizeOptions()
        if let level = try read.number("hr_level") {
            // pool records the level --hr-level gave as a proportion (0.90 for 90).
            guard level >= 0.5, level < 1 else {
                throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: --hr-level: \(level) is not a confidence level from 0.5 to below 1", at: at)
            }
            result.hazardRatioLevel = level
        }
        if let add = try read.number("add") {
            guard add >= 0 else {
                throw MetaPoolError(.invalidValue, "the baseline's options are ones pool refuses: --add must be a finite number 0 or more (escalc's add, e.g. 0.5); got \(add)", at: at)
            }
            result.continuityCorrection.add = add
        }
        if let to = try read.string("to") {
            guard let target = ContinuityCorrection.Target(rawValue: to) else {
                throw MetaPoolError(.invalidValue, "the baseline's options.to is \"\(to)\"; expected only0, all, if0all or none", at: at)
            }
            result.continuityCorrection.to = target
        }
        if let flag = try read.bool("drop00") { result.continuityCorrection.dropDoubleZero = flag }
        if let flag = try read.bool("drop_missing") { result.dropMissing = flag }
        return result
    }

    /// Refuses a baseline holding a number that is not finite (a literal such as 1e999 that
    /// overflows a double: it would compare as agreeing with anything) or an object with a key
    /// twice (only one of them would be compared), naming the JSON path.
    static func requireWellFormed(_ value: JSONValue, baseline: String, path: String = "") throws(MetaPoolError) {
        let at = InputLocation(file: baseline)
        switch value {
        case .number(let d) where !d.isFinite:
            throw MetaPoolError(.invalidValue, "the baseline's \(path.isEmpty ? "(root)" : path) is a number too large for a double (read as \(d > 0 ? "+" : "-")infinity); a recorded number must be finite (metapool check --update re-records the results)", at: at)
        case .object(let members):
            var seen = Set<String>()
            for (key, member) in members {
                let child = path.isEmpty ? key : path + "." + key
                guard seen.insert(key).inserted else {
                    throw MetaPoolError(.invalidValue, "the baseline's \(child) appears twice; each key must appear once", at: at)
                }
                try requireWellFormed(member, baseline: baseline, path: child)
            }
        case .array(let items):
            for (i, item) in items.enumerated() { try requireWellFormed(item, baseline: baseline, path: "\(path)[\(i)]") }
        default:
            break
        }
    }
}

/// A baseline's `options` object read with the types `pool` records: an option of another type,
/// or one `pool` does not record, is refused (null reads as absent).
struct RecordedOptions {
    static let known: Set<String> = ["measure", "method", "ci", "level", "where", "by", "common_tau2", "quadrature_points",
                                     "allow_mixed_endpoints", "delimiter", "label", "hr_level", "add", "to", "drop00", "drop_missing",
                                     "study_ci", "pi", "threshold", "cluster", "robust",
                                     "bayes", "tau_prior", "mu_prior", "likelihood"]
    let members: [(String, JSONValue)]
    let at: InputLocation

    init(_ members: [(String, JSONValue)], at: InputLocation) throws(MetaPoolError) {
        for (key, _) in members where !Self.known.contains(key) {
            throw MetaPoolError(.invalidValue, "the baseline's options.\(key) is not an option pool records (\(Self.known.sorted().joined(separator: ", ")))", at: at)
        }
        self.members = members
        self.at = at
    }

    private func value(_ key: String) -> JSONValue? {
        switch members.first(where: { $0.0 == key })?.1 { case nil, .null?: nil; case let v?: v }
    }

    private func wrongType(_ key: String, _ expected: String) -> MetaPoolError {
        MetaPoolError(.invalidValue, "the baseline's options.\(key) is \(Difference.describe(value(key) ?? .null)); expected \(expected)", at: at)
    }

    func string(_ key: String) throws(MetaPoolError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "a string") }
        return s
    }

    func number(_ key: String) throws(MetaPoolError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let d = v.doubleValue else { throw wrongType(key, "a number") }
        return d
    }

    func integer(_ key: String) throws(MetaPoolError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .integer(let i) = v else { throw wrongType(key, "an integer") }
        return i
    }

    func bool(_ key: String) throws(MetaPoolError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "true or false") }
        return b
    }

    func array(_ key: String) throws(MetaPoolError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw wrongType(key, "an array") }
        return items
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
            "\(path): \(Self.describe(old)) in the baseline, \(Self.describe(new)) now (relative difference \(NumberFormat.exponential(relative, digits: 2)))"
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
        // 14.0 is not the integer 14: a number keeps its fraction (JSON would write 14).
        case .number(let d) where d.isFinite: d.description
        case .number(let d) where d.isInfinite: d > 0 ? "+infinity" : "-infinity"
        default: value.serialized()
        }
    }

    /// Walks the baseline and the new result together; numbers must agree within `rtol`
    /// (|a − b| ≤ rtol·max(|a|, |b|), or both below 1e-300 in magnitude), integers (k, df,
    /// counts) exactly and as integers, everything else exactly. A number the new result cannot
    /// write (NaN, infinity) is the `null` it prints. The root `input` and `metapool_version` are
    /// left to the caller (the hash and the version note). `check` has refused non-finite numbers
    /// and repeated keys in the baseline (``Baseline/requireWellFormed``).
    static func compare(_ old: JSONValue, _ new: JSONValue, path: String = "", rtol: Double,
                        differences: inout [Difference], compared: inout Int) {
        let here = path.isEmpty ? "(root)" : path
        func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        switch (old, new.written) {
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
        case (let o, let n):
            let numeric = o.doubleValue != nil || n.doubleValue != nil
            if numeric { compared += 1 }
            if agrees(o, n, rtol: rtol) { return }
            var relative: Double?
            if case .number(let b) = n, let a = o.doubleValue, a.isFinite, b.isFinite, max(abs(a), abs(b)) > 0 {
                relative = abs(a - b) / max(abs(a), abs(b))
            }
            differences.append(Difference(path: here, change: .value(old: o, new: n, relative: relative)))
        }
    }

    /// Whether a recorded scalar agrees with the new one: an integer (k, df, counts) only with
    /// the same integer; a number with a number (an integral one may be recorded without a
    /// fraction) within `rtol`, both finite; anything else only with an equal value.
    static func agrees(_ old: JSONValue, _ new: JSONValue, rtol: Double) -> Bool {
        switch (old, new.written) {
        case (.integer(let a), .integer(let b)):
            return a == b
        case (.number, .number(let b)), (.integer, .number(let b)):
            guard let a = old.doubleValue, a.isFinite, b.isFinite else { return false }
            if a == b { return true }
            let scale = max(abs(a), abs(b))
            return scale <= 1e-300 || abs(a - b) <= rtol * scale
        case (.number, _), (_, .number), (.integer, _), (_, .integer):
            return false
        case (let o, let n):
            return o == n
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
        case (.number, _), (.integer, _):
            return agrees(old, new, rtol: rtol) ? old : new
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

    /// The value as `serialized()` writes it: a number that is not finite is `null`.
    var written: JSONValue {
        if case .number(let d) = self, !d.isFinite { return .null }
        return self
    }

    var doubleValue: Double? {
        switch self {
        case .number(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
}

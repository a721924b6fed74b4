// `metapool check`: re-run a recorded analysis and fail on drift, for CI.

import ArgumentParser
import Foundation
import MetaPool

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Re-run the analysis recorded in a baseline (the JSON of `pool --format json`) and fail on drift.",
        discussion: """
        Exit status: 0 when every number agrees within --rtol and the input is unchanged; 1 on \
        drift or a changed input (a diff is printed); 64-70 as for pool when the baseline or its \
        input cannot be used. The input path is taken as recorded (relative to the working \
        directory), else relative to the baseline's folder.
        """
    )

    @Argument(help: ArgumentHelp("Baseline JSON written by `metapool pool ... --format json`.", valueName: "baseline"))
    var baseline: String

    @Option(help: ArgumentHelp("Relative tolerance for numbers.", valueName: "rtol"))
    var rtol: Double = 1e-9

    func validate() throws {
        guard rtol >= 0, rtol.isFinite else { throw ValidationError("--rtol must be a non-negative number, e.g. 1e-9; got \(rtol)") }
    }

    func run() throws {
        let recorded: JSONValue
        do throws(MetaPoolError) {
            let bytes = try DataTable.readBytes(path: baseline)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw MetaPoolError(.notUTF8, "the baseline is not UTF-8 text; give the JSON that `metapool pool --format json` wrote", at: InputLocation(file: baseline))
            }
            recorded = try JSONValue.parse(text, source: baseline)
        } catch {
            throw fail(error)
        }
        let spec: RecordedAnalysis
        let sha: String
        do {
            (spec, sha) = try Self.specification(recorded, baseline: baseline)
        } catch {
            throw fail(error)
        }
        let now: JSONValue
        let bytes: [UInt8]
        do {
            bytes = try DataTable.readBytes(path: spec.file)
            now = try spec.run(bytes: bytes)
        } catch {
            var located = error
            if located.location.file == nil { located.location.file = spec.file }
            throw fail(located)
        }
        var differences: [String] = []
        var compared = 0
        let currentSHA = RecordedAnalysis.sha256(bytes)
        if currentSHA != sha {
            differences.append("input \(spec.file) changed: sha256 \(sha) in the baseline, \(currentSHA) now")
        }
        Self.compare(recorded, now, path: "", rtol: rtol, differences: &differences, compared: &compared)
        if differences.isEmpty {
            print("check passed: \(baseline): \(compared) numbers within rtol \(rtol); input unchanged (sha256 \(sha.prefix(12))…)")
            return
        }
        print("check FAILED: \(baseline): \(differences.count) difference\(differences.count == 1 ? "" : "s") (rtol \(rtol))")
        for d in differences { print("  " + d) }
        throw ExitCode(1)
    }

    /// Reads `input` and `options` from a baseline.
    static func specification(_ recorded: JSONValue, baseline: String) throws(MetaPoolError) -> (RecordedAnalysis, String) {
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
        if path != "-", !FileManager.default.fileExists(atPath: path) {
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
        let spec = RecordedAnalysis(file: file, measure: measure, pooling: method, ciMethod: ci, level: level,
                                         conditions: conditions, by: option("by"), commonTauSquared: common,
                                         quadraturePoints: points, allowMixedEndpoints: allowMixed,
                                         delimiter: delimiter, label: option("label"))
        return (spec, sha)
    }

    /// Walks the baseline and the new result together; numbers must agree within `rtol`
    /// (|a − b| ≤ rtol·max(|a|, |b|), or both below 1e-300), everything else exactly.
    static func compare(_ old: JSONValue, _ new: JSONValue, path: String, rtol: Double,
                        differences: inout [String], compared: inout Int) {
        let here = path.isEmpty ? "(root)" : path
        func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
        switch (old, new) {
        case (.object(let oldMembers), .object(let members)):
            var seen = Set<String>()
            for (key, value) in members {
                seen.insert(key)
                if key == "input" && path.isEmpty { continue }
                guard let o = oldMembers.first(where: { $0.0 == key })?.1 else { differences.append("\(child(key)): new, not in the baseline"); continue }
                compare(o, value, path: child(key), rtol: rtol, differences: &differences, compared: &compared)
            }
            for (key, _) in oldMembers where !seen.contains(key) {
                differences.append("\(child(key)): in the baseline, missing now")
            }
        case (.array(let oldItems), .array(let items)):
            if oldItems.count != items.count { differences.append("\(here): \(oldItems.count) items in the baseline, \(items.count) now"); return }
            for (i, (o, n)) in zip(oldItems, items).enumerated() {
                compare(o, n, path: "\(path)[\(i)]", rtol: rtol, differences: &differences, compared: &compared)
            }
        case (.number, _), (.integer, _), (_, .number), (_, .integer):
            guard let a = old.doubleValue, let b = new.doubleValue else {
                differences.append("\(here): \(describe(old)) in the baseline, \(describe(new)) now"); return
            }
            compared += 1
            let scale = max(abs(a), abs(b))
            if abs(a - b) > rtol * scale && scale > 1e-300 {
                let relative = abs(a - b) / scale
                differences.append("\(here): \(a) in the baseline, \(b) now (relative difference \(String(format: "%.2e", relative)))")
            }
        default:
            if old != new { differences.append("\(here): \(describe(old)) in the baseline, \(describe(new)) now") }
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .object: "an object"
        case .array: "an array"
        default: value.serialized()
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

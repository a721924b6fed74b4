// `metapool check`: re-run recorded analyses and fail on drift, for CI; `--junit` writes a report
// for CI dashboards and `--update` re-records the baselines.

import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials  // URL, FileManager; full Foundation is not linked (start-up time, issue 15)
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc  // stat
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MetaPool

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Re-run the analyses recorded in baselines (the JSON of `pool --format json`) and fail on drift.",
        discussion: """
        Each PATH is a baseline or a folder (every *.json in it, sorted by name). One line per \
        baseline: `ok`, `DRIFT` (then what moved) or `ERROR` (why it cannot be used). \
        Exit status: 0 when every number agrees within --rtol and every input is unchanged; 1 on \
        drift or a changed input; 64-70 as for pool when a baseline or its input cannot be used \
        (the first such baseline's status, even when others drifted); 73 when the --junit report \
        or an --update baseline cannot be created, 74 when writing it or standard output fails. \
        The input path is taken as recorded (relative to the working directory), else relative to \
        the baseline's folder. A baseline recorded \
        by another MetaPool version (metapool_version) is checked all the same, with a note.
        """
    )

    @Argument(help: ArgumentHelp("Baseline JSON written by `metapool pool ... --format json`, or a folder of them.", valueName: "path"))
    var paths: [String]

    @Option(help: ArgumentHelp("Relative tolerance for numbers.", valueName: "rtol"))
    var rtol: Double = 1e-9

    @Option(help: ArgumentHelp("Also write a JUnit XML report: one testcase per baseline, a failure for drift, an error for an unusable baseline.", valueName: "file"))
    var junit: String?

    @Flag(help: "Re-record each baseline from its recorded input and options (the same analysis), listing what moved (old → new).")
    var update = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one baseline or folder, e.g. metapool check Baselines/") }
        guard rtol >= 0, rtol.isFinite else { throw ValidationError("--rtol must be a non-negative number, e.g. 1e-9; got \(rtol)") }
        if update && junit != nil { throw ValidationError("--junit reports a check; --update re-records the baselines: give one or the other") }
    }

    /// What became of one baseline.
    struct Outcome {
        enum Verdict: Equatable {
            /// `check`: everything agrees; `--update`: nothing to re-record.
            case ok
            /// `check`: drift or a changed input; `--update`: re-recorded.
            case moved
            /// The baseline or its input cannot be used (or, with --update, written).
            case error(status: Int32)
        }

        var baseline: String
        var verdict: Verdict
        /// The rest of the summary line after `baseline: ` (for errors the reason, without the
        /// baseline's name when the message starts with it).
        var headline: String
        /// What moved, one line each.
        var details: [String] = []
        /// What the reader should know without it failing the check (the version).
        var notes: [String] = []
        /// Wall-clock time spent on it.
        var seconds: Double = 0
        /// The paths of the members that moved (for the JUnit failure message).
        var moved: [String] = []
        /// The whole error message, as on standard error (for the JUnit error's text).
        var errorDescription: String?
    }

    func run() throws {
        var outcomes: [Outcome] = []
        for (baseline, listingError) in Self.baselines(in: paths) {
            let clock = ContinuousClock()
            let start = clock.now
            var outcome: Outcome
            do throws(MetaPoolError) {
                if let listingError { throw listingError }
                outcome = update ? try updating(baseline) : try checking(baseline)
            } catch {
                let description = error.commandLineDescription
                printError("error: \(description)")
                // The summary line names the baseline once ("ERROR b.json: line 2: …").
                var reason = Substring(description)
                for separator in [", ", ": "] where reason.hasPrefix(baseline + separator) {
                    reason = reason.dropFirst(baseline.count + separator.count)
                }
                outcome = Outcome(baseline: baseline, verdict: .error(status: ExitStatus.code(for: error)), headline: String(reason),
                                  errorDescription: description)
            }
            outcome.seconds = Self.seconds(clock.now - start)
            // Flushed: each line as soon as it is known, in order with the errors on stderr (CI logs).
            StandardOutput.writeNow(Self.render(outcome, updating: update))
            outcomes.append(outcome)
        }
        if outcomes.count > 1 { StandardOutput.writeNow(Self.tally(outcomes, updating: update) + "\n") }
        if let junit {
            let report = JUnitReport(outcomes: outcomes, rtol: rtol).xml()
            do {
                let folder = URL(fileURLWithPath: junit).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                printError("error: cannot write the JUnit report \(junit): \(Self.describe(error))")
                throw ExitCode(StandardOutput.cannotCreateStatus)
            }
            do {
                try OutputFile.write(report, to: junit, atomically: true)
            } catch {
                printError("error: the JUnit report: \(error.message)")
                throw ExitCode(error.status)
            }
        }
        for outcome in outcomes { if case .error(let status) = outcome.verdict { throw ExitCode(status) } }
        if !update && outcomes.contains(where: { $0.verdict == .moved }) { throw ExitCode(1) }
    }

    /// The baselines the arguments name, in order: a file as given, a folder's `*.json` files
    /// (not hidden ones) sorted by name. A folder that cannot be listed or holds none is an error.
    static func baselines(in paths: [String]) -> [(String, MetaPoolError?)] {
        var out: [(String, MetaPoolError?)] = []
        let fm = FileManager.default
        for path in paths {
            guard Self.isFolder(path) else {
                out.append((path, nil)); continue
            }
            let names: [String]
            do {
                names = try fm.contentsOfDirectory(atPath: path)
            } catch {
                out.append((path, MetaPoolError(.unreadableInput, "cannot list the folder (\(Self.describe(error)))", at: InputLocation(file: path))))
                continue
            }
            let prefix = path.hasSuffix("/") ? path : path + "/"
            let files = names.filter { name in
                guard name.hasSuffix(".json"), !name.hasPrefix(".") else { return false }
                return Self.isFile(prefix + name)
            }.sorted()
            if files.isEmpty {
                out.append((path, MetaPoolError(.unreadableInput, "the folder holds no *.json baseline; record one with metapool pool FILE --format json > \(prefix)NAME.json", at: InputLocation(file: path))))
            }
            out += files.map { (prefix + $0, nil) }
        }
        return out
    }

    /// Whether `path` is a folder, following symbolic links (FileManager's `fileExists(atPath:isDirectory:)`).
    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` exists and is not a folder, following symbolic links.
    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR
    }

    #if canImport(FoundationEssentials)
    /// What FileManager's error says, in the words full Foundation's `localizedDescription` gave
    /// it on Linux (swift-corelibs-foundation's reasons for the file errors of `CocoaError`), so
    /// that the messages did not change when Foundation was dropped for FoundationEssentials.
    static func describe(_ error: any Error) -> String {
        guard let cocoa = error as? CocoaError else { return String(describing: error) }
        let reason: String? = switch cocoa.code.rawValue {
        case 4, 260: "The file doesn’t exist."
        case 255: "The file couldn’t be locked."
        case 257, 513: "You don’t have permission."
        case 258, 514: "The file name is invalid."
        case 259: "The file isn’t in the correct format."
        case 261, 517: "The specified text encoding isn’t applicable."
        case 262, 518: "The specified URL type isn’t supported."
        case 263: "The item is too large."
        case 264: "The text encoding of the contents couldn’t be determined."
        case 516: "A file with the same name already exists."
        case 640: "There isn’t enough space."
        case 642: "The volume is read only."
        default: nil
        }
        return "The operation could not be completed. " + (reason ?? "(NSCocoaErrorDomain error \(cocoa.code.rawValue).)")
    }
    #else
    static func describe(_ error: any Error) -> String { error.localizedDescription }
    #endif

    /// One baseline read, its analysis re-run, and what differs.
    struct Comparison {
        var baseline: Baseline
        var now: Baseline.Rerun
        var differences: [Difference] = []
        /// How many numbers were compared.
        var compared = 0
    }

    /// Reads the baseline at `path`, refuses it if `validate` throws, re-runs its analysis and
    /// compares the two (shared by `checking` and `updating`).
    func comparing(_ path: String, validating validate: (JSONValue) throws(MetaPoolError) -> Void = { _ in }) throws(MetaPoolError) -> Comparison {
        let baseline = try Baseline(path: path)
        try validate(baseline.recorded)
        var comparison = Comparison(baseline: baseline, now: try baseline.rerun())
        Difference.compare(baseline.recorded, comparison.now.json, rtol: rtol,
                           differences: &comparison.differences, compared: &comparison.compared)
        return comparison
    }

    /// Checks one baseline: the re-run analysis against the recorded one. A number in it that is
    /// not finite makes it malformed (it would agree with anything), not drift.
    func checking(_ path: String) throws(MetaPoolError) -> Outcome {
        let comparison = try comparing(path) { recorded throws(MetaPoolError) in
            try Baseline.requireWellFormed(recorded, baseline: path)
        }
        let (baseline, now, compared) = (comparison.baseline, comparison.now, comparison.compared)
        var differences = comparison.differences
        let version = baseline.versionNote()
        if let difference = version.difference { differences.insert(difference, at: 0) }
        let notes = version.note.map { [$0] } ?? []
        let inputChanged = now.sha256 != baseline.sha256
        if differences.isEmpty && !inputChanged {
            return Outcome(baseline: path, verdict: .ok,
                           headline: "\(compared) numbers within rtol \(rtol); input unchanged (sha256 \(baseline.sha256.prefix(12))…)",
                           notes: notes)
        }
        var details: [String] = []
        if inputChanged {
            details.append("input \(baseline.inputPath) changed: sha256 \(baseline.sha256) in the baseline, \(now.sha256) now")
        }
        details += differences.map(\.checkLine)
        let members = Self.count(differences.count, "member", "members") + " moved"
        return Outcome(baseline: path, verdict: .moved,
                       headline: (inputChanged ? "input changed; " : "") + members + " (rtol \(rtol))",
                       details: details, notes: notes, moved: differences.map(\.path))
    }

    /// Re-records one baseline from its input and options, listing what moved; the file is
    /// rewritten (as `pool --format json` prints it) only when something did, and numbers that
    /// agree within --rtol keep their recorded digits (--rtol 0 re-records every digit).
    func updating(_ path: String) throws(MetaPoolError) -> Outcome {
        let comparison = try comparing(path)
        let (baseline, now, compared) = (comparison.baseline, comparison.now, comparison.compared)
        var differences = comparison.differences
        let current = JSONValue.string(MetaPoolVersion.current)
        switch baseline.version {
        case nil: differences.insert(Difference(path: "metapool_version", change: .added(current)), at: 0)
        case let old? where old != current:
            differences.insert(Difference(path: "metapool_version", change: .value(old: old, new: current, relative: nil)), at: 0)
        default: break
        }
        let inputChanged = now.sha256 != baseline.sha256
        // Numbers within rtol keep their recorded digits: the file changes where something moved.
        let merged = Difference.merge(baseline.recorded, now.json, rtol: rtol)
        if merged == baseline.recorded {
            return Outcome(baseline: path, verdict: .ok, headline: "\(compared) numbers within rtol \(rtol); input unchanged")
        }
        var details: [String] = []
        if inputChanged {
            details.append("input \(baseline.inputPath) changed: sha256 \(baseline.sha256) → \(now.sha256) (recorded)")
        }
        details += differences.map(\.updateLine)
        if details.isEmpty { details.append("the members re-recorded in the order pool writes them") }
        do {
            try OutputFile.write(merged.serialized() + "\n", to: path, atomically: true)
        } catch {
            printError("error: \(error.message)")
            return Outcome(baseline: path, verdict: .error(status: error.status), headline: error.message, errorDescription: error.message)
        }
        let members = Self.count(differences.count, "member", "members") + " moved"
        return Outcome(baseline: path, verdict: .moved, headline: (inputChanged ? "input changed; " : "") + members,
                       details: details, moved: differences.map(\.path))
    }

    /// The summary line of one baseline, then what moved and the notes, indented.
    static func render(_ outcome: Outcome, updating: Bool) -> String {
        let label = switch (outcome.verdict, updating) {
        case (.ok, false): "ok   "
        case (.moved, false): "DRIFT"
        case (.ok, true): "unchanged"
        case (.moved, true): "updated"
        case (.error, _): "ERROR"
        }
        // Paths, labels and recorded strings come from files: each line is one line, shown safely.
        let safe = SafeText.terminal
        var out = "\(label) \(safe(outcome.baseline)): \(safe(outcome.headline))\n"
        for line in outcome.details { out += "  \(safe(line))\n" }
        for note in outcome.notes { out += "  note: \(safe(note))\n" }
        return out
    }

    /// The last line when there was more than one baseline.
    static func tally(_ outcomes: [Outcome], updating: Bool) -> String {
        let ok = outcomes.filter { $0.verdict == .ok }.count
        let moved = outcomes.filter { $0.verdict == .moved }.count
        let errors = outcomes.count - ok - moved
        return updating
            ? "\(outcomes.count) baselines: \(moved) updated, \(ok) unchanged, \(errors) ERROR"
            : "\(outcomes.count) baselines: \(ok) ok, \(moved) DRIFT, \(errors) ERROR"
    }

    static func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

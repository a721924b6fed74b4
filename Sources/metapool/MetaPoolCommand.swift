// The `metapool` command-line tool: one ParsableCommand per subcommand.

import ArgumentParser
import MetaPool
#if canImport(Glibc)
@preconcurrency import Glibc  // exit, stderr, fwrite
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct MetaPoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metapool",
        abstract: "Meta-analysis of response rates, ratios and generic effects, matching R's metafor.",
        discussion: """
        Exit status: 0 success; 1 `check` found drift or a changed input; 64 usage error (unknown option or value); 65 data error \
        (bad cell, missing column, too few studies, endpoints mixed); 66 input file missing or unreadable; \
        70 an estimator did not converge; 73 an output file (-o, check --junit, check --update) cannot be created; \
        74 writing the output failed (standard output or a file: disk full, I/O error).
        """,
        version: MetaPoolVersion.current,
        subcommands: [PoolCommand.self, RegressCommand.self, SensitivityCommand.self, BiasCommand.self, ForestCommand.self, FunnelCommand.self, ReportCommand.self, CheckCommand.self]
    )

    /// ArgumentParser's `main`, with two changes. Standard output is flushed and checked before
    /// exiting: output that could not be written (a full disk, /dev/full) exits 74 with a message,
    /// never 0. And its messages, which quote the values given on the command line ("The value '…'
    /// is invalid for '--measure'"), show control and bidi characters escaped
    /// (``SafeText/terminal(_:)``) line by line, as every message of this tool does.
    static func main() async {
        var status: Int32 = 0
        do {
            var command = try parseCommand()
            if let pool = command as? PoolCommand, !pool.batch {
                // `pool` on one analysis stays on this thread (PoolCommand.runSingle): at start-up,
                // a thread of the global executor would cost more than the analysis.
                try pool.runSingle()
            } else if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            status = exitCode(for: error).rawValue
            let message = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false)
                .map { SafeText.terminal(String($0)) }.joined(separator: "\n")
            if status == 0 {
                // --help and --version: their text is the output.
                if !message.isEmpty { print(message) }
            } else {
                if let problem = StandardOutput.finish() {
                    printError("error: \(problem)")
                    // A status of its own already says the run failed; drift (1) loses its report.
                    terminate(status == 1 ? StandardOutput.ioErrorStatus : status)
                }
                if !message.isEmpty {
                    var stderr = StandardError()
                    print(message, to: &stderr)
                }
                terminate(status)
            }
        }
        if let problem = StandardOutput.finish() {
            printError("error: \(problem)")
            status = StandardOutput.ioErrorStatus
        }
        terminate(status)
    }
}

extension MetaPoolCommand {
    /// The command line parsed, as `parseAsRoot()` parses it. `metapool SUBCOMMAND ...` is first
    /// parsed with the subcommand as the root: ArgumentParser's pass over the root command, looking
    /// for the subcommand, builds the subcommand's whole option set by reflection twice over (to ask
    /// whether it takes pass-through arguments), which was a sixth of `pool`'s start-up time
    /// (issue 15). Only a successful parse to that subcommand is kept; anything else (help,
    /// --version, a usage error, completion scripts) is parsed again the full way, so every message
    /// and exit status is the full parser's, and the warnings that the subcommand's `validate()`
    /// gave during the shortcut are dropped rather than printed twice.
    static func parseCommand() throws -> ParsableCommand {
        let arguments = bayesMethodAlias(Array(CommandLine.arguments.dropFirst()))
        if let name = arguments.first,
           let subcommand = configuration.subcommands.first(where: { $0.configuration.commandName == name }) {
            heldWarnings = []
            let shortcut = try? subcommand.parseAsRoot(Array(arguments.dropFirst()))
            let warnings = heldWarnings ?? []
            heldWarnings = nil
            if let command = shortcut, ObjectIdentifier(type(of: command)) == ObjectIdentifier(subcommand) {
                for warning in warnings { warn(warning) }
                return command
            }
        }
        return try parseAsRoot(arguments)
    }
}

extension MetaPoolCommand {
    /// The commands that fit the Bayesian model (`--bayes`).
    static let bayesCommands: Set<String> = ["pool", "forest", "report"]

    /// `--method BAYES` (any case, or `--method=BAYES`) as `--bayes` for `pool`, `forest` and `report`:
    /// the Bayesian model named where the other models are. Arguments after `--` are left alone, and
    /// the other commands get `BAYES` as written (ArgumentParser then names the values `--method` takes).
    static func bayesMethodAlias(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, bayesCommands.contains(command) else { return arguments }
        var out: [String] = [command]
        var bayes = false
        func flag() {
            // `--bayes` given both ways is one request.
            if !bayes { out.append("--bayes") }
            bayes = true
        }
        var i = 1
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" {
                out += arguments[i...]
                break
            }
            if a == "--method", i + 1 < arguments.count, arguments[i + 1].uppercased() == "BAYES" {
                flag()
                i += 2
                continue
            }
            if a == "--bayes" || a.lowercased() == "--method=bayes" { flag() } else { out.append(a) }
            i += 1
        }
        return out
    }
}

/// Exit statuses (sysexits.h), documented in the README.
enum ExitStatus {
    static let usage: Int32 = 64
    static let data: Int32 = 65
    static let noInput: Int32 = 66
    static let software: Int32 = 70

    static func code(for error: MetaPoolError) -> Int32 {
        switch error.kind {
        case .unreadableInput: noInput
        case .invalidArgument: usage
        case .noConvergence, .unavailableLibrary: software
        case .notUTF8, .emptyInput, .malformedInput, .missingColumn, .invalidValue, .insufficientData, .mixedOutcomes: data
        }
    }
}

/// Prints a library error to standard error and exits with its status.
func fail(_ error: MetaPoolError) -> ExitCode {
    printError("error: \(error.commandLineDescription)")
    return ExitCode(ExitStatus.code(for: error))
}

extension MetaPoolError {
    /// The sentence without the location (for a row of batch output).
    var commandLineSentence: String {
        var bare = self
        bare.location = InputLocation()
        return bare.commandLineDescription
    }

    /// The message with the library's settings and remedies named by this tool's options.
    var commandLineDescription: String {
        description(setting: { setting in
            switch setting {
            case .moderators: "--mods"
            case .subgroups: "--by"
            case .commonTauSquared: "--common-tau2"
            case .rowSelection: "--where"
            case .dropDoubleZero: "--drop00"
            case .studyLabels: "--label"
            case .cluster: "--cluster"
            }
        }, remedy: { remedy in
            switch remedy {
            case .methods(let m):
                m == ["FE"] ? "(use --method FE for a single study)" : "(try --method \(m.joined(separator: " or ")))"
            case .intervals(let i):
                "; use " + i.map { "--ci \($0)" }.joined(separator: " or ")
            case .measure: "; choose with --measure"
            case .outcome(let column, let example):
                "; select one with --where \(column)=\(example.contains(" ") ? "\"\(example)\"" : example) (repeat --where to pool chosen values together), compare them with --by \(column), or pool them anyway with --allow-mixed-endpoints"
            case .dropMissing: "(fill it in, remove the row, or give --drop-missing to leave such rows out)"
            }
        })
    }
}

/// Writes one message to standard error. Messages name labels, values and paths from the input,
/// so control and bidi characters in them are shown escaped (``SafeText/terminal(_:)``); a leading
/// carriage return (a progress line that rewrites itself) is the one kept.
func printError(_ message: String, terminator: String = "\n") {
    var stderr = StandardError()
    let rewrite = message.hasPrefix("\r")
    let text = SafeText.terminal(rewrite ? String(message.dropFirst()) : message)
    print((rewrite ? "\r" : "") + text, terminator: terminator, to: &stderr)
}

/// C's `exit` (standard output flushed), named apart from ArgumentParser's `exit(withError:)`.
func terminate(_ status: Int32) -> Never { exit(status) }

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        // C's unbuffered `stderr`: each piece is written at once, in order with standard output's
        // flushes; a failed write to standard error is ignored.
        var text = string
        text.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stderr) }
    }
}

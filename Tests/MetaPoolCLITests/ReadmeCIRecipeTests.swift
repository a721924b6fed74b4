// The README's CI recipe and `metapool check` examples run as written: every `metapool` command
// of the GitHub Actions job exits 0 in the repository folder, and every `$ ` line of the
// "Regression checks" block prints what the README shows.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MetaPoolTestSupport

@Suite("README: the CI recipe and the check examples run as written")
struct ReadmeCIRecipeTests {
    static let repository = FixtureFolder.root

    static func readme() throws -> String {
        try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The first fenced block (its opening fence starting with "```" + `language`) after `heading`.
    static func block(after heading: String, language: String = "") throws -> String {
        let text = try readme()
        let start = try #require(text.range(of: heading), "README has no \(heading)")
        let open = try #require(text.range(of: "```" + language + "\n", range: start.upperBound..<text.endIndex), "no ```\(language) block after \(heading)")
        let close = try #require(text.range(of: "\n```", range: open.upperBound..<text.endIndex))
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// The `run:` commands of a GitHub Actions YAML: `run: COMMAND` on one line, or a `run: |`
    /// (or `>`) block of the lines indented below it, one command per line.
    static func runCommands(_ yaml: String) -> [String] {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func indent(_ line: String) -> Int { line.prefix { $0 == " " }.count }
        var commands: [String] = []
        var i = 0
        while i < lines.count {
            var line = Substring(lines[i].drop { $0 == " " })
            if line.hasPrefix("- ") { line = line.dropFirst(2).drop { $0 == " " } }
            guard line.hasPrefix("run:") else { i += 1; continue }
            let value = line.dropFirst(4).trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("|") || value.hasPrefix(">") {
                let keyIndent = indent(lines[i])
                i += 1
                while i < lines.count, lines[i].trimmingCharacters(in: .whitespaces).isEmpty || indent(lines[i]) > keyIndent {
                    let command = lines[i].trimmingCharacters(in: .whitespaces)
                    if !command.isEmpty && !command.hasPrefix("#") { commands.append(command) }
                    i += 1
                }
            } else {
                commands.append(value)
                i += 1
            }
        }
        return commands
    }

    /// Splits a shell command line into words: whitespace separates, single and double quotes
    /// group, a backslash escapes the next character (outside single quotes).
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in command {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" && quote != "'" { escaped = true; inWord = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }

    @Test("the YAML parsing finds one-line and block run: commands")
    func parsing() {
        let yaml = """
        steps:
          - run: echo one
          - name: two
            run: |
              metapool check a.json
              # a comment
              echo 'b c'
          - uses: x
        """
        #expect(Self.runCommands(yaml) == ["echo one", "metapool check a.json", "echo 'b c'"])
        #expect(Self.words("swift run metapool check \"a b\" 'c d' e\\ f") == ["swift", "run", "metapool", "check", "a b", "c d", "e f"])
    }

    @Test("the GitHub Actions job bootstraps, builds, and each metapool command in it exits 0 in the repository")
    func ciRecipe() throws {
        let yaml = try Self.block(after: "### Use in CI", language: "yaml")
        let commands = Self.runCommands(yaml)
        #expect(commands.contains("scripts/bootstrap.sh"), "\(commands)")
        #expect(commands.contains { $0.hasPrefix("swift build") }, "\(commands)")
        #expect(FileManager.default.isExecutableFile(atPath: Self.repository.appendingPathComponent("scripts/bootstrap.sh").path))
        let metapool = commands.map(Self.words).compactMap { words in words.firstIndex(of: "metapool").map { Array(words[($0 + 1)...]) } }
        #expect(metapool.contains { $0.first == "check" && $0.contains("Baselines/") && $0.contains("--junit") }, "\(commands)")
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        for arguments in metapool {
            let result = try MetapoolBinary.run(binary, arguments, in: Self.repository, stdinFile: nil)
            #expect(result.status == 0, "metapool \(arguments.joined(separator: " ")): \(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            // The report the job keeps: one testcase per committed baseline, none failed.
            if let i = arguments.firstIndex(of: "--junit"), i + 1 < arguments.count {
                let report = Self.repository.appendingPathComponent(arguments[i + 1])
                let root = try #require(try XMLDocument(contentsOf: report, options: []).rootElement())
                let baselines = FixtureFolder.names(in: Self.repository.appendingPathComponent("Baselines"), suffix: ".json")
                #expect(SVGCheck.string(root, "tests") == "\(baselines.count)")
                #expect(SVGCheck.string(root, "failures") == "0" && SVGCheck.string(root, "errors") == "0")
            }
        }
    }

    @Test("every $ line of the Regression checks block prints what the README shows")
    func checkExamples() throws {
        let block = try Self.block(after: "### Regression checks: `metapool check`")
        // Commands and the output that follows each.
        var steps: [(command: String, output: [String])] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("$ ") {
                steps.append((String(line.dropFirst(2)), []))
            } else {
                try #require(!steps.isEmpty, "output before the first command: \(line)")
                steps[steps.count - 1].output.append(line)
            }
        }
        #expect(steps.count >= 5)
        #expect(steps.allSatisfy { $0.command.hasPrefix("metapool ") || $0.command.hasPrefix("mkdir ") || $0.command.hasPrefix("sed ") })
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        // /tmp/ of the README is a fresh folder here, so that runs do not meet.
        let scratch = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tmp = scratch.path + "/"
        // `metapool` on PATH: a link to the built binary (METAPOOL_BINARY may have another name).
        let bin = scratch.appendingPathComponent(".bin", isDirectory: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("metapool"), withDestinationURL: binary)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for step in steps {
            let command = step.command.replacingOccurrences(of: "/tmp/", with: tmp)
            let result = try Self.shell(command, path: path)
            let printed = result.stdout.replacingOccurrences(of: tmp, with: "/tmp/")
            let expected = step.output.isEmpty ? "" : step.output.joined(separator: "\n") + "\n"
            #expect(printed == expected, "$ \(step.command)\nprinted:\n\(printed)\nstderr: \(result.stderr)")
            #expect(result.stderr.isEmpty, "$ \(step.command): \(result.stderr)")
        }
        // The --junit example wrote its report.
        #expect(FileManager.default.fileExists(atPath: tmp + "metapool-baselines.xml"))
    }

    /// Runs `command` with /bin/sh in the repository folder, `metapool` found on `path`.
    static func shell(_ command: String, path: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = repository
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = path
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }
}

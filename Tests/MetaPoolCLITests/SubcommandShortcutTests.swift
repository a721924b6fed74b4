// `metapool SUBCOMMAND ...` is parsed first with the subcommand as ArgumentParser's root
// (MetaPoolCommand.parseCommand, for start-up time); whatever that parse cannot settle is parsed
// again the full way. These command lines are the ones where the two parses could part: words
// that the root treats specially (help, --version, completion scripts) after the subcommand.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("the subcommand shortcut answers as the full parse does")
struct SubcommandShortcutTests {
    static let bcg = "Datasets/bcg-vaccine.csv"

    static func run(_ arguments: [String]) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
    }

    @Test("--generate-completion-script after pool's arguments prints the completion script, as at the root")
    func completionScriptAfterPool() throws {
        let root = try Self.run(["--generate-completion-script", "bash"])
        #expect(root.status == 0 && root.stdout.hasPrefix("#!/bin/bash\n"), "\(root.stderr)")
        for arguments in [["pool", Self.bcg, "--generate-completion-script", "bash"], ["pool", "--generate-completion-script", "bash"]] {
            let result = try Self.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout == root.stdout, "\(arguments)")
        }
    }

    @Test("pool --version prints the version; 'help' after pool is a file name, not the help command")
    func rootWordsAfterPool() throws {
        let version = try Self.run(["--version"])
        let afterPool = try Self.run(["pool", "--version"])
        #expect(afterPool.status == 0 && afterPool.stdout == version.stdout && !version.stdout.isEmpty, "\(afterPool.stderr)")
        let help = try Self.run(["pool", "help"])
        #expect(help.status == 66)
        #expect(help.stderr == "error: help: no such file; check the path\n", "\(help.stderr)")
        let dashed = try Self.run(["pool", "--", "--generate-completion-script"])
        #expect(dashed.status == 66)
        #expect(dashed.stderr == "error: --generate-completion-script: no such file; check the path\n", "\(dashed.stderr)")
    }
}

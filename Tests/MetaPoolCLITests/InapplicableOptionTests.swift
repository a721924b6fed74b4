// Options that cannot change the result get one `warning:` line on standard error, and the
// result is the same as without them (exit 0); funnel's trim-and-fill takes --side as metafor's
// trimfill(side =) does.

import Foundation
import Testing
@testable import MetaPoolTestSupport

@Suite("inapplicable options: a warning, the same result")
struct InapplicableOptionTests {
    static let bcg = "Datasets/bcg-vaccine.csv"
    static let pritz = "Datasets/pritz1997-hyperdynamic-therapy.csv"

    static func run(_ arguments: [String]) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        return try MetapoolBinary.run(binary, arguments, in: FixtureFolder.root, stdinFile: nil)
    }

    @Test("each inapplicable option: exit 0, one warning line, output as without it",
          arguments: [
            (["pool", bcg], ["--quadrature-points", "3"], "warning: --quadrature-points has no effect without --method GLMM (ignored)"),
            (["pool", bcg, "--method", "MH"], ["--quadrature-points", "3"], "warning: --quadrature-points has no effect without --method GLMM (ignored)"),
            (["forest", bcg, "-o", "-"], ["--quadrature-points", "3"], "warning: --quadrature-points has no effect without --method GLMM (ignored)"),
            (["sensitivity", bcg], ["--quadrature-points", "3"], "warning: --quadrature-points has no effect without --method GLMM (ignored)"),
            (["pool", bcg, "--method", "MH"], ["--hr-level", "0.9"], "warning: --hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); --method MH has none (ignored)"),
            (["pool", pritz, "--measure", "PLO"], ["--hr-level", "90"], "warning: --hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); --measure PLO has none (ignored)"),
            (["pool", pritz], ["--hr-level", "90"], "warning: --hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); the input has none (ignored)"),
            (["sensitivity", bcg], ["--hr-level", "0.9"], "warning: --hr-level applies to hazard-ratio intervals (hr_lower, hr_upper); the input has none (ignored)"),
            (["pool", bcg], ["--jobs", "2"], "warning: --jobs sets the parallel tasks of --batch; it has no effect without --batch (ignored)"),
            (["pool", bcg], ["--batch-column", "trial"], "warning: --batch-column names the analysis column of --batch; it has no effect without --batch (ignored)"),
            (["regress", bcg, "--mods", "latitude"], ["--seed", "7"], "warning: --seed sets the random permutations of --permutations; it has no effect without it (ignored)"),
            (["funnel", bcg, "-o", "-"], ["--side", "left"], "warning: --side sets the side of --trimfill; it has no effect without --trimfill (ignored)"),
            (["pool", bcg], ["--study-ci", "cp"], "warning: --study-ci cp applies to proportions (events, total); the input gives OR effects, not events and totals (ignored)"),
            (["pool", bcg, "--measure", "RR"], ["--study-ci", "wilson"], "warning: --study-ci wilson applies to proportions (events, total); --measure RR has none (ignored)"),
            (["forest", bcg, "-o", "-"], ["--study-ci", "jeffreys"], "warning: --study-ci jeffreys applies to proportions (events, total); the input gives OR effects, not events and totals (ignored)"),
            (["report", bcg, "-o", "-"], ["--study-ci", "wald"], "warning: --study-ci wald applies to proportions (events, total); the input gives OR effects, not events and totals (ignored)"),
            (["pool", bcg, "--format", "csv"], ["--study-ci", "cp"], "warning: --study-ci cp applies to proportions (events, total); the input gives OR effects, not events and totals (ignored)"),
          ] as [([String], [String], String)])
    func warns(_ base: [String], _ extra: [String], _ warning: String) throws {
        let plain = try Self.run(base)
        let with = try Self.run(base + extra)
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(base): \(plain.stderr)")
        #expect(with.status == 0, "\(base + extra): \(with.stderr)")
        #expect(with.stderr == warning + "\n", "\(with.stderr)")
        #expect(with.stdout == plain.stdout, "the output changed with \(extra)")
    }

    @Test("a warning given before a usage error or --help is printed once (the parse that stops is repeated the full way)")
    func warningOnceWhenTheParseStops() throws {
        let warning = "warning: --pi sets the prediction interval; --method FE is a common-effect model, which has none (ignored)\n"
        let refused = try Self.run(["pool", Self.bcg, "--pi", "t", "--method", "FE", "--threshold", "0.3", "--by", "alloc"])
        #expect(refused.status == 64)
        #expect(refused.stderr == warning + """
            Error: --threshold gives the probabilities of one pooled analysis; it cannot be combined with --by
            Usage: metapool pool [<options>] <file>
              See 'metapool pool --help' for more information.

            """, "\(refused.stderr)")
        let help = try Self.run(["pool", Self.bcg, "--pi", "t", "--method", "FE", "--help"])
        #expect(help.status == 0 && help.stdout.hasPrefix("OVERVIEW: Pool the studies"), "\(help.stdout)")
        #expect(help.stderr == warning, "\(help.stderr)")
    }

    @Test("options that apply give no warning")
    func applicableOptionsAreQuiet() throws {
        for arguments in [["pool", Self.bcg, "--method", "GLMM", "--quadrature-points", "3"],
                          ["regress", Self.bcg, "--mods", "latitude", "--permutations", "100", "--seed", "7"],
                          ["funnel", Self.bcg, "-o", "-", "--trimfill", "--side", "left"],
                          ["pool", "Datasets/her2-bm-hazard-ratios.csv", "--where", "endpoint=PFS", "--hr-level", "0.95"]] {
            let result = try Self.run(arguments)
            #expect(result.status == 0 && result.stderr.isEmpty, "\(arguments): \(result.stderr)")
        }
    }

    /// The trim-and-fill of `bias --format json` for `side`.
    static func trimAndFill(_ side: String) throws -> [String: Any] {
        let result = try Self.run(["bias", Self.bcg, "--side", side, "--format", "json"])
        try #require(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(json["trim_and_fill"] as? [String: Any], "\(json.keys)")
    }

    @Test("funnel --trimfill --side draws the studies trim-and-fill imputes on that side (as bias --side)",
          arguments: ["left", "right"])
    func funnelSide(_ side: String) throws {
        let fill = try Self.trimAndFill(side)
        #expect(fill["side"] as? String == side)
        let filled = try #require(fill["filled"] as? [[String: Any]]).compactMap { ($0["yi"] as? NSNumber)?.doubleValue }
        let result = try Self.run(["funnel", Self.bcg, "-o", "-", "--trimfill", "--side", side])
        #expect(result.status == 0, "\(result.stderr)")
        let drawn = result.stdout.components(separatedBy: "class=\"point filled\"").dropFirst().compactMap { circle in
            circle.components(separatedBy: "data-effect=\"").dropFirst().first?.components(separatedBy: "\"").first.flatMap(Double.init)
        }
        #expect(drawn.count == filled.count, "\(side): \(drawn.count) open circles, trim-and-fill imputes \(filled.count)")
        #expect(drawn.sorted() == filled.sorted(), "\(drawn) vs \(filled)")
    }

    @Test("funnel --side gives trim-and-fill a side it cannot choose itself (equal variances)")
    func funnelSideWhenItCannotBeChosen() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("equal.csv")
        try "study,yi,vi\na,0.1,0.04\nb,0.3,0.04\nc,0.5,0.04\nd,0.9,0.04\ne,1.4,0.04\n".write(to: file, atomically: true, encoding: .utf8)
        let chosen = try Self.run(["funnel", file.path, "-o", "-", "--trimfill"])
        #expect(chosen.status == 65, "\(chosen.stderr)")
        #expect(chosen.stderr.contains("cannot be chosen"), "\(chosen.stderr)")
        for side in ["left", "right"] {
            let given = try Self.run(["funnel", file.path, "-o", "-", "--trimfill", "--side", side])
            #expect(given.status == 0, "\(side): \(given.stderr)")
            #expect(given.stdout.hasPrefix("<svg") || given.stdout.hasPrefix("<?xml"), "\(given.stdout.prefix(80))")
        }
    }
}

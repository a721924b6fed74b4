// `metapool check` on baselines edited by hand or by an attacker: a number that overflows to
// infinity, an integer written with a fraction, null, a string, a missing or extra key, a
// shorter array, a repeated key, an unknown measure and options `pool` refuses. None of them may
// count as agreeing (exit 0); a malformed baseline is an error (65) naming the file and the
// JSON path, a changed value is drift (1).

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool check: malformed and edited baselines never pass")
struct CheckBaselineIntegrityTests {
    /// A copy of `pritz1997-reml.json` (or `name`) and its input in a scratch folder, edited by
    /// `edit` on the parsed JSON and written as `edited.json`; returns the check's result.
    static func check(_ name: String = "pritz1997-reml.json", extra: [String] = [],
                      edit: (inout [(String, JSONValue)]) throws -> Void) throws -> MetapoolBinary.Result {
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try CheckCommandTests.copyOfBaseline(name, into: dir)
        guard case .object(var members) = try JSONValue.parse(json, source: name) else {
            Issue.record("\(name) is not an object"); return try CheckCommandTests.run(["check"], in: dir)
        }
        try edit(&members)
        try JSONValue.object(members).serialized().write(to: dir.appendingPathComponent("edited.json"), atomically: true, encoding: .utf8)
        return try CheckCommandTests.run(["check", "edited.json"] + extra, in: dir)
    }

    /// The same with the baseline's text edited (for what JSONValue cannot hold: 1e999, NaN, a repeated key).
    static func check(text transform: (String) throws -> String, extra: [String] = []) throws -> MetapoolBinary.Result {
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try CheckCommandTests.copyOfBaseline("pritz1997-reml.json", into: dir)
        let edited = try transform(json)
        #expect(edited != json, "the edit changed nothing")
        try edited.write(to: dir.appendingPathComponent("edited.json"), atomically: true, encoding: .utf8)
        return try CheckCommandTests.run(["check", "edited.json"] + extra, in: dir)
    }

    static func set(_ key: String, _ value: JSONValue, in members: inout [(String, JSONValue)]) throws {
        let i = try #require(members.firstIndex { $0.0 == key }, "no \(key)")
        members[i].1 = value
    }

    static func setOption(_ key: String, _ value: JSONValue, in members: inout [(String, JSONValue)]) throws {
        let i = try #require(members.firstIndex { $0.0 == "options" })
        guard case .object(var options) = members[i].1 else { Issue.record("options is not an object"); return }
        if let j = options.firstIndex(where: { $0.0 == key }) { options[j].1 = value } else { options.append((key, value)) }
        members[i].1 = .object(options)
    }

    /// The malformed-baseline error: 65, one `error:` line naming the file and `needle`, an ERROR line.
    static func expectMalformed(_ result: MetapoolBinary.Result, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let context = "status \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 65, "\(context)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: edited.json: "), "\(context)", sourceLocation: sourceLocation)
        for needle in needles { #expect(result.stderr.contains(needle), "stderr lacks \(needle): \(context)", sourceLocation: sourceLocation) }
        #expect(result.stdout.hasPrefix("ERROR edited.json: "), "\(context)", sourceLocation: sourceLocation)
    }

    /// Drift: 1, a DRIFT line and the member named under it.
    static func expectDrift(_ result: MetapoolBinary.Result, _ line: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let context = "status \(result.status)\nstdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 1, "\(context)", sourceLocation: sourceLocation)
        #expect(result.stdout.hasPrefix("DRIFT edited.json: 1 member moved"), "\(context)", sourceLocation: sourceLocation)
        #expect(result.stdout.contains("\n  \(line)"), "stdout lacks \(line): \(context)", sourceLocation: sourceLocation)
    }

    @Test("a number overflowing to ±infinity is a malformed baseline naming its JSON path, even with --rtol 0",
          arguments: ["1e999", "-1e999"], [[], ["--rtol", "0"]])
    func overflowingNumber(_ literal: String, _ extra: [String]) throws {
        let top = try Self.check(text: { $0.replacing(#/"tau2": [0-9.e-]+/#, with: "\"tau2\": \(literal)", maxReplacements: 1) }, extra: extra)
        Self.expectMalformed(top, ["tau2 is a number too large for a double", literal.hasPrefix("-") ? "-infinity" : "+infinity"])
        // Deep in the forest data too, with the path of the member.
        let deep = try Self.check(text: { json in
            let rows = try #require(json.range(of: "\"rows\": ["))
            let estimate = try #require(json[rows.upperBound...].firstRange(of: #/"estimate": [0-9.e-]+/#))
            return json.replacingCharacters(in: estimate, with: "\"estimate\": \(literal)")
        }, extra: extra)
        Self.expectMalformed(deep, ["forest.rows[0].estimate is a number too large"])
    }

    @Test("check --update re-records a result that overflowed (the options are sound), and it then checks clean")
    func updateRepairsOverflow() throws {
        let dir = try CheckCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try CheckCommandTests.copyOfBaseline("pritz1997-reml.json", into: dir)
        let baseline = dir.appendingPathComponent("edited.json")
        try json.replacing(#/"tau2": [0-9.e-]+/#, with: "\"tau2\": 1e999", maxReplacements: 1).write(to: baseline, atomically: true, encoding: .utf8)
        let updated = try CheckCommandTests.run(["check", "edited.json", "--update"], in: dir)
        #expect(updated.status == 0, "\(updated.stdout)\n\(updated.stderr)")
        #expect(updated.stdout.hasPrefix("updated edited.json: 1 member moved\n  tau2: +infinity → "), "\(updated.stdout)")
        // Only tau2 was rewritten: as computed now (the recorded digits were lost), within 1e-9 of the original.
        let rewritten = try String(contentsOf: baseline, encoding: .utf8)
        let tau2 = { (text: String) throws -> Double in
            let match = try #require(text.firstMatch(of: #/"tau2": ([0-9.e-]+)/#))
            return try #require(Double(match.1))
        }
        let (old, new) = (try tau2(json), try tau2(rewritten))
        #expect(abs(new - old) <= 1e-9 * old, "\(new) vs \(old)")
        #expect(rewritten.replacing(#/"tau2": [0-9.e-]+/#, with: "", maxReplacements: 1)
                == json.replacing(#/"tau2": [0-9.e-]+/#, with: "", maxReplacements: 1))
        let checked = try CheckCommandTests.run(["check", "edited.json"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)\n\(checked.stderr)")
    }

    @Test("an overflowing option (level 1e999) is malformed too")
    func overflowingOption() throws {
        let result = try Self.check(text: { $0.replacingOccurrences(of: "\"level\": 0.95,\n    \"where\"", with: "\"level\": 1e999,\n    \"where\"") })
        Self.expectMalformed(result, ["options.level is a number too large"])
    }

    @Test("integers compare exactly and as integers: k = 14.0000000001 and 14.0 are drift")
    func integerWithFraction() throws {
        for text in ["14.0000000001", "14.0"] {
            let result = try Self.check(text: { $0.replacingOccurrences(of: "\n  \"k\": 14,\n", with: "\n  \"k\": \(text),\n") })
            Self.expectDrift(result, "k: \(text) in the baseline, 14 now")
            #expect(!result.stdout.contains("relative difference"), "\(result.stdout)")
        }
        // The baseline as committed, parsed and written again, still passes (the control).
        let fine = try Self.check { _ in }
        #expect(fine.status == 0, "\(fine.stdout)\n\(fine.stderr)")
    }

    @Test("NaN is not JSON: the baseline cannot be read (65)")
    func notANumber() throws {
        let result = try Self.check(text: { $0.replacing(#/"tau2": [0-9.e-]+/#, with: "\"tau2\": NaN", maxReplacements: 1) })
        #expect(result.status == 65, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: edited.json"), "\(result.stderr)")
    }

    @Test("null for a number, a string for a number, a number for null: drift")
    func typeChanges() throws {
        Self.expectDrift(try Self.check { try Self.set("tau2", .null, in: &$0) }, "tau2: null in the baseline, ")
        Self.expectDrift(try Self.check { try Self.set("tau2", .string("0.1"), in: &$0) }, "tau2: \"0.1\" in the baseline, ")
        Self.expectDrift(try Self.check { try Self.set("k", .string("14"), in: &$0) }, "k: \"14\" in the baseline, 14 now")
        Self.expectDrift(try Self.check { try Self.set("measure", .number(1), in: &$0) }, "measure: 1 in the baseline, ")
        Self.expectDrift(try Self.check { try Self.set("k", .bool(true), in: &$0) }, "k: true in the baseline, 14 now")
    }

    @Test("a missing key, an extra key and a shorter array: drift")
    func structureChanges() throws {
        Self.expectDrift(try Self.check { $0.removeAll { $0.0 == "tau2" } }, "tau2: new, not in the baseline")
        Self.expectDrift(try Self.check { $0.insert(("tau3", .number(0.1)), at: 1) }, "tau3: in the baseline, missing now")
        Self.expectDrift(try Self.check { members in
            let i = try #require(members.firstIndex { $0.0 == "studies" })
            guard case .array(let items) = members[i].1 else { Issue.record("studies is not an array"); return }
            members[i].1 = .array(Array(items.dropLast()))
        }, "studies: 13 items in the baseline, 14 now")
    }

    @Test("a key twice in one object is malformed (only one of them would be compared)")
    func repeatedKey() throws {
        let result = try Self.check(text: { $0.replacingOccurrences(of: "\n  \"k\": 14,\n", with: "\n  \"k\": 14,\n  \"k\": 15,\n") })
        #expect(result.status == 65, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: edited.json"), "\(result.stderr)")
        #expect(result.stderr.contains("\"k\"") || result.stderr.contains(" k "), "\(result.stderr)")
    }

    @Test("an unknown measure, an option of the wrong type or one pool does not record is malformed, not drift")
    func unknownOptions() throws {
        Self.expectMalformed(try Self.check { try Self.setOption("measure", .string("XYZ"), in: &$0) },
                             ["options.measure \"XYZ\" is not a measure"])
        Self.expectMalformed(try Self.check { try Self.setOption("common_tau2", .string("yes"), in: &$0) },
                             ["options.common_tau2 is \"yes\"; expected true or false"])
        Self.expectMalformed(try Self.check { try Self.setOption("by", .integer(3), in: &$0) },
                             ["options.by is 3; expected a string"])
        Self.expectMalformed(try Self.check { try Self.setOption("hr_level", .string("0.9"), in: &$0) },
                             ["options.hr_level is \"0.9\"; expected a number"])
        Self.expectMalformed(try Self.check { try Self.setOption("permutations", .integer(10), in: &$0) },
                             ["options.permutations is not an option pool records"])
    }

    /// pool's usage message for `arguments` (the line after "Error: ").
    static func poolRefusal(_ arguments: [String]) throws -> String {
        let bcg = CheckCommandTests.repository.appendingPathComponent("Datasets/bcg-vaccine.csv").path
        let result = try CheckCommandTests.run(["pool", bcg] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        let line = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("Error: ") }, "\(result.stderr)")
        return String(line.dropFirst("Error: ".count))
    }

    @Test("options pool refuses are refused by check with pool's message",
          arguments: [
            (["--method", "MH", "--ci", "hksj"], [("ci", JSONValue.string("hksj"))]),
            (["--method", "PETO", "--measure", "RR"], [("method", .string("PETO")), ("measure", .string("RR"))]),
            (["--method", "MH", "--measure", "PLO"], [("measure", .string("PLO"))]),
            (["--method", "GLMM", "--measure", "RR"], [("method", .string("GLMM")), ("measure", .string("RR")), ("quadrature_points", .integer(7))]),
            (["--method", "GLMM", "--quadrature-points", "0"], [("method", .string("GLMM")), ("quadrature_points", .integer(0))]),
            (["--method", "MH", "--add", "0.5"], [("add", .number(0.5))]),
            (["--method", "MH", "--drop00"], [("drop00", .bool(true))]),
            (["--method", "MH", "--level", "1.5"], [("level", .number(1.5))]),
            (["--method", "MH", "--common-tau2"], [("common_tau2", .bool(true))]),
            (["--method", "MH", "--by", "allocation", "--common-tau2"], [("by", .string("allocation")), ("common_tau2", .bool(true))]),
          ] as [([String], [(String, JSONValue)])])
    func refusedCombinations(_ poolArguments: [String], _ options: [(String, JSONValue)]) throws {
        let message = try Self.poolRefusal(poolArguments)
        let result = try Self.check("bcg-mh-or.json") { members in
            for (key, value) in options { try Self.setOption(key, value, in: &members) }
        }
        Self.expectMalformed(result, ["the baseline's options are ones pool refuses: " + message])
    }
}

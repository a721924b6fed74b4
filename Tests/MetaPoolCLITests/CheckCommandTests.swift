// `metapool check PATH...` through the built binary: committed baselines pass, a drifted
// number or a changed input fails with exit status 1 and a diff naming what moved, a baseline
// that cannot be used fails like bad input (65/66); folders, the JUnit report, --update and the
// recorded MetaPool version.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool check: regression baselines")
struct CheckCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func committedBaselines() -> [String] {
        let dir = repository.appendingPathComponent("Baselines")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    /// A scratch folder for one test, removed afterwards by the caller.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-check-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func run(_ arguments: [String], in directory: URL = repository) throws -> MetapoolBinary.Result {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle; build it (swift build) or set METAPOOL_BINARY")
        return try MetapoolBinary.run(binary, arguments, in: directory, stdinFile: nil)
    }

    /// Replaces the first `"key": number` in `json` by `transform(number)`, printed with 17 digits.
    static func replacingNumber(_ key: String, in json: String, _ transform: (Double) -> Double) throws -> (String, Double, Double) {
        let marker = "\"\(key)\": "
        let start = try #require(json.range(of: marker), "no \(key) in the baseline")
        let tail = json[start.upperBound...]
        let end = tail.firstIndex(where: { $0 == "," || $0 == "\n" || $0 == "}" }) ?? tail.endIndex
        let old = try #require(Double(tail[..<end]))
        let text = String(format: "%.17g", transform(old))
        let new = try #require(Double(text))
        return (json.replacingCharacters(in: start.upperBound..<end, with: text), old, new)
    }

    @Test("the committed baseline passes unchanged", arguments: committedBaselines())
    func committedBaselinePasses(_ name: String) throws {
        let result = try Self.run(["check", "Baselines/\(name)"])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.hasPrefix("ok    Baselines/\(name): "))
        #expect(result.stdout.contains("input unchanged"))
        #expect(result.stderr.isEmpty)
        // The version that recorded it: one line when it is this one, else the note under it
        // (a new version does not make the committed baselines fail; --update records it).
        let json = try String(contentsOf: Self.repository.appendingPathComponent("Baselines/\(name)"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let version = try #require(object["metapool_version"] as? String, "re-record it: metapool check Baselines/\(name) --update")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let note = "  note: recorded with MetaPool \(version), checking with \(MetaPoolVersion.current)"
        #expect(lines.count == 1 || (version != MetaPoolVersion.current && lines.dropFirst() == [note]), "\(result.stdout)")
    }

    @Test("there are committed baselines for CI")
    func baselinesExist() {
        #expect(Self.committedBaselines().count >= 2)
    }

    @Test("pool --format json records the input's SHA-256 and every option; check re-runs it")
    func poolRecordsInputAndOptions() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // SHA-256 of these exact bytes, from coreutils' sha256sum (an independent implementation).
        let csv = "\"study\",\"events\",\"total\"\n\"a\",4,10\n\"b\",7,12\n\"c\",2,9\n"
        try csv.write(to: dir.appendingPathComponent("arms.csv"), atomically: true, encoding: .utf8)
        let pooled = try Self.run(["pool", "arms.csv", "--method", "PM", "--ci", "hksj", "--level", "0.9",
                                   "--where", "study=a", "--where", "study=b", "--format", "json"], in: dir)
        #expect(pooled.status == 0, "\(pooled.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(pooled.stdout.utf8)) as? [String: Any])
        let input = try #require(object["input"] as? [String: Any])
        #expect(input["path"] as? String == "arms.csv")
        #expect(input["sha256"] as? String == "b40eb04702685d492fe8e5c2ec1a2ffba9635aa1d064c9c0eaa70a04683bcaf0")
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["method"] as? String == "PM")
        #expect(options["ci"] as? String == "hksj")
        #expect((options["level"] as? NSNumber)?.doubleValue == 0.9)
        #expect(options["where"] as? [String] == ["study=a", "study=b"])
        #expect((object["k"] as? NSNumber)?.intValue == 2)

        try pooled.stdout.write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        let checked = try Self.run(["check", "baseline.json"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)\n\(checked.stderr)")
        // From another directory, the input is found beside the baseline.
        let elsewhere = try Self.run(["check", dir.appendingPathComponent("baseline.json").path], in: Self.repository)
        #expect(elsewhere.status == 0, "\(elsewhere.stdout)\n\(elsewhere.stderr)")
        // --update from there keeps input.path as recorded (not the path it was found at).
        let baseline = dir.appendingPathComponent("baseline.json")
        try pooled.stdout.replacingOccurrences(of: "\n  \"k\": 2,\n", with: "\n  \"k\": 3,\n").write(to: baseline, atomically: true, encoding: .utf8)
        let updated = try Self.run(["check", baseline.path, "--update"], in: Self.repository)
        #expect(updated.stdout == "updated \(baseline.path): 1 member moved\n  k: 3 → 2\n", "\(updated.stdout)\n\(updated.stderr)")
        #expect(try String(contentsOf: baseline, encoding: .utf8) == pooled.stdout)
    }

    /// Copies a committed baseline and its input into a scratch folder, so that both can be edited.
    static func copyOfBaseline(_ name: String, into dir: URL) throws -> String {
        let json = try String(contentsOf: repository.appendingPathComponent("Baselines/\(name)"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let path = try #require((object["input"] as? [String: Any])?["path"] as? String)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repository.appendingPathComponent(path), to: dir.appendingPathComponent(path))
        return json
    }

    @Test("a number that drifted beyond --rtol fails with status 1 and names it")
    func driftFails() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try Self.copyOfBaseline("pritz1997-reml.json", into: dir)
        let (drifted, old, new) = try Self.replacingNumber("tau2", in: json) { $0 * (1 + 1e-7) }
        try drifted.write(to: dir.appendingPathComponent("drifted.json"), atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "drifted.json"], in: dir)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasPrefix("DRIFT drifted.json: 1 member moved (rtol 1e-09)\n"))
        #expect(result.stdout.contains("tau2: \(new) in the baseline, "))
        // The value now agrees with the baseline's original to well within rtol.
        let now = result.stdout.components(separatedBy: "in the baseline, ").last?.components(separatedBy: " now").first.flatMap(Double.init)
        #expect(abs((now ?? .nan) - old) <= 1e-12 * old, "\(String(describing: now)) vs \(old)")
        #expect(result.stdout.contains("(relative difference 1.00e-07)"))

        // The same drift is accepted with a looser tolerance.
        let loose = try Self.run(["check", "drifted.json", "--rtol", "1e-6"], in: dir)
        #expect(loose.status == 0, "\(loose.stdout)")
    }

    @Test("a difference within --rtol passes")
    func smallDifferencePasses() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try Self.copyOfBaseline("pritz1997-reml.json", into: dir)
        let (nudged, _, _) = try Self.replacingNumber("estimate", in: json) { $0 * (1 + 1e-12) }
        try nudged.write(to: dir.appendingPathComponent("nudged.json"), atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "nudged.json"], in: dir)
        #expect(result.status == 0, "\(result.stdout)")
    }

    @Test("a changed input file fails with status 1, even when the change leaves numbers alone")
    func changedInputFails() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try Self.copyOfBaseline("pritz1997-reml.json", into: dir)
        try json.write(to: dir.appendingPathComponent("baseline.json"), atomically: true, encoding: .utf8)
        let input = dir.appendingPathComponent("Datasets/pritz1997-hyperdynamic-therapy.csv")
        // A trailing note column: same numbers, different bytes.
        let text = try String(contentsOf: input, encoding: .utf8)
        try (text + "\n").write(to: input, atomically: true, encoding: .utf8)
        let same = try Self.run(["check", "baseline.json"], in: dir)
        #expect(same.status == 1)
        #expect(same.stdout.hasPrefix("DRIFT baseline.json: input changed; 0 members moved (rtol 1e-09)\n"), "\(same.stdout)")
        #expect(same.stdout.contains("input Datasets/pritz1997-hyperdynamic-therapy.csv changed: sha256 1eabf52333fc"))

        // A changed count moves the numbers too, and every moved number is listed.
        let edited = text.replacingOccurrences(of: "\"Giannotta et al.\",16,17", with: "\"Giannotta et al.\",15,17")
        #expect(edited != text)
        try edited.write(to: input, atomically: true, encoding: .utf8)
        let moved = try Self.run(["check", "baseline.json"], in: dir)
        #expect(moved.status == 1)
        #expect(moved.stdout.contains("\nestimate: ") || moved.stdout.contains("  estimate: "))
        #expect(moved.stdout.contains("tau2: "))
    }

    @Test("a baseline that cannot be used fails like bad input")
    func unusableBaseline() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "{\"estimate\": 1".write(to: dir.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        try "{\"estimate\": 1}".write(to: dir.appendingPathComponent("plain.json"), atomically: true, encoding: .utf8)
        let json = try Self.copyOfBaseline("pritz1997-reml.json", into: dir)
        try json.replacingOccurrences(of: "pritz1997-hyperdynamic-therapy.csv", with: "gone.csv")
            .write(to: dir.appendingPathComponent("gone.json"), atomically: true, encoding: .utf8)
        try json.replacingOccurrences(of: "\"method\": \"REML\",\n    \"ci\"", with: "\"method\": \"XYZ\",\n    \"ci\"")
            .write(to: dir.appendingPathComponent("method.json"), atomically: true, encoding: .utf8)

        let cases: [(String, Int32, String)] = [
            ("broken.json", 65, "broken.json"),
            ("plain.json", 65, "not a MetaPool baseline"),
            ("gone.json", 66, "gone.csv"),
            ("method.json", 65, "method"),
            ("missing.json", 66, "missing.json"),
        ]
        for (name, status, message) in cases {
            let result = try Self.run(["check", name], in: dir)
            #expect(result.status == status, "\(name): \(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(message), "\(name): \(result.stderr)")
            // One summary line on stdout, with the same reason.
            #expect(result.stdout.hasPrefix("ERROR \(name): ") && result.stdout.contains(message), "\(name): \(result.stdout)")
            #expect(result.stdout.split(separator: "\n").count == 1, "\(name): \(result.stdout)")
        }
        let negative = try Self.run(["check", "Baselines/pritz1997-reml.json", "--rtol", "-1"])
        #expect(negative.status == 64)
    }

    /// A scratch folder holding the pritz1997 input, the baseline as `pool --format json` writes
    /// it now (`good.json`) and a copy with `tau2` moved by 1e-7 (`drifted.json`).
    static func folderWithDrift() throws -> (dir: URL, good: String) {
        let dir = try scratch()
        _ = try copyOfBaseline("pritz1997-reml.json", into: dir)
        let pooled = try run(["pool", "Datasets/pritz1997-hyperdynamic-therapy.csv", "--format", "json"], in: dir)
        #expect(pooled.status == 0, "\(pooled.stderr)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("baselines"), withIntermediateDirectories: true)
        try pooled.stdout.write(to: dir.appendingPathComponent("baselines/good.json"), atomically: true, encoding: .utf8)
        let (drifted, _, _) = try replacingNumber("tau2", in: pooled.stdout) { $0 * (1 + 1e-7) }
        try drifted.write(to: dir.appendingPathComponent("baselines/drifted.json"), atomically: true, encoding: .utf8)
        return (dir, pooled.stdout)
    }

    @Test("pool --format json records metapool_version; metapool --version prints the same")
    func versionRecorded() throws {
        let pooled = try Self.run(["pool", "Datasets/pritz1997-hyperdynamic-therapy.csv", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(pooled.stdout.utf8)) as? [String: Any])
        #expect(object["metapool_version"] as? String == MetaPoolVersion.current)
        // Recorded just before input and options.
        let keys = ["\"metapool_version\"", "\"input\"", "\"options\""].map { pooled.stdout.range(of: $0)?.lowerBound }
        #expect(keys.allSatisfy { $0 != nil } && keys[0]! < keys[1]! && keys[1]! < keys[2]!)
        let version = try Self.run(["--version"])
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == MetaPoolVersion.current)
    }

    @Test("a folder: every *.json in it, sorted, one summary line each; drift anywhere exits 1")
    func folderOfBaselines() throws {
        let (dir, _) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Not baselines: another extension, a hidden file, a folder.
        try "x".write(to: dir.appendingPathComponent("baselines/notes.txt"), atomically: true, encoding: .utf8)
        try "{".write(to: dir.appendingPathComponent("baselines/.hidden.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("baselines/nested.json"), withIntermediateDirectories: true)
        for folder in ["baselines", "baselines/"] {
            let result = try Self.run(["check", folder], in: dir)
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.isEmpty)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            let summaries = lines.filter { !$0.hasPrefix("  ") }
            #expect(summaries.count == 3, "\(result.stdout)")
            #expect(summaries.first?.hasPrefix("DRIFT baselines/drifted.json: 1 member moved (rtol 1e-09)") == true, "\(result.stdout)")
            #expect(summaries.dropFirst().first?.hasPrefix("ok    baselines/good.json: 261 numbers within rtol 1e-09; input unchanged") == true, "\(result.stdout)")
            #expect(summaries.last == "2 baselines: 1 ok, 1 DRIFT, 0 ERROR")
            // The detail stays, under its baseline.
            #expect(lines.dropFirst().first?.hasPrefix("  tau2: ") == true, "\(result.stdout)")
        }
        // Files and folders together, in the order given.
        let mixed = try Self.run(["check", "baselines/good.json", "baselines"], in: dir)
        #expect(mixed.status == 1)
        #expect(mixed.stdout.hasPrefix("ok    baselines/good.json: "))
        #expect(mixed.stdout.hasSuffix("3 baselines: 2 ok, 1 DRIFT, 0 ERROR\n"))
        let passing = try Self.run(["check", "baselines/good.json"], in: dir)
        #expect(passing.status == 0)
        #expect(passing.stdout.split(separator: "\n").count == 1, "no tally for one baseline: \(passing.stdout)")
    }

    @Test("an unusable baseline among others: every baseline is still checked, and its status wins over drift")
    func errorAmongOthers() throws {
        let (dir, _) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "{\"estimate\": 1".write(to: dir.appendingPathComponent("baselines/broken.json"), atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "baselines", "missing.json"], in: dir)
        #expect(result.status == 65, "the first unusable baseline's status: \(result.stdout)\n\(result.stderr)")
        let summaries = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("  ") }.map(String.init)
        #expect(summaries.count == 5, "\(result.stdout)")
        #expect(summaries[0].hasPrefix("ERROR baselines/broken.json: line 1: the JSON is malformed"), "\(summaries[0])")
        #expect(summaries[1].hasPrefix("DRIFT baselines/drifted.json: "))
        #expect(summaries[2].hasPrefix("ok    baselines/good.json: "))
        #expect(summaries[3] == "ERROR missing.json: no such file; check the path")
        #expect(summaries[4] == "4 baselines: 1 ok, 1 DRIFT, 2 ERROR")
        // Each unusable baseline also says so on stderr, as pool does.
        let errors = result.stderr.split(separator: "\n")
        #expect(errors.count == 2 && errors.allSatisfy { $0.hasPrefix("error: ") }, "\(result.stderr)")

        let missingOnly = try Self.run(["check", "missing.json", "baselines/good.json"], in: dir)
        #expect(missingOnly.status == 66)

        // A folder without baselines is an error, not a pass.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try Self.run(["check", "empty"], in: dir)
        #expect(empty.status == 66, "\(empty.stdout)")
        #expect(empty.stdout.hasPrefix("ERROR empty: ") && empty.stdout.contains("no *.json baseline"), "\(empty.stdout)")
        #expect(try Self.run(["check"], in: dir).status == 64)
    }

    /// The attribute `name` of `element`.
    static func attribute(_ element: XMLElement, _ name: String) -> String? { SVGCheck.string(element, name) }

    @Test("--junit writes a JUnit report: one testsuite, one testcase per baseline, failures and errors that agree with the counts")
    func junitReport() throws {
        let (dir, _) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A name that needs escaping in XML, on an unusable baseline (its name is in the message).
        let awkward = "a&b<c>\"d'.json"
        try "{\"estimate\": 1}".write(to: dir.appendingPathComponent("baselines/\(awkward)"), atomically: true, encoding: .utf8)
        let before = Date()
        let result = try Self.run(["check", "baselines", "--junit", "reports/junit.xml"], in: dir)
        let after = Date()
        #expect(result.status == 65, "\(result.stdout)\n\(result.stderr)")
        let xml = try String(contentsOf: dir.appendingPathComponent("reports/junit.xml"), encoding: .utf8)
        let document = try XMLDocument(data: Data(xml.utf8), options: [])
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuite")
        // The JUnit schema's required attributes, and counts that agree with the children.
        for required in ["name", "tests", "failures", "errors"] {
            #expect(Self.attribute(root, required) != nil, "testsuite lacks \(required)")
        }
        #expect(Self.attribute(root, "name") == "metapool check")
        let cases = root.elements(forName: "testcase")
        #expect(Self.attribute(root, "tests") == "\(cases.count)")
        #expect(cases.count == 3)
        let failed = cases.filter { !$0.elements(forName: "failure").isEmpty }
        let errored = cases.filter { !$0.elements(forName: "error").isEmpty }
        #expect(Self.attribute(root, "failures") == "\(failed.count)")
        #expect(Self.attribute(root, "errors") == "\(errored.count)")
        #expect(failed.count == 1 && errored.count == 1)
        #expect(Double(Self.attribute(root, "time") ?? "") != nil)
        // The time of the run in UTC, RFC 3339 to the second (as Foundation's ISO8601DateFormatter wrote it).
        let timestamp = try #require(Self.attribute(root, "timestamp"))
        #expect(timestamp.count == 20 && timestamp.hasSuffix("Z") && Array(timestamp)[10] == "T", "\(timestamp)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let stamped = try #require(formatter.date(from: timestamp), "\(timestamp)")
        #expect(stamped >= before.addingTimeInterval(-1) && stamped <= after, "\(timestamp) not within the run")
        for testcase in cases {
            #expect(Self.attribute(testcase, "name") != nil && Self.attribute(testcase, "classname") != nil)
            #expect(Double(Self.attribute(testcase, "time") ?? "") != nil)
        }
        #expect(cases.compactMap { Self.attribute($0, "name") } == ["baselines/\(awkward)", "baselines/drifted.json", "baselines/good.json"])
        // The unusable baseline: an error with the reason, its name read back unescaped.
        let error = try #require(errored.first?.elements(forName: "error").first)
        #expect(Self.attribute(error, "message")?.contains("not a MetaPool baseline") == true)
        // The text is the whole message, as on stderr, which names the file.
        #expect(error.stringValue?.hasPrefix("baselines/\(awkward)") == true, "\(error.stringValue ?? "")")
        // The drift: a failure whose message lists what moved; its text has the detail lines.
        let failure = try #require(failed.first?.elements(forName: "failure").first)
        #expect(Self.attribute(failure, "message") == "1 member moved (rtol 1e-09): tau2")
        #expect(failure.stringValue?.hasPrefix("tau2: ") == true)
        #expect(failed.first.flatMap { Self.attribute($0, "name") } == "baselines/drifted.json")
        // The passing baseline has neither.
        let passing = try #require(cases.last)
        #expect(passing.elements(forName: "failure").isEmpty && passing.elements(forName: "error").isEmpty)

        // All passing: zero failures and errors, exit 0.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("baselines/\(awkward)"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("baselines/drifted.json"))
        let clean = try Self.run(["check", "baselines", "--junit", "clean.xml"], in: dir)
        #expect(clean.status == 0)
        let cleanRoot = try #require(try XMLDocument(contentsOf: dir.appendingPathComponent("clean.xml"), options: []).rootElement())
        #expect(Self.attribute(cleanRoot, "tests") == "1" && Self.attribute(cleanRoot, "failures") == "0" && Self.attribute(cleanRoot, "errors") == "0")

        // A report that cannot be written: status 73, and --update does not take --junit.
        let unwritable = try Self.run(["check", "baselines", "--junit", "baselines/good.json/x.xml"], in: dir)
        #expect(unwritable.status == 73, "\(unwritable.stderr)")
        // FileManager's reason in the words full Foundation gave it (CheckCommand.describe).
        #expect(unwritable.stderr.contains("error: cannot write the JUnit report baselines/good.json/x.xml: The operation could not be completed. A file with the same name already exists.\n"),
                "\(unwritable.stderr)")
        #expect(try Self.run(["check", "baselines", "--update", "--junit", "u.xml"], in: dir).status == 64)
    }

    @Test("XML escaping of the JUnit report: markup, quotes and control characters")
    func junitEscaping() throws {
        let (dir, good) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("baselines/drifted.json"))
        // A drifted string with the characters XML cares about: the failure text carries it.
        let nasty = "<&>\"' ]]> end"
        try good.replacingOccurrences(of: "\"label\": \"Proportion\"", with: "\"label\": \(JSONValue.string(nasty).serialized())")
            .write(to: dir.appendingPathComponent("baselines/good.json"), atomically: true, encoding: .utf8)
        // A baseline whose name holds a tab and a control character XML 1.0 cannot hold at all.
        let controlName = "tab\there\u{1}.json"
        try "{\"estimate\": 1}".write(to: dir.appendingPathComponent("baselines/\(controlName)"), atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "baselines", "--junit", "junit.xml"], in: dir)
        #expect(result.status == 65, "\(result.stdout)")
        let xml = try String(contentsOf: dir.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(!xml.contains("\u{1}"))
        let root = try #require(try XMLDocument(data: Data(xml.utf8), options: []).rootElement())
        let cases = root.elements(forName: "testcase")
        #expect(cases.compactMap { Self.attribute($0, "name") } == ["baselines/good.json", "baselines/tab\there\u{FFFD}.json"])
        let failure = try #require(cases.first?.elements(forName: "failure").first)
        #expect(Self.attribute(failure, "message") == "1 member moved (rtol 1e-09): forest.axis.label")
        // As the detail line prints it (the string JSON-quoted).
        #expect(failure.stringValue == "forest.axis.label: \"<&>\\\"' ]]> end\" in the baseline, \"Proportion\" now", "\(failure.stringValue ?? "")")
        let error = try #require(cases.last?.elements(forName: "error").first)
        #expect(error.stringValue?.contains("tab\there\u{FFFD}.json") == true)
    }

    @Test("--update re-records a drifted baseline, lists what moved (old → new), and it then checks clean")
    func updateReRecords() throws {
        let (dir, good) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("baselines/drifted.json")
        let drifted = try String(contentsOf: path, encoding: .utf8)
        let (_, old, new) = try Self.replacingNumber("tau2", in: good) { $0 * (1 + 1e-7) }
        let result = try Self.run(["check", "baselines", "--update"], in: dir)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines == ["updated baselines/drifted.json: 1 member moved",
                          "  tau2: \(JSONValue.number(new).serialized()) → \(JSONValue.number(old).serialized())",
                          "unchanged baselines/good.json: 261 numbers within rtol 1e-09; input unchanged",
                          "2 baselines: 1 updated, 1 unchanged, 0 ERROR"], "\(result.stdout)")
        // Written as pool --format json writes it: the same bytes as the fresh recording.
        #expect(try String(contentsOf: path, encoding: .utf8) == good)
        #expect(drifted != good)
        let checked = try Self.run(["check", "baselines"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)")
        // Nothing moved: nothing written.
        let before = try FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 0.02)
        let again = try Self.run(["check", "baselines/drifted.json", "--update"], in: dir)
        #expect(again.stdout == "unchanged baselines/drifted.json: 261 numbers within rtol 1e-09; input unchanged\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date == before)
    }

    @Test("--update with a changed input records and says the new sha256; numbers within rtol keep their digits")
    func updateChangedInput() throws {
        let (dir, good) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("baselines/drifted.json"))
        let input = dir.appendingPathComponent("Datasets/pritz1997-hyperdynamic-therapy.csv")
        let text = try String(contentsOf: input, encoding: .utf8)
        try (text + "\n").write(to: input, atomically: true, encoding: .utf8)
        // A number nudged within rtol stays as recorded.
        let (nudged, _, kept) = try Self.replacingNumber("estimate", in: good) { $0 * (1 + 1e-13) }
        try nudged.write(to: dir.appendingPathComponent("baselines/good.json"), atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "baselines/good.json", "--update"], in: dir)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasPrefix("updated baselines/good.json: input changed; 0 members moved\n  input Datasets/pritz1997-hyperdynamic-therapy.csv changed: sha256 1eabf52333fc6c50890d0b3351140a4176bf2b69dc4d230670a1e78ea0334737 → "), "\(result.stdout)")
        #expect(result.stdout.hasSuffix(" (recorded)\n"))
        let written = try String(contentsOf: dir.appendingPathComponent("baselines/good.json"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any])
        let sha = try #require((object["input"] as? [String: Any])?["sha256"] as? String)
        #expect(sha != "1eabf52333fc6c50890d0b3351140a4176bf2b69dc4d230670a1e78ea0334737" && result.stdout.contains("→ \(sha) (recorded)"))
        #expect((object["input"] as? [String: Any])?["path"] as? String == "Datasets/pritz1997-hyperdynamic-therapy.csv")
        #expect((object["estimate"] as? NSNumber)?.doubleValue == kept)
        #expect(try Self.run(["check", "baselines/good.json"], in: dir).status == 0)
        // --rtol 0 re-records every digit.
        let exact = try Self.run(["check", "baselines/good.json", "--update", "--rtol", "0"], in: dir)
        #expect(exact.stdout.hasPrefix("updated baselines/good.json: 1 member moved\n  estimate: "), "\(exact.stdout)")
        // An unusable baseline is not written, and fails as check does.
        try "{\"estimate\": 1}".write(to: dir.appendingPathComponent("baselines/plain.json"), atomically: true, encoding: .utf8)
        let unusable = try Self.run(["check", "baselines/plain.json", "--update"], in: dir)
        #expect(unusable.status == 65 && unusable.stdout.hasPrefix("ERROR baselines/plain.json: "))
        #expect(try String(contentsOf: dir.appendingPathComponent("baselines/plain.json"), encoding: .utf8) == "{\"estimate\": 1}")
    }

    @Test("another MetaPool version, or none recorded, is a note, not drift; --update records this version")
    func versionNote() throws {
        let (dir, good) = try Self.folderWithDrift()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("baselines/drifted.json"))
        let current = MetaPoolVersion.current
        let line = "  \"metapool_version\": \"\(current)\",\n"
        #expect(good.contains(line))
        try good.replacingOccurrences(of: line, with: "  \"metapool_version\": \"0.0.1\",\n")
            .write(to: dir.appendingPathComponent("baselines/older.json"), atomically: true, encoding: .utf8)
        try good.replacingOccurrences(of: line, with: "")
            .write(to: dir.appendingPathComponent("baselines/unversioned.json"), atomically: true, encoding: .utf8)
        try good.replacingOccurrences(of: line, with: "  \"metapool_version\": 1,\n")
            .write(to: dir.appendingPathComponent("baselines/wrong.json"), atomically: true, encoding: .utf8)

        let result = try Self.run(["check", "baselines"], in: dir)
        #expect(result.status == 1, "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 8, "\(result.stdout)")
        #expect(lines[0].hasPrefix("ok    baselines/good.json: "))
        #expect(lines[1].hasPrefix("ok    baselines/older.json: "))
        #expect(lines[2] == "  note: recorded with MetaPool 0.0.1, checking with \(current)")
        #expect(lines[3].hasPrefix("ok    baselines/unversioned.json: "))
        #expect(lines[4] == "  note: recorded before MetaPool wrote metapool_version; checking with \(current)")
        // A version that is not a string is compared like any other member.
        #expect(lines[5] == "DRIFT baselines/wrong.json: 1 member moved (rtol 1e-09)")
        #expect(lines[6] == "  metapool_version: 1 in the baseline, \"\(current)\" now")

        let updated = try Self.run(["check", "baselines", "--update"], in: dir)
        #expect(updated.status == 0, "\(updated.stdout)")
        #expect(updated.stdout.contains("updated baselines/older.json: 1 member moved\n  metapool_version: \"0.0.1\" → \"\(current)\"\n"), "\(updated.stdout)")
        #expect(updated.stdout.contains("updated baselines/unversioned.json: 1 member moved\n  metapool_version: (absent) → \"\(current)\"\n"), "\(updated.stdout)")
        for name in ["older", "unversioned", "wrong"] {
            #expect(try String(contentsOf: dir.appendingPathComponent("baselines/\(name).json"), encoding: .utf8) == good, "\(name)")
        }
        let after = try Self.run(["check", "baselines"], in: dir)
        #expect(after.status == 0 && !after.stdout.contains("note:"), "\(after.stdout)")
    }
}

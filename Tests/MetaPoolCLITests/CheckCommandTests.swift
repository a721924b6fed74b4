// `metapool check BASELINE.json` through the built binary: committed baselines pass, a drifted
// number or a changed input fails with exit status 1 and a diff naming what moved, and a
// baseline that cannot be used fails like bad input (65/66).

import Foundation
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
        #expect(result.stdout.hasPrefix("check passed: Baselines/\(name): "))
        #expect(result.stdout.contains("input unchanged"))
        #expect(result.stderr.isEmpty)
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
        #expect(result.stdout.hasPrefix("check FAILED: drifted.json: 1 difference (rtol 1e-09)"))
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
            #expect(result.stderr.contains(message), "\(name): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(name)")
        }
        let negative = try Self.run(["check", "Baselines/pritz1997-reml.json", "--rtol", "-1"])
        #expect(negative.status == 64)
    }
}

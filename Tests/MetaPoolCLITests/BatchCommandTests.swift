// metapool pool --batch as a process: JSON Lines in and out.

import Foundation
import MetaPool
import Testing
@testable import MetaPoolTestSupport

@Suite("metapool pool --batch")
struct BatchCommandTests {
    @Test("metapool pool --batch: JSON Lines out, one line per analysis, in order")
    func cli() throws {
        let binary = try #require(MetapoolBinary.url, "metapool executable not found next to the test bundle")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metapool-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var lines = ""
        for i in 0..<50 { lines += "{\"analysis\": \"sim\(i)\", \"yi\": [\(0.1 * Double(i % 7)), 0.3, 0.5, \(0.02 * Double(i))], \"vi\": [0.01, 0.02, 0.03, 0.04]}\n" }
        try lines.write(to: dir.appendingPathComponent("sims.jsonl"), atomically: true, encoding: .utf8)
        let result = try MetapoolBinary.run(binary, ["pool", "--batch", "sims.jsonl", "--method", "DL", "--format", "json", "--jobs", "2"], in: dir, stdinFile: nil)
        #expect(result.status == 0, "\(result.stderr)")
        let out = result.stdout.split(separator: "\n")
        #expect(out.count == 50)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(out[0].utf8)) as? [String: Any])
        #expect(first["analysis"] as? String == "sim0" && (first["k"] as? Int) == 4)
        let expected = try MetaAnalysis(EffectSizes.generic(yi: [0, 0.3, 0.5, 0], vi: [0.01, 0.02, 0.03, 0.04]), method: .derSimonianLaird)
        #expect(abs(((first["estimate"] as? Double) ?? .nan) - expected.estimate) < 1e-14)
        #expect(out.enumerated().allSatisfy { $0.element.hasPrefix("{\"analysis\":\"sim\($0.offset)\"") })
        let bad = try MetapoolBinary.run(binary, ["pool", "--batch", "sims.jsonl", "--by", "x"], in: dir, stdinFile: nil)
        #expect(bad.status == 64)
    }
}

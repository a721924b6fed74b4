// The batch read from its file in pieces (BatchAnalysis.streamedAnalyses) against the whole-file
// fast reader and the general path: whenever the piecewise reader takes a file it gives the same
// analyses, bit for bit, for any piece size and number of tasks; an analysis split across pieces
// is joined, one that comes back after another hands the file over.

import Foundation
import Testing
@testable import MetaPool
@testable import MetaPoolTestSupport

@Suite("Batch: the fast reader fed from the file in pieces")
struct StreamedBatchReaderTests {
    typealias G = FastBatchReaderTests.Generator

    static func write(_ text: String, _ name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("CSV of 10,000 analyses in pieces of 1 byte to 1 MiB on 1 to 3 tasks: the whole-file reader's analyses")
    func csvPieces() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var g = G(state: 23)
        var text = "analysis,yi,vi\n"
        for a in 0..<10_000 {
            for _ in 0..<(1 + g.next(20)) {
                let id = g.next(50) == 0 ? " A\(a) " : "a\(a)"
                text += "\(id),\(g.uniform() - 0.5),\(0.01 + g.uniform())\(g.next(40) == 0 ? "\r" : "")\n"
                if g.next(500) == 0 { text += g.next(2) == 0 ? "\n" : " \r\n" }
            }
        }
        let path = try Self.write(text, "b.csv", in: folder)
        let whole = try #require(BatchAnalysis.fastAnalyses(csv: Array(text.utf8)))
        #expect(whole.count == 10_000)
        for (size, tasks) in [(1, 1), (97, 2), (4096, 3), (65_536, 1), (65_536, 2), (1 << 20, 2)] {
            let streamed = try #require(await BatchAnalysis.streamedAnalyses(path: path, jsonLines: false, tasks: tasks, pieceSize: size),
                                        "pieces of \(size) on \(tasks) tasks")
            #expect(FastBatchReaderTests.same(streamed, whole), "pieces of \(size) on \(tasks) tasks")
        }
        // a0 again at the end (not together: the general reader merges it), a quote, a bare CR,
        // a byte that is not UTF-8 in the last piece: the file is handed over.
        for (name, tail) in [("back", "a0,0.1,0.2\n"), ("quote", "\"z\",0.1,0.2\n"), ("cr", "z,0.1\r,0.2\n"), ("latin1", "z\u{00E9},0.1,0.2\n")] {
            var data = Array((text + tail).utf8)
            if name == "latin1" { data.remove(at: data.count - 10) }  // the first byte of é's two
            let url = folder.appendingPathComponent("\(name).csv")
            try Data(data).write(to: url)
            for tasks in [1, 2] {
                #expect(await BatchAnalysis.streamedAnalyses(path: url.path, jsonLines: false, tasks: tasks, pieceSize: 65_536) == nil, "\(name)")
            }
        }
        // No file, standard input: the caller reads the input itself.
        #expect(await BatchAnalysis.streamedAnalyses(path: folder.appendingPathComponent("none.csv").path, jsonLines: false) == nil)
        #expect(await BatchAnalysis.streamedAnalyses(path: "-", jsonLines: false) == nil)
    }

    @Test("3,000 random CSV batches in pieces of 1 to 64 bytes: the general path's analyses whenever the reader takes the file")
    func csvRandom() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var g = G(state: 29)
        var taken = 0, differences: [String] = []
        for n in 0..<3_000 {
            let text = FastBatchReaderTests.csvBatch(&g)
            let path = try Self.write(text, "r\(n % 10).csv", in: folder)
            let size = 1 + g.next(64)
            guard let streamed = await BatchAnalysis.streamedAnalyses(path: path, jsonLines: false, tasks: 1 + g.next(2), pieceSize: size)
            else {
                // Handed over: the whole-file reader takes it only with a quote or a bare CR in the rows.
                if BatchAnalysis.fastAnalyses(csv: Array(text.utf8)) != nil, !text.contains("\""), differences.count < 3 {
                    differences.append("refused, the whole-file reader takes it:\n\(text)")
                }
                continue
            }
            taken += 1
            do {
                let table = try DataTable.read(bytes: Array(text.utf8), source: "b.csv")
                try table.requireSingleOutcome(exempting: [], within: "analysis")
                let general = try BatchAnalysis.analyses(from: table)
                if !FastBatchReaderTests.same(streamed, general), differences.count < 3 { differences.append("pieces of \(size):\n\(text)") }
            } catch {
                if differences.count < 3 { differences.append("read, general refused (\(error.reason)):\n\(text)") }
            }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n---\n"))")
        #expect(taken > 600, "the piecewise reader took \(taken) of 3,000")
    }

    @Test("JSON Lines in pieces: the whole-file reader's analyses; a line that repeats an analysis hands the file over")
    func jsonLinesPieces() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var g = G(state: 31)
        var text = "\u{FEFF}"
        for a in 0..<3_000 {
            let k = 1 + g.next(6)
            let ys = (0..<k).map { _ in String(g.uniform() - 0.5) }, vs = (0..<k).map { _ in String(0.01 + g.uniform()) }
            text += #"{"analysis": "a\#(a)", "yi": [\#(ys.joined(separator: ", "))], "vi": [\#(vs.joined(separator: ","))]}"#
            text += ["\n", "\r\n", "\n\n"][g.next(3)]
        }
        let path = try Self.write(text, "b.jsonl", in: folder)
        let whole = try #require(BatchAnalysis.fastAnalyses(jsonLines: Array(text.utf8)))
        #expect(whole.count == 3_000)
        for (size, tasks) in [(1, 1), (333, 2), (65_536, 3)] {
            let streamed = try #require(await BatchAnalysis.streamedAnalyses(path: path, jsonLines: true, tasks: tasks, pieceSize: size))
            #expect(FastBatchReaderTests.same(streamed, whole), "pieces of \(size) on \(tasks) tasks")
        }
        let again = try Self.write(text + #"{"analysis": "a0", "yi": [0.1], "vi": [0.2]}"# + "\n", "again.jsonl", in: folder)
        #expect(await BatchAnalysis.streamedAnalyses(path: again, jsonLines: true, tasks: 2, pieceSize: 333) == nil)
        // Recognised by its first byte when the name says nothing.
        let unnamed = try Self.write(String(text.dropFirst()), "b.txt", in: folder)
        let sniffed = try #require(await BatchAnalysis.streamedAnalyses(path: unnamed, jsonLines: false, pieceSize: 4096))
        #expect(FastBatchReaderTests.same(sniffed, whole))
    }
}

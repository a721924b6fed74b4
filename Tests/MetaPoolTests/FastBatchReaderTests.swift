// The batch's fast byte-level reader (BatchAnalysis.fastAnalyses) and text writer against the
// general path: the same analyses, bit for bit, whenever the fast reader takes the input; the
// same JSON and CSV text as the JSONValue tree; numbers read as Double(_:) (strtod) reads them.

import Testing
@testable import MetaPool

@Suite("Batch: the fast reader and writer against the general path")
struct FastBatchReaderTests {
    /// A small deterministic generator (a 64-bit LCG, Knuth's MMIX constants).
    struct Generator {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func uniform() -> Double { Double(next(1 << 30)) / Double(1 << 30) }
    }

    static func same(_ a: [BatchAnalysis.Analysis], _ b: [BatchAnalysis.Analysis]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.id == y.id && x.measure == y.measure && x.yi.map(\.bitPattern) == y.yi.map(\.bitPattern)
                && x.vi.map(\.bitPattern) == y.vi.map(\.bitPattern)
                && (x.harmonicMeanTotal.bitPattern == y.harmonicMeanTotal.bitPattern || (x.harmonicMeanTotal.isNaN && y.harmonicMeanTotal.isNaN))
        }
    }

    /// Number texts of every form a cell may take (and some it may not).
    static func numberText(_ g: inout Generator) -> String {
        let mantissa = String(g.next(1_000_000_000))
        switch g.next(12) {
        case 0: return "0." + String(repeating: "0", count: g.next(4)) + mantissa
        case 1: return mantissa + "e-" + String(g.next(30))
        case 2: return "-" + mantissa.prefix(3) + "." + mantissa.dropFirst(3)
        case 3: return String(g.uniform() * 2 - 1)  // Swift's shortest form, up to 17 digits
        case 4: return "1" + String(repeating: "7", count: 16 + g.next(10)) + "e-" + String(g.next(40))  // past the fast path
        case 5: return ["+.5", "5.", ".25", "1E2", "007", "-0", "1e400", "1e-400", "NA", "", " 0.5 ", "0x1p3", "inf", "1,5"][g.next(14)]
        default: return "0." + mantissa
        }
    }

    @Test("DecimalText reads 200,000 number texts as Double(_:) does, bit for bit, or refuses them")
    func numbers() {
        var g = Generator(state: 7)
        var mismatches: [String] = []
        var read = 0
        for _ in 0..<200_000 {
            let text = Self.numberText(&g)
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { DecimalText.parse($0, 0..<$0.count) }
            let reference = Double(text).flatMap { $0.isFinite ? $0 : nil }
            if let fast {
                read += 1
                if fast.bitPattern != reference?.bitPattern, mismatches.count < 5 { mismatches.append("\(text): \(fast) vs \(String(describing: reference))") }
            } else if let reference, !text.contains("x"), !text.contains(" "), text.lowercased() != "inf", mismatches.count < 5 {
                mismatches.append("\(text): refused, Double(_:) reads \(reference)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(read > 150_000)
    }

    @Test("JSON's number grammar: no +, no leading zeros, digits around the point")
    func jsonNumbers() {
        for (text, ok) in [("-0.5", true), ("+1", false), ("01", false), (".5", false), ("5.", false), ("0", true), ("1e5", true), ("-", false)] {
            let bytes = Array(text.utf8)
            #expect((bytes.withUnsafeBufferPointer { DecimalText.parse($0, 0..<$0.count, json: true) } != nil) == ok, "\(text)")
        }
    }

    /// A random batch file: k studies per analysis, sometimes with a quirk the fast reader must
    /// either read exactly or hand to the general reader.
    static func csvBatch(_ g: inout Generator) -> String {
        let counts = g.next(3) == 0
        var header = counts ? ["analysis", "events", "total"] : ["analysis", "yi", "vi"]
        if g.next(3) == 0 { header.insert("study", at: g.next(4)) }
        if g.next(10) == 0 { header.append(["endpoint", "se", "events"][g.next(3)]) }
        var text = header.map { g.next(8) == 0 ? $0.uppercased() : $0 }.joined(separator: ",") + (g.next(5) == 0 ? "\r\n" : "\n")
        let analyses = 1 + g.next(6)
        var ids: [String] = (0..<analyses).map { "a\($0)" }
        if g.next(10) == 0 { ids.append("a0") }  // an analysis that comes back
        for (n, id) in ids.enumerated() {
            for s in 0..<(1 + g.next(5)) {
                let cells = header.map { column -> String in
                    switch column {
                    case "analysis": return g.next(10) == 0 ? " \(id.uppercased()) " : id
                    case "yi": return numberText(&g)
                    case "vi": return g.next(15) == 0 ? ["0", "-0.1", "1e-320", "NA"][g.next(4)] : String(0.01 + g.uniform())
                    case "events": return g.next(15) == 0 ? ["3.5", "-1", "50", "1e1"][g.next(4)] : String(g.next(5) == 0 ? 0 : g.next(20))
                    case "total": return g.next(15) == 0 ? ["0", "20.0", "NA"][g.next(3)] : String(20 + g.next(30))
                    case "study": return g.next(10) == 0 ? "\"S, \(n)\"" : "S\(n)-\(s)"
                    default: return "x"
                    }
                }
                text += cells.joined(separator: ",") + "\n"
                if g.next(30) == 0 { text += "\n" }
            }
        }
        return text
    }

    @Test("CSV: 3,000 random batches; the fast reader gives the general path's analyses or hands the file over")
    func csvAgainstGeneral() {
        var g = Generator(state: 11)
        var taken = 0, takenCounts = 0, differences: [String] = []
        for _ in 0..<3_000 {
            let text = Self.csvBatch(&g)
            let bytes = Array(text.utf8)
            guard let fast = BatchAnalysis.fastAnalyses(csv: bytes) else { continue }
            taken += 1
            if fast.first?.measure == .logitProportion { takenCounts += 1 }
            do {
                let table = try DataTable.read(bytes: bytes, source: "b.csv")
                try table.requireSingleOutcome(exempting: [], within: "analysis")
                let general = try BatchAnalysis.analyses(from: table)
                if !Self.same(fast, general), differences.count < 3 { differences.append(text) }
            } catch {
                if differences.count < 3 { differences.append("fast read, general refused (\(error.reason)):\n\(text)") }
            }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n---\n"))")
        #expect(taken > 600 && taken < 2_900, "the fast reader took \(taken) of 3,000")
        #expect(takenCounts > 100, "events and totals: \(takenCounts)")
    }

    @Test("CSV read on 1 to 4 tasks (the file cut where the identifier changes): the same analyses; an analysis split across parts hands the file over")
    func parallelParts() async throws {
        var g = Generator(state: 19)
        var text = "analysis,yi,vi\n"
        // About 2.5 MB: 10,000 analyses of 1-20 studies, some identifiers in another case or spaced.
        for a in 0..<10_000 {
            for _ in 0..<(1 + g.next(20)) {
                let id = g.next(50) == 0 ? " A\(a) " : "a\(a)"
                text += "\(id),\(g.uniform() - 0.5),\(0.01 + g.uniform())\(g.next(40) == 0 ? "\r" : "")\n"
            }
        }
        let bytes = Array(text.utf8)
        let one = try #require(BatchAnalysis.fastAnalyses(csv: bytes))
        #expect(one.count == 10_000)
        for tasks in 1...4 {
            let parallel = try #require(await BatchAnalysis.fastAnalyses(csv: bytes, tasks: tasks))
            #expect(Self.same(parallel, one), "\(tasks) tasks")
        }
        // a0 again at the end: its rows are not together, which the general reader merges.
        let split = Array((text + "a0,0.1,0.2\n").utf8)
        #expect(BatchAnalysis.fastAnalyses(csv: split) == nil)
        #expect(await BatchAnalysis.fastAnalyses(csv: split, tasks: 2) == nil)
        // A quote anywhere: read on one task, to the same analyses.
        let quoted = Array(("analysis,yi,vi\n\"a0\",0.1,0.2\n" + text.split(separator: "\n", maxSplits: 1)[1]).utf8)
        let quotedOne = try #require(BatchAnalysis.fastAnalyses(csv: quoted))
        #expect(Self.same(try #require(await BatchAnalysis.fastAnalyses(csv: quoted, tasks: 2)), quotedOne))
        #expect(quotedOne.count == 10_000)
    }

    @Test("JSON Lines: 3,000 random batches; the fast reader gives the general path's analyses or hands the file over")
    func jsonLinesAgainstGeneral() {
        var g = Generator(state: 13)
        var taken = 0, differences: [String] = []
        for _ in 0..<3_000 {
            var text = ""
            let counts = g.next(3) == 0  // events and totals in every line, or yi and vi
            let analyses = 1 + g.next(5)
            for a in 0..<analyses {
                let k = 1 + g.next(4)
                let id = [#""a\#(a)""#, #"" A\#(a) ""#, "\(a + 1)", "\(a).50", #""a\#(a)\n""#][g.next(5)]
                let ys = (0..<k).map { _ in counts ? String(g.next(10)) : g.next(12) == 0 ? Self.numberText(&g) : String(g.uniform() - 0.5) }
                let vs = (0..<(g.next(20) == 0 ? k + 1 : k)).map { _ in
                    g.next(20) == 0 ? "null" : counts ? String(g.next(20) == 0 ? 5 : 10 + g.next(20)) : String(0.01 + g.uniform())
                }
                let (first, second) = counts ? ("events", "total") : ("yi", "vi")
                var members = [#""analysis": \#(id)"#, #""\#(first)": [\#(ys.joined(separator: ", "))]"#, #""\#(second)":[\#(vs.joined(separator: ","))]"#]
                if g.next(4) == 0 { members.swapAt(0, 2) }
                if g.next(15) == 0 { members.append(#""study": ["x"]"#) }
                if g.next(15) == 0 { members[1] = members[1].replacingFirst("yi", with: "YI") }
                text += "{" + members.joined(separator: ", ") + "}" + ["\n", "\r\n", "\n\n"][g.next(3)]
            }
            let bytes = Array(text.utf8)
            guard let fast = BatchAnalysis.fastAnalyses(jsonLines: bytes) else { continue }
            taken += 1
            do {
                let input = try DataTable.readJSONLines(text, source: "b.jsonl")
                let general = try BatchAnalysis.analyses(jsonLines: input.table, keys: input.keys, column: input.idColumn).analyses
                if !Self.same(fast, general), differences.count < 3 { differences.append(text) }
            } catch {
                if differences.count < 3 { differences.append("fast read, general refused (\(error.reason)):\n\(text)") }
            }
        }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n---\n"))")
        #expect(taken > 600 && taken < 2_900, "the fast reader took \(taken) of 3,000")
    }

    @Test("the JSON and CSV written per analysis are the text of the JSONValue tree and of the CSV row, byte for byte")
    func writer() throws {
        var g = Generator(state: 17)
        let engines: [BatchAnalysis] = [
            BatchAnalysis(), BatchAnalysis(method: .fixedEffect), BatchAnalysis(method: .derSimonianLaird, ciMethod: .hartungKnapp, level: 0.9),
            { var e = BatchAnalysis(method: .pauleMandel, ciMethod: .hartungKnapp); e.predictionInterval = nil; return e }(),
        ]
        var checked = 0
        for n in 0..<400 {
            let k = 1 + g.next(8)
            let yi = (0..<k).map { _ in g.next(9) == 0 ? 3.0 : g.uniform() * 2 - 1 }
            let vi = (0..<k).map { _ in g.next(9) == 0 ? 0.25 : 0.005 + g.uniform() }
            let analysis = try BatchAnalysis.Analysis(id: ["a\(n)", "\"q\",\n", "=SUM(1)", "é \u{7}"][g.next(4)], yi: yi, vi: vi)
            let outcome = engines[n % engines.count].fit(analysis)
            var json: [UInt8] = []
            BatchAnalysis.appendJSON(outcome, for: analysis, to: &json)
            #expect(String(decoding: json, as: UTF8.self) == BatchAnalysis.summary(of: outcome, for: analysis).serialized(indent: 0) + "\n")
            var csv: [UInt8] = []
            BatchAnalysis.appendCSV(outcome, for: analysis, errorSentence: { $0.reason }, to: &csv)
            #expect(String(decoding: csv, as: UTF8.self) == Self.csvRow(outcome, analysis))
            checked += 1
        }
        #expect(checked == 400)
    }

    /// The CSV row as `pool --batch --format csv` wrote it from Strings before the byte writer.
    static func csvRow(_ outcome: BatchAnalysis.Outcome, _ a: BatchAnalysis.Analysis) -> String {
        switch outcome {
        case .success(let r):
            let cells: [String] = [String(r.k), "\(r.estimate)", "\(r.standardError)", "\(r.confidenceInterval.lower)",
                                   "\(r.confidenceInterval.upper)", "\(r.pValue)", r.tauSquared.map { "\($0)" } ?? "",
                                   r.iSquared.map { "\($0)" } ?? "", "\(r.q)", "\(r.qPValue)",
                                   r.predictionInterval.map { "\($0.lower)" } ?? "", r.predictionInterval.map { "\($0.upper)" } ?? ""]
            return SafeText.csvField(r.id) + "," + cells.joined(separator: ",") + ",\n"
        case .failure(let error):
            return SafeText.csvField(a.id) + "," + String(a.yi.count) + String(repeating: ",", count: 12) + SafeText.csvField(error.reason) + "\n"
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = range(of: target) else { return self }
        return replacingCharacters(in: r, with: replacement)
    }
}

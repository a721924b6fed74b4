// `pool --batch` read by the fast byte-level reader and written as it is fitted.

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import MetaPool

extension PoolCommand {
    /// Whether `--batch` input is JSON Lines: named .jsonl/.ndjson, or its first non-space byte is `{`.
    func isJSONLines(_ bytes: [UInt8]) -> Bool {
        let lower = model.file.lowercased()
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return true }
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        return bytes[start...].first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A } == UInt8(ascii: "{")
    }

    /// The analyses of a batch of `yi`/`vi` read straight from its bytes, or `nil` when it needs the
    /// general reader (`--label`, `--where`, other measures, anything unusual or wrong in the input).
    func fastBatchAnalyses(_ bytes: [UInt8], tasks: Int) async -> [BatchAnalysis.Analysis]? {
        guard model.label == nil, model.conditions.isEmpty else { return nil }
        if isJSONLines(bytes) {
            guard model.delimiter == nil else { return nil }
            return BatchAnalysis.fastAnalyses(jsonLines: bytes, column: batchColumn, measure: model.measure, options: model.effectSizeOptions)
        }
        return await BatchAnalysis.fastAnalyses(csv: bytes, column: batchColumn, delimiter: model.delimiter, measure: model.measure,
                                                options: model.effectSizeOptions, tasks: tasks)
    }

    /// ``fastBatchAnalyses(_:tasks:)`` read from the file in pieces
    /// (``BatchAnalysis/streamedAnalyses(path:jsonLines:column:delimiter:measure:options:tasks:pieceSize:)``),
    /// or `nil` when the input must be read whole (standard input, a quote, anything unusual or wrong).
    func streamedBatchAnalyses(tasks: Int) async -> [BatchAnalysis.Analysis]? {
        guard model.label == nil, model.conditions.isEmpty else { return nil }
        let lower = model.file.lowercased()
        return await BatchAnalysis.streamedAnalyses(path: model.file, jsonLines: lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson"),
                                                    column: batchColumn, delimiter: model.delimiter, measure: model.measure,
                                                    options: model.effectSizeOptions, tasks: tasks)
    }

    /// Fits the analyses and writes each result (a JSON object per line, or a CSV row) to standard
    /// output as it is produced: blocks of analyses fitted and formatted on `tasks` child tasks,
    /// each block written in input order. Returns the number of analyses that could not be fitted.
    func streamBatch(_ analyses: [BatchAnalysis.Analysis], engine: BatchAnalysis, tasks: Int, csv: Bool) async -> Int {
        var output = StreamedOutput()
        if csv { output.write(Array(BatchAnalysis.csvHeader.utf8)) }
        @Sendable func format(_ outcome: BatchAnalysis.Outcome, _ analysis: BatchAnalysis.Analysis, _ out: inout [UInt8]) {
            if csv {
                BatchAnalysis.appendCSV(outcome, for: analysis, errorSentence: { (e: MetaPoolError) -> String in e.commandLineSentence }, to: &out)
            } else {
                BatchAnalysis.appendJSON(outcome, for: analysis, to: &out)
            }
        }
        @Sendable func part(_ range: Range<Int>) -> (text: [UInt8], failed: Int) {
            var text: [UInt8] = []
            text.reserveCapacity(range.count * (csv ? 260 : 560))
            var failed = 0
            for i in range {
                let outcome = engine.fit(analyses[i])
                if case .failure = outcome { failed += 1 }
                format(outcome, analyses[i], &text)
            }
            return (text, failed)
        }
        let workers = max(1, min(tasks, analyses.count))
        var failed = 0
        if workers == 1 {
            // One task: 1024 analyses at a time, written as soon as they are formatted.
            for lower in stride(from: 0, to: analyses.count, by: 1024) {
                let (text, f) = part(lower..<min(analyses.count, lower + 1024))
                output.write(text)
                failed += f
            }
            output.flush()
            return failed
        }
        // Several tasks: blocks of 512 analyses, `workers * 3` of them in flight; each finished block
        // is written as soon as every block before it has been (no round waits for its slowest block).
        let block = 512
        let blocks = (analyses.count + block - 1) / block
        await withTaskGroup(of: (Int, [UInt8], Int).self) { group in
            var next = 0, nextToWrite = 0
            var done: [Int: ([UInt8], Int)] = [:]
            func start() {
                let n = next
                let range = (n * block)..<min(analyses.count, (n + 1) * block)
                group.addTask { let (text, f) = part(range); return (n, text, f) }
                next += 1
            }
            while next < min(blocks, workers * 3) { start() }
            for await (n, text, f) in group {
                done[n] = (text, f)
                while let (text, f) = done.removeValue(forKey: nextToWrite) {
                    output.write(text)
                    failed += f
                    nextToWrite += 1
                }
                if next < blocks { start() }
            }
        }
        output.flush()
        return failed
    }
}

/// Standard output written in pieces of about 64 KiB with C's `fwrite` on `stdout`, the stream
/// `print` uses (so the two stay in order, and a failed write sets the error flag that
/// `StandardOutput.finish()` reports at exit with status 74).
struct StreamedOutput {
    private var pending: [UInt8] = []

    mutating func write(_ bytes: [UInt8]) {
        pending.append(contentsOf: bytes)
        if pending.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
        pending.removeAll(keepingCapacity: true)
    }
}

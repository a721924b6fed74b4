// Benchmarks of the input readers in MB/s: each iteration reads one input of 1 MB (10⁶ bytes),
// so the throughput metric (iterations per second) is megabytes per second. The general CSV
// reader (DataTable, one String per cell), the batch's fast readers of CSV and JSON Lines
// (straight from the bytes, no String per cell), and the UTF-8 check every input goes through.

import Benchmark
import MetaPool

/// Batch input of `analyses` × 14 studies, as text, cut to whole lines of at most 10⁶ bytes.
func batchText(jsonLines: Bool) -> [UInt8] {
    var state: UInt64 = 42
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    // Six decimals, as simulation output is usually written.
    func six(_ x: Double) -> String {
        let scaled = Int((x * 1e6).rounded())
        let sign = scaled < 0 ? "-" : ""
        let m = abs(scaled)
        let fraction = String(m % 1_000_000)
        return sign + String(m / 1_000_000) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
    var text = jsonLines ? "" : "analysis,yi,vi\n"
    var a = 0
    while true {
        let ys = (0..<14).map { _ in six(uniform() - 0.3) }, vs = (0..<14).map { _ in six(0.01 + 0.2 * uniform()) }
        let piece = jsonLines
            ? "{\"analysis\": \"a\(a)\", \"yi\": [\(ys.joined(separator: ", "))], \"vi\": [\(vs.joined(separator: ", "))]}\n"
            : zip(ys, vs).map { "a\(a),\($0),\($1)\n" }.joined()
        if text.utf8.count + piece.utf8.count > 1_000_000 { break }
        text += piece
        a += 1
    }
    return Array(text.utf8)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )
    let csv = batchText(jsonLines: false)
    let jsonl = batchText(jsonLines: true)

    Benchmark("CSV, general reader (DataTable), 1 MB: throughput = MB/s") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try DataTable.read(bytes: csv, source: "b.csv"))
        }
    }
    Benchmark("CSV, batch fast reader (yi, vi), 1 MB: throughput = MB/s") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BatchAnalysis.fastAnalyses(csv: csv))
        }
    }
    Benchmark("JSON Lines, batch fast reader (yi, vi), 1 MB: throughput = MB/s") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(BatchAnalysis.fastAnalyses(jsonLines: jsonl))
        }
    }
    Benchmark("JSON Lines, general reader, 1 MB: throughput = MB/s") { benchmark in
        let text = String(decoding: jsonl, as: UTF8.self)
        for _ in benchmark.scaledIterations {
            blackHole(try DataTable.readJSONLines(text, source: "b.jsonl"))
        }
    }
    Benchmark("UTF-8 check of the input, 1 MB: throughput = MB/s") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try DataTable.decodeText(csv, source: "b.csv"))
        }
    }
}

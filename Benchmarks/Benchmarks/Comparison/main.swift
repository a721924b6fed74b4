// MetaPool's side of the side-by-side comparison (Benchmarks/compare.py): the same workloads
// that the script runs in R metafor and Python statsmodels, timed with a monotonic clock, printed
// as one JSON object (seconds). Run through the script, or:
//   swift run -c release --package-path Benchmarks Comparison

import Foundation
import MetaPool

/// Deterministic synthetic studies (the same generator as the script's R and Python sides
/// read from the files it writes): effects around 0.4, τ² ≈ 0.05, variances in [0.01, 0.5].
func synthetic(_ k: Int, seed: UInt64 = 42) -> (y: [Double], v: [Double]) {
    var state = seed
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    var y = [Double](), v = [Double]()
    y.reserveCapacity(k); v.reserveCapacity(k)
    for _ in 0..<k {
        let vi = 0.01 + 0.49 * uniform()
        let z = (uniform() + uniform() + uniform() + uniform() - 2) * 1.7320508075688772
        y.append(0.4 + z * (vi + 0.05).squareRoot())
        v.append(vi)
    }
    return (y, v)
}

/// The median over `rounds` of the time per call, each round `repeats` calls.
func perCall(rounds: Int = 5, repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var times: [Double] = []
    for _ in 0..<rounds {
        let start = clock.now
        for _ in 0..<repeats { try body() }
        let d = clock.now - start
        times.append((Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18) / Double(repeats))
    }
    return times.sorted()[times.count / 2]
}

/// Results land here and are printed at the end, so the optimizer cannot drop the work.
nonisolated(unsafe) var sink = 0.0
@inline(never) func keep<T>(_ x: T) {
    if let d = x as? Double { sink += d } else { withExtendedLifetime(x) {} }
}

/// The floor: one plain pass Σ yᵢ/vᵢ over the same arrays.
@inline(never) func summingPass(_ y: [Double], _ v: [Double]) -> Double {
    var s = 0.0
    y.withUnsafeBufferPointer { y in v.withUnsafeBufferPointer { v in for i in 0..<y.count { s += y[i] / v[i] } } }
    return s
}

let arguments = CommandLine.arguments
// The folder to write the datasets into (compare.py passes one); anything else, e.g. the arguments
// of `swift package benchmark` when it runs every executable of the package, is ignored.
var isFolder: ObjCBool = false
let dataDirectory = arguments.dropFirst().first { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && isFolder.boolValue }
var out: [String: Double] = [:]

// Write the datasets so that R and Python fit exactly the same numbers.
let k14 = synthetic(14)
let k1e4 = synthetic(10_000)
if let dir = dataDirectory {
    for (name, d) in [("k14", k14), ("k1e4", k1e4)] {
        var text = "yi,vi\n"
        for (y, v) in zip(d.y, d.v) { text += "\(y),\(v)\n" }
        try text.write(toFile: "\(dir)/\(name).csv", atomically: true, encoding: .utf8)
    }
}

// 1. k = 14, full inference: REML, HKSJ, prediction interval, Q-profile CI for tau^2.
let effects14 = try EffectSizes.generic(yi: k14.y, vi: k14.v)
func fullInference() throws {
    let fit = try MetaAnalysis(effects14, method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
    keep(try fit.heterogeneityIntervals())
    keep(fit.predictionInterval)
}
// 2. k = 10^4, DL (the whole fit, as rma(method = "DL")).
let effects1e4 = try EffectSizes.generic(yi: k1e4.y, vi: k1e4.v)
func derSimonianLaird() throws { keep(try MetaAnalysis(effects1e4, method: .derSimonianLaird)) }
// `COMPARISON_PROFILE=k14` (or `dl`) runs that workload alone for about ten seconds, for a profiler.
if let only = ProcessInfo.processInfo.environment["COMPARISON_PROFILE"], only == "k14" || only == "dl" {
    let (body, repeats) = only == "dl" ? (derSimonianLaird, 50_000) : (fullInference, 2_000_000)
    for _ in 0..<repeats { try body() }
    exit(0)
}
out["k14_full"] = try perCall(repeats: 20_000) { try fullInference() }
out["k14_reml_iterations"] = Double(try RestrictedMaximumLikelihood.tauSquaredCountingIterations(y: k14.y, v: k14.v).iterations)
out["k1e4_dl"] = try perCall(repeats: 200) { try derSimonianLaird() }
out["floor_1e4"] = perCall(repeats: 20_000) { keep(summingPass(k1e4.y, k1e4.v)) }
// 3. REML at k = 10^5 and 10^6: time, iterations, and the plain summing pass over the same arrays.
for (name, k) in [("1e5", 100_000), ("1e6", 1_000_000)] {
    let d = synthetic(k)
    let repeats = k == 100_000 ? 50 : 5
    out["reml_\(name)"] = try perCall(repeats: repeats) { keep(try RestrictedMaximumLikelihood.tauSquared(y: d.y, v: d.v) as Double) }
    out["reml_\(name)_iterations"] = Double(try RestrictedMaximumLikelihood.tauSquaredCountingIterations(y: d.y, v: d.v).iterations)
    out["floor_\(name)"] = perCall(repeats: repeats * 10) { keep(summingPass(d.y, d.v)) }
}
// 4. The batch engine: 10^5 analyses of k = 10 (REML, HKSJ) on 1 task and on every processor.
let batch: [BatchAnalysis.Analysis] = (0..<100_000).compactMap { i in
    let d = synthetic(10, seed: UInt64(i + 1))
    return try? BatchAnalysis.Analysis(id: String(i), yi: d.y, vi: d.v)
}
let engine = BatchAnalysis(method: .restrictedMaximumLikelihood, ciMethod: .hartungKnapp)
func timeBatch(_ tasks: Int) async -> Double {
    let clock = ContinuousClock()
    var times: [Double] = []
    for _ in 0..<3 {
        let start = clock.now
        keep(await engine.run(batch, tasks: tasks))
        let d = clock.now - start
        times.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
    }
    return times.sorted()[1]
}
// `COMPARISON_PROFILE=batch1` (or `batch2`): the batch engine alone on 1 (2) tasks, 20 times.
if let only = ProcessInfo.processInfo.environment["COMPARISON_PROFILE"], only.hasPrefix("batch") {
    for _ in 0..<20 { keep(await engine.run(batch, tasks: only == "batch1" ? 1 : 2)) }
    exit(0)
}
out["batch_1task"] = await timeBatch(1)
out["batch_tasks"] = Double(BatchAnalysis.processorCount)
out["batch_all"] = await timeBatch(BatchAnalysis.processorCount)

FileHandle.standardError.write(Data("(checksum \(sink))\n".utf8))
let keys = out.keys.sorted()
print("{" + keys.map { "\"\($0)\": \(out[$0]!)" }.joined(separator: ", ") + "}")

// swift-tools-version: 6.1
// MetaPool's benchmarks (ordo-one/benchmark), kept in their own package so `swift test` in the
// repository root stays fast. Run: `cd Benchmarks && swift package benchmark`.
import PackageDescription
import class Foundation.ProcessInfo
import struct Foundation.URL

// A path dependency's identity is its folder's name, which depends on where the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let metaPoolIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "MetaPoolBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PoolingBenchmarks",
            dependencies: [
                .product(name: "MetaPool", package: metaPoolIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PoolingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The input readers in MB/s (CSV, JSON Lines, the batch's fast readers, the UTF-8 check).
        .executableTarget(
            name: "ReaderBenchmarks",
            dependencies: [
                .product(name: "MetaPool", package: metaPoolIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ReaderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // MetaPool's side of compare.py (same workloads as R metafor and statsmodels); plain timing.
        .executableTarget(
            name: "Comparison",
            dependencies: [.product(name: "MetaPool", package: metaPoolIdentity)],
            path: "Benchmarks/Comparison"
        ),
    ]
)

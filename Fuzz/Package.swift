// swift-tools-version: 6.1
// libFuzzer harnesses for MetaPool, in their own package so that the root package's build and
// `swift test` never see the fuzzer flags. Build and run (see README.md here):
//
//   swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address
//   Fuzz/.build/release/FuzzCSV Fuzz/Corpus/FuzzCSV -runs=1000000
import PackageDescription
import class Foundation.ProcessInfo
import struct Foundation.URL

// A path dependency's identity is its folder's name, which depends on where the repository was cloned.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let metaPoolIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "MetaPoolFuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // The checks every harness makes on what the library returns.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "MetaPool", package: metaPoolIdentity)]
        ),
        // (a) CSV bytes -> DataTable -> EffectSizes -> MetaAnalysis (+ summary, subgroups, plots).
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "MetaPool", package: metaPoolIdentity)]),
        // (b) The same pipeline from JSON bytes.
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzSupport", .product(name: "MetaPool", package: metaPoolIdentity)]),
        // (c) Arbitrary Doubles (NaN, infinities, subnormals, huge) as yi and vi, every method and CI method,
        //     SubgroupAnalysis and BatchAnalysis.
        .executableTarget(name: "FuzzPooling", dependencies: ["FuzzSupport", .product(name: "MetaPool", package: metaPoolIdentity)]),
    ]
)

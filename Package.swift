// swift-tools-version: 6.1
// MetaPool: meta-analysis for Swift — a numeric core, the `metapool` CLI and its tests.
import PackageDescription

let package = Package(
    name: "MetaPool",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MetaPool", targets: ["MetaPool"]),
        .executable(name: "metapool", targets: ["metapool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        // Tests only: the reference CSV splitter that the byte-level reader (CSVScanner) is checked against.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // Portable file descriptors (Linux, macOS, Windows) for reading input files.
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // Tests only: property-based tests (PropertyTests) on Swift Testing.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // zlib from Debian's zlib1g-dev: the tests inflate the PNGs that rsvg-convert and Chromium render.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "MetaPool",
            // LAPACKE and OpenBLAS (Debian's liblapacke and libopenblas0) are not linked: they are
            // opened on first use (Sources/MetaPool/LinearAlgebra/LAPACK.swift), off the start-up path.
            dependencies: [
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "metapool",
            dependencies: [
                "MetaPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared by the test targets: closeness checks, fixture folders, running the built
        // binary, the bad-input corpus, reading SVG and PNG.
        .target(
            name: "MetaPoolTestSupport",
            dependencies: [
                "MetaPool", "CZlib",
                .product(name: "Numerics", package: "swift-numerics"),
            ],
            path: "Tests/MetaPoolTestSupport"
        ),
        // The library against metafor's numbers, properties, edge cases and traps: no process, no renderer.
        .testTarget(
            name: "MetaPoolTests",
            dependencies: [
                "MetaPool", "MetaPoolTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            exclude: ["Fixtures"]
        ),
        // The `metapool` executable run as a process: errors, check, the commands' outputs, the README.
        .testTarget(
            name: "MetaPoolCLITests",
            // metapool: the tests run the built executable, so it must be built first.
            dependencies: ["MetaPool", "metapool", "MetaPoolTestSupport"]
        ),
        // The plots and the report drawn by real renderers (rsvg-convert, headless Chromium).
        .testTarget(
            name: "MetaPoolRenderingTests",
            dependencies: ["MetaPool", "metapool", "MetaPoolTestSupport"]
        ),
    ]
)

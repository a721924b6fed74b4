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
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Portable file descriptors (Linux, macOS, Windows) for reading input files.
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // Tests only: property-based tests (PropertyTests) on Swift Testing.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // LAPACKE and CBLAS from Debian's liblapacke-dev and libopenblas-dev.
        .systemLibrary(
            name: "CLapacke",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]
        ),
        // zlib from Debian's zlib1g-dev: the tests inflate the PNGs that rsvg-convert and Chromium render.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "MetaPool",
            dependencies: [
                "CLapacke",
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "metapool",
            dependencies: [
                "MetaPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "MetaPoolTests",
            // metapool: CLIErrorTests runs the built executable, so it must be built first.
            dependencies: [
                "MetaPool", "metapool", "CZlib",
                // Support/Close.swift: isClose on isApproximatelyEqual.
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"]
        ),
    ]
)

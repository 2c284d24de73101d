// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "stackc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "stackc", targets: ["stackc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // Values with source positions, diagnostics and instance-graph types; no dependencies.
        .target(name: "StackModel"),
        // The pipeline's first stages: load → layer → expand → graph, and the renderers of their results.
        .target(name: "StackCompiler", dependencies: ["StackModel", .product(name: "Yams", package: "Yams")]),
        // The historical archive: content-defined chunks, SHA-256 dedup, zstd, atomic snapshots.
        .target(name: "StackArchive", dependencies: ["StackModel", "CZstd", "CSystem", "CGear", .product(name: "Crypto", package: "swift-crypto")]),
        // Materialize (recipes, templates, installed state, plan/install) and, later, the runtime jobs.
        .target(name: "StackRuntime", dependencies: [
            "StackModel",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // One file per verb; parses arguments, calls the library, maps outcomes to exit codes.
        .target(name: "StackCLI", dependencies: [
            "StackCompiler", "StackModel", "StackRuntime", "StackArchive", "CSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The entry point: `StackCommand.main()` and nothing else.
        .executableTarget(name: "stackc", dependencies: ["StackCLI"]),
        // libzstd through Debian's libzstd-dev, for the archive.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Linux calls the Swift Glibc module does not export (syncfs, mallopt).
        .systemLibrary(name: "CSystem"),
        // The content-defined chunker's rolling-hash loop (the archive's hottest code).
        .target(name: "CGear"),
        // Golden files, inline position markers and temporary profile trees for the tests.
        .target(name: "StackTestSupport"),
        .testTarget(name: "StackModelTests", dependencies: ["StackModel"]),
        .testTarget(name: "StackCompilerTests", dependencies: ["StackCompiler", "StackModel", "StackTestSupport"]),
        .testTarget(name: "StackArchiveTests", dependencies: ["StackArchive", "StackTestSupport"]),
        .testTarget(name: "StackRuntimeTests", dependencies: ["StackRuntime", "StackCompiler", "StackModel", "StackTestSupport"]),
        .testTarget(name: "StackCLITests", dependencies: ["stackc", "StackCLI", "StackCompiler", "StackTestSupport"]),
    ]
)

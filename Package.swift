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
    ],
    targets: [
        // Values with source positions, diagnostics and instance-graph types; no dependencies.
        .target(name: "StackModel"),
        // The pipeline's first stages: load → layer → expand → graph, and the renderers of their results.
        .target(name: "StackCompiler", dependencies: ["StackModel", .product(name: "Yams", package: "Yams")]),
        // One file per verb; parses arguments, calls the library, maps outcomes to exit codes.
        .target(name: "StackCLI", dependencies: [
            "StackCompiler", "StackModel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The entry point: `StackCommand.main()` and nothing else.
        .executableTarget(name: "stackc", dependencies: ["StackCLI"]),
        // libzstd through Debian's libzstd-dev, for the archive.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Golden files, inline position markers and temporary profile trees for the tests.
        .target(name: "StackTestSupport"),
        .testTarget(name: "StackModelTests", dependencies: ["StackModel"]),
        .testTarget(name: "StackCompilerTests", dependencies: ["StackCompiler", "StackModel", "StackTestSupport"]),
        .testTarget(name: "StackCLITests", dependencies: ["stackc", "StackCLI", "StackCompiler", "StackTestSupport"]),
    ]
)

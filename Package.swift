// swift-tools-version:6.0
import PackageDescription

// Linux only: the archive and the file system use syncfs, sync_file_range, mallopt and st_mtim.
let package = Package(
    name: "stackc",
    products: [
        .executable(name: "stackc", targets: ["stackc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
    ],
    targets: [
        // Values with source positions, diagnostics, the instance graph, the Codable contracts
        // between install and run, and the output printers; no dependencies.
        .target(name: "StackModel"),
        // The outside world behind small interfaces: clock, file system, processes, host facts,
        // progress, and the one failure shape; the only module that touches POSIX for the others.
        .target(name: "StackSystem", dependencies: [
            "StackModel", "CLinux",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Subprocess", package: "swift-subprocess"),
        ]),
        // The pipeline's first stages: load → layer → expand → graph → check.
        .target(name: "StackCompiler", dependencies: ["StackModel", .product(name: "Yams", package: "Yams")]),
        // The historical archive, in rooms: backup, chunking, storage, read (restore, verify, prune).
        .target(name: "StackArchive", dependencies: [
            "StackModel", "StackSystem", "CZstd", "CGear",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Install time: recipes, templates, installed state, plan and apply; reads the
        // InstanceGraph, never profiles; the only module that needs Mustache.
        .target(name: "StackMaterialize", dependencies: [
            "StackModel", "StackSystem",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // Run time: the jobs the wrappers call (export, pull, import), queue, scheduler,
        // supervisor, status; never the compiler, never Mustache.
        .target(name: "StackRuntime", dependencies: [
            "StackModel", "StackSystem", "StackArchive",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // One file per verb; builds the real world, parses arguments, calls one library function,
        // maps the outcome to an exit status.
        .target(name: "StackCLI", dependencies: [
            "StackCompiler", "StackModel", "StackSystem", "StackMaterialize", "StackArchive", "StackRuntime", "CLinux",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The entry point: `StackCommand.start()` and nothing else.
        .executableTarget(name: "stackc", dependencies: ["StackCLI"]),
        // libzstd through Debian's libzstd-dev, for the archive.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Linux calls the Swift Glibc module does not export (syncfs, sync_file_range, mallopt).
        .systemLibrary(name: "CLinux"),
        // The content-defined chunker's rolling-hash loop (the archive's hottest code).
        .target(name: "CGear"),
        // Golden files, position markers, temporary trees, and the test world: a manual clock, an
        // in-memory file system, a recording process runner and an in-memory archive storage.
        .target(name: "StackTestSupport", dependencies: [
            "StackModel", "StackSystem", "StackArchive",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "StackModelTests", dependencies: ["StackModel", "StackTestSupport"]),
        .testTarget(name: "StackSystemTests", dependencies: ["StackSystem", "StackTestSupport"]),
        .testTarget(name: "StackCompilerTests", dependencies: ["StackCompiler", "StackModel", "StackTestSupport"]),
        .testTarget(name: "StackArchiveTests", dependencies: [
            "StackArchive", "StackModel", "StackSystem", "StackTestSupport",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "StackMaterializeTests", dependencies: ["StackMaterialize", "StackCompiler", "StackModel", "StackSystem", "StackTestSupport"]),
        .testTarget(name: "StackRuntimeTests", dependencies: ["StackRuntime", "StackModel", "StackSystem", "StackTestSupport"]),
        .testTarget(name: "StackCLITests", dependencies: ["stackc", "StackCLI", "StackCompiler", "StackModel", "StackSystem", "StackTestSupport"]),
    ]
)

import Foundation
import StackModel

/// A directory of profile files written for one test, removed when the value is released.
public final class TemporaryTree: @unchecked Sendable {
    public let root: String

    /// Writes each `path: content` under a new temporary directory.
    public init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.path + "/stackc-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (path, content) in files { try write(path, content) }
    }

    public func write(_ path: String, _ content: String) throws {
        let full = self.path(path)
        try FileManager.default.createDirectory(atPath: Path.parent(full), withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: true, encoding: .utf8)
    }

    public func path(_ relative: String) -> String { root + "/" + relative }

    /// A path or a diagnostic's file shown relative to the tree, so assertions read like the profiles.
    public func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}

/// The directory holding Package.swift, found from this file's own path.
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

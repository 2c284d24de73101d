import Foundation
import StackModel

/// A file system seen through a root it cannot leave: every path a profile names is resolved
/// under the root, refusing absolute paths, `..` and any symbolic link on the way, so nothing a
/// profile names (or someone planted) can make stackc write outside.
public struct Confined: Sendable {
    /// Absolute, normalized directory everything lives under.
    public let root: String
    public let fileSystem: any FileSystem

    public init(root: String, fileSystem: any FileSystem, workingDirectory: String = FileManager.default.currentDirectoryPath) {
        let absolute = root.hasPrefix("/") ? root : workingDirectory + "/" + root
        self.root = URL(fileURLWithPath: absolute).standardizedFileURL.path
        self.fileSystem = fileSystem
    }

    /// Why a path was refused.
    public struct Escape: Error, Sendable {
        public var path: String
        public var reason: String
        /// True when a symbolic link was met, false for a path that names its way out.
        public var isLink: Bool
    }

    /// `relative` under the root.
    public func resolve(_ relative: String) throws(Escape) -> String {
        guard Path.staysInside(relative) else {
            throw Escape(path: relative, reason: "path '\(relative)' would escape the root", isLink: false)
        }
        var current = root
        for component in Path.components(relative) where component != "." {
            current += "/" + component
            if fileSystem.info(current)?.kind == .symlink {
                throw Escape(path: current, reason: "'\(current)' is a symbolic link; stackc does not follow links inside an instance", isLink: true)
            }
        }
        return current
    }

    public func exists(_ path: String) -> Bool { fileSystem.exists(path) }
    public func isDirectory(_ path: String) -> Bool { fileSystem.isDirectory(path) }
    public func mode(_ path: String) -> Int? { fileSystem.info(path)?.mode }

    /// Creates `path` and missing parents (new parents 0755), then sets `mode` on `path` itself.
    public func makeDirectory(_ path: String, mode: Int) throws(SystemError) {
        try fileSystem.createDirectories(path, mode: mode)
    }

    /// Writes atomically (`Durability.whole`); returns false, writing nothing, when the content
    /// and mode were already so (an unchanged part keeps its bytes and its mtime).
    @discardableResult
    public func write(_ data: Data, to path: String, mode: Int) throws(SystemError) -> Bool {
        if self.mode(path) == mode, let existing = try? fileSystem.read(path), existing == data { return false }
        let parent = Path.parent(path)
        // Existing parents keep their mode; new ones are 0755.
        try makeDirectory(parent, mode: self.mode(parent) ?? 0o755)
        try fileSystem.write(data, to: path, mode: mode, durability: .whole)
        return true
    }

    /// Removes a file; nothing when it is absent.
    public func removeFile(_ path: String) throws(SystemError) {
        do { try fileSystem.removeFile(path) } catch where error.errno == .noEntry {}
    }

    /// Removes a directory and everything in it (only ever a directory a part created and owns).
    public func removeTree(_ path: String) throws(SystemError) { try fileSystem.removeTree(path) }

    /// Removes a directory if it is empty; false when it is not (something else lives there).
    @discardableResult
    public func removeIfEmpty(_ path: String) -> Bool { (try? fileSystem.removeDirectory(path)) != nil }

    /// Removes empty directories from `path` up to (not including) `stop`.
    public func pruneEmptyDirectories(from path: String, upTo stop: String) {
        var current = path
        while current.count > stop.count, current.hasPrefix(stop + "/") {
            guard removeIfEmpty(current) else { return }
            current = Path.parent(current)
        }
    }

    /// Removes the temporary files (`.tmp-*`) writes a crash interrupted left in `directory`.
    public func sweepTemporaries(in directory: String) {
        for name in (try? fileSystem.list(directory)) ?? [] where name.hasPrefix(temporaryFilePrefix) {
            try? fileSystem.removeFile(directory + "/" + name)
        }
    }

    /// Regular files and bytes under `path`, for "what would be lost".
    public func usage(of path: String) -> (files: Int, bytes: Int64) { fileSystem.usage(of: path) }
}

import Foundation
import StackModel
import StackSystem

/// A file system in memory, with POSIX's answers (ENOENT, EEXIST, ENOTDIR, ENOTEMPTY), for
/// tests whose point is logic rather than the disk. `failWrites` makes writes fail with an errno
/// (a full disk); `syncs` counts what was made durable.
public final class InMemoryFileSystem: FileSystem, @unchecked Sendable {
    private enum Node {
        case file(Data, mode: Int)
        case directory(mode: Int)
        case symlink(String)
    }

    private let lock = NSLock()
    private var nodes: [String: Node] = ["/": .directory(mode: 0o755)]
    private var syncCount = 0
    /// Every write fails with this errno while it is set.
    public var failWrites: Errno? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return writeFailure
        }
        set {
            lock.lock()
            writeFailure = newValue
            lock.unlock()
        }
    }
    private var writeFailure: Errno?

    public init() {}

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static func parent(_ path: String) -> String {
        let parent = Path.parent(path)
        return parent.isEmpty ? "/" : parent
    }

    private func requireDirectory(_ path: String, for operation: String, _ target: String) throws(SystemError) {
        switch nodes[path] {
        case .directory?: return
        case nil: throw SystemError(.noEntry, operation, path: target)
        default: throw SystemError(Errno(ENOTDIR), operation, path: target)
        }
    }

    public func info(_ path: String) -> FileInfo? {
        locked {
            switch nodes[path] {
            case .file(let data, let mode)?: FileInfo(kind: .file, mode: mode, size: Int64(data.count))
            case .directory(let mode)?: FileInfo(kind: .directory, mode: mode, size: 0)
            case .symlink(let target)?: FileInfo(kind: .symlink, mode: 0o777, size: Int64(target.utf8.count))
            case nil: nil
            }
        }
    }

    public func read(_ path: String) throws(SystemError) -> Data {
        lock.lock()
        defer { lock.unlock() }
        switch nodes[path] {
        case .file(let data, _)?: return data
        case .directory?: throw SystemError(Errno(EISDIR), "read", path: path)
        case .symlink?: throw SystemError(Errno(ELOOP), "open", path: path)
        case nil: throw SystemError(.noEntry, "open", path: path)
        }
    }

    public func write(_ data: Data, to path: String, mode: Int, durability: Durability) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        if let failure = writeFailure { throw SystemError(failure, "write", path: path) }
        try requireDirectory(Self.parent(path), for: "open", path)
        if case .directory? = nodes[path] { throw SystemError(Errno(EISDIR), "rename", path: path) }
        nodes[path] = .file(data, mode: mode)
    }

    public func createDirectory(_ path: String, mode: Int) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        guard nodes[path] == nil else { throw SystemError(.exists, "mkdir", path: path) }
        try requireDirectory(Self.parent(path), for: "mkdir", path)
        nodes[path] = .directory(mode: mode)
    }

    public func setMode(_ mode: Int, of path: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        switch nodes[path] {
        case .file(let data, _)?: nodes[path] = .file(data, mode: mode)
        case .directory?: nodes[path] = .directory(mode: mode)
        case .symlink?: return
        case nil: throw SystemError(.noEntry, "chmod", path: path)
        }
    }

    public func removeFile(_ path: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        switch nodes[path] {
        case .file?, .symlink?: nodes[path] = nil
        case .directory?: throw SystemError(Errno(EISDIR), "unlink", path: path)
        case nil: throw SystemError(.noEntry, "unlink", path: path)
        }
    }

    public func removeDirectory(_ path: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        guard case .directory? = nodes[path] else { throw SystemError(nodes[path] == nil ? .noEntry : Errno(ENOTDIR), "rmdir", path: path) }
        guard !nodes.keys.contains(where: { $0.hasPrefix(path + "/") }) else { throw SystemError(Errno(ENOTEMPTY), "rmdir", path: path) }
        nodes[path] = nil
    }

    public func rename(_ source: String, to target: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        guard let node = nodes[source] else { throw SystemError(.noEntry, "rename", path: source) }
        try requireDirectory(Self.parent(target), for: "rename", target)
        if case .directory? = nodes[target], nodes.keys.contains(where: { $0.hasPrefix(target + "/") }) {
            throw SystemError(Errno(ENOTEMPTY), "rename", path: target)
        }
        let moved = nodes.filter { $0.key.hasPrefix(source + "/") }
        for key in moved.keys { nodes[key] = nil }
        nodes[target] = node
        nodes[source] = nil
        for (key, value) in moved { nodes[target + key.dropFirst(source.count)] = value }
    }

    public func list(_ directory: String) throws(SystemError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        try requireDirectory(directory, for: "opendir", directory)
        let prefix = directory == "/" ? "/" : directory + "/"
        return nodes.keys.filter { $0.hasPrefix(prefix) && $0 != prefix && !$0.dropFirst(prefix.count).contains("/") }
            .map { String($0.dropFirst(prefix.count)) }
    }

    public func sync(fileSystemOf path: String) throws(SystemError) {
        locked { syncCount += 1 }
    }

    /// How many times everything was made durable.
    public var syncs: Int { locked { syncCount } }

    private var held: Set<String> = []
    private var holders: [String: String] = [:]

    /// Locks are per path, for the whole process: a second `lock` of a held path is refused, as
    /// a second process's flock would be (waiting on the manual world would never end).
    public func lock(_ path: String, holder: String, wait: Bool) throws(SystemError) -> FileLock? {
        lock.lock()
        defer { lock.unlock() }
        try requireDirectory(Self.parent(path), for: "open", path)
        guard !held.contains(path) else { return nil }
        held.insert(path)
        holders[path] = holder
        if nodes[path] == nil { nodes[path] = .file(Data((holder + "\n").utf8), mode: 0o600) }
        return FileLock { [weak self] in self?.locked { _ = self?.held.remove(path) } }
    }

    public func lockHolder(_ path: String) -> String? { locked { holders[path] } }

    public func exchange(_ first: String, _ second: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        guard let a = nodes[first] else { throw SystemError(.noEntry, "renameat2", path: first) }
        guard let b = nodes[second] else { throw SystemError(.noEntry, "renameat2", path: second) }
        let underA = nodes.filter { $0.key.hasPrefix(first + "/") }
        let underB = nodes.filter { $0.key.hasPrefix(second + "/") }
        for key in underA.keys { nodes[key] = nil }
        for key in underB.keys { nodes[key] = nil }
        nodes[first] = b
        nodes[second] = a
        for (key, value) in underA { nodes[second + key.dropFirst(first.count)] = value }
        for (key, value) in underB { nodes[first + key.dropFirst(second.count)] = value }
    }

    public func hardLink(_ source: String, to target: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        guard case .file? = nodes[source] else { throw SystemError(.noEntry, "link", path: source) }
        guard nodes[target] == nil else { throw SystemError(.exists, "link", path: target) }
        try requireDirectory(Self.parent(target), for: "link", target)
        // Content is copied: nothing in the runtime writes a linked file in place.
        nodes[target] = nodes[source]
    }

    public func stream(_ path: String, chunk: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(SystemError) {
        let data = try read(path)
        data.withUnsafeBytes { body($0) }
    }

    public func append(_ data: Data, to path: String) throws(SystemError) {
        lock.lock()
        defer { lock.unlock() }
        if let failure = writeFailure { throw SystemError(failure, "write", path: path) }
        try requireDirectory(Self.parent(path), for: "open", path)
        switch nodes[path] {
        case .file(let old, let mode)?: nodes[path] = .file(old + data, mode: mode)
        case nil: nodes[path] = .file(data, mode: 0o640)
        default: throw SystemError(Errno(EISDIR), "open", path: path)
        }
    }

    /// Plants a symbolic link (to test that confinement refuses to follow it).
    public func link(_ path: String, to target: String) {
        locked { nodes[path] = .symlink(target) }
    }
}

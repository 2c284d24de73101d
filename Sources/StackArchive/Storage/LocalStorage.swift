import Foundation
import StackModel
import StackSystem

/// A repository in a local directory: each object a file, written beside its name and renamed
/// into place (`FileSystem.write`), chunks with `writeBack` durability and one sync before the
/// manifest that names them, manifests and config `whole`.
public struct LocalStorage: ArchiveStorage {
    public let root: String
    private let fileSystem: any FileSystem
    public let locks: any ArchiveLocks

    public init(root: String, fileSystem: any FileSystem, host: HostFacts, clock: any StackClock) {
        self.root = root
        self.fileSystem = fileSystem
        locks = LocalLocks(directory: root + "/locks", host: host, clock: clock)
    }

    public var location: String { root }

    private func path(_ key: String) -> String { root + "/" + key }

    /// The 256 chunk directories up front: no backup has to create one on its hot path.
    public func prepare() throws(ArchiveError) {
        for directory in ["", "snapshots", "locks"] + Self.chunkDirectories {
            do { try fileSystem.createDirectories(path(directory), mode: 0o755) } catch {
                throw .io("cannot create \(path(directory))", error)
            }
        }
    }

    static let chunkDirectories = (0..<256).map { "chunks/" + Hex.string([UInt8($0)]) }

    public func putIfAbsent(_ key: String, _ data: Data) throws(ArchiveError) -> Bool {
        if exists(key) { return false }
        try store(key, data, durability: .writeBack)
        return true
    }

    public func publish(_ key: String, _ data: Data) throws(ArchiveError) {
        try store(key, data, durability: .whole)
    }

    /// One syncfs(2) for a whole backup's chunks instead of an fsync per chunk: the manifest that
    /// refers to them is published only after it.
    public func sync() throws(ArchiveError) {
        do { try fileSystem.sync(fileSystemOf: root) } catch { throw .io("cannot sync \(root)", error) }
    }

    private func store(_ key: String, _ data: Data, durability: Durability) throws(ArchiveError) {
        let target = path(key)
        do {
            try fileSystem.write(data, to: target, mode: 0o600, durability: durability)
        } catch where error.errno == .noEntry {
            // A directory the layout does not pre-create (or one removed by hand).
            do {
                try fileSystem.createDirectories(Path.parent(target), mode: 0o755)
                try fileSystem.write(data, to: target, mode: 0o600, durability: durability)
            } catch {
                throw .io("cannot write \(target)", error)
            }
        } catch {
            throw .io("cannot write \(target)", error)
        }
    }

    public func get(_ key: String) throws(ArchiveError) -> Data {
        do { return try fileSystem.read(path(key)) } catch {
            throw ArchiveError(error.errno == .noEntry ? .missing : .io, "cannot read \(key)", cause: error)
        }
    }

    public func exists(_ key: String) -> Bool {
        fileSystem.exists(path(key))
    }

    public func list(_ prefix: String) throws(ArchiveError) -> [(key: String, size: Int64)] {
        var keys: [(String, Int64)] = []
        func walk(_ relative: String) {
            for name in (try? fileSystem.list(path(relative))) ?? [] where !name.hasPrefix(temporaryFilePrefix) {
                let key = relative.isEmpty || relative.hasSuffix("/") ? relative + name : relative + "/" + name
                guard let info = fileSystem.info(path(key)) else { continue }
                switch info.kind {
                case .file: keys.append((key, info.size))
                case .directory: walk(key)
                default: continue
                }
            }
        }
        walk(prefix)
        return keys.sorted { $0.0 < $1.0 }
    }

    public func delete(_ key: String) throws(ArchiveError) {
        do { try fileSystem.removeFile(path(key)) } catch where error.errno == .noEntry {} catch {
            throw .io("cannot delete \(key)", error)
        }
    }

    /// Leftovers of writes a crash interrupted (`.tmp-*` beside their targets).
    public func sweepTemporary() {
        for directory in ["", "snapshots"] + Self.chunkDirectories {
            for name in (try? fileSystem.list(path(directory))) ?? [] where name.hasPrefix(temporaryFilePrefix) {
                try? fileSystem.removeFile(path(directory) + "/" + name)
            }
        }
    }
}

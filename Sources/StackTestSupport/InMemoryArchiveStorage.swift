import Foundation
import Logging
import StackArchive

/// An archive's storage in memory, with in-process locks of the same rules as a directory's: the
/// seam an object store will fill, exercised without a disk.
public final class InMemoryArchiveStorage: ArchiveStorage, ArchiveLocks, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: Data] = [:]
    private var writer: LockedOperation?
    private var readers = 0
    private var syncCount = 0

    public init() {}

    public var location: String { "memory" }
    public var locks: any ArchiveLocks { self }

    private func locked<T>(_ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    public func prepare() throws(ArchiveError) {}

    public func putIfAbsent(_ key: String, _ data: Data) throws(ArchiveError) -> Bool {
        try locked { () throws(ArchiveError) in
            guard objects[key] == nil else { return false }
            objects[key] = data
            return true
        }
    }

    public func publish(_ key: String, _ data: Data) throws(ArchiveError) {
        try locked { () throws(ArchiveError) in objects[key] = data }
    }

    public func sync() throws(ArchiveError) {
        try locked { () throws(ArchiveError) in syncCount += 1 }
    }

    public func get(_ key: String) throws(ArchiveError) -> Data {
        try locked { () throws(ArchiveError) in
            guard let data = objects[key] else { throw ArchiveError(.missing, "cannot read \(key)") }
            return data
        }
    }

    public func exists(_ key: String) -> Bool { (try? locked { () throws(ArchiveError) in objects[key] != nil }) ?? false }

    public func list(_ prefix: String) throws(ArchiveError) -> [(key: String, size: Int64)] {
        try locked { () throws(ArchiveError) in
            objects.filter { $0.key.hasPrefix(prefix) }.map { ($0.key, Int64($0.value.count)) }.sorted { $0.0 < $1.0 }
        }
    }

    public func delete(_ key: String) throws(ArchiveError) {
        try locked { () throws(ArchiveError) in objects[key] = nil }
    }

    public func sweepTemporary() {}

    /// Damages an object in place (a flipped bit), for corruption tests.
    public func damage(_ key: String) {
        _ = try? locked { () throws(ArchiveError) in
            guard var data = objects[key], !data.isEmpty else { return }
            data[data.startIndex] ^= 0x01
            objects[key] = data
        }
    }

    public var syncs: Int { (try? locked { () throws(ArchiveError) in syncCount }) ?? 0 }

    // MARK: - Locks

    public func lockWriter(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock {
        try locked { () throws(ArchiveError) in
            if let held = writer { throw ArchiveError(.locked, "the repository is locked by this process (\(held.rawValue))", remedy: "wait for it to finish") }
            if operation == .prune && readers > 0 {
                throw ArchiveError(.locked, "\(readers) reader\(readers == 1 ? " is" : "s are") reading the repository; pruning now could delete what it reads",
                                   remedy: "wait for it to finish")
            }
            writer = operation
        }
        return RepositoryLock(afterDeadWriter: false) { [self] in
            lock.lock()
            writer = nil
            lock.unlock()
        }
    }

    public func lockReader(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock? {
        try locked { () throws(ArchiveError) in
            if writer == .prune { throw ArchiveError(.locked, "a prune is removing snapshots", remedy: "wait for it to finish, then run the \(operation.rawValue) again") }
            readers += 1
        }
        return RepositoryLock(afterDeadWriter: false) { [self] in
            lock.lock()
            readers -= 1
            lock.unlock()
        }
    }
}

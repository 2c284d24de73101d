import Foundation
import Logging

/// Where an archive keeps its objects: a small protocol so an object store (S3 with
/// put-if-absent) can replace the local directory without touching backup or restore. Keys are
/// relative paths such as `chunks/ab/ab12…`.
public protocol ArchiveStorage: Sendable {
    /// Where the repository is, for messages.
    var location: String { get }
    /// Creates the empty layout (a new repository).
    func prepare() throws(ArchiveError)
    /// Stores `data` under `key` unless the key exists; returns whether it wrote. Atomic: a reader
    /// never sees part of an object. Durable only after `sync()`.
    func putIfAbsent(_ key: String, _ data: Data) throws(ArchiveError) -> Bool
    /// Replaces `key` atomically and durably (snapshot manifests, config).
    func publish(_ key: String, _ data: Data) throws(ArchiveError)
    /// Makes every object written so far durable (before a manifest refers to them).
    func sync() throws(ArchiveError)
    func get(_ key: String) throws(ArchiveError) -> Data
    func exists(_ key: String) -> Bool
    /// Keys under a prefix (`chunks/`, `snapshots/`), with their sizes, sorted.
    func list(_ prefix: String) throws(ArchiveError) -> [(key: String, size: Int64)]
    func delete(_ key: String) throws(ArchiveError)
    /// Removes what writes a crash interrupted left behind.
    func sweepTemporary()
    /// The repository's locks, beside its objects.
    var locks: any ArchiveLocks { get }
}

/// What a process does to the repository while it holds a lock. Only a prune deletes: readers
/// wait for no backup, and a backup waits for no reader.
public enum LockedOperation: String, Sendable {
    case backup, prune, restore, verify, diff
    /// A prune's dry run reads what a prune would.
    case pruneDryRun = "prune --dry-run"
}

/// The locks of a repository: one writer at a time, any number of readers, and a prune that
/// waits for no reader to be at work.
public protocol ArchiveLocks: Sendable {
    /// The exclusive lock of a writer (backup, prune). A lock left by a holder that is gone is
    /// cleared with a notice; a live one is an error naming its holder. A prune also refuses
    /// while a reader is at work.
    func lockWriter(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock
    /// A shared lock for a reader (restore, verify, diff): refused while a prune runs, never held
    /// up by a backup. Nil where nothing can be locked (a read-only repository).
    func lockReader(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock?
}

/// A lock this process holds; `release()` gives it up (once).
public final class RepositoryLock: @unchecked Sendable {
    /// The lock replaced one left by a writer that died: only such a writer leaves temporary files.
    public let afterDeadWriter: Bool
    private let releaser: @Sendable () -> Void

    public init(afterDeadWriter: Bool, release: @escaping @Sendable () -> Void) {
        self.afterDeadWriter = afterDeadWriter
        releaser = release
    }

    public func release() { releaser() }
}

import Foundation

/// What a process does to the repository while it holds a lock. Only a prune deletes: readers
/// wait for no backup, and a backup waits for no reader.
public enum LockedOperation: String, Sendable {
    case backup, prune, restore, verify, diff
    /// A prune's dry run reads what a prune would.
    case pruneDryRun = "prune --dry-run"
}

/// Who holds a lock, as its file says (`{"pid", "host", "time", "operation"}`).
struct LockHolder: Codable {
    var pid: Int32
    var host: String
    var time: String
    /// Absent in locks written before readers locked: such a holder may be a prune.
    var operation: String?

    var mayDelete: Bool { operation == nil || operation == LockedOperation.prune.rawValue }
    var described: String { "process \(pid) on \(host)" + (operation.map { " (\($0), since \(time))" } ?? "") }
}

/// A lock held by this process: `locks/write` (one writer at a time) or a `locks/read-*` file (any
/// number of readers). Its holder keeps an `flock` on the file while it lives, so a lock whose
/// process is gone is known as such on this host even if the pid was reused; the pid and host in
/// the file name the holder in messages and for other hosts.
public final class RepositoryLock: @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    /// The lock replaced one left by a writer that died: only such a writer leaves temporary files.
    let afterDeadWriter: Bool

    init(path: String, descriptor: Int32, afterDeadWriter: Bool) {
        self.path = path
        self.descriptor = descriptor
        self.afterDeadWriter = afterDeadWriter
    }

    /// Removes the file while still holding its flock, so no one takes the file of a live holder
    /// for a dead one's.
    public func release() {
        unlink(path)
        close(descriptor)
    }
}

extension Repository {
    /// The exclusive lock of a writer (backup, prune). A lock left by a process that is gone is
    /// cleared with a message; a live one is an error naming its holder. A prune also waits for no
    /// reader: it would delete what they read.
    public func lock(for operation: LockedOperation = .backup, report: (String) -> Void) throws(ArchiveError) -> RepositoryLock {
        let locks = LockDirectory(storage.root + "/locks")
        let guardDescriptor: Int32
        do { guardDescriptor = try locks.enterGuard() } catch { throw error.error }
        defer { close(guardDescriptor) }
        var cleared = false
        if let held = locks.inspect(locks.write) {
            guard !held.alive else {
                throw ArchiveError(.locked, "the repository is locked by \(held.holder?.described ?? "a process whose lock file is unreadable")",
                                   remedy: locks.remedy(held))
            }
            report(held.holder.map { "removing a stale lock left by process \($0.pid) on \($0.host), which is gone" } ?? "removing an unreadable lock file")
            unlink(locks.write)
            cleared = true
        }
        if operation == .prune {
            for reader in locks.readers() {
                guard let held = locks.inspect(reader) else { continue }
                guard !held.alive else {
                    throw ArchiveError(.locked, "\(held.holder?.described ?? "a process") is reading the repository; pruning now could delete what it reads",
                                       remedy: locks.remedy(held))
                }
                report("removing the read lock of process \(held.holder.map { "\($0.pid) on \($0.host)" } ?? "?"), which is gone")
                unlink(reader)
            }
        }
        return RepositoryLock(path: locks.write, descriptor: try locks.create(locks.write, operation), afterDeadWriter: cleared)
    }

    /// A shared lock for a reader (restore, verify, diff): refused while a prune runs, never held
    /// up by a backup. On a repository this process cannot write (read-only, or another user's),
    /// nothing can be locked: `nil`, with a note when a writer could still prune it.
    public func readLock(for operation: LockedOperation, report: (String) -> Void) throws(ArchiveError) -> RepositoryLock? {
        let locks = LockDirectory(storage.root + "/locks")
        let guardDescriptor: Int32
        do { guardDescriptor = try locks.enterGuard() } catch {
            guard error.code == EROFS || error.code == EACCES else { throw error.error }
            if error.code == EACCES { report("cannot lock \(storage.root) for reading (\(error.error.message)); a prune running now could remove what is read") }
            return nil
        }
        defer { close(guardDescriptor) }
        if let held = locks.inspect(locks.write), held.alive, held.holder?.mayDelete ?? true {
            throw ArchiveError(.locked, "a prune by \(held.holder?.described ?? "an unknown process") is removing snapshots",
                               remedy: held.local ? "wait for it to finish, then run the \(operation.rawValue) again" : locks.remedy(held))
        }
        let path = locks.directory + "/read-" + UUID().uuidString.lowercased()
        return RepositoryLock(path: path, descriptor: try locks.create(path, operation), afterDeadWriter: false)
    }
}

extension Repository {
    /// A snapshot resolved before its reader took the lock may have been pruned in between.
    func requirePresent(_ record: SnapshotRecord) throws(ArchiveError) {
        guard storage.exists(Self.snapshotKey(record.id)) else {
            throw ArchiveError(.notFound, "snapshot \(record.shortID) was removed (by a prune) before it could be read", remedy: "list what remains with 'stackc archive ls'")
        }
    }
}

/// The `locks/` directory. Every check-then-create of a lock runs under an flock of
/// `locks/guard`, so two processes never both see a lock as absent or as stale and both take it.
struct LockDirectory {
    let directory: String
    var write: String { directory + "/write" }

    init(_ directory: String) { self.directory = directory }

    private static let host = ProcessInfo.processInfo.hostName

    /// Why the guard could not be taken: `code` is the errno (EROFS: a read-only repository).
    struct GuardUnavailable: Error {
        var code: Int32
        var error: ArchiveError
    }

    /// Blocks until no other process is checking or taking a lock; held until the descriptor is closed.
    func enterGuard() throws(GuardUnavailable) -> Int32 {
        let path = directory + "/guard"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            throw GuardUnavailable(code: code, error: ArchiveError(.io, "cannot open \(path): \(String(cString: strerror(code)))"))
        }
        while flock(fd, LOCK_EX) != 0 {
            let code = errno
            guard code == EINTR else {
                close(fd)
                throw GuardUnavailable(code: code, error: ArchiveError(.io, "cannot lock \(path): \(String(cString: strerror(code)))"))
            }
        }
        return fd
    }

    struct Held {
        var path: String
        var holder: LockHolder?
        var local: Bool
        var alive: Bool
    }

    /// The holder of the lock file at `path`, and whether it is alive: on this host, whether its
    /// flock is still held; on another, it cannot be known, so it is taken as alive.
    func inspect(_ path: String) -> Held? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let holder = try? JSONDecoder().decode(LockHolder.self, from: FileHandle(fileDescriptor: fd).readDataToEndOfFile())
        let local = holder.map { $0.host == Self.host } ?? true
        guard local else { return Held(path: path, holder: holder, local: false, alive: true) }
        let free = flock(fd, LOCK_EX | LOCK_NB) == 0
        return Held(path: path, holder: holder, local: true, alive: !free)
    }

    func readers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("read-") }.sorted().map { directory + "/" + $0 }
    }

    func remedy(_ held: Held) -> String {
        held.local ? "wait for it to finish" : "if that process is gone, remove \(held.path)"
    }

    /// Creates a lock file holding its flock and naming this process; the content is whole before
    /// the guard is released, so no one reads a half-written lock.
    func create(_ path: String, _ operation: LockedOperation) throws(ArchiveError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ArchiveError(.io, "cannot create the lock \(path): \(String(cString: strerror(errno)))") }
        let holder = LockHolder(pid: getpid(), host: Self.host, time: Coding.format(Date()), operation: operation.rawValue)
        let content = ((try? JSONEncoder().encode(holder)) ?? Data()) + Data("\n".utf8)
        let written = content.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        // Not fsynced: after a crash the holder is gone, so a lock that did not survive it is no loss.
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, written == content.count else {
            let reason = String(cString: strerror(errno))
            unlink(path)
            close(fd)
            throw ArchiveError(.io, "cannot write the lock \(path): \(reason)")
        }
        return fd
    }
}

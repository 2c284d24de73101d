import Foundation
import StackModel
import Logging
import StackSystem

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

/// The locks of a local repository, in its `locks/` directory: `locks/write` (one writer at a
/// time) or a `locks/read-*` file (any number of readers). A holder keeps an `flock` on its file
/// while it lives, so a lock whose process is gone is known as such on this host even if the pid
/// was reused; the pid and host in the file name the holder in messages and for other hosts.
struct LocalLocks: ArchiveLocks {
    let directory: String
    let host: HostFacts
    let clock: any StackClock

    func lockWriter(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock {
        let locks = LockDirectory(directory, host: host, clock: clock)
        let guardDescriptor: Int32
        do { guardDescriptor = try locks.enterGuard() } catch { throw error.error }
        defer { close(guardDescriptor) }
        var cleared = false
        if let held = locks.inspect(locks.write) {
            guard !held.alive else {
                throw ArchiveError(.locked, "the repository is locked by \(held.holder?.described ?? "a process whose lock file is unreadable")",
                                   remedy: locks.remedy(held))
            }
            logger.notice("\(held.holder.map { "removing a stale lock left by process \($0.pid) on \($0.host), which is gone" } ?? "removing an unreadable lock file")")
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
                logger.notice("removing the read lock of process \(held.holder.map { "\($0.pid) on \($0.host)" } ?? "?"), which is gone")
                unlink(reader)
            }
        }
        return locks.held(locks.write, descriptor: try locks.create(locks.write, operation), afterDeadWriter: cleared)
    }

    func lockReader(for operation: LockedOperation, logger: Logger) throws(ArchiveError) -> RepositoryLock? {
        let locks = LockDirectory(directory, host: host, clock: clock)
        let guardDescriptor: Int32
        do { guardDescriptor = try locks.enterGuard() } catch {
            guard error.code == .readOnly || error.code == .accessDenied else { throw error.error }
            if error.code == .accessDenied {
                logger.notice("cannot lock \(Path.parent(directory)) for reading (\(error.error.description)); a prune running now could remove what is read")
            }
            return nil
        }
        defer { close(guardDescriptor) }
        if let held = locks.inspect(locks.write), held.alive, held.holder?.mayDelete ?? true {
            throw ArchiveError(.locked, "a prune by \(held.holder?.described ?? "an unknown process") is removing snapshots",
                               remedy: held.local ? "wait for it to finish, then run the \(operation.rawValue) again" : locks.remedy(held))
        }
        let path = locks.directory + "/read-" + UUID().uuidString.lowercased()
        return locks.held(path, descriptor: try locks.create(path, operation), afterDeadWriter: false)
    }
}

extension Repository {
    /// The exclusive lock of a writer (see `ArchiveLocks`).
    func lock(for operation: LockedOperation) throws(ArchiveError) -> RepositoryLock {
        try storage.locks.lockWriter(for: operation, logger: context.logger)
    }

    /// A reader's shared lock (see `ArchiveLocks`).
    func readLock(for operation: LockedOperation) throws(ArchiveError) -> RepositoryLock? {
        try storage.locks.lockReader(for: operation, logger: context.logger)
    }

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
    let host: HostFacts
    let clock: any StackClock
    var write: String { directory + "/write" }

    init(_ directory: String, host: HostFacts, clock: any StackClock) {
        self.directory = directory
        self.host = host
        self.clock = clock
    }

    /// Why the guard could not be taken: `code` is the errno (EROFS: a read-only repository).
    struct GuardUnavailable: Error {
        var code: Errno
        var error: ArchiveError
    }

    /// A lock held until released: its file removed while its flock is still held, so no one
    /// takes the file of a live holder for a dead one's.
    func held(_ path: String, descriptor: Int32, afterDeadWriter: Bool) -> RepositoryLock {
        RepositoryLock(afterDeadWriter: afterDeadWriter) {
            unlink(path)
            close(descriptor)
        }
    }

    /// Blocks until no other process is checking or taking a lock; held until the descriptor is closed.
    func enterGuard() throws(GuardUnavailable) -> Int32 {
        let path = directory + "/guard"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let cause = SystemError.last("open", path: path)
            throw GuardUnavailable(code: cause.errno, error: .io("cannot open \(path)", cause))
        }
        while flock(fd, LOCK_EX) != 0 {
            let cause = SystemError.last("flock", path: path)
            guard cause.errno == .interrupted else {
                close(fd)
                throw GuardUnavailable(code: cause.errno, error: .io("cannot lock \(path)", cause))
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
        let local = holder.map { $0.host == host.hostname } ?? true
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
        guard fd >= 0 else { throw .io("cannot create the lock \(path)", .last("open", path: path)) }
        let holder = LockHolder(pid: host.pid, host: host.hostname, time: Coding.format(clock.date), operation: operation.rawValue)
        let content: Data
        do { content = try Coding.encodeLine(holder) } catch {
            unlink(path)
            close(fd)
            throw error
        }
        // Not fsynced: after a crash the holder is gone, so a lock that did not survive it is no loss.
        do throws(SystemError) {
            try LocalFileSystem.writeAll(content, to: fd, path: path)
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { throw .last("flock", path: path) }
        } catch {
            unlink(path)
            close(fd)
            throw .io("cannot write the lock \(path)", error)
        }
        return fd
    }
}

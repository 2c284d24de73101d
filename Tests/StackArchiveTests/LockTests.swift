import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct LockTests {
    @Test func aStaleLockIsClearedWithAMessageAndALiveOneRefuses() throws {
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"))
        let host = ProcessInfo.processInfo.hostName
        // A pid that cannot exist: above the kernel's pid limit.
        try "{\"pid\": 99999999, \"host\": \"\(host)\", \"time\": \"x\"}".write(toFile: tree.path("repo/locks/write"), atomically: true, encoding: .utf8)
        let messages = Messages()
        let held = try repository.lock { messages.append($0) }
        #expect(messages.list.count == 1 && messages.list[0].contains("stale lock left by process 99999999"))
        #expect { _ = try repository.lock { _ in } } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            return error.kind == .locked && error.message.contains("process \(getpid()) on \(host)")
        }
        held.release()
        try repository.lock { _ in }.release()
    }
}

extension LockTests {
    @Test func aDeadWritersTemporaryFilesAreSweptByTheNextBackup() throws {
        let tree = try TemporaryTree(["src/a": "a"])
        let repository = try Repository.initialize(at: tree.path("repo"))
        let leftover = tree.path("repo/chunks/ab/.tmp-left-by-a-killed-backup")
        try "half a chunk".write(toFile: leftover, atomically: false, encoding: .utf8)
        // A live writer's lock, released cleanly: no writer died, nothing to sweep.
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(FileManager.default.fileExists(atPath: leftover))
        // The lock of a writer that died: the next backup sweeps what it left.
        try "{\"pid\": 99999999, \"host\": \"\(ProcessInfo.processInfo.hostName)\", \"time\": \"x\"}".write(toFile: tree.path("repo/locks/write"), atomically: true, encoding: .utf8)
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try repository.verify().isHealthy)
    }
}

/// Readers and writers of one repository, in processes or threads of their own.
extension LockTests {
    /// A lock file as another process writes it: `holding` keeps its flock, as a live holder does.
    func lockFile(_ path: String, pid: Int32, operation: String? = nil, holding: Bool) throws -> Int32? {
        let op = operation.map { ", \"operation\": \"\($0)\"" } ?? ""
        try "{\"pid\": \(pid), \"host\": \"\(ProcessInfo.processInfo.hostName)\", \"time\": \"x\"\(op)}".write(toFile: path, atomically: true, encoding: .utf8)
        guard holding else { return nil }
        let fd = open(path, O_RDONLY)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd
    }

    func lockedError(_ containing: String) -> (any Error) -> Bool {
        { error in
            guard let error = error as? ArchiveError else { return false }
            return error.kind == .locked && error.message.contains(containing)
        }
    }

    @Test func aLockWhosePidWasReusedIsStaleAndAHalfWrittenOneIsLive() throws {
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"))
        // Our own pid is alive, but nothing holds the lock's flock: its writer is gone and the pid
        // belongs to someone else now.
        _ = try lockFile(tree.path("repo/locks/write"), pid: getpid(), operation: "backup", holding: false)
        let messages = Messages()
        try repository.lock { messages.append($0) }.release()
        #expect(messages.list == ["removing a stale lock left by process \(getpid()) on \(ProcessInfo.processInfo.hostName), which is gone"])
        // A writer between creating its lock and writing it: the file is empty but held.
        let fd = open(tree.path("repo/locks/write"), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(performing: { _ = try repository.lock { _ in } }, throws: lockedError("unreadable"))
        #expect(FileManager.default.fileExists(atPath: tree.path("repo/locks/write")), "a live writer's lock is never removed")
        close(fd)
        let after = Messages()
        try repository.lock { after.append($0) }.release()
        #expect(after.list == ["removing an unreadable lock file"])
    }

    @Test func twoWritersFindingTheSameStaleLockNeverBothTakeIt() throws {
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"))
        for _ in 0..<20 {
            _ = try lockFile(tree.path("repo/locks/write"), pid: 99_999_999, holding: false)
            // Both start while the guard is held, so both look at the stale lock as soon as it is released.
            let guardFD = open(tree.path("repo/locks/guard"), O_RDWR | O_CREAT, 0o644)
            #expect(flock(guardFD, LOCK_EX) == 0)
            let takers = (0..<2).map { _ in
                Background { () throws(ArchiveError) -> (taken: RepositoryLock?, messages: Int) in
                    let messages = Messages()
                    let taken = try? repository.lock { messages.append($0) }
                    return (taken, messages.list.count)
                }
            }
            usleep(20_000)  // both are (almost surely) waiting on the guard now
            close(guardFD)
            let outcomes = try takers.map { try $0.value() }
            #expect(outcomes.filter { $0.taken != nil }.count == 1)
            #expect(outcomes.map(\.messages).reduce(0, +) == 1, "one writer clears the stale lock; the other finds the first one's")
            outcomes.forEach { $0.taken?.release() }
        }
    }

    @Test func aPruneWaitsForReadersAndReadersForAPruneButNotForABackup() throws {
        let tree = try TemporaryTree(["src/a": "one"])
        let repository = try Repository.initialize(at: tree.path("repo"))
        let first = try repository.backup(tree.path("src"), options: BackupOptions(source: "s", time: Date(timeIntervalSince1970: 0))).record
        try "two".write(toFile: tree.path("src/a"), atomically: true, encoding: .utf8)
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s", time: Date(timeIntervalSince1970: 3600)))

        let reader = try #require(try repository.readLock(for: .restore) { _ in })
        #expect(performing: { try repository.prune(RetentionPolicy(last: 1), dryRun: false) }, throws: lockedError("(restore, since"))
        #expect(try repository.snapshots().count == 2, "nothing was pruned")
        try "three".write(toFile: tree.path("src/a"), atomically: true, encoding: .utf8)
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s", time: Date(timeIntervalSince1970: 7200)))
        reader.release()

        let backup = try repository.lock(for: .backup) { _ in }
        #expect(try repository.readLock(for: .verify) { _ in }.map { $0.release() } != nil, "a reader does not wait for a backup")
        backup.release()
        let prune = try repository.lock(for: .prune) { _ in }
        #expect(performing: { _ = try repository.restore(first, to: tree.path("out")) }, throws: lockedError("a prune by process \(getpid())"))
        #expect(performing: { _ = try repository.verify() }, throws: lockedError("a prune by"))
        prune.release()

        // A reader killed without releasing its lock does not hold prunes back.
        _ = try lockFile(tree.path("repo/locks/read-left-by-a-killed-restore"), pid: 99_999_999, operation: "restore", holding: false)
        let messages = Messages()
        _ = try repository.prune(RetentionPolicy(last: 1), dryRun: false) { messages.append($0) }
        #expect(messages.list == ["removing the read lock of process 99999999 on \(ProcessInfo.processInfo.hostName), which is gone"])
        #expect { _ = try repository.restore(first, to: tree.path("out")) } throws: { error in
            (error as? ArchiveError)?.kind == .notFound && (error as? ArchiveError)?.message.contains("was removed (by a prune)") == true
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.path("repo/locks")) == ["guard"], "every lock was released")
    }
}

extension LockTests {
    @Test func aBackupFinishingWhileVerifyRunsRaisesNoFalseAlarm() throws {
        let tree = try TemporaryTree(["src/a": "one"])
        let repository = try Repository.initialize(at: tree.path("repo"))
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        try String(repeating: "a row the second backup adds\n", count: 20_000).write(toFile: tree.path("src/b"), atomically: true, encoding: .utf8)
        // Backups do not wait for readers: one ends while verify is between its two listings.
        let report = try repository.verify { () throws(ArchiveError) in
            _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        }
        #expect(report.isHealthy, "\(report.problems.map(\.detail))")
        #expect(report.snapshotsChecked == 1, "the snapshots published when verify started")
        let again = try repository.verify()
        #expect(again.isHealthy && again.snapshotsChecked == 2)
    }
}

extension FileManager {
    func destinationOfSymbolicLinkExists(_ path: String) -> Bool { (try? destinationOfSymbolicLink(atPath: path)) != nil }
}

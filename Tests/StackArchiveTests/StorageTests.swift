import Foundation
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

/// Backup and restore know the storage only through `ArchiveStorage` and `ArchiveLocks`: the seam
/// an object store fills later, here an in-memory one.
@Suite struct StorageSeamTests {
    @Test func aRepositoryInMemoryBacksUpRestoresVerifiesAndPrunes() throws {
        var rng = Seeded(state: 21)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src/db"), withIntermediateDirectories: true)
        try randomBytes(700_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/db/app.dump")))
        try dumpText(2_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/globals.sql")))
        let storage = InMemoryArchiveStorage()
        let repository = try Repository.initialize(in: storage, chunkSize: 64 << 10, context: .forTests())
        let first = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: 0))).record
        try dumpText(2_100, &rng).write(to: URL(fileURLWithPath: tree.path("src/globals.sql")))
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: 60)))
        #expect(storage.syncs >= 2, "chunks made durable before each manifest")

        let reopened = try Repository.open(storage, context: .forTests())
        #expect(try reopened.snapshots().count == 2)
        #expect(try reopened.verify().isHealthy)
        _ = try reopened.restore(try reopened.snapshot("latest"), to: tree.path("out"))
        #expect(fingerprint(tree.path("out")) == fingerprint(tree.path("src")))

        _ = try reopened.prune(RetentionPolicy(last: 1), dryRun: false)
        let kept = try reopened.snapshots()
        #expect(kept.count == 1 && kept[0].id != first.id, "keep-last 1 keeps the second snapshot only")
        #expect(try reopened.verify().isHealthy)

        let chunk = try #require(try storage.list("chunks/").first?.key)
        storage.damage(chunk)
        #expect(try !reopened.verify().isHealthy, "a flipped bit in memory is found as on disk")
    }

    @Test func theInMemoryLocksKeepTheRulesOfADirectorysLocks() throws {
        let storage = InMemoryArchiveStorage()
        let repository = try Repository.initialize(in: storage, context: .forTests())
        let reader = try #require(try repository.readLock(for: .restore))
        #expect { _ = try repository.lock(for: .prune) } throws: { ($0 as? ArchiveError)?.kind == .locked }
        let backup = try repository.lock(for: .backup)
        #expect { _ = try repository.lock(for: .backup) } throws: { ($0 as? ArchiveError)?.kind == .locked }
        backup.release()
        reader.release()
        let prune = try repository.lock(for: .prune)
        #expect { _ = try repository.readLock(for: .verify) } throws: { ($0 as? ArchiveError)?.kind == .locked }
        prune.release()
    }
}

/// A supervisor stops long archive work by raising the context's flag: the work stops between
/// chunks with `cancelled`, and nothing half-done is published or left in place.
@Suite struct CancellationTests {
    func repository(_ flag: CancellationFlag, _ tree: TemporaryTree) throws -> Repository {
        var context = ArchiveContext.forTests()
        context.cancellation = flag
        return try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10, level: 3, context: context)
    }

    @Test func aCancelledBackupPublishesNoSnapshotAndTheNextOneCompletes() throws {
        var rng = Seeded(state: 5)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        for index in 0..<4 { try randomBytes(300_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/f\(index)"))) }
        let flag = CancellationFlag()
        let repository = try repository(flag, tree)
        flag.cancel()
        #expect { _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s")) } throws: { ($0 as? ArchiveError)?.kind == .cancelled }
        #expect(try repository.snapshots().isEmpty)
        let fresh = try Repository.open(tree.path("repo"))
        _ = try fresh.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(try fresh.snapshots().count == 1)
        #expect(try fresh.verify().isHealthy)
    }

    @Test func aCancelledRestoreLeavesNoTargetAndACancelledVerifySaysSo() throws {
        let tree = try TemporaryTree(["src/a": "alpha", "src/b": "beta"])
        let flag = CancellationFlag()
        let repository = try repository(flag, tree)
        let record = try repository.backup(tree.path("src"), options: BackupOptions(source: "s")).record
        flag.cancel()
        #expect { _ = try repository.restore(record, to: tree.path("out")) } throws: { ($0 as? ArchiveError)?.kind == .cancelled }
        #expect(!FileManager.default.fileExists(atPath: tree.path("out")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.path("")).filter { $0.contains("stackc-restore") }.isEmpty, "no staging left")
        #expect { _ = try repository.verify() } throws: { ($0 as? ArchiveError)?.kind == .cancelled }
    }
}

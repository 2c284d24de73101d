import Crypto
import Foundation
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

/// The archive never answers with other data than was asked for: a damaged manifest is listed and
/// refused, `latest` is the newest of one source, and modes come back as they were.
@Suite struct WrongDataTests {
    /// Two snapshots of `db0` (the second newer) and one of `db1`.
    func history() throws -> (TemporaryTree, Repository, old: SnapshotRecord, new: SnapshotRecord) {
        let tree = try TemporaryTree(["src/app.dump": "version one\n", "other/x": "db1's data\n"])
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let old = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: 1000))).record
        try "version two\n".write(toFile: tree.path("src/app.dump"), atomically: true, encoding: .utf8)
        let new = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: 2000))).record
        _ = try repository.backup(tree.path("other"), options: BackupOptions(source: "db1", time: Date(timeIntervalSince1970: 3000)))
        return (tree, repository, old, new)
    }

    func damageManifest(_ tree: TemporaryTree, _ record: SnapshotRecord, parses: Bool) throws {
        let path = tree.path("repo/snapshots/\(record.id).json")
        var text = try String(contentsOfFile: path, encoding: .utf8)
        // Still valid JSON naming another time, or no longer JSON at all.
        text = parses ? text.replacingOccurrences(of: "1970-01-01T00:33:20", with: "1970-01-01T00:00:01") : String(text.dropLast(9))
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test(arguments: [false, true])
    func aDamagedNewestManifestIsListedAndLatestRefusesToStandInAnotherSnapshot(parses: Bool) throws {
        let (tree, repository, old, new) = try history()
        try damageManifest(tree, new, parses: parses)
        let catalog = try repository.catalog()
        #expect(catalog.damaged.map(\.id) == [new.id])
        #expect(!catalog.records.contains { $0.id == new.id })
        #expect { try repository.snapshot("latest", source: "db0") } throws: { error in
            (error as? ArchiveError)?.kind == .corrupt && (error as? ArchiveError)?.message.contains("\(new.shortID) is damaged") == true
        }
        #expect { try repository.snapshot(new.shortID) } throws: { error in
            (error as? ArchiveError)?.kind == .corrupt && (error as? ArchiveError)?.message.contains("is damaged") == true
        }
        let messages = Messages()
        let skipped = try repository.reporting(messages.append).snapshot("latest", source: "db0", skipDamaged: true)
        #expect(skipped.id == old.id)
        #expect(messages.list.first?.contains("taking \(old.shortID)") == true)
    }

    @Test func latestWithSeveralSourcesNeedsASource() throws {
        let (tree, repository, _, new) = try history()
        defer { withExtendedLifetime(tree) {} }
        #expect { try repository.snapshot("latest") } throws: { error in
            (error as? ArchiveError)?.kind == .usage && (error as? ArchiveError)?.message.contains("2 sources (db0, db1)") == true
        }
        #expect(try repository.snapshot("latest", source: "db0").id == new.id)
    }

    @Test func pruneRefusesWhileAManifestIsDamagedUnlessToldAndThenRemovesIt() throws {
        let (tree, repository, _, new) = try history()
        try damageManifest(tree, new, parses: false)
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { error in
            (error as? ArchiveError)?.kind == .corrupt && (error as? ArchiveError)?.message.contains("nothing was pruned") == true
        }
        #expect(try repository.catalog().records.count == 2)
        var policy = RetentionPolicy(last: 1)
        policy.forgetDamaged = true
        let result = try repository.prune(policy, dryRun: false)
        #expect(result.removedDamaged.map(\.id) == [new.id])
        #expect(try repository.catalog().damaged.isEmpty)
        #expect(try repository.verify().isHealthy)
    }

    @Test func pruneRefusesASourceNoneOfWhoseSnapshotsVerifies() throws {
        let (tree, repository, old, new) = try history()
        defer { withExtendedLifetime(tree) {} }
        // Every chunk of db0's snapshots damaged: keep-last 1 would remove one of the two damaged copies.
        let chunks = Set(try [old, new].flatMap { record in try repository.tree(of: record).flatMap(\.chunkReferences) })
        for hash in chunks {
            var data = try repository.storage.get(Repository.chunkKey(hash))
            data[data.startIndex + data.count / 2] ^= 0x40
            try repository.storage.publish(Repository.chunkKey(hash), data)
        }
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { error in
            (error as? ArchiveError)?.message.contains("no snapshot of source 'db0' verifies") == true
        }
        #expect(try repository.snapshots().count == 3)
    }

    @Test func aRestoredTargetTakesTheModeOfTheBackedUpDirectory() throws {
        let tree = try TemporaryTree(["data/f": "secret rows\n"])
        #expect(chmod(tree.path("data"), 0o700) == 0)
        let repository = try Repository.initialize(at: tree.path("repo"))
        let record = try repository.backup(tree.path("data"), options: BackupOptions(source: "s")).record
        #expect(record.snapshot.rootMode == 0o700)
        _ = try repository.restore(record, to: tree.path("out"))
        #expect(LocalFileSystem().info(tree.path("out"))?.mode == 0o700)
        // Replacing a 0755 target with --force gives it the snapshot's mode too.
        try FileManager.default.createDirectory(atPath: tree.path("busy/x"), withIntermediateDirectories: true)
        _ = try repository.restore(record, to: tree.path("busy"), force: true)
        #expect(LocalFileSystem().info(tree.path("busy"))?.mode == 0o700)
    }

    /// Random damage to every kind of repository file: a restore of `latest` either fails or writes
    /// exactly the newest snapshot's data. Never another snapshot's, never a wrong byte.
    @Test func noRestoreOfLatestAnswersWithOtherDataWhateverFileIsDamaged() throws {
        var rng = Seeded(state: 314)
        var outcomes = (refused: 0, exact: 0)
        for trial in 0..<36 {
            let (tree, repository, _, new) = try history()
            let expected = fingerprint(tree.path("src"))
            let kinds = ["config.json", "config.copy.json", "manifest", "tree chunk", "data chunk", "other manifest"]
            let kind = kinds[trial % kinds.count]
            let path: String
            switch kind {
            case "manifest": path = tree.path("repo/snapshots/\(new.id).json")
            case "other manifest": path = try #require(try FileManager.default.contentsOfDirectory(atPath: tree.path("repo/snapshots"))
                .first { !$0.hasPrefix(new.id) }.map { tree.path("repo/snapshots/" + $0) })
            case "tree chunk": path = tree.path("repo/" + Repository.chunkKey(new.snapshot.tree[0]))
            case "data chunk": path = tree.path("repo/" + Repository.chunkKey(try repository.tree(of: new).first { $0.kind == .file }!.chunkReferences[0]))
            default: path = tree.path("repo/" + kind)
            }
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            if rng.next() % 2 == 0 {
                data[data.startIndex + Int(rng.next() % UInt64(data.count))] ^= UInt8(1 << (rng.next() % 8))
            } else {
                data = data.prefix(Int(rng.next() % UInt64(data.count)))
            }
            try data.write(to: URL(fileURLWithPath: path))
            do {
                let reopened = try Repository.open(tree.path("repo"))
                _ = try reopened.restore(try reopened.snapshot("latest", source: "db0"), to: tree.path("out"))
                #expect(fingerprint(tree.path("out")) == expected, "trial \(trial): \(kind) damaged, restore answered with other data")
                outcomes.exact += 1
            } catch {
                #expect(!FileManager.default.fileExists(atPath: tree.path("out")), "trial \(trial): a failed restore leaves no target")
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > 0 && outcomes.exact > 0, "\(outcomes)")
    }
}

import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct CorruptionTests {
    enum Damage: CaseIterable { case flip, truncate }

    func fresh() throws -> (TemporaryTree, Repository, SnapshotRecord) {
        var rng = Seeded(state: 99)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        try dumpText(40_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/app.dump")))
        try randomBytes(300_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/blob")))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let record = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0")).record
        return (tree, repository, record)
    }

    func damage(_ path: String, _ kind: Damage) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        switch kind {
        case .flip: data[data.count / 2] ^= 0x20
        case .truncate: data = data.prefix(data.count / 2)
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: Damage.allCases)
    func aDamagedChunkIsNamedWithWhatItBreaksAndRestoreRefusesIt(kind: Damage) throws {
        let (tree, repository, record) = try fresh()
        let victim = try #require(try repository.tree(of: record).first { $0.path == "app.dump" }?.chunks?[1])
        try damage(tree.path("repo/" + Repository.chunkKey(victim)), kind)
        let report = try repository.verify()
        #expect(!report.isHealthy)
        let problem = try #require(report.problems.first)
        #expect(problem.chunk == victim && problem.kind == "corrupt")
        #expect(problem.breaks.map(\.path) == ["app.dump"] && problem.breaks.first?.snapshot == record.shortID)
        #expect { try repository.restore(record, to: tree.path("out")) } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            return error.kind == .corrupt && error.message.contains("'app.dump'")
        }
        #expect(!FileManager.default.fileExists(atPath: tree.path("out")), "no byte written")
        // The intact file still restores alone.
        _ = try repository.restore(record, to: tree.path("blob-only"), patterns: ["blob"])
        #expect(FileManager.default.contents(atPath: tree.path("blob-only/blob")) == FileManager.default.contents(atPath: tree.path("src/blob")))
    }

    @Test func aMissingChunkIsReported() throws {
        let (tree, repository, record) = try fresh()
        let victim = try #require(try repository.tree(of: record).first { $0.path == "blob" }?.chunks?.first)
        try FileManager.default.removeItem(atPath: tree.path("repo/" + Repository.chunkKey(victim)))
        let report = try repository.verify()
        #expect(report.problems.map(\.kind) == ["missing"])
        #expect(report.problems.first?.breaks.map(\.path) == ["blob"])
    }

    @Test(arguments: Damage.allCases)
    func aDamagedManifestIsReported(kind: Damage) throws {
        let (tree, repository, record) = try fresh()
        try damage(tree.path("repo/" + Repository.snapshotKey(record.id)), kind)
        let report = try repository.verify()
        #expect(!report.isHealthy)
        #expect(report.problems.contains { $0.kind.contains("manifest") })
    }

    @Test(arguments: Damage.allCases)
    func aDamagedTreeBreaksItsSnapshotAndStopsPrune(kind: Damage) throws {
        let (tree, repository, record) = try fresh()
        let victim = try #require(record.snapshot.tree.first)
        try damage(tree.path("repo/" + Repository.chunkKey(victim)), kind)
        let report = try repository.verify()
        let problem = try #require(report.problems.first { $0.chunk == victim })
        #expect(problem.kind == "corrupt" && problem.breaks.first?.snapshot == record.shortID)
        #expect { try repository.restore(record, to: tree.path("out")) } throws: { ($0 as? ArchiveError)?.kind == .corrupt }
        let chunksBefore = try repository.storage.list("chunks/").count
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { ($0 as? ArchiveError)?.kind == .corrupt }
        #expect(try repository.storage.list("chunks/").count == chunksBefore, "nothing reclaimed without the tree")
    }

    @Test(arguments: Damage.allCases)
    func aDamagedConfigIsRefusedOnOpen(kind: Damage) throws {
        let (tree, _, _) = try fresh()
        try damage(tree.path("repo/config.json"), kind)
        #expect { try Repository.open(tree.path("repo")) } throws: { ($0 as? ArchiveError)?.kind == .corrupt }
    }

    @Test func aRepositoryOfAnotherFormatVersionIsRefusedWithWhatToDo() throws {
        let (tree, _, _) = try fresh()
        let path = tree.path("repo/config.json")
        for (version, fragment) in [(1, "predates"), (3, "newer")] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let changed = text.replacingOccurrences(of: #""version":\d+"#, with: "\"version\":\(version)", options: .regularExpression)
            try changed.write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try Repository.open(tree.path("repo")) } throws: { error in
                guard let error = error as? ArchiveError else { return false }
                return error.kind == .usage && error.message.contains(fragment) && error.remedy != nil
            }
        }
    }
}

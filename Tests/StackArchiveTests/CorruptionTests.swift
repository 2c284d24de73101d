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
    func aDamagedConfigIsRecoveredFromItsCopyWithANoteAndRefusedWhenBothAre(kind: Damage) throws {
        let (tree, _, _) = try fresh()
        let intact = try Data(contentsOf: URL(fileURLWithPath: tree.path("repo/config.json")))
        try damage(tree.path("repo/config.json"), kind)
        let messages = Messages()
        _ = try Repository.open(tree.path("repo"), context: .reporting(messages.append))
        #expect(messages.list.count == 1 && messages.list[0].contains("config.json of"), "\(messages.list)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: tree.path("repo/config.json"))) == intact, "rewritten from the copy")
        for file in ["config.json", "config.copy.json"] { try damage(tree.path("repo/" + file), kind) }
        #expect { try Repository.open(tree.path("repo")) } throws: { error in
            (error as? ArchiveError)?.kind == .corrupt && (error as? ArchiveError)?.message.contains("and so is its copy") == true
        }
    }

    /// Valid JSON that no stackc writes: each is refused with what is wrong, though it parses.
    @Test(arguments: [("maximum", 24_288, "do not fit its average"), ("compressionLevel", 99, "compression level 99"),
                      ("compressionLevel", -3, "compression level -3"), ("average", 100_000, "not a power of two")])
    func anImplausibleConfigIsRefusedThoughItsChecksumMatches(field: String, value: Int, fragment: String) throws {
        let (tree, repository, _) = try fresh()
        var config = repository.config
        switch field {
        case "maximum": config.chunker.maximum = value
        case "average": config.chunker.average = value
        default: config.compressionLevel = value
        }
        let sealed = try config.sealed()
        for file in ["config.json", "config.copy.json"] { try sealed.write(to: URL(fileURLWithPath: tree.path("repo/" + file))) }
        #expect { try Repository.open(tree.path("repo")) } throws: { error in
            (error as? ArchiveError)?.kind == .corrupt && (error as? ArchiveError)?.message.contains(fragment) == true
        }
        let report = try? Repository.open(tree.path("repo")).verify()
        #expect(report == nil, "verify cannot even open it")
    }

    @Test func verifyChecksBothCopiesOfTheConfig() throws {
        let (tree, repository, _) = try fresh()
        try "{}".write(toFile: tree.path("repo/config.copy.json"), atomically: true, encoding: .utf8)
        let report = try repository.verify()
        #expect(report.problems.map(\.kind) == ["damaged config"])
        #expect(report.problems.first?.detail.contains("config.copy.json is damaged") == true)
    }

    @Test func aRepositoryOfAnotherFormatVersionIsRefusedWithWhatToDo() throws {
        let (tree, repository, _) = try fresh()
        for (version, fragment) in [(1, "predates"), (3, "newer")] {
            var config = repository.config
            config.version = version
            let sealed = try config.sealed()
            for file in ["config.json", "config.copy.json"] { try sealed.write(to: URL(fileURLWithPath: tree.path("repo/" + file))) }
            #expect { try Repository.open(tree.path("repo")) } throws: { error in
                guard let error = error as? ArchiveError else { return false }
                return error.kind == .usage && error.message.contains(fragment) && error.remedy != nil
            }
        }
    }
}

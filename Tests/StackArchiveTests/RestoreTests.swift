import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct RestoreTests {
    func repositoryWithSnapshot() throws -> (TemporaryTree, Repository, SnapshotRecord) {
        var rng = Seeded(state: 21)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src/dumps"), withIntermediateDirectories: true)
        try dumpText(30_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dumps/app.dump")))
        try dumpText(10_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dumps/reports.dump")))
        try Data("manifest".utf8).write(to: URL(fileURLWithPath: tree.path("src/manifest.json")))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let record = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0")).record
        return (tree, repository, record)
    }

    @Test func onlyThePatternsAreRestored() throws {
        let (tree, repository, record) = try repositoryWithSnapshot()
        let restored = try repository.restore(record, to: tree.path("one"), patterns: ["*/reports.dump"])
        #expect(restored.files == 1)
        #expect(fingerprint(tree.path("one")).map { $0.split(separator: " ")[2] } == ["dumps", "dumps/reports.dump"])
        #expect(FileManager.default.contents(atPath: tree.path("one/dumps/reports.dump")) == FileManager.default.contents(atPath: tree.path("src/dumps/reports.dump")))
        #expect(throws: ArchiveError.self) { try repository.restore(record, to: tree.path("none"), patterns: ["nothing*"]) }
    }

    @Test func aNonEmptyTargetNeedsForceAndIsReplacedWhole() throws {
        let (tree, repository, record) = try repositoryWithSnapshot()
        try FileManager.default.createDirectory(atPath: tree.path("busy"), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: tree.path("busy/old")))
        #expect { try repository.restore(record, to: tree.path("busy")) } throws: { ($0 as? ArchiveError)?.kind == .usage }
        #expect(FileManager.default.fileExists(atPath: tree.path("busy/old")))
        _ = try repository.restore(record, to: tree.path("busy"), force: true)
        #expect(fingerprint(tree.path("busy")) == fingerprint(tree.path("src")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tree.root).filter { $0.contains("stackc-restore") }
        #expect(leftovers.isEmpty)
    }

    @Test func aKilledRestoresStagingIsRemovedByTheNextOneAndALiveOnesIsNot() throws {
        let (tree, repository, record) = try repositoryWithSnapshot()
        let dead = tree.path(".out.stackc-restore-99999999")
        let live = tree.path(".out.stackc-restore-1")  // pid 1 is always alive
        for staging in [dead, live] {
            try FileManager.default.createDirectory(atPath: staging + "/half", withIntermediateDirectories: true)
            try Data(count: 4096).write(to: URL(fileURLWithPath: staging + "/half/restored"))
        }
        let messages = Messages()
        _ = try repository.restore(record, to: tree.path("out"), report: { messages.append($0) })
        #expect(messages.list == ["removing .out.stackc-restore-99999999, left by a restore (process 99999999) that did not finish"])
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live + "/half/restored"))
        #expect(fingerprint(tree.path("out")) == fingerprint(tree.path("src")))
    }
}

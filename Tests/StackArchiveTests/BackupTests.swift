import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct RoundTripTests {
    static func randomTree(at root: String, seed: UInt64) throws {
        var rng = Seeded(state: seed)
        let names = ["a", "b c", "ünïcødé", "日本", "dir.x", "-dash", "emoji-😀", "quote'\"", "sp ace"]
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var directories = [root]
        for index in 0..<Int(rng.next() % 25 + 5) {
            let parent = directories[Int(rng.next() % UInt64(directories.count))]
            let name = names[Int(rng.next() % UInt64(names.count))] + "-\(index)"
            let path = parent + "/" + name
            switch rng.next() % 6 {
            case 0:
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                directories.append(path)
            case 1:
                _ = FileManager.default.createFile(atPath: path, contents: Data())
            case 2:
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "../target-\(rng.next() % 9)")
            case 3:
                _ = FileManager.default.createFile(atPath: path, contents: randomBytes(Int(rng.next() % 3_000_000), &rng))
            default:
                _ = FileManager.default.createFile(atPath: path, contents: dumpText(Int(rng.next() % 20_000), &rng))
            }
            if rng.next() % 3 == 0, !FileManager.default.destinationOfSymbolicLinkExists(path) {
                chmod(path, [0o600, 0o640, 0o755, 0o700][Int(rng.next() % 4)])
            }
        }
    }

    @Test(arguments: 1...6)
    func randomTreesComeBackIdentical(seed: Int) throws {
        let tree = try TemporaryTree([:])
        try Self.randomTree(at: tree.path("src"), seed: UInt64(seed))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let result = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        _ = try repository.restore(result.record, to: tree.path("out"))
        #expect(fingerprint(tree.path("out")) == fingerprint(tree.path("src")))
        #expect(try repository.verify().isHealthy)
    }

    @Test func chunksAreNamedByTheLowercaseHexOfTheirSHA256() {
        #expect(Repository.hex(SHA256.hash(data: Data("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Repository.hex(SHA256.hash(data: Data())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func aDirectoryOfThousandsOfFilesIsWalkedWhole() throws {
        // Large enough to be statted on every core.
        let tree = try TemporaryTree([:])
        let many = tree.path("src/many")
        try FileManager.default.createDirectory(atPath: many + "/sub", withIntermediateDirectories: true)
        for index in 0..<2_500 { _ = FileManager.default.createFile(atPath: many + "/f\(index)", contents: Data(repeating: 1, count: index % 7)) }
        try FileManager.default.createSymbolicLink(atPath: many + "/link", withDestinationPath: "f1")
        _ = FileManager.default.createFile(atPath: many + "/sub/inner", contents: Data())
        let walked = try Repository.walk(tree.path("src"), cores: 2)
        let expected = (FileManager.default.enumerator(atPath: tree.path("src"))?.allObjects as? [String] ?? [])
        #expect(walked.map(\.path) == Repository.sortedBytewise(walked).map(\.path))
        #expect(Set(walked.map(\.path)) == Set(expected) && walked.count == expected.count)
        #expect(walked.first { $0.path == "many/link" }?.target == "f1")
        #expect(walked.first { $0.path == "many/f6" }?.size == 6)
    }

    @Test func theTreeIsInByteOrderOfPaths() throws {
        // '-' sorts before '/', so a sibling "a-c" comes between "a" and "a/b"; "ä" is two bytes
        // above every ASCII name.
        let tree = try TemporaryTree(["a/b": "", "a-c": "", "ä": "", "B": "", "a/a b": ""])
        #expect(try Repository.walk(tree.path(""), cores: 2).map(\.path) == ["B", "a", "a-c", "a/a b", "a/b", "ä"])
    }

    @Test func theSameFileTwiceIsStoredOnce() throws {
        var rng = Seeded(state: 3)
        let data = randomBytes(3 << 20, &rng)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src/copy"), withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: tree.path("src/one")))
        try data.write(to: URL(fileURLWithPath: tree.path("src/copy/two")))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 256 << 10)
        let result = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        let entries = result.tree.filter { $0.kind == .file }
        #expect(entries.count == 2 && entries[0].chunks == entries[1].chunks)
        #expect(result.newChunks == Set(entries[0].chunks ?? []).count)
        #expect(result.storedBytes < Int64(data.count) + 4096, "stored once: \(result.storedBytes) bytes for a \(data.count)-byte file held twice")
    }

    @Test func aOnePercentChangeStoresAboutOnePercent() throws {
        var rng = Seeded(state: 11)
        var data = randomBytes(32 << 20, &rng)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: tree.path("src/dump")))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let first = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        // 1 % of the file, in ten places, as rows updated here and there in a dump.
        let region = data.count / 1000
        for place in 0..<10 {
            let start = Int(rng.next() % UInt64(data.count - region))
            data.replaceSubrange(start..<start + region, with: randomBytes(region, &rng))
            _ = place
        }
        try data.write(to: URL(fileURLWithPath: tree.path("src/dump")))
        let second = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        let ratio = Double(second.storedBytes) / Double(first.storedBytes)
        #expect(ratio < 0.06, "a 1 % change stored \(String(format: "%.1f", ratio * 100)) % new data")
        #expect(second.reusedChunks > 0)
        _ = try repository.restore(second.record, to: tree.path("out"))
        #expect(FileManager.default.contents(atPath: tree.path("out/dump")) == data)
    }

    @Test func anUnchangedFileIsNotReadAgain() throws {
        var rng = Seeded(state: 5)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        try randomBytes(2 << 20, &rng).write(to: URL(fileURLWithPath: tree.path("src/a")))
        let repository = try Repository.initialize(at: tree.path("repo"))
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        let again = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(again.unchangedFiles == 1 && again.readBytes == 0)
        #expect(again.record.snapshot.parent != nil)
    }
}

extension RoundTripTests {
    /// A tool that restores mtimes (rsync -t, tar, cp -p) can rewrite a file to the same size and
    /// mtime; its inode or ctime still changes, and the backup reads it.
    @Test func aFileRewrittenToTheSameSizeAndMtimeIsReadAgain() throws {
        let tree = try TemporaryTree(["src/dump": "first version of the dump\n"])
        let repository = try Repository.initialize(at: tree.path("repo"))
        _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        var before = stat()
        stat(tree.path("src/dump"), &before)
        try "other version of the dump\n".write(toFile: tree.path("src/dump"), atomically: false, encoding: .utf8)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, tree.path("src/dump"), &times, 0) == 0)
        var after = stat()
        stat(tree.path("src/dump"), &after)
        #expect(after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        let second = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(second.unchangedFiles == 0)
        _ = try repository.restore(second.record, to: tree.path("out"))
        #expect(try String(contentsOfFile: tree.path("out/dump"), encoding: .utf8) == "other version of the dump\n")
    }
}

@Suite struct BundleTests {
    @Test func smallFilesShareBundlesAndADamagedBundleNamesEachFile() throws {
        var rng = Seeded(state: 8)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src/small"), withIntermediateDirectories: true)
        for index in 0..<2000 {
            try dumpText(Int(rng.next() % 40) + 1, &rng).write(to: URL(fileURLWithPath: tree.path("src/small/\(index).sql")))
        }
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let result = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(result.newChunks < 100, "2000 small files in \(result.newChunks) objects")
        let files = result.tree.filter { $0.kind == .file }
        #expect(files.allSatisfy { $0.bundle != nil && $0.chunks == nil })
        _ = try repository.restore(result.record, to: tree.path("out"))
        #expect(fingerprint(tree.path("out")) == fingerprint(tree.path("src")))

        // Change one file: only it is read again and goes into a new bundle.
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: tree.path("src/small/7.sql")))
        let again = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(again.unchangedFiles == 1999 && again.newChunks == 1)

        let victim = try #require(files.first?.bundle?.chunk)
        let sharing = files.filter { $0.bundle?.chunk == victim }.map(\.path)
        var data = try Data(contentsOf: URL(fileURLWithPath: tree.path("repo/" + Repository.chunkKey(victim))))
        data[data.count / 3] ^= 0x40
        try data.write(to: URL(fileURLWithPath: tree.path("repo/" + Repository.chunkKey(victim))))
        let report = try repository.verify()
        let problem = try #require(report.problems.first { $0.chunk == victim })
        #expect(Set(problem.breaks.filter { $0.snapshot == result.record.shortID }.map(\.path)) == Set(sharing))
    }
}

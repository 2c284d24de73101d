import Foundation
@testable import StackArchive
import StackTestSupport
import Testing

typealias Seeded = SeededGenerator

func randomBytes(_ count: Int, _ rng: inout Seeded) -> Data {
    var data = Data(count: count)
    data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
        var index = 0
        while index < count {
            var word = rng.next()
            for _ in 0..<8 where index < count {
                raw[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
    return data
}

/// SQL-like text: compressible, like the dumps the archive mostly holds.
func dumpText(_ lines: Int, _ rng: inout Seeded) -> Data {
    var text = ""
    for line in 0..<lines { text += "INSERT INTO orders VALUES (\(line), 'customer-\(rng.next() % 5000)', \(rng.next() % 100_000));\n" }
    return Data(text.utf8)
}

/// Everything under `root` that a restore must reproduce: kinds, modes, contents, link targets.
func fingerprint(_ root: String) -> [String] {
    (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted().map { path in
        var info = stat()
        lstat(root + "/" + path, &info)
        switch info.st_mode & S_IFMT {
        case S_IFLNK: return "l \(path) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + path)) ?? "?")"
        case S_IFDIR: return "d \(String(info.st_mode & 0o7777, radix: 8)) \(path)"
        default:
            let data = FileManager.default.contents(atPath: root + "/" + path) ?? Data()
            return "f \(String(info.st_mode & 0o7777, radix: 8)) \(path) \(data.count) \(Repository.hex(SHA256Hasher.hash(data)))"
        }
    }
}

@Suite struct TreeDocumentTests {
    let awkward = ["plain", "with \"quotes\" and \\ backslash", "tab\tnew\nline\u{1}", "ünïcødé/日本語", "line\u{2028}sep", "emoji 🐘", "a/b/c"]

    func entries() -> [TreeEntry] {
        awkward.enumerated().map { index, path in
            var entry = TreeEntry(path: path, kind: index % 3 == 0 ? .file : index % 3 == 1 ? .directory : .symlink, mode: 0o640 + index,
                      size: Int64(index) << 33, mtime: -Int64(index) * 1_000_000_007, target: index % 3 == 2 ? path + " →" : nil,
                      chunks: index % 3 == 0 ? [String(repeating: "ab", count: 32), String(repeating: "cd", count: 32)] : nil,
                      lengths: index % 3 == 0 ? [262_144, Int64(index) << 33] : nil,
                      bundle: index == 3 ? BundleSlice(chunk: String(repeating: "ef", count: 32), offset: 12_345) : nil)
            if index % 3 == 0 {
                // Inode numbers may use all 64 bits.
                entry.ctime = -Int64(index) * 999
                entry.inode = UInt64.max - UInt64(index)
            }
            return entry
        }
    }

    @Test func everyEntryComesBackExactly() throws {
        #expect(try TreeDocument.decode(TreeDocument.encode(entries())) == entries())
        #expect(try TreeDocument.decode(TreeDocument.encode([])) == [])
    }

    @Test func aLongTreeEncodedInPartsReadsBackWhole() throws {
        // Long enough to be encoded in parts on a machine with two or more cores.
        let many = (0..<12_000).map { index in
            TreeEntry(path: "small/\(index)", kind: .file, mode: 0o644, size: Int64(index), mtime: Int64(index) * -7, target: nil,
                      chunks: nil, bundle: BundleSlice(chunk: String(repeating: "0a", count: 32), offset: Int64(index) * 9))
        }
        let document = TreeDocument.encode(many)
        #expect(try TreeDocument.decode(document) == many)
        #expect(String(decoding: document, as: UTF8.self).split(separator: "\n").count == many.count + 2)
    }

    @Test func foundationsEncodingOfTheSameTreeReadsTheSame() throws {
        // Another writer's escapes (\/, \u00e9 …) and unknown keys must read the same.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = String(decoding: try encoder.encode(entries()), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"kind\"", with: "\"future\":[1,{\"x\":null},true,-2.5e3],\"kind\"")
        #expect(try TreeDocument.decode(Data(json.utf8)) == entries())
    }

    @Test func aDamagedDocumentIsAnErrorNotACrash() {
        let document = TreeDocument.encode(entries())
        var rng = Seeded(state: 5)
        for _ in 0..<200 {
            var bytes = [UInt8](document)
            let cut = Int(rng.next() % UInt64(bytes.count))
            if rng.next() % 2 == 0 { bytes = Array(bytes[..<cut]) } else { bytes[cut] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? TreeDocument.decode(Data(bytes))
        }
        #expect(throws: TreeDocument.Malformed.self) { try TreeDocument.decode(Data("[{\"path\":\"x\"}]".utf8)) }
        #expect(throws: TreeDocument.Malformed.self, "an empty tree with bytes after it") { try TreeDocument.decode(Data("[]\n]".utf8)) }
    }
}

@Suite struct ChunkerTests {
    @Test func cutsFollowContentSoAnInsertionMovesOnlyNearbyBoundaries() {
        var rng = Seeded(state: 7)
        let data = randomBytes(4 << 20, &rng)
        let chunker = Chunker(ChunkerParameters(average: 64 << 10))
        func cuts(_ bytes: Data) -> [Int] {
            var offsets: [Int] = []
            var start = 0
            bytes.withUnsafeBytes { raw in
                while start < raw.count {
                    let length = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[start...]), final: true) ?? (raw.count - start)
                    start += length
                    offsets.append(start)
                }
            }
            return offsets
        }
        let original = cuts(data)
        let average = data.count / original.count
        #expect((40 << 10...100 << 10).contains(average), "average \(average) near 64 KiB")
        let shifted = cuts(Data("inserted".utf8) + data).map { $0 - 8 }
        let shared = Set(original).intersection(shifted)
        #expect(shared.count >= original.count - 2, "all but the first boundaries survive an insertion at the start")
    }
}

@Suite struct ParallelChunkingTests {
    /// Cuts found from candidates scanned in parallel parts must be exactly the sequential cuts,
    /// whatever the part and window sizes (here small and unaligned, so every boundary case occurs).
    @Test(arguments: [(200 << 10, 37 << 10), (64 << 10, 64 << 10), (1 << 20, 300_001)])
    func partsScannedInParallelCutWhereOneScanWould(window: Int, part: Int) throws {
        var rng = Seeded(state: UInt64(window + part))
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let chunker = Chunker(repository.config.chunker)
        for size in [0, 1, 16 << 10, (16 << 10) + 1, 100_000, 3_000_000] {
            let data = size % 2 == 0 ? randomBytes(size, &rng) : dumpText(size / 60 + 1, &rng).prefix(size)
            let path = tree.path("file-\(size)")
            try data.write(to: URL(fileURLWithPath: path))
            var expected: [String] = []
            data.withUnsafeBytes { raw in
                var start = 0
                while start < raw.count {
                    let cut = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[start...]), final: true) ?? (raw.count - start)
                    expected.append(Repository.hex(SHA256Hasher.hash(Data(raw[start..<(start + cut)]))))
                    start += cut
                }
            }
            let pipeline = ChunkPipeline(repository: repository, readback: true)
            pipeline.scanWindow = window
            pipeline.scanPart = part
            let list = ChunkList()
            try pipeline.chunk(file: path, into: list, guide: nil, progress: ProgressReporter(label: "", total: 0, enabled: false))
            try pipeline.finish()
            #expect(list.hashes == expected, "size \(size)")
        }
    }
}

@Suite struct GuidedChunkingTests {
    /// A dump as it changes between two backups.
    enum Edit: String, CaseIterable, CustomTestStringConvertible {
        case unchanged, rowsUpdated, rowsInserted, rowsInsertedThenUpdated, rowsDeleted, prepended, appendedALittle, appendedALot, truncated, rewritten, shrunkToNothingMuch, blocksRepeated
        var testDescription: String { rawValue }

        func apply(_ data: Data, _ rng: inout Seeded) -> Data {
            var data = data
            switch self {
            case .unchanged: break
            case .rowsUpdated:
                for _ in 0..<10 {
                    let start = Int(rng.next() % UInt64(data.count - 1000))
                    data.replaceSubrange(start..<start + 1000, with: randomBytes(1000, &rng))
                }
            case .rowsInserted: data.insert(contentsOf: dumpText(80, &rng), at: 100_000)
            case .rowsInsertedThenUpdated:
                data.insert(contentsOf: dumpText(80, &rng), at: 100_000)
                for place in 0..<10 { data.replaceSubrange(600_000 + place * 200_000..<600_100 + place * 200_000, with: randomBytes(100, &rng)) }
            case .rowsDeleted: data.removeSubrange(500_000..<507_000)
            case .prepended: data.insert(contentsOf: randomBytes(33, &rng), at: 0)
            case .appendedALittle: data.append(randomBytes(100, &rng))
            case .appendedALot: data.append(dumpText(20_000, &rng))
            case .truncated: data = data.prefix(2_000_001)
            case .rewritten: data = randomBytes(data.count, &rng)
            case .shrunkToNothingMuch: data = data.prefix(100)
            case .blocksRepeated: data = data.prefix(1_000_000) + data.prefix(1_000_000) + data.suffix(1_000_000)
            }
            return data
        }
    }

    func chunks(of path: String, repository: Repository, guide: ChunkGuide?, depth: Int) throws -> (list: ChunkList, followed: Int64, searched: Int) {
        let pipeline = ChunkPipeline(repository: repository, readback: true)
        pipeline.speculationDepth = depth
        let list = ChunkList()
        try pipeline.chunk(file: path, into: list, guide: guide, progress: ProgressReporter(label: "", total: 0, enabled: false))
        try pipeline.finish()
        return (list, pipeline.statistics.followed, pipeline.statistics.searched)
    }

    /// Following the parent's cuts is only a shortcut: a changed dump must be cut exactly where an
    /// ordinary chunking cuts it, whatever the change, and the unchanged stretches must be followed.
    @Test(arguments: Edit.allCases, [1, 16])
    func aChangedFileIsCutWhereAnOrdinaryChunkingCutsIt(edit: Edit, depth: Int) throws {
        var rng = Seeded(state: 21)
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let before = dumpText(25_000, &rng) + randomBytes(1_500_000, &rng)
        try before.write(to: URL(fileURLWithPath: tree.path("dump")))
        let parent = try chunks(of: tree.path("dump"), repository: repository, guide: nil, depth: depth).list
        #expect(parent.lengths.reduce(0, +) == Int64(before.count) && parent.lengths.count == parent.hashes.count)
        let entry = TreeEntry(path: "dump", kind: .file, mode: 0o600, size: Int64(before.count), mtime: 0, target: nil,
                              chunks: parent.hashes, lengths: parent.lengths, bundle: nil)
        let guide = try #require(ChunkGuide(entry, maximum: repository.config.chunker.maximum))

        let after = edit.apply(before, &rng)
        try after.write(to: URL(fileURLWithPath: tree.path("dump")))
        let ordinary = try chunks(of: tree.path("dump"), repository: repository, guide: nil, depth: depth).list
        let (guided, followed, searched) = try chunks(of: tree.path("dump"), repository: repository, guide: guide, depth: depth)
        let sameCuts = guided.hashes == ordinary.hashes && guided.lengths == ordinary.lengths
        let firstDifference = zip(guided.lengths, ordinary.lengths).enumerated().first { $1.0 != $1.1 }?.offset ?? min(guided.lengths.count, ordinary.lengths.count)
        #expect(sameCuts, "cuts differ from chunk \(firstDifference) of \(ordinary.lengths.count)")
        // A cut is searched for only where the bytes are new, plus one chunk where the file's
        // shift against the parent changes (an insertion or a deletion).
        let new = Set(guided.hashes).subtracting(parent.hashes).count
        let shifts = edit == .blocksRepeated ? 2 : [.rowsInserted, .rowsInsertedThenUpdated, .rowsDeleted, .prepended].contains(edit) ? 1 : 0
        if edit != .rewritten && edit != .shrunkToNothingMuch {
            #expect(searched <= new + shifts, "\(searched) cuts searched for \(new) new chunks")
        }
        let share = Double(followed) / Double(after.count)
        switch edit {
        case .unchanged: #expect(followed == Int64(after.count))
        case .rowsUpdated, .rowsInserted, .rowsInsertedThenUpdated, .rowsDeleted, .prepended, .appendedALittle, .truncated, .blocksRepeated:
            #expect(share > 0.6, "only \(Int(share * 100)) % followed")
        case .appendedALot: #expect(followed >= Int64(before.count) * 9 / 10)
        case .rewritten, .shrunkToNothingMuch: #expect(followed == 0)
        }
    }

    @Test func aParentChunkTheRepositoryLostIsStoredAgain() throws {
        var rng = Seeded(state: 8)
        let tree = try TemporaryTree([:])
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        var data = dumpText(40_000, &rng)
        try data.write(to: URL(fileURLWithPath: tree.path("src/dump")))
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        let first = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        let lost = try #require(first.tree.first { $0.path == "dump" }?.chunks?[3])
        try FileManager.default.removeItem(atPath: tree.path("repo/" + Repository.chunkKey(lost)))

        data.append(dumpText(10, &rng))
        try data.write(to: URL(fileURLWithPath: tree.path("src/dump")))
        let second = try repository.backup(tree.path("src"), options: BackupOptions(source: "s"))
        #expect(second.tree.first { $0.path == "dump" }?.chunks?.contains(lost) == true)
        #expect(FileManager.default.fileExists(atPath: tree.path("repo/" + Repository.chunkKey(lost))))
        _ = try repository.restore(second.record, to: tree.path("out"))
        #expect(FileManager.default.contents(atPath: tree.path("out/dump")) == data)
    }

    @Test func aTreeWithoutLengthsOrWithWrongOnesGuidesNothing() {
        let entry = TreeEntry(path: "dump", kind: .file, mode: 0o600, size: 10, mtime: 0, target: nil,
                              chunks: ["a", "b"], lengths: nil, bundle: nil)
        #expect(ChunkGuide(entry, maximum: 8) == nil)
        var wrong = entry
        wrong.lengths = [4, 5]
        #expect(ChunkGuide(wrong, maximum: 8) == nil)
        wrong.lengths = [10]
        #expect(ChunkGuide(wrong, maximum: 8) == nil)
        wrong.lengths = [1, 9]
        #expect(ChunkGuide(wrong, maximum: 8) == nil, "no chunk is longer than the maximum")
        wrong.lengths = [4, 6]
        #expect(ChunkGuide(wrong, maximum: 8) != nil)
    }
}

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
        #expect(Repository.hex(SHA256Hasher.hash(Data("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Repository.hex(SHA256Hasher.hash(Data())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func aDirectoryOfThousandsOfFilesIsWalkedWhole() throws {
        // Large enough to be statted on every core.
        let tree = try TemporaryTree([:])
        let many = tree.path("src/many")
        try FileManager.default.createDirectory(atPath: many + "/sub", withIntermediateDirectories: true)
        for index in 0..<2_500 { _ = FileManager.default.createFile(atPath: many + "/f\(index)", contents: Data(repeating: 1, count: index % 7)) }
        try FileManager.default.createSymbolicLink(atPath: many + "/link", withDestinationPath: "f1")
        _ = FileManager.default.createFile(atPath: many + "/sub/inner", contents: Data())
        let walked = try Repository.walk(tree.path("src"))
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
        #expect(try Repository.walk(tree.path("")).map(\.path) == ["B", "a", "a-c", "a/a b", "a/b", "ä"])
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
        #expect { try repository.restore(record, to: tree.path("busy")) } throws: { ($0 as? ArchiveError)?.code == .usage }
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
        var messages: [String] = []
        _ = try repository.restore(record, to: tree.path("out"), report: { messages.append($0) })
        #expect(messages == ["removing .out.stackc-restore-99999999, left by a restore (process 99999999) that did not finish"])
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live + "/half/restored"))
        #expect(fingerprint(tree.path("out")) == fingerprint(tree.path("src")))
    }
}

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
            return error.code == .corrupt && error.message.contains("'app.dump'")
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
        #expect { try repository.restore(record, to: tree.path("out")) } throws: { ($0 as? ArchiveError)?.code == .corrupt }
        let chunksBefore = try repository.storage.list("chunks/").count
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { ($0 as? ArchiveError)?.code == .corrupt }
        #expect(try repository.storage.list("chunks/").count == chunksBefore, "nothing reclaimed without the tree")
    }

    @Test(arguments: Damage.allCases)
    func aDamagedConfigIsRefusedOnOpen(kind: Damage) throws {
        let (tree, _, _) = try fresh()
        try damage(tree.path("repo/config.json"), kind)
        #expect { try Repository.open(tree.path("repo")) } throws: { ($0 as? ArchiveError)?.code == .corrupt }
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
                return error.code == .usage && error.message.contains(fragment) && error.remedy != nil
            }
        }
    }
}

@Suite struct RetentionTests {
    /// Snapshots of one source at the given hours after a fixed instant (no clock is read).
    func records(_ hours: [Double], source: String = "db0") -> [SnapshotRecord] {
        let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z, a Thursday
        return hours.enumerated().map { index, hour in
            SnapshotRecord(id: String(format: "%064x", index + 1), snapshot: Snapshot(
                source: source, time: base.addingTimeInterval(hour * 3600), hostname: "h", metadata: [:], tree: [], parent: nil, fileCount: 0, totalSize: 0))
        }
    }

    func kept(_ policy: RetentionPolicy, _ hours: [Double]) -> [Int] {
        let all = records(hours)
        let keep = policy.keep(all)
        return all.enumerated().filter { keep[$0.element.id] != nil }.map(\.offset)
    }

    @Test func policiesKeepWhatResticForgetWould() {
        let everyFiveHours = (0..<40).map { Double($0) * 5 }   // 200 hours, about 8 days
        let cases: [(RetentionPolicy, [Int])] = [
            (RetentionPolicy(last: 3), [37, 38, 39]),
            (RetentionPolicy(hourly: 2), [38, 39]),
            (RetentionPolicy(daily: 3), [33, 38, 39]),        // newest of 2026-01-09, -08, -07
            (RetentionPolicy(weekly: 2), [19, 39]),           // newest of ISO week 2 and of week 1 (Sunday Jan 4, 23:00)
            (RetentionPolicy(monthly: 5), [39]),              // one month present
            (RetentionPolicy(last: 1, daily: 2), [38, 39]),
        ]
        for (policy, expected) in cases {
            #expect(kept(policy, everyFiveHours) == expected, "\(policy)")
        }
    }

    @Test func calendarBucketsUseTheConfiguredTimeZone() {
        // 22:00 and 23:00 UTC on Jan 1 are already Jan 2 in Tokyo.
        var utc = RetentionPolicy(daily: 1)
        #expect(kept(utc, [12, 22, 23]) == [2])
        utc.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        #expect(kept(utc, [12, 14, 16]) == [2])
        #expect(kept(RetentionPolicy(daily: 2), [12, 22]) == [1], "both on Jan 1 in UTC")
    }

    @Test func orderComesFromManifestTimeNotIds() {
        // Ids run opposite to time: the newest snapshot has the smallest id.
        let all = records([10, 20, 30]).enumerated().map { index, record in
            SnapshotRecord(id: String(format: "%064x", 100 - index), snapshot: record.snapshot)
        }
        let keep = RetentionPolicy(last: 1).keep(all)
        #expect(Array(keep.keys) == [all[2].id])
    }

    enum Harm: String, CaseIterable { case flipped, truncated, missing }

    /// Three hourly snapshots of a dump that changes whole each time; returns them oldest first.
    func threeSnapshots(in tree: TemporaryTree) throws -> (Repository, [BackupResult]) {
        var rng = Seeded(state: 4)
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        var results: [BackupResult] = []
        for hour in 0..<3 {
            try randomBytes(300_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dump")))
            results.append(try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: Double(hour) * 3600))))
        }
        return (repository, results)
    }

    @Test(arguments: Harm.allCases)
    func theNewestSnapshotThatVerifiesSurvivesAPolicyThatKeepsOnlyADamagedOne(harm: Harm) throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        let chunk = try #require(results[2].tree.first { $0.path == "dump" }?.chunks?.first)
        let path = tree.path("repo/" + Repository.chunkKey(chunk))
        switch harm {
        case .flipped: try CorruptionTests().damage(path, .flip)
        case .truncated: try CorruptionTests().damage(path, .truncate)
        case .missing: try FileManager.default.removeItem(atPath: path)
        }
        let result = try repository.prune(RetentionPolicy(last: 1), dryRun: false)
        #expect(Set(result.kept.map(\.0.id)) == [results[1].record.id, results[2].record.id])
        #expect(result.kept.first { $0.0.id == results[1].record.id }?.1 == ["newest verified"])
        #expect(result.removed.map(\.id) == [results[0].record.id])
        _ = try repository.restore(results[1].record, to: tree.path("out"))
    }

    @Test func aNamedSnapshotIsForgottenEvenTheNewestAndItsOwnChunksReclaimed() throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        let ids = results.map(\.record.id)
        func policy(last: Int = 0, forget: [String]) -> RetentionPolicy {
            var policy = RetentionPolicy(last: last)
            policy.forget = forget
            return policy
        }
        // Only the named one goes: by unique prefix, with the chunks no other snapshot uses.
        let middle = try repository.prune(policy(forget: [String(ids[1].prefix(8))]), dryRun: false)
        #expect(middle.removed.map(\.id) == [ids[1]])
        #expect(Set(middle.kept.map(\.0.id)) == [ids[0], ids[2]])
        #expect(middle.reclaimedChunks == results[1].newChunks + results[1].record.snapshot.tree.count, "its dump's chunks and its tree's")
        // The newest, named, goes even though --keep-last 1 would keep it; the one before it is
        // then the newest that verifies, and stays.
        let newest = try repository.prune(policy(last: 1, forget: ["latest"]), dryRun: false)
        #expect(newest.removed.map(\.id) == [ids[2]])
        #expect(newest.kept.map(\.0.id) == [ids[0]] && newest.kept.first?.1 == ["newest verified"])
        #expect(try repository.verify().isHealthy)
        // A name that matches nothing stops the prune before anything goes.
        #expect { try repository.prune(policy(forget: ["ffffffffffff"]), dryRun: false) } throws: { ($0 as? ArchiveError)?.code == .notFound }
        #expect(try repository.snapshots().map(\.id) == [ids[0]])
    }

    @Test func aManifestThatCannotBeReadStopsPruneBeforeAnythingIsDeleted() throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        try CorruptionTests().damage(tree.path("repo/" + Repository.snapshotKey(results[0].record.id)), .truncate)
        let chunks = try FileManager.default.subpathsOfDirectory(atPath: tree.path("repo/chunks")).count
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { error in
            let error = error as? ArchiveError
            return error?.code == .corrupt && error?.message.contains("nothing was pruned") == true
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: tree.path("repo/chunks")).count == chunks)
        #expect(try repository.snapshots().count == 2, "the two readable manifests are still there")
    }

    @Test func anEmptyPolicyIsRefusedAndTheNewestIsAlwaysKept() throws {
        var rng = Seeded(state: 1)
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        for hour in 0..<4 {
            try randomBytes(200_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dump")))
            _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: Double(hour) * 3600)))
        }
        #expect { try repository.prune(RetentionPolicy(), dryRun: false) } throws: { ($0 as? ArchiveError)?.code == .usage }
        let dry = try repository.prune(RetentionPolicy(maxSize: 1), dryRun: true)
        #expect(dry.kept.count == 1 && dry.removed.count == 3)
        #expect(try repository.snapshots().count == 4, "a dry run changes nothing")
        let result = try repository.prune(RetentionPolicy(maxSize: 1), dryRun: false)
        #expect(result.reclaimedChunks > 0)
        let left = try repository.snapshots()
        #expect(left.count == 1 && left.first?.snapshot.time == Date(timeIntervalSince1970: 3 * 3600))
        #expect(try repository.verify().isHealthy)
        _ = try repository.restore(try repository.snapshot("latest"), to: tree.path("out"))
        #expect(FileManager.default.contents(atPath: tree.path("out/dump")) == FileManager.default.contents(atPath: tree.path("src/dump")))
    }
}

@Suite struct LockTests {
    @Test func aStaleLockIsClearedWithAMessageAndALiveOneRefuses() throws {
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"))
        let host = ProcessInfo.processInfo.hostName
        // A pid that cannot exist: above the kernel's pid limit.
        try "{\"pid\": 99999999, \"host\": \"\(host)\", \"time\": \"x\"}".write(toFile: tree.path("repo/locks/write"), atomically: true, encoding: .utf8)
        var messages: [String] = []
        let held = try repository.lock { messages.append($0) }
        #expect(messages.count == 1 && messages[0].contains("stale lock left by process 99999999"))
        #expect { _ = try repository.lock { _ in } } throws: { error in
            guard let error = error as? ArchiveError else { return false }
            return error.code == .locked && error.message.contains("process \(getpid()) on \(host)")
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
            return error.code == .locked && error.message.contains(containing)
        }
    }

    @Test func aLockWhosePidWasReusedIsStaleAndAHalfWrittenOneIsLive() throws {
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"))
        // Our own pid is alive, but nothing holds the lock's flock: its writer is gone and the pid
        // belongs to someone else now.
        _ = try lockFile(tree.path("repo/locks/write"), pid: getpid(), operation: "backup", holding: false)
        var messages: [String] = []
        try repository.lock { messages.append($0) }.release()
        #expect(messages == ["removing a stale lock left by process \(getpid()) on \(ProcessInfo.processInfo.hostName), which is gone"])
        // A writer between creating its lock and writing it: the file is empty but held.
        let fd = open(tree.path("repo/locks/write"), O_WRONLY | O_CREAT | O_EXCL, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(performing: { _ = try repository.lock { _ in } }, throws: lockedError("unreadable"))
        #expect(FileManager.default.fileExists(atPath: tree.path("repo/locks/write")), "a live writer's lock is never removed")
        close(fd)
        messages = []
        try repository.lock { messages.append($0) }.release()
        #expect(messages == ["removing an unreadable lock file"])
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
                    var messages = 0
                    let taken = try? repository.lock { _ in messages += 1 }
                    return (taken, messages)
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
        var messages: [String] = []
        _ = try repository.prune(RetentionPolicy(last: 1), dryRun: false) { messages.append($0) }
        #expect(messages == ["removing the read lock of process 99999999 on \(ProcessInfo.processInfo.hostName), which is gone"])
        #expect { _ = try repository.restore(first, to: tree.path("out")) } throws: { error in
            (error as? ArchiveError)?.code == .notFound && (error as? ArchiveError)?.message.contains("was removed (by a prune)") == true
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
        let report = try repository.verify(progress: false, report: { _ in }) { () throws(ArchiveError) in
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

import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

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
                    expected.append(Repository.hex(SHA256.hash(data: Data(raw[start..<(start + cut)]))))
                    start += cut
                }
            }
            let pipeline = ChunkPipeline(repository: repository, readback: true)
            pipeline.scanWindow = window
            pipeline.scanPart = part
            let list = ChunkList()
            try pipeline.chunk(file: path, into: list, guide: nil, progress: NoProgress().start("", total: 0))
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
        try pipeline.chunk(file: path, into: list, guide: guide, progress: NoProgress().start("", total: 0))
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

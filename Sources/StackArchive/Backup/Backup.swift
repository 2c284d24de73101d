import Crypto
import Foundation
import StackModel
import StackSystem

/// What a backup did.
public struct BackupResult: Sendable {
    public var record: SnapshotRecord
    public var tree: [TreeEntry]
    public var readBytes: Int64
    public var newChunks: Int
    /// Compressed bytes added to the repository.
    public var storedBytes: Int64
    public var reusedChunks: Int
    /// Files whose size and mtime matched the parent snapshot: not read again.
    public var unchangedFiles: Int
}

public struct BackupOptions: Sendable {
    public var source: String
    public var time: Date?
    public var metadata: [String: String]
    /// Read each new chunk back and re-hash it before a snapshot references it.
    public var readback: Bool

    public init(source: String, time: Date? = nil, metadata: [String: String] = [:], readback: Bool = true) {
        self.source = source
        self.time = time
        self.metadata = metadata
        self.readback = readback
    }
}

extension Repository {
    /// Stores `directory` as a new snapshot. Large files are chunked on their own threads (each
    /// scanned for cuts on every core); hashing, compression, writing and read-back run on the
    /// machine's cores with a bounded number of chunks in flight, so memory stays flat whatever the
    /// data size. The tree's chunks come next, then one syncfs, and the manifest is published last.
    /// Stops with a `cancelled` failure, publishing nothing, once the context's flag is raised.
    public func backup(_ directory: String, options: BackupOptions) throws(ArchiveError) -> BackupResult {
        let held = try lock(for: .backup)
        defer { held.release() }
        let cores = context.host.cores
        let rootMode = context.fileSystem.info(directory).map(\.mode)
        // The walk and the parent's tree are independent: read them at the same time (and sweep
        // a dead writer's temporary files meanwhile, if there was one: nothing of ours is being
        // written yet, and listing every chunk directory on each backup would grow with the
        // repository).
        let walk = Background { () throws(ArchiveError) in try Self.walk(directory, cores: cores) }
        if held.afterDeadWriter { storage.sweepTemporary() }
        // The parent is only a guide (cuts to follow, files to skip): a damaged manifest is not one.
        let parent = try? Self.snapshot("latest", source: options.source, among: try catalog(), skipDamaged: true)
        // A parent whose tree cannot be read is no parent: every file is read again.
        let parentTree = parent.flatMap { try? tree(of: $0) } ?? []
        let previous = Dictionary(parentTree.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var entries = try walk.value()
        let progress = context.progress.start("backup", total: entries.reduce(0) { $0 + $1.size })
        let pipeline = ChunkPipeline(repository: self, readback: options.readback)
        // New chunks go to disk while the backup runs: their data as each is written
        // (sync_file_range), their inodes and directories by a syncfs every 100 ms, so the sync the
        // manifest waits for has little left to write.
        let stopSyncing = DispatchSemaphore(value: 0)
        let dataStorage = storage
        let flush = Background { () throws(ArchiveError) in
            while stopSyncing.wait(timeout: .now() + .milliseconds(100)) == .timedOut { try? dataStorage.sync() }
            try dataStorage.sync()
        }
        // Stopped below once the data is written, or here when the backup fails before that (a
        // second signal is never waited for).
        defer { stopSyncing.signal() }
        var unchangedFiles = 0
        // Many unchanged small files share one bundle: each chunk's presence is checked once.
        var present: [String: Bool] = [:]
        func isPresent(_ hash: String) -> Bool {
            if let known = present[hash] { return known }
            let exists = storage.exists(Self.chunkKey(hash))
            present[hash] = exists
            return exists
        }
        var pending: [(index: Int, chunks: ChunkList)] = []
        var bundles: [(list: ChunkList, members: [(index: Int, offset: Int64)])] = []
        var bundle = Data()
        var members: [(index: Int, offset: Int64)] = []
        func sealBundle() {
            guard !bundle.isEmpty else { return }
            let list = ChunkList()
            pipeline.submit(bundle, into: list)
            bundles.append((list, members))
            bundle = Data()
            members = []
        }
        for index in entries.indices where entries[index].kind == .file {
            try context.checkCancellation("backup")
            let entry = entries[index]
            if let old = previous[entry.path], old.kind == .file, old.size == entry.size, old.mtime == entry.mtime,
               old.ctime == entry.ctime, old.inode == entry.inode, old.chunkReferences.allSatisfy(isPresent) {
                entries[index].chunks = old.chunks
                entries[index].lengths = old.lengths
                entries[index].bundle = old.bundle
                unchangedFiles += 1
                progress.add(entry.size)
                continue
            }
            if entry.size > 0 && entry.size < Int64(config.chunker.minimum) {
                let offset = bundle.count
                let length = try SourceFile.append(directory + "/" + entry.path, to: &bundle)
                members.append((index, Int64(offset)))
                entries[index].size = Int64(length)
                progress.add(Int64(length))
                if bundle.count >= config.chunker.average { sealBundle() }
                continue
            }
            let list = ChunkList()
            let guide = previous[entry.path].flatMap { ChunkGuide($0, maximum: config.chunker.maximum) }
            try pipeline.chunkConcurrently(file: directory + "/" + entry.path, into: list, guide: guide, progress: progress)
            pending.append((index, list))
        }
        sealBundle()
        try pipeline.finish()
        progress.finish()
        // The figures describe the data; the tree's own chunks are bookkeeping.
        let stats = pipeline.statistics
        for (index, list) in pending {
            // The size the chunks hold: a file that grew since the walk is stored as it was read.
            entries[index].chunks = list.hashes
            entries[index].lengths = list.lengths
            entries[index].size = list.size
        }
        for (list, members) in bundles {
            guard let hash = list.hashes.first else { continue }
            for (index, offset) in members { entries[index].bundle = BundleSlice(chunk: hash, offset: offset) }
        }
        // The last data chunks go to disk while the tree is encoded and stored; a second sync
        // then only has the tree's chunks to write.
        stopSyncing.signal()
        // The tree is stored as chunks too: deduplicated against the parent's where unchanged,
        // read back like any chunk, and checked by verify.
        try context.checkCancellation("backup")
        let document = TreeDocument.encode(entries, workers: cores)
        let treeList = ChunkList()
        pipeline.submitChunks(of: document, into: treeList)
        try pipeline.finish()
        try flush.value()
        try storage.sync()

        let files = entries.filter { $0.kind == .file }
        var snapshot = Snapshot(source: options.source, time: options.time ?? context.clock.date, hostname: context.host.hostname,
                                metadata: options.metadata, tree: treeList.hashes, parent: parent?.id,
                                fileCount: files.count, totalSize: files.reduce(0) { $0 + $1.size })
        snapshot.rootMode = rootMode
        let data = try Coding.encode(snapshot)
        let id = Self.hex(SHA256.hash(data: data))
        try storage.publish(Self.snapshotKey(id), data)
        return BackupResult(record: SnapshotRecord(id: id, snapshot: snapshot), tree: entries, readBytes: stats.read, newChunks: stats.new,
                            storedBytes: stats.stored, reusedChunks: stats.reused, unchangedFiles: unchangedFiles)
    }
}

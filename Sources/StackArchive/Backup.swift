import CSystem
import Crypto
import Foundation

/// Progress of a long transfer: bytes, rate and ETA on stderr when it is a terminal.
public final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let total: Int64
    private var done: Int64 = 0
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let enabled: Bool

    public init(label: String, total: Int64, enabled: Bool) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    public func add(_ bytes: Int64) {
        guard enabled else { return }
        lock.lock()
        done += bytes
        let now = Date()
        let due = now.timeIntervalSince(lastPrint) > 0.25
        if due { lastPrint = now }
        let (done, total) = (self.done, self.total)
        lock.unlock()
        if due { print(done: done, total: total, elapsed: now.timeIntervalSince(start), final: false) }
    }

    public func finish() {
        guard enabled else { return }
        print(done: done, total: total, elapsed: Date().timeIntervalSince(start), final: true)
    }

    private func print(done: Int64, total: Int64, elapsed: Double, final: Bool) {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 && total > done ? String(format: "  ETA %.0f s", Double(total - done) / rate) : ""
        let line = "\r\(label)  \(Self.size(done)) / \(Self.size(total))  \(Self.size(Int64(rate)))/s\(final ? "" : eta)\u{1B}[K" + (final ? "\n" : "")
        FileHandle.standardError.write(Data(line.utf8))
    }

    public static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

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
    public var progress: Bool

    public init(source: String, time: Date? = nil, metadata: [String: String] = [:], readback: Bool = true, progress: Bool = false) {
        self.source = source
        self.time = time
        self.metadata = metadata
        self.readback = readback
        self.progress = progress
    }
}

extension Repository {
    /// Stores `directory` as a new snapshot. Chunking runs on this thread; hashing, compression,
    /// writing and read-back run on the machine's cores with a bounded number of chunks in flight,
    /// so memory stays flat whatever the data size. The manifest is published last.
    public func backup(_ directory: String, options: BackupOptions, report: (String) -> Void = { _ in }) throws(ArchiveError) -> BackupResult {
        let held = try lock(report: report)
        defer { held.release() }
        // Chunk-sized buffers are mapped and unmapped, not kept in per-thread malloc arenas whose
        // high-water mark would grow with the amount of data: memory stays flat.
        stackc_bound_malloc()
        storage.clearTemporary()
        var entries = try Self.scan(directory)
        let parent = try? snapshot("latest", source: options.source)
        // A parent whose tree cannot be read is no parent: every file is read again.
        let parentTree = parent.flatMap { try? tree(of: $0) } ?? []
        let previous = Dictionary(parentTree.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let progress = ProgressReporter(label: "backup", total: entries.reduce(0) { $0 + $1.size }, enabled: options.progress)
        let pipeline = ChunkPipeline(repository: self, readback: options.readback)
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
            let entry = entries[index]
            if let old = previous[entry.path], old.kind == .file, old.size == entry.size, old.mtime == entry.mtime,
               old.chunkReferences.allSatisfy(isPresent) {
                entries[index].chunks = old.chunks
                entries[index].bundle = old.bundle
                unchangedFiles += 1
                progress.add(entry.size)
                continue
            }
            if entry.size > 0 && entry.size < Int64(config.chunker.minimum) {
                guard let data = FileManager.default.contents(atPath: directory + "/" + entry.path) else {
                    throw ArchiveError(.io, "cannot read '\(directory)/\(entry.path)'")
                }
                members.append((index, Int64(bundle.count)))
                entries[index].size = Int64(data.count)
                bundle.append(data)
                progress.add(Int64(data.count))
                if bundle.count >= config.chunker.average { sealBundle() }
                continue
            }
            let list = ChunkList()
            try pipeline.chunkConcurrently(file: directory + "/" + entry.path, into: list, progress: progress)
            pending.append((index, list))
        }
        sealBundle()
        try pipeline.finish()
        progress.finish()
        // The figures describe the data; the tree's own chunks are bookkeeping.
        let stats = pipeline.statistics
        for (index, list) in pending { entries[index].chunks = list.hashes }
        for (list, members) in bundles {
            guard let hash = list.hashes.first else { continue }
            for (index, offset) in members { entries[index].bundle = BundleSlice(chunk: hash, offset: offset) }
        }
        // The tree is stored as chunks too: deduplicated against the parent's where unchanged,
        // read back like any chunk, and checked by verify.
        let document = TreeDocument.encode(entries)
        let treeList = ChunkList()
        pipeline.submitChunks(of: document, into: treeList)
        try pipeline.finish()
        try storage.sync()

        let files = entries.filter { $0.kind == .file }
        let snapshot = Snapshot(source: options.source, time: options.time ?? Date(), hostname: ProcessInfo.processInfo.hostName,
                                metadata: options.metadata, tree: treeList.hashes, parent: parent?.id,
                                fileCount: files.count, totalSize: files.reduce(0) { $0 + $1.size })
        let data: Data
        do { data = try Coding.encoder.encode(snapshot) } catch { throw ArchiveError(.io, "cannot encode the manifest: \(error)") }
        let id = Self.hex(SHA256.hash(data: data))
        try storage.publish(Self.snapshotKey(id), data)
        return BackupResult(record: SnapshotRecord(id: id, snapshot: snapshot), tree: entries, readBytes: stats.read, newChunks: stats.new,
                            storedBytes: stats.stored, reusedChunks: stats.reused, unchangedFiles: unchangedFiles)
    }

    /// The tree under `directory`, sorted by path; sockets and devices are skipped. Walked with
    /// readdir and fstatat: FileManager's enumerator cost a quarter of an unchanged re-run.
    static func scan(_ directory: String) throws(ArchiveError) -> [TreeEntry] {
        var rootInfo = stat()
        guard stat(directory, &rootInfo) == 0, (rootInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw ArchiveError(.usage, "'\(directory)' is not a directory")
        }
        var entries: [TreeEntry] = []
        var directories = [""]
        while let relative = directories.popLast() {
            let full = relative.isEmpty ? directory : directory + "/" + relative
            guard let handle = opendir(full) else {
                throw ArchiveError(.io, "cannot read the directory '\(full)': \(String(cString: strerror(errno)))")
            }
            defer { closedir(handle) }
            let fd = dirfd(handle)
            while let item = readdir(handle) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name == "." || name == ".." { continue }
                var info = stat()
                guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                let mode = Int(info.st_mode & 0o7777)
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    entries.append(TreeEntry(path: path, kind: .file, mode: mode, size: Int64(info.st_size), mtime: mtime, target: nil, chunks: nil, bundle: nil))
                case S_IFDIR:
                    entries.append(TreeEntry(path: path, kind: .directory, mode: mode, size: 0, mtime: mtime, target: nil, chunks: nil, bundle: nil))
                    directories.append(path)
                case S_IFLNK:
                    var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                    let length = readlinkat(fd, name, &target, target.count - 1)
                    let text = length >= 0 ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                    entries.append(TreeEntry(path: path, kind: .symlink, mode: mode, size: 0, mtime: mtime, target: text, chunks: nil, bundle: nil))
                default: continue
                }
            }
        }
        return entries.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }
}

/// The chunk hashes of one file, filled by workers in any order, read in order.
final class ChunkList: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [String?] = []

    func reserve() -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots.append(nil)
        return slots.count - 1
    }

    func set(_ index: Int, _ hash: String) {
        lock.lock()
        slots[index] = hash
        lock.unlock()
    }

    var hashes: [String] { slots.compactMap { $0 } }
}

/// Hash → (exists? store) → compress → write → read back, on every core, at most a few chunks
/// in flight so memory stays bounded.
final class ChunkPipeline: @unchecked Sendable {
    private let repository: Repository
    private let readback: Bool
    private let chunker: Chunker
    private let queue = DispatchQueue(label: "stackc.archive.chunks", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var compressors: [ZstdCompressor] = []
    private var decompressors: [ZstdDecompressor] = []
    private var written: Set<String> = []
    private var failure: ArchiveError?
    private(set) var statistics = (read: Int64(0), new: 0, stored: Int64(0), reused: 0)
    /// Read windows, reused: at most one per file being chunked at a time.
    private var windows: [[UInt8]] = []
    /// Files chunked at the same time (a multi-database dump is several large files).
    private let fileSlots = DispatchSemaphore(value: max(1, ProcessInfo.processInfo.activeProcessorCount))
    private let fileGroup = DispatchGroup()

    init(repository: Repository, readback: Bool) {
        self.repository = repository
        self.readback = readback
        chunker = Chunker(repository.config.chunker)
        slots = DispatchSemaphore(value: ProcessInfo.processInfo.activeProcessorCount * 4)
    }

    /// Chunks a file on its own thread (up to one per core at a time); its chunks go to the shared
    /// workers. Failures surface in `finish()`.
    func chunkConcurrently(file path: String, into list: ChunkList, progress: ProgressReporter) throws(ArchiveError) {
        if let failure = currentFailure() { throw failure }
        fileSlots.wait()
        fileGroup.enter()
        let thread = Thread {
            defer {
                self.fileSlots.signal()
                self.fileGroup.leave()
            }
            do throws(ArchiveError) { try self.chunk(file: path, into: list, progress: progress) } catch { self.fail(error) }
        }
        thread.start()
    }

    func chunk(file path: String, into list: ChunkList, progress: ProgressReporter) throws(ArchiveError) {
        var buffer = takeWindow()
        defer { give(window: buffer) }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let maximum = repository.config.chunker.maximum
        // A window of four maximum chunks: data between `start` and `filled` is unread by the
        // chunker; it moves to the front only when the tail has no room for another read, so each
        // byte is copied at most about once.
        if buffer.count < maximum * 4 { buffer = [UInt8](repeating: 0, count: maximum * 4) }
        buffer.reserveCapacity(buffer.count)
        var start = 0
        var filled = 0
        var end = false
        while true {
            while !end && filled - start < maximum {
                if buffer.count - filled < maximum {
                    buffer.withUnsafeMutableBytes { raw in _ = memmove(raw.baseAddress!, raw.baseAddress! + start, filled - start) }
                    filled -= start
                    start = 0
                }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
                if n < 0 { throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
                if n == 0 { end = true } else { filled += n }
            }
            if filled == start { break }
            let cut = buffer.withUnsafeBytes { raw in
                chunker.cut(UnsafeRawBufferPointer(rebasing: raw[start..<filled]), final: end)
            } ?? (filled - start)
            let chunk = buffer.withUnsafeBytes { Data($0[start..<(start + cut)]) }
            start += cut
            submit(chunk, slot: list.reserve(), list: list)
            progress.add(Int64(cut))
            if let failure = currentFailure() { throw failure }
        }
    }

    /// Chunks an in-memory document (a snapshot's tree) and stores its chunks.
    func submitChunks(of document: Data, into list: ChunkList) {
        document.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let cut = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[start...]), final: true) ?? (raw.count - start)
                submit(Data(raw[start..<(start + cut)]), slot: list.reserve(), list: list)
                start += cut
            }
        }
    }

    /// Stores one whole buffer as a single chunk (a bundle of small files).
    func submit(_ chunk: Data, into list: ChunkList) {
        submit(chunk, slot: list.reserve(), list: list)
    }

    private func submit(_ chunk: Data, slot: Int, list: ChunkList) {
        slots.wait()
        group.enter()
        queue.async {
            defer {
                self.slots.signal()
                self.group.leave()
            }
            do {
                list.set(slot, try self.store(chunk))
            } catch let error as ArchiveError {
                self.fail(error)
            } catch {
                self.fail(ArchiveError(.io, "\(error)"))
            }
        }
    }

    private func store(_ chunk: Data) throws(ArchiveError) -> String {
        let hash = Repository.hex(SHA256.hash(data: chunk))
        let key = Repository.chunkKey(hash)
        lock.lock()
        statistics.read += Int64(chunk.count)
        let claimed = written.insert(hash).inserted
        lock.unlock()
        if !claimed || repository.storage.exists(key) {
            lock.lock()
            statistics.reused += 1
            lock.unlock()
            return hash
        }
        let compressor = takeCompressor()
        defer { give(compressor) }
        let compressed = try compress(chunk, with: compressor)
        _ = try repository.storage.putIfAbsent(key, compressed)
        if readback {
            // Read back what is on disk: a chunk damaged in memory or on the way must not be
            // deduplicated into every later snapshot.
            let decompressor = takeDecompressor()
            defer { give(decompressor) }
            do { _ = try repository.readChunk(hash, using: decompressor) } catch {
                try? repository.storage.delete(key)
                throw ArchiveError(.corrupt, "chunk \(hash.prefix(12)) read back differently from what was written", remedy: "check the disk and memory, then run the backup again")
            }
        }
        lock.lock()
        statistics.new += 1
        statistics.stored += Int64(compressed.count)
        lock.unlock()
        return hash
    }

    private func compress(_ chunk: Data, with compressor: ZstdCompressor) throws(ArchiveError) -> Data {
        let result: Result<Data, ArchiveError> = chunk.withUnsafeBytes { raw in
            do throws(ArchiveError) { return .success(try compressor.compress(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func takeWindow() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return windows.popLast() ?? []
    }

    private func give(window: [UInt8]) {
        lock.lock()
        windows.append(window)
        lock.unlock()
    }

    func finish() throws(ArchiveError) {
        fileGroup.wait()
        group.wait()
        if let failure = currentFailure() { throw failure }
    }

    private func fail(_ error: ArchiveError) {
        lock.lock()
        if failure == nil { failure = error }
        lock.unlock()
    }

    private func currentFailure() -> ArchiveError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    private func takeCompressor() -> ZstdCompressor {
        lock.lock()
        defer { lock.unlock() }
        return compressors.popLast() ?? ZstdCompressor(level: repository.config.compressionLevel)
    }

    private func give(_ compressor: ZstdCompressor) {
        lock.lock()
        compressors.append(compressor)
        lock.unlock()
    }

    private func takeDecompressor() -> ZstdDecompressor {
        lock.lock()
        defer { lock.unlock() }
        return decompressors.popLast() ?? ZstdDecompressor()
    }

    private func give(_ decompressor: ZstdDecompressor) {
        lock.lock()
        decompressors.append(decompressor)
        lock.unlock()
    }
}

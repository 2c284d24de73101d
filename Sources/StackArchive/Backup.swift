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
    /// Stores `directory` as a new snapshot. Large files are chunked on their own threads (each
    /// scanned for cuts on every core); hashing, compression, writing and read-back run on the
    /// machine's cores with a bounded number of chunks in flight, so memory stays flat whatever the
    /// data size. The tree's chunks come next, then one syncfs, and the manifest is published last.
    public func backup(_ directory: String, options: BackupOptions, report: (String) -> Void = { _ in }) throws(ArchiveError) -> BackupResult {
        let held = try lock(for: .backup, report: report)
        defer { held.release() }
        // Chunk-sized buffers are mapped and unmapped, not kept in per-thread malloc arenas whose
        // high-water mark would grow with the amount of data: memory stays flat.
        stackc_bound_malloc()
        // The walk and the parent's tree are independent: read them at the same time (and sweep
        // a dead writer's temporary files meanwhile, if there was one: nothing of ours is being
        // written yet, and listing every chunk directory on each backup would grow with the
        // repository).
        let walk = Background { () throws(ArchiveError) in try Self.walk(directory) }
        if held.afterDeadWriter { storage.clearTemporary() }
        let parent = try? snapshot("latest", source: options.source)
        // A parent whose tree cannot be read is no parent: every file is read again.
        let parentTree = parent.flatMap { try? tree(of: $0) } ?? []
        let previous = Dictionary(parentTree.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var entries = try walk.value()
        let progress = ProgressReporter(label: "backup", total: entries.reduce(0) { $0 + $1.size }, enabled: options.progress)
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
        let document = TreeDocument.encode(entries)
        let treeList = ChunkList()
        pipeline.submitChunks(of: document, into: treeList)
        try pipeline.finish()
        try flush.value()
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
    /// readdir and fstatat (FileManager's enumerator cost a quarter of an unchanged re-run); the
    /// names of a large directory are statted on every core, as a dump directory of thousands of
    /// files would otherwise make the walk the longest step of a re-run.
    static func walk(_ directory: String) throws(ArchiveError) -> [TreeEntry] {
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
            var names: [String] = []
            while let item = readdir(handle) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
            let prefix = relative.isEmpty ? "" : relative + "/"
            let listed = names
            let cores = listed.count >= 2048 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
            let parts = Concurrently.map(cores) { part in
                stride(from: part, to: listed.count, by: cores).compactMap { entry(listed[$0], path: prefix + listed[$0], in: fd) }
            }
            for part in parts {
                for entry in part {
                    if entry.kind == .directory { directories.append(entry.path) }
                    entries.append(entry)
                }
            }
        }
        return sortedBytewise(entries)
    }

    /// The entry for `name` in the directory open as `fd`; nil for what a snapshot does not hold
    /// (sockets, devices, FIFOs) and for a name gone since readdir.
    private static func entry(_ name: String, path: String, in fd: Int32) -> TreeEntry? {
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let mode = Int(info.st_mode & 0o7777)
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            var file = TreeEntry(path: path, kind: .file, mode: mode, size: Int64(info.st_size), mtime: mtime, target: nil, chunks: nil, bundle: nil)
            file.ctime = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            file.inode = UInt64(info.st_ino)
            return file
        case S_IFDIR:
            return TreeEntry(path: path, kind: .directory, mode: mode, size: 0, mtime: mtime, target: nil, chunks: nil, bundle: nil)
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(fd, name, &target, target.count - 1)
            let text = length >= 0 ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            return TreeEntry(path: path, kind: .symlink, mode: mode, size: 0, mtime: mtime, target: text, chunks: nil, bundle: nil)
        default:
            return nil
        }
    }

    /// Entries in byte order of their paths: the paths are laid end to end in one buffer and the
    /// indices sorted with memcmp, which costs a fifth of sorting the entries themselves (each move
    /// of an entry retains and releases its strings and arrays).
    static func sortedBytewise(_ entries: [TreeEntry]) -> [TreeEntry] {
        var bytes: [UInt8] = []
        var spans: [(start: Int, count: Int)] = []
        spans.reserveCapacity(entries.count)
        for entry in entries {
            let start = bytes.count
            bytes.append(contentsOf: entry.path.utf8)
            spans.append((start, bytes.count - start))
        }
        var order = Array(entries.indices)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            spans.withUnsafeBufferPointer { spans in
                order.sort { a, b in
                    let x = spans[a], y = spans[b]
                    let common = min(x.count, y.count)
                    let order = common == 0 ? 0 : memcmp(base + x.start, base + y.start, common)
                    return order != 0 ? order < 0 : x.count < y.count
                }
            }
        }
        return order.map { entries[$0] }
    }
}

/// A file being backed up, open for positioned reads by several threads; closed when the last
/// chunk read from it is done.
final class SourceFile: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(_ path: String) throws(ArchiveError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Appends a small file's bytes, as many as it has when read (it may have changed since the
    /// walk), to `buffer`; returns how many.
    static func append(_ path: String, to buffer: inout Data) throws(ArchiveError) -> Int {
        let file = try SourceFile(path)
        let start = buffer.count
        var length = 0
        while true {
            if buffer.count < start + length + 4096 { buffer.count = start + length + 65536 }
            let room = buffer.count - start - length
            let n = buffer.withUnsafeMutableBytes { Foundation.read(file.fd, $0.baseAddress! + start + length, room) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let failure = errno
                buffer.count = start
                throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(failure)))")
            }
            if n == 0 { break }
            length += n
        }
        buffer.count = start + length
        return length
    }

    func size() throws(ArchiveError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        return Int64(info.st_size)
    }

    /// Fills `buffer` from `offset`; a file that shrank meanwhile is an error, not a short chunk.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(ArchiveError) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ArchiveError(.io, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
            if n == 0 {
                throw ArchiveError(.io, "'\(path)' shrank while it was being backed up", remedy: "back it up when nothing writes to it (an export's dump is complete once its manifest exists)")
            }
            done += n
        }
    }
}

/// The chunk hashes of one file, filled by workers in any order, read in order.
final class ChunkList: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [String?] = []
    private var slotLengths: [Int64] = []
    /// The bytes the chunks hold, set by the thread that cut them.
    var size: Int64 = 0

    /// A place for the next chunk, whose length the cutting thread knows.
    func reserve(length: Int64) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots.append(nil)
        slotLengths.append(length)
        return slots.count - 1
    }

    func set(_ index: Int, _ hash: String) {
        lock.lock()
        slots[index] = hash
        lock.unlock()
    }

    var hashes: [String] { slots.compactMap { $0 } }
    var lengths: [Int64] { slotLengths }
}

/// A file's chunks in the parent snapshot: where its cuts were and what lay between them.
struct ChunkGuide: Sendable {
    let hashes: [String]
    let lengths: [Int64]
    let offsets: [Int64]
    /// The first parent chunk with a hash, and the parent chunk starting at an offset.
    let byHash: [String: Int]
    let byOffset: [Int64: Int]

    /// Nil for an entry without chunk lengths (a tree written before they were recorded), or with
    /// lengths that do not add up to its size or that no chunk of at most `maximum` bytes has.
    init?(_ entry: TreeEntry, maximum: Int) {
        guard entry.kind == .file, let hashes = entry.chunks, let lengths = entry.lengths, !hashes.isEmpty,
              hashes.count == lengths.count, lengths.allSatisfy({ $0 > 0 && $0 <= Int64(maximum) }) else { return nil }
        var offsets: [Int64] = []
        offsets.reserveCapacity(lengths.count)
        var offset: Int64 = 0
        for length in lengths {
            offsets.append(offset)
            offset += length
        }
        guard offset == entry.size else { return nil }
        self.hashes = hashes
        self.lengths = lengths
        self.offsets = offsets
        byHash = Dictionary(hashes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        byOffset = Dictionary(uniqueKeysWithValues: offsets.enumerated().map { ($1, $0) })
    }

    var count: Int { hashes.count }
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
    /// Chunks being written by a worker now: another worker meeting the same bytes takes them as
    /// stored. Only chunks in flight are here (a written one is found on disk), so this stays as
    /// small as the number of workers whatever the backup's size.
    private var writing: Set<String> = []
    private var failure: ArchiveError?
    /// `followed`: bytes found where the parent snapshot's chunks were, so never scanned for cuts;
    /// `searched`: chunks whose cut a guided walk had to search for.
    private(set) var statistics = (read: Int64(0), new: 0, stored: Int64(0), reused: 0, followed: Int64(0), searched: 0)
    /// Chunk buffers, reused.
    private var buffers: [UnsafeMutableRawBufferPointer] = []
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
    func chunkConcurrently(file path: String, into list: ChunkList, guide: ChunkGuide?, progress: ProgressReporter) throws(ArchiveError) {
        if let failure = currentFailure() { throw failure }
        fileSlots.wait()
        fileGroup.enter()
        let thread = Thread {
            defer {
                self.fileSlots.signal()
                self.fileGroup.leave()
            }
            do throws(ArchiveError) { try self.chunk(file: path, into: list, guide: guide, progress: progress) } catch { self.fail(error) }
        }
        thread.start()
    }

    /// Bytes of a large file scanned for cut candidates at a time, split across the cores.
    var scanWindow = 32 << 20
    /// The smallest part of a window one core scans.
    var scanPart = 1 << 20

    /// Chunks one file: candidates are found window by window on every core (`Chunker.scan`), cuts
    /// are chosen from them in order (`Chunker.nextCut`), and each chunk is read again by the worker
    /// that hashes it, from the page cache. A single large dump so uses every core. A file the
    /// parent snapshot had is first followed along the parent's cuts (`chunkGuided`).
    func chunk(file path: String, into list: ChunkList, guide: ChunkGuide?, progress: ProgressReporter) throws(ArchiveError) {
        let file = try SourceFile(path)
        let size = try file.size()
        list.size = size
        var candidates: [Chunker.Candidate] = []
        var first = 0
        var start: Int64 = 0
        if let guide { start = try chunkGuided(file: file, size: size, guide: guide, list: list, progress: progress) }
        var scanned = start
        while start < size {
            if scanned < size {
                let end = min(size, scanned + Int64(scanWindow))
                candidates.removeFirst(first)
                first = 0
                candidates += try scan(file, from: scanned, to: end)
                scanned = end
            }
            while start < size, let cut = chunker.nextCut(start: start, size: size, scanned: scanned, candidates: candidates, first: &first) {
                submit(file: file, offset: start, length: Int(cut - start), slot: list.reserve(length: cut - start), list: list)
                progress.add(cut - start)
                start = cut
            }
            if let failure = currentFailure() { throw failure }
        }
    }

    /// Parent chunks checked ahead of the one the walk waits for, per core.
    var speculationDepth = 16
    /// Cuts searched for in a row without meeting the parent's chunks again before the rest of
    /// the file is chunked the ordinary way.
    let guidanceGiveUp = 32

    /// Chunks `file` along the parent snapshot's cuts, and returns the offset from which the rest
    /// must be chunked the ordinary way (the size when done). A cut depends only on the bytes since
    /// the previous cut, so where the file holds a parent chunk's exact bytes at a cut, its end is
    /// the next cut: the parent's chunks are hashed at their offsets on every core, ahead of the
    /// walk, and a chunk that matches is neither scanned for cuts nor stored again. Where one
    /// differs the walk cuts as the chunker does, until a cut lands on a parent boundary (at the
    /// same shift as the last match) or a new chunk's hash is a parent chunk's (after an insertion
    /// or a deletion). The cuts are exactly those of an ordinary chunking: only the work differs.
    private func chunkGuided(file: SourceFile, size: Int64, guide: ChunkGuide, list: ChunkList, progress: ProgressReporter) throws(ArchiveError) -> Int64 {
        let lookahead = speculationDepth * max(1, ProcessInfo.processInfo.activeProcessorCount)
        let maximum = chunker.parameters.maximum
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maximum, alignment: 64)
        var pending: [Speculation] = []
        defer {
            for speculation in pending { speculation.cancel() }
            buffer.deallocate()
        }
        /// Whether parent chunk `index` can be this file's chunk at `offset`: the parent's last chunk
        /// ended at its end of file, not at a cut, so it fits only where this file ends too.
        func fits(_ index: Int, at offset: Int64) -> Bool {
            guard index < guide.count else { return false }
            let end = offset + guide.lengths[index]
            return index == guide.count - 1 ? end == size : end <= size
        }
        var start: Int64 = 0
        var expected: Int? = 0
        var shift: Int64 = 0
        var misses = 0
        while start < size {
            if let failure = currentFailure() { throw failure }
            var mismatched: (bytes: Data, hash: String)?
            if let index = expected, fits(index, at: start) {
                // Checks of chunks the walk cut through are dropped; the rest stay valid if the
                // walk is back at the same shift, and are dropped too if it is not.
                while let front = pending.first, front.offset < start {
                    front.cancel()
                    pending.removeFirst()
                }
                if let front = pending.first, front.index != index || front.offset != start {
                    for speculation in pending { speculation.cancel() }
                    pending.removeAll()
                }
                // Speculate along the parent's chunks as though each will match.
                var next = pending.last.map { ($0.index + 1, $0.offset + guide.lengths[$0.index]) } ?? (index, start)
                while pending.count < lookahead && fits(next.0, at: next.1) {
                    let speculation = Speculation(index: next.0, offset: next.1)
                    speculate(speculation, file: file, guide: guide)
                    pending.append(speculation)
                    next = (next.0 + 1, next.1 + guide.lengths[next.0])
                }
                let front = pending.removeFirst()
                front.done.wait()
                if front.matched {
                    let length = guide.lengths[index]
                    if front.present {
                        count(reused: length, followed: true)
                        list.set(list.reserve(length: length), guide.hashes[index])
                    } else {
                        // The repository lost the parent's chunk: it is stored again, from the file.
                        submit(file: file, offset: start, length: Int(length), slot: list.reserve(length: length), list: list)
                    }
                    progress.add(length)
                    start += length
                    expected = index + 1
                    misses = 0
                    continue
                }
                mismatched = front.mismatch
            }
            // Not a parent chunk here: cut as the chunker does. The check that failed here read the
            // bytes a parent chunk's length ahead; when the cut falls within them, they are the new
            // chunk (and when it falls at their end, so is their hash).
            let chunk: Data, hash: String
            if let (bytes, checkedHash) = mismatched, let cut = bytes.withUnsafeBytes({ chunker.cut($0, final: start + Int64(bytes.count) == size) }) {
                chunk = cut == bytes.count ? bytes : bytes.prefix(cut)
                hash = cut == bytes.count ? checkedHash : Repository.hex(SHA256.hash(data: chunk))
            } else {
                // Reading no more than the cut needs.
                let remaining = Int(min(Int64(maximum), size - start))
                var count = min(remaining, chunker.parameters.average * 2)
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: start)
                var cut = chunker.cut(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), final: count == remaining && start + Int64(count) == size)
                if cut == nil {
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count..<remaining]), at: start + Int64(count))
                    count = remaining
                    cut = chunker.cut(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), final: true)
                }
                chunk = Data(UnsafeRawBufferPointer(rebasing: buffer[0..<(cut ?? count)]))
                hash = Repository.hex(SHA256.hash(data: chunk))
            }
            let length = chunk.count
            submit(chunk, hash: hash, slot: list.reserve(length: Int64(length)), list: list)
            progress.add(Int64(length))
            lock.lock()
            statistics.searched += 1
            lock.unlock()
            start += Int64(length)
            if let index = guide.byHash[hash] {
                // Back in step with the parent, shifted by what was inserted or deleted before.
                expected = index + 1
                shift = start - (guide.offsets[index] + guide.lengths[index])
                misses = 0
            } else {
                expected = guide.byOffset[start - shift]
                misses += 1
                if misses >= guidanceGiveUp { return start }
            }
        }
        return size
    }

    /// A parent chunk checked at an offset of the file being backed up.
    private final class Speculation: @unchecked Sendable {
        let index: Int
        let offset: Int64
        /// Set by the worker before `done` is signalled: the bytes are the parent chunk's, and
        /// that chunk is in the repository.
        var matched = false
        var present = false
        /// Otherwise the bytes read and their hash.
        var mismatch: (bytes: Data, hash: String)?
        let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var cancelled = false

        init(index: Int, offset: Int64) {
            self.index = index
            self.offset = offset
        }

        func cancel() {
            lock.lock()
            cancelled = true
            lock.unlock()
        }

        var isCancelled: Bool {
            lock.lock()
            defer { lock.unlock() }
            return cancelled
        }
    }

    /// Reads and hashes the bytes where a parent chunk would be, and says whether they are its
    /// bytes and whether the chunk is in the repository. Nothing is stored: a check the walk
    /// cuts through must leave no trace.
    private func speculate(_ speculation: Speculation, file: SourceFile, guide: ChunkGuide) {
        slots.wait()
        group.enter()
        queue.async {
            defer {
                speculation.done.signal()
                self.slots.signal()
                self.group.leave()
            }
            if speculation.isCancelled { return }
            let buffer = self.takeBuffer()
            defer { self.give(buffer: buffer) }
            do throws(ArchiveError) {
                let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(guide.lengths[speculation.index])])
                try file.read(into: bytes, at: speculation.offset)
                let hash = Repository.hex(SHA256.hash(data: UnsafeRawBufferPointer(bytes)))
                guard hash == guide.hashes[speculation.index] else {
                    if !speculation.isCancelled { speculation.mismatch = (Data(UnsafeRawBufferPointer(bytes)), hash) }
                    return
                }
                speculation.present = self.isStored(hash)
                speculation.matched = true
            } catch {
                self.fail(error)
            }
        }
    }

    /// The cut candidates of `file` between two offsets, its parts scanned concurrently.
    private func scan(_ file: SourceFile, from: Int64, to: Int64) throws(ArchiveError) -> [Chunker.Candidate] {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let part = max(Int64(scanPart), (to - from + Int64(cores) - 1) / Int64(cores))
        let bounds = stride(from: from, to: to, by: Int(part)).map { ($0, min(to, $0 + part)) }
        let chunker = self.chunker
        let piece = scanPart
        let parts = Concurrently.map(bounds.count) { index -> Result<[Chunker.Candidate], ArchiveError> in
            let (low, high) = bounds[index]
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece, alignment: 64)
            defer { buffer.deallocate() }
            var found: [Chunker.Candidate] = []
            var hash: UInt64 = 0
            return Result { () throws(ArchiveError) in
                // The bytes before the part set the rolling hash its first positions need.
                let warm = Int(min(low, Int64(Chunker.window)))
                if warm > 0 {
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<warm]), at: low - Int64(warm))
                    chunker.scan(UnsafeRawBufferPointer(rebasing: buffer[0..<warm]), base: low - Int64(warm), hash: &hash, collect: false, into: &found)
                }
                var offset = low
                while offset < high {
                    let count = Int(min(Int64(piece), high - offset))
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
                    chunker.scan(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), base: offset, hash: &hash, into: &found)
                    offset += Int64(count)
                }
                return found
            }
        }
        var candidates: [Chunker.Candidate] = []
        for part in parts { candidates += try part.get() }
        return candidates
    }

    /// A chunk of a file: read, hashed and stored by a worker.
    private func submit(file: SourceFile, offset: Int64, length: Int, slot: Int, list: ChunkList) {
        slots.wait()
        group.enter()
        queue.async {
            let buffer = self.takeBuffer()
            defer {
                self.give(buffer: buffer)
                self.slots.signal()
                self.group.leave()
            }
            do throws(ArchiveError) {
                let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
                try file.read(into: bytes, at: offset)
                list.set(slot, try self.store(UnsafeRawBufferPointer(bytes)))
            } catch {
                self.fail(error)
            }
        }
    }

    /// Chunks an in-memory document (a snapshot's tree) and stores its chunks.
    func submitChunks(of document: Data, into list: ChunkList) {
        document.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let cut = chunker.cut(UnsafeRawBufferPointer(rebasing: raw[start...]), final: true) ?? (raw.count - start)
                submit(Data(raw[start..<(start + cut)]), slot: list.reserve(length: Int64(cut)), list: list)
                start += cut
            }
        }
    }

    /// Stores one whole buffer as a single chunk (a bundle of small files).
    func submit(_ chunk: Data, into list: ChunkList) {
        submit(chunk, slot: list.reserve(length: Int64(chunk.count)), list: list)
    }

    /// `hash` is the chunk's, when the caller already computed it from these bytes.
    private func submit(_ chunk: Data, hash: String? = nil, slot: Int, list: ChunkList) {
        slots.wait()
        group.enter()
        queue.async {
            defer {
                self.slots.signal()
                self.group.leave()
            }
            let result: Result<String, ArchiveError> = chunk.withUnsafeBytes { raw in
                do throws(ArchiveError) { return .success(try self.store(raw, hash: hash)) } catch { return .failure(error) }
            }
            switch result {
            case .success(let hash): list.set(slot, hash)
            case .failure(let error): self.fail(error)
            }
        }
    }

    private func store(_ chunk: UnsafeRawBufferPointer, hash known: String? = nil) throws(ArchiveError) -> String {
        let hash = known ?? Repository.hex(SHA256.hash(data: chunk))
        let key = Repository.chunkKey(hash)
        lock.lock()
        let claimed = writing.insert(hash).inserted
        lock.unlock()
        guard claimed else {
            count(reused: Int64(chunk.count))
            return hash
        }
        // Released once the chunk is on disk and read back (or the backup fails).
        defer {
            lock.lock()
            writing.remove(hash)
            lock.unlock()
        }
        if repository.storage.exists(key) {
            count(reused: Int64(chunk.count))
            return hash
        }
        lock.lock()
        statistics.read += Int64(chunk.count)
        lock.unlock()
        let compressor = takeCompressor()
        defer { give(compressor) }
        let compressed = try compressor.compress(chunk)
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

    /// Whether a chunk is in the repository, or being written by this backup.
    private func isStored(_ hash: String) -> Bool {
        lock.lock()
        let claimed = writing.contains(hash)
        lock.unlock()
        return claimed || repository.storage.exists(Repository.chunkKey(hash))
    }

    private func count(reused bytes: Int64, followed: Bool = false) {
        lock.lock()
        statistics.read += bytes
        statistics.reused += 1
        if followed { statistics.followed += bytes }
        lock.unlock()
    }

    /// A buffer of the maximum chunk size; at most one per chunk in flight ever exists.
    private func takeBuffer() -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        return buffers.popLast() ?? UnsafeMutableRawBufferPointer.allocate(byteCount: repository.config.chunker.maximum, alignment: 64)
    }

    private func give(buffer: UnsafeMutableRawBufferPointer) {
        lock.lock()
        buffers.append(buffer)
        lock.unlock()
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
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

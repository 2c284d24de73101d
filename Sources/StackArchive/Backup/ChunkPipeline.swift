import Crypto
import Foundation
import StackModel
import StackSystem

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

/// Hash → (exists? store) → compress → write → read back, on every core, at most a few chunks
/// in flight so memory stays bounded.
final class ChunkPipeline: @unchecked Sendable {
    let repository: Repository
    let readback: Bool
    let chunker: Chunker
    let queue = DispatchQueue(label: "stackc.archive.chunks", attributes: .concurrent)
    let group = DispatchGroup()
    let slots: DispatchSemaphore
    let lock = NSLock()
    var compressors: [ZstdCompressor] = []
    var decompressors: [ZstdDecompressor] = []
    /// Chunks being written by a worker now: another worker meeting the same bytes takes them as
    /// stored. Only chunks in flight are here (a written one is found on disk), so this stays as
    /// small as the number of workers whatever the backup's size.
    var writing: Set<String> = []
    var failure: ArchiveError?
    /// `followed`: bytes found where the parent snapshot's chunks were, so never scanned for cuts;
    /// `searched`: chunks whose cut a guided walk had to search for.
    var statistics = (read: Int64(0), new: 0, stored: Int64(0), reused: 0, followed: Int64(0), searched: 0)
    /// Chunk buffers, reused.
    var buffers: [UnsafeMutableRawBufferPointer] = []
    /// Files chunked at the same time (a multi-database dump is several large files).
    let fileSlots: DispatchSemaphore
    let fileGroup = DispatchGroup()

    /// The cores chunks are hashed, compressed and checked on.
    let cores: Int
    private let cancellation: CancellationFlag

    init(repository: Repository, readback: Bool) {
        self.repository = repository
        self.readback = readback
        chunker = Chunker(repository.config.chunker)
        cores = repository.context.host.cores
        cancellation = repository.context.cancellation
        slots = DispatchSemaphore(value: cores * 4)
        fileSlots = DispatchSemaphore(value: cores)
    }

    /// Chunks a file on its own thread (up to one per core at a time); its chunks go to the shared
    /// workers. Failures surface in `finish()`.
    func chunkConcurrently(file path: String, into list: ChunkList, guide: ChunkGuide?, progress: any ProgressTask) throws(ArchiveError) {
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

    /// Parent chunks checked ahead of the one the walk waits for, per core.
    var speculationDepth = 16
    /// Cuts searched for in a row without meeting the parent's chunks again before the rest of
    /// the file is chunked the ordinary way.
    let guidanceGiveUp = 32

    /// Bytes of a large file scanned for cut candidates at a time, split across the cores.
    var scanWindow = 32 << 20
    /// The smallest part of a window one core scans.
    var scanPart = 1 << 20

    /// Chunks one file: candidates are found window by window on every core (`Chunker.scan`), cuts
    /// are chosen from them in order (`Chunker.nextCut`), and each chunk is read again by the worker
    /// that hashes it, from the page cache. A single large dump so uses every core. A file the
    /// parent snapshot had is first followed along the parent's cuts (`chunkGuided`).
    func chunk(file path: String, into list: ChunkList, guide: ChunkGuide?, progress: any ProgressTask) throws(ArchiveError) {
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
            if cancellation.isCancelled { throw .cancelled("backup") }
        }
    }

    /// The cut candidates of `file` between two offsets, its parts scanned concurrently.
    func scan(_ file: SourceFile, from: Int64, to: Int64) throws(ArchiveError) -> [Chunker.Candidate] {
        let part = max(Int64(scanPart), (to - from + Int64(cores) - 1) / Int64(cores))
        let bounds = stride(from: from, to: to, by: Int(part)).map { ($0, min(to, $0 + part)) }
        let chunker = self.chunker
        let piece = scanPart
        let parts = Parallel.map(bounds.count) { index -> Result<[Chunker.Candidate], ArchiveError> in
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
    func submit(file: SourceFile, offset: Int64, length: Int, slot: Int, list: ChunkList) {
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
    func submit(_ chunk: Data, hash: String? = nil, slot: Int, list: ChunkList) {
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

    func store(_ chunk: UnsafeRawBufferPointer, hash known: String? = nil) throws(ArchiveError) -> String {
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
                throw ArchiveError(.corrupt, "chunk \(hash.prefix(12)) read back differently from what was written",
                                   remedy: "check the disk and memory, then run the backup again", cause: error)
            }
        }
        lock.lock()
        statistics.new += 1
        statistics.stored += Int64(compressed.count)
        lock.unlock()
        return hash
    }

    /// Whether a chunk is in the repository, or being written by this backup.
    func isStored(_ hash: String) -> Bool {
        lock.lock()
        let claimed = writing.contains(hash)
        lock.unlock()
        return claimed || repository.storage.exists(Repository.chunkKey(hash))
    }

    func count(reused bytes: Int64, followed: Bool = false) {
        lock.lock()
        statistics.read += bytes
        statistics.reused += 1
        if followed { statistics.followed += bytes }
        lock.unlock()
    }

    /// A buffer of the maximum chunk size; at most one per chunk in flight ever exists.
    func takeBuffer() -> UnsafeMutableRawBufferPointer {
        lock.lock()
        defer { lock.unlock() }
        return buffers.popLast() ?? UnsafeMutableRawBufferPointer.allocate(byteCount: repository.config.chunker.maximum, alignment: 64)
    }

    func give(buffer: UnsafeMutableRawBufferPointer) {
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

    func fail(_ error: ArchiveError) {
        lock.lock()
        if failure == nil { failure = error }
        lock.unlock()
    }

    func currentFailure() -> ArchiveError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    func takeCompressor() -> ZstdCompressor {
        lock.lock()
        defer { lock.unlock() }
        return compressors.popLast() ?? ZstdCompressor(level: repository.config.compressionLevel)
    }

    func give(_ compressor: ZstdCompressor) {
        lock.lock()
        compressors.append(compressor)
        lock.unlock()
    }

    func takeDecompressor() -> ZstdDecompressor {
        lock.lock()
        defer { lock.unlock() }
        return decompressors.popLast() ?? ZstdDecompressor()
    }

    func give(_ decompressor: ZstdDecompressor) {
        lock.lock()
        decompressors.append(decompressor)
        lock.unlock()
    }
}

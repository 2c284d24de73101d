import Crypto
import Foundation
import StackSystem

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

extension ChunkPipeline {

    /// Chunks `file` along the parent snapshot's cuts, and returns the offset from which the rest
    /// must be chunked the ordinary way (the size when done). A cut depends only on the bytes since
    /// the previous cut, so where the file holds a parent chunk's exact bytes at a cut, its end is
    /// the next cut: the parent's chunks are hashed at their offsets on every core, ahead of the
    /// walk, and a chunk that matches is neither scanned for cuts nor stored again. Where one
    /// differs the walk cuts as the chunker does, until a cut lands on a parent boundary (at the
    /// same shift as the last match) or a new chunk's hash is a parent chunk's (after an insertion
    /// or a deletion). The cuts are exactly those of an ordinary chunking: only the work differs.
    func chunkGuided(file: SourceFile, size: Int64, guide: ChunkGuide, list: ChunkList, progress: any ProgressTask) throws(ArchiveError) -> Int64 {
        let lookahead = speculationDepth * cores
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
    final class Speculation: @unchecked Sendable {
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
    func speculate(_ speculation: Speculation, file: SourceFile, guide: ChunkGuide) {
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
}

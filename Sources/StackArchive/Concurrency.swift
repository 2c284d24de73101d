import Foundation

/// The archive's two shapes of concurrency: a fixed number of parts run on every core with their
/// results kept in part order, and one job started on its own thread whose result is taken later.
enum Concurrently {
    /// `body` for each part in 0..<count, on every core; the results in part order.
    static func map<Output>(_ count: Int, _ body: @Sendable (Int) -> Output) -> [Output] {
        let slots = PartSlots<Output>(count)
        DispatchQueue.concurrentPerform(iterations: count) { part in slots.set(part, body(part)) }
        return slots.values
    }
}

/// Results written by concurrent parts, one slot each.
private final class PartSlots<Output>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Output?]

    init(_ count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ part: Int, _ value: Output) {
        lock.lock()
        slots[part] = value
        lock.unlock()
    }

    var values: [Output] { slots.map { $0! } }
}

/// Work started on its own thread at once; `value()` waits for it (call it once).
final class Background<Output>: @unchecked Sendable {
    private var result: Result<Output, ArchiveError>?
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () throws(ArchiveError) -> Output) {
        Thread {
            self.result = Result { () throws(ArchiveError) in try work() }
            self.done.signal()
        }.start()
    }

    func value() throws(ArchiveError) -> Output {
        done.wait()
        return try result!.get()
    }
}

extension Repository {
    /// Reads, decompresses and checks `hashes` on every core, each worker taking every n-th one
    /// with its own decompressor; `visit` sees each index with its result (on the worker's thread)
    /// and returns false to stop the reading early.
    func readChunks(_ hashes: [String], _ visit: @Sendable (Int, Result<Data, ArchiveError>) -> Bool) {
        let workers = min(hashes.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        guard workers > 0 else { return }
        final class Stop: @unchecked Sendable {
            private let lock = NSLock()
            private var stopped = false
            var isSet: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
            func set() { lock.lock(); stopped = true; lock.unlock() }
        }
        let stop = Stop()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let decompressor = ZstdDecompressor()
            for index in stride(from: worker, to: hashes.count, by: workers) {
                if stop.isSet { return }
                let result = Result { () throws(ArchiveError) in try readChunk(hashes[index], using: decompressor) }
                if !visit(index, result) { stop.set() }
            }
        }
    }
}

import Foundation
import StackModel
import StackSystem

extension Repository {
    /// Reads, decompresses and checks `hashes` on every core, each worker taking every n-th one
    /// with its own decompressor; `visit` sees each index with its result (on the worker's thread)
    /// and returns false to stop the reading early. Verify, restore's read-ahead and prune's check
    /// of the newest snapshot all read this way.
    func readChunks(_ hashes: [String], _ visit: @Sendable (Int, Result<Data, ArchiveError>) -> Bool) {
        let workers = min(hashes.count, context.host.cores)
        guard workers > 0 else { return }
        let stop = CancellationFlag()
        let cancellation = context.cancellation
        _ = Parallel.map(workers) { worker in
            let decompressor = ZstdDecompressor()
            for index in stride(from: worker, to: hashes.count, by: workers) {
                if stop.isCancelled { return }
                if cancellation.isCancelled {
                    _ = visit(index, .failure(.cancelled("read")))
                    stop.cancel()
                    return
                }
                let result = Result { () throws(ArchiveError) in try readChunk(hashes[index], using: decompressor) }
                if !visit(index, result) { stop.cancel() }
            }
        }
    }
}

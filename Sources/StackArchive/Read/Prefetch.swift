import Foundation

/// The chunks a restore needs, in the order it writes them, read, decompressed and checked a
/// window ahead on every core; each is kept only while the window still names it (consecutive
/// small files share one bundle, decompressed once).
final class ChunkPrefetcher {
    private let repository: Repository
    private let order: [String]
    private var position = 0
    private var windowEnd = 0
    private var ready: [String: Result<Data, ArchiveError>] = [:]
    private let window: Int

    init(repository: Repository, order: [String]) {
        self.repository = repository
        self.order = order
        window = max(2, repository.context.host.cores * 4)
    }

    /// The next chunk of the order (which must be `hash`), checked against its hash.
    func take(_ hash: String) throws(ArchiveError) -> Data {
        if position >= windowEnd { fill() }
        precondition(position < order.count && order[position] == hash, "chunks taken out of order")
        position += 1
        let result = ready[hash] ?? .failure(ArchiveError(.io, "chunk \(hash.prefix(12)) was not read"))
        if !order[position..<max(position, windowEnd)].contains(hash) { ready[hash] = nil }
        return try result.get()
    }

    private func fill() {
        windowEnd = min(order.count, position + window)
        var wanted: [String] = []
        for hash in order[position..<windowEnd] where ready[hash] == nil && !wanted.contains(hash) { wanted.append(hash) }
        final class Slots: @unchecked Sendable {
            var results: [Result<Data, ArchiveError>?]
            init(_ count: Int) { results = Array(repeating: nil, count: count) }
        }
        let slots = Slots(wanted.count)
        repository.readChunks(wanted) { index, result in
            slots.results[index] = result  // each index is written by one worker only
            return true
        }
        for (index, hash) in wanted.enumerated() { ready[hash] = slots.results[index] }
    }
}

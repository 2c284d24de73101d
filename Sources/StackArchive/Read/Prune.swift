import Foundation

/// What prune removed (or, with --dry-run, would remove).
public struct PruneResult: Sendable {
    public var kept: [(SnapshotRecord, [String])]
    public var removed: [SnapshotRecord]
    /// Damaged snapshots removed (or, dry, to be removed) with --forget-damaged.
    public var removedDamaged: [DamagedSnapshot]
    public var reclaimedChunks: Int
    public var reclaimedBytes: Int64
}

extension Repository {
    /// Applies `policy`: removes the snapshots it does not keep (their manifests first, each atomic),
    /// then every chunk no remaining snapshot references. Killed at any point, the repository stays
    /// consistent; a re-run finishes the sweep.
    public func prune(_ policy: RetentionPolicy, dryRun: Bool) throws(ArchiveError) -> PruneResult {
        guard !policy.isEmpty else {
            throw ArchiveError(.usage, "an empty policy would remove every snapshot",
                               remedy: "give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --max-size, --forget")
        }
        let held = dryRun ? try readLock(for: .pruneDryRun) : try lock(for: .prune)
        defer { held?.release() }
        let catalog = try catalog()
        let all = catalog.records
        // A manifest that cannot be trusted still owns its chunks: reclaiming them could destroy the
        // only copy of a snapshot a repair would recover. Only --forget-damaged removes it.
        if let first = catalog.damaged.first, !policy.forgetDamaged {
            throw ArchiveError(.corrupt, "snapshot \(first.shortID) is damaged (\(first.reason))" + (catalog.damaged.count > 1 ? " (and \(catalog.damaged.count - 1) more)" : "")
                               + "; nothing was pruned",
                               remedy: "run 'stackc archive verify' to see what is damaged; --forget-damaged removes damaged snapshots and what only they used")
        }
        var forgotten = Set<String>()
        for reference in policy.forget { forgotten.insert(try Self.snapshot(reference, among: SnapshotCatalog(records: all, damaged: [])).id) }
        var reasons: [String: [String]] = [:]
        for (_, group) in Dictionary(grouping: all, by: \.snapshot.source) {
            reasons.merge(policy.keep(group)) { $0 + $1 }
        }
        if !policy.hasKeepRules {
            // Only a size limit, or only snapshots named: every other snapshot is kept unless the
            // limit says otherwise.
            for record in all where reasons[record.id] == nil { reasons[record.id] = [policy.maxSize == nil ? "not named" : "size limit"] }
        }
        for id in forgotten { reasons[id] = nil }
        // What each snapshot needs: its tree chunks and every chunk its tree names. A tree that
        // cannot be read stops the prune: reclaiming without it could delete chunks it needs.
        var needs: [String: Set<String>] = [:]
        for record in all {
            var used = Set(record.snapshot.tree)
            do throws(ArchiveError) {
                for entry in try tree(of: record) { used.formUnion(entry.chunkReferences) }
            } catch {
                throw ArchiveError(error.kind, error.message + "; nothing was pruned", remedy: "run 'stackc archive verify' to see what is damaged", cause: error.cause)
            }
            needs[record.id] = used
        }
        let sizes = Dictionary(try storage.list("chunks/").map { (String($0.key.split(separator: "/").last ?? ""), $0.size) }, uniquingKeysWith: { a, _ in a })
        // The newest snapshot of each source that verifies — every chunk it needs present and
        // matching its hash — is kept whatever the policy says: when the newest is damaged, it is
        // the last good copy.
        var protected = Set<String>()
        for (_, group) in Dictionary(grouping: all, by: \.snapshot.source) {
            for record in group.reversed() where !forgotten.contains(record.id) {
                let chunks = needs[record.id] ?? []
                guard chunks.allSatisfy({ sizes[$0] != nil }), intact(chunks) else { continue }
                protected.insert(record.id)
                if reasons[record.id]?.contains("newest") != true { reasons[record.id, default: []].append("newest verified") }
                break
            }
        }
        // A source none of whose snapshots verifies: every copy is damaged, and a prune would only
        // remove what a repair could still recover from.
        for (source, group) in Dictionary(grouping: all, by: \.snapshot.source).sorted(by: { $0.key < $1.key })
        where !policy.forgetDamaged && !group.contains(where: { protected.contains($0.id) }) && group.contains(where: { reasons[$0.id] == nil }) {
            throw ArchiveError(.corrupt, "no snapshot of source '\(source)' verifies (\(group.count) damaged); nothing was pruned",
                               remedy: "run 'stackc archive verify' to see what is damaged; --forget-damaged prunes anyway")
        }
        if let limit = policy.maxSize {
            let newest = protected.union(Dictionary(grouping: all, by: \.snapshot.source).values.compactMap { group in
                group.last { !forgotten.contains($0.id) }?.id
            })
            func stored(_ ids: Set<String>) -> Int64 {
                var used = Set<String>()
                for record in all where ids.contains(record.id) { used.formUnion(needs[record.id] ?? []) }
                return used.reduce(0) { $0 + (sizes[$1] ?? 0) }
            }
            var kept = Set(reasons.keys)
            for record in all where kept.contains(record.id) && !newest.contains(record.id) {
                if stored(kept) <= limit { break }
                kept.remove(record.id)
                reasons[record.id] = nil
            }
        }
        let removed = all.filter { reasons[$0.id] == nil }
        let kept = all.filter { reasons[$0.id] != nil }.map { ($0, reasons[$0.id] ?? []) }
        var referenced = Set<String>()
        for (record, _) in kept { referenced.formUnion(needs[record.id] ?? []) }
        let unreferenced = sizes.filter { !referenced.contains($0.key) }
        if !dryRun {
            for damaged in catalog.damaged {
                context.logger.notice("removing damaged snapshot \(damaged.shortID) (\(damaged.reason))")
                try storage.delete(Self.snapshotKey(damaged.id))
            }
            for record in removed { try storage.delete(Self.snapshotKey(record.id)) }
            for hash in unreferenced.keys.sorted() { try storage.delete(Self.chunkKey(hash)) }
            storage.sweepTemporary()
        }
        return PruneResult(kept: kept, removed: removed, removedDamaged: catalog.damaged, reclaimedChunks: unreferenced.count,
                           reclaimedBytes: unreferenced.values.reduce(0, +))
    }

    /// Whether every one of `chunks` decompresses to its hash; read on every core.
    func intact(_ chunks: Set<String>) -> Bool {
        final class Verdict: @unchecked Sendable {
            let lock = NSLock()
            var damaged = false
        }
        let verdict = Verdict()
        readChunks(Array(chunks)) { _, result in
            guard case .failure = result else { return true }
            verdict.lock.lock()
            verdict.damaged = true
            verdict.lock.unlock()
            return false
        }
        return !verdict.damaged
    }
}

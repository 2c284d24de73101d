import Foundation

/// Which snapshots to keep: restic's `forget` policies plus a size limit (as PALHM's copy-count
/// and size limits), applied per source, newest first.
public struct RetentionPolicy: Sendable, Equatable {
    public var last = 0
    public var hourly = 0
    public var daily = 0
    public var weekly = 0
    public var monthly = 0
    /// Total stored bytes the kept snapshots may use; oldest go first.
    public var maxSize: Int64?
    /// Calendar buckets are counted in this time zone.
    public var timeZone = TimeZone(identifier: "UTC") ?? .current
    /// Snapshots named for removal (ids, unique prefixes or `latest`), whatever the rest says —
    /// restic's `forget ID`: a snapshot that must go (it holds what should never have been
    /// backed up) goes even when it is the newest.
    public var forget: [String] = []

    public init(last: Int = 0, hourly: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0, maxSize: Int64? = nil) {
        self.last = last
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.maxSize = maxSize
    }

    public var isEmpty: Bool { !hasKeepRules && maxSize == nil && forget.isEmpty }
    var hasKeepRules: Bool { last > 0 || hourly > 0 || daily > 0 || weekly > 0 || monthly > 0 }

    /// The ids to keep among `snapshots` of one source, each with its reasons.
    func keep(_ snapshots: [SnapshotRecord]) -> [String: [String]] {
        let newestFirst = snapshots.sorted { ($0.snapshot.time, $0.id) > ($1.snapshot.time, $1.id) }
        var reasons: [String: [String]] = [:]
        if let newest = newestFirst.first { reasons[newest.id, default: []].append("newest") }
        for record in newestFirst.prefix(last) { reasons[record.id, default: []].append("last") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // ISO 8601 weeks: Monday first, week 1 holds the year's first Thursday.
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        let buckets: [(String, Int, (Date) -> String)] = [
            ("hourly", hourly, { d in let c = calendar.dateComponents([.year, .month, .day, .hour], from: d); return "\(c.year!)-\(c.month!)-\(c.day!)-\(c.hour!)" }),
            ("daily", daily, { d in let c = calendar.dateComponents([.year, .month, .day], from: d); return "\(c.year!)-\(c.month!)-\(c.day!)" }),
            ("weekly", weekly, { d in let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: d); return "\(c.yearForWeekOfYear!)-W\(c.weekOfYear!)" }),
            ("monthly", monthly, { d in let c = calendar.dateComponents([.year, .month], from: d); return "\(c.year!)-\(c.month!)" }),
        ]
        for (name, count, bucket) in buckets where count > 0 {
            var seen = Set<String>()
            for record in newestFirst {
                let key = bucket(record.snapshot.time)
                guard !seen.contains(key) else { continue }
                seen.insert(key)
                if seen.count > count { break }
                reasons[record.id, default: []].append(name)
            }
        }
        return reasons
    }
}

/// What prune removed (or, with --dry-run, would remove).
public struct PruneResult: Sendable {
    public var kept: [(SnapshotRecord, [String])]
    public var removed: [SnapshotRecord]
    public var reclaimedChunks: Int
    public var reclaimedBytes: Int64
}

extension Repository {
    /// Applies `policy`: removes the snapshots it does not keep (their manifests first, each atomic),
    /// then every chunk no remaining snapshot references. Killed at any point, the repository stays
    /// consistent; a re-run finishes the sweep.
    public func prune(_ policy: RetentionPolicy, dryRun: Bool, report: (String) -> Void = { _ in }) throws(ArchiveError) -> PruneResult {
        guard !policy.isEmpty else {
            throw ArchiveError(.usage, "an empty policy would remove every snapshot",
                               remedy: "give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --max-size, --forget")
        }
        let held = dryRun ? try readLock(for: .pruneDryRun, report: report) : try lock(for: .prune, report: report)
        defer { held?.release() }
        let all = try snapshots()
        // A manifest that cannot be read still owns its chunks: reclaiming them could destroy the
        // only copy of a snapshot a repair would recover.
        let unreadable = try storage.list("snapshots/").map(\.key).filter { $0.hasSuffix(".json") }
            .filter { key in !all.contains { Self.snapshotKey($0.id) == key } }
        if let first = unreadable.sorted().first {
            throw ArchiveError(.corrupt, "the manifest \(first) cannot be read" + (unreadable.count > 1 ? " (and \(unreadable.count - 1) more)" : "") + "; nothing was pruned",
                               remedy: "run 'stackc archive verify' to see what is damaged")
        }
        var forgotten = Set<String>()
        for reference in policy.forget { forgotten.insert(try Self.snapshot(reference, among: all).id) }
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
                throw ArchiveError(error.code, error.message + "; nothing was pruned", remedy: "run 'stackc archive verify' to see what is damaged")
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
            for record in removed { try storage.delete(Self.snapshotKey(record.id)) }
            for hash in unreferenced.keys.sorted() { try storage.delete(Self.chunkKey(hash)) }
            storage.clearTemporary()
        }
        return PruneResult(kept: kept, removed: removed, reclaimedChunks: unreferenced.count,
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

    /// Paths added, removed and modified from snapshot `a` to snapshot `b`.
    public func diff(_ a: SnapshotRecord, _ b: SnapshotRecord, report: (String) -> Void = { _ in }) throws(ArchiveError) -> [(change: Character, path: String)] {
        let held = try readLock(for: .diff, report: report)
        defer { held?.release() }
        try requirePresent(a)
        try requirePresent(b)
        let old = Dictionary(try tree(of: a).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(try tree(of: b).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [(Character, String)] = []
        for path in Set(old.keys).union(new.keys).sorted() {
            switch (old[path], new[path]) {
            case (nil, _?): changes.append(("+", path))
            case (_?, nil): changes.append(("-", path))
            case let (x?, y?) where x.kind != y.kind || x.mode != y.mode || x.size != y.size || x.chunks != y.chunks || x.bundle != y.bundle || x.target != y.target:
                changes.append(("M", path))
            default: break
            }
        }
        return changes
    }
}

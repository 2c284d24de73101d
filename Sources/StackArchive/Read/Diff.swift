import Foundation

extension Repository {
    /// Paths added, removed and modified from snapshot `a` to snapshot `b`.
    public func diff(_ a: SnapshotRecord, _ b: SnapshotRecord) throws(ArchiveError) -> [(change: Character, path: String)] {
        let held = try readLock(for: .diff)
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

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
    /// Remove damaged snapshots (and reclaim what only they used) instead of refusing to prune.
    public var forgetDamaged = false

    public init(last: Int = 0, hourly: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0, maxSize: Int64? = nil) {
        self.last = last
        self.hourly = hourly
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.maxSize = maxSize
    }

    public var isEmpty: Bool { !hasKeepRules && maxSize == nil && forget.isEmpty && !forgetDamaged }
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

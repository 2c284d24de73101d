import Foundation
import StackModel
import StackSystem

/// An instance's durable notification queue: a spool directory in the manner of Maildir and
/// Postfix (the layout is documented in docs/RUNTIME.md).
///
/// ```
/// var/queue/
///   new/<arrival>-<source>-<sequence>.json   waiting, by arrival (the zero-padded number sorts)
///   cur/…                                    the one entry being worked on
///   failed/…                                 set aside after `maxAttempts` failures, with the last error
///   corrupt/…                                a file that does not parse, kept for a person to look at
///   arrivals                                 the last arrival number handed out
///   lock                                     flock: enqueue and claim, a few milliseconds each
///   worker                                   flock: held by the one worker draining the queue
/// ```
///
/// An entry is written to a temporary file, synced and renamed into `new/` (and the directory
/// synced) before `enqueue` returns, so a sender reports success only for an entry that survives
/// a crash. A worker renames the entry it works on into `cur/`; one killed there leaves it in
/// `cur/`, and the next worker moves it back to `new/` first: nothing is lost, and the job's own
/// sequence check (a pull's archive, an import's record) keeps a second run from applying twice.
public struct Spool: Sendable {
    public let directory: String
    let fileSystem: any FileSystem
    let clock: any StackClock
    let holder: String

    public init(directory: String, fileSystem: any FileSystem, clock: any StackClock, holder: String) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.clock = clock
        self.holder = holder
    }

    var new: String { directory + "/new" }
    var current: String { directory + "/cur" }
    var failed: String { directory + "/failed" }
    var corrupt: String { directory + "/corrupt" }

    /// A waiting, claimed or set-aside entry and its file.
    public struct Stored: Sendable, Equatable {
        public var name: String
        public var entry: QueueEntry
    }

    /// The entry claimed (nil: none is due), and the older entries of the same source that a
    /// newer one made unnecessary, removed on the way.
    public struct Claim: Sendable {
        public var next: Stored?
        public var superseded: [Stored]
    }

    /// Creates the spool's directories (install creates only the queue directory itself).
    public func prepare() throws(SystemError) {
        if !fileSystem.isDirectory(directory) { try fileSystem.createDirectories(directory, mode: 0o700) }
        for path in [new, current, failed, corrupt] where !fileSystem.isDirectory(path) {
            try fileSystem.createDirectory(path, mode: 0o700)
        }
    }

    private func withLock<T>(_ body: () throws(SystemError) -> T) throws(SystemError) -> T {
        try prepare()
        guard let lock = try fileSystem.lock(directory + "/lock", holder: holder, wait: true) else {
            throw SystemError(Errno(EWOULDBLOCK), "flock", path: directory + "/lock")
        }
        defer { lock.unlock() }
        return try body()
    }

    /// Appends `entry` (its `id` is set here) and returns it once it is durable.
    @discardableResult
    public func enqueue(_ entry: QueueEntry) throws(SystemError) -> QueueEntry {
        try withLock { () throws(SystemError) in
            let counter = directory + "/arrivals"
            let last = (try? fileSystem.read(counter)).flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            let arrival = last + 1
            // The counter first: a crash between the two writes skips a number, never reuses one.
            try fileSystem.write(Data("\(arrival)\n".utf8), to: counter, mode: 0o600, durability: .synced)
            var entry = entry
            entry.id = String(format: "%012d", arrival) + "-" + Self.safe(entry.source) + "-" + String(entry.sequence)
            try fileSystem.write(try encode(entry), to: new + "/" + entry.id + ".json", mode: 0o600, durability: .synced)
            return entry
        }
    }

    /// Names are instance names already; anything else is kept out of the file name.
    private static func safe(_ name: String) -> String {
        NameRules.isInstanceName(name) ? name : "instance"
    }

    private func encode(_ entry: QueueEntry) throws(SystemError) -> Data {
        do { return try ContractCoding.line(entry) } catch { throw SystemError(Errno(EINVAL), "encode", path: entry.id) }
    }

    /// The entries of one directory, by arrival. Only a worker (`quarantine`) moves a file that
    /// does not parse to `corrupt/`; status and `queue ls` look without touching.
    private func entries(in directory: String, quarantine: Bool = false) -> [Stored] {
        let names = ((try? fileSystem.list(directory)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(temporaryFilePrefix) }.sorted()
        return names.compactMap { name in
            let path = directory + "/" + name
            guard let data = try? fileSystem.read(path) else { return nil }
            guard let entry = try? ContractCoding.decode(QueueEntry.self, from: data) else {
                // As Postfix's corrupt queue: moved out of the way, kept for a person.
                if quarantine { try? fileSystem.rename(path, to: corrupt + "/" + name) }
                return nil
            }
            return Stored(name: name, entry: entry)
        }
    }

    public var waiting: [Stored] { entries(in: new) }
    public var setAside: [Stored] { entries(in: failed) }
    public var inProgress: [Stored] { entries(in: current) }
    public var corrupted: [String] { ((try? fileSystem.list(corrupt)) ?? []).sorted() }

    /// Takes the worker's lock; nil when another worker holds it (its holder in `workerHolder`).
    public func lockWorker() throws(SystemError) -> FileLock? {
        try prepare()
        return try fileSystem.lock(directory + "/worker", holder: holder, wait: false)
    }

    public var workerHolder: String? { fileSystem.lockHolder(directory + "/worker") }

    /// Puts back an entry a killed worker left in `cur/` (call with the worker's lock held).
    /// Returns the entries recovered.
    @discardableResult
    public func recover() throws(SystemError) -> [Stored] {
        try withLock { () throws(SystemError) in
            let left = entries(in: current, quarantine: true)
            for stored in left { try fileSystem.rename(current + "/" + stored.name, to: new + "/" + stored.name) }
            return left
        }
    }

    /// Claims the next entry to work on: of each source's waiting entries only the highest
    /// sequence survives (the others are removed, as superseded: decided by the sequence the
    /// receiver checks, never by a clock); of what remains, the earliest arrival that is due.
    public func claim() throws(SystemError) -> Claim {
        try withLock { () throws(SystemError) -> Claim in
            let now = clock.date
            var superseded: [Stored] = []
            var best: [String: Stored] = [:]
            for stored in entries(in: new, quarantine: true) {
                let key = stored.entry.kind.rawValue + "/" + stored.entry.source
                if let kept = best[key] {
                    if stored.entry.sequence > kept.entry.sequence {
                        superseded.append(kept)
                        best[key] = stored
                    } else {
                        superseded.append(stored)
                    }
                } else {
                    best[key] = stored
                }
            }
            for stored in superseded { try fileSystem.removeFile(new + "/" + stored.name) }
            let due = best.values.sorted { $0.name < $1.name }.first { ($0.entry.notBefore ?? .distantPast) <= now }
            guard let next = due else { return Claim(next: nil, superseded: superseded) }
            try fileSystem.rename(new + "/" + next.name, to: current + "/" + next.name)
            return Claim(next: next, superseded: superseded)
        }
    }

    /// When the next waiting entry becomes due (nil: none waits).
    public var nextDue: Date? {
        waiting.map { $0.entry.notBefore ?? .distantPast }.min()
    }

    /// The claimed entry is done (applied, or refused for good): it leaves the queue.
    public func complete(_ stored: Stored) throws(SystemError) {
        try fileSystem.removeFile(current + "/" + stored.name)
        try fileSystem.sync(fileSystemOf: current)
    }

    /// The claimed entry failed: back to `new/`, due after `retry`'s delay, or set aside in
    /// `failed/` when it has failed `retry.maxAttempts` times. Returns the entry as stored.
    public func fail(_ stored: Stored, error: String, retry: RetryPolicy, random: inout some RandomNumberGenerator) throws(SystemError) -> (entry: QueueEntry, setAside: Bool) {
        var entry = stored.entry
        entry.attempts += 1
        entry.lastError = error
        let setAside = entry.attempts >= retry.maxAttempts
        entry.notBefore = setAside ? nil : clock.date.addingTimeInterval(retry.delay(afterAttempt: entry.attempts, random: &random))
        let target = (setAside ? failed : new) + "/" + stored.name
        // The rewritten entry lands first; only then does the claimed copy go.
        try fileSystem.write(try encode(entry), to: target, mode: 0o600, durability: .synced)
        try fileSystem.removeFile(current + "/" + stored.name)
        return (entry, setAside)
    }

    /// Puts a set-aside entry back in line, its attempts reset. `id` may be a prefix or `all`.
    public func retry(_ id: String) throws(SystemError) -> [QueueEntry] {
        try withLock { () throws(SystemError) in
            var moved: [QueueEntry] = []
            for stored in entries(in: failed) where id == "all" || stored.name.hasPrefix(id) {
                var entry = stored.entry
                entry.attempts = 0
                entry.notBefore = nil
                try fileSystem.write(try encode(entry), to: new + "/" + stored.name, mode: 0o600, durability: .synced)
                try fileSystem.removeFile(failed + "/" + stored.name)
                moved.append(entry)
            }
            return moved
        }
    }

    /// Removes set-aside entries for good. `id` may be a prefix or `all`.
    public func drop(_ id: String) throws(SystemError) -> [QueueEntry] {
        try withLock { () throws(SystemError) in
            var dropped: [QueueEntry] = []
            for stored in entries(in: failed) where id == "all" || stored.name.hasPrefix(id) {
                try fileSystem.removeFile(failed + "/" + stored.name)
                dropped.append(stored.entry)
            }
            return dropped
        }
    }
}

/// Capped exponential backoff with jitter: the n-th retry waits between half and all of
/// `min(cap, base · 2^(n-1))`, so receivers that failed together do not retry together.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Double
    public var cap: Double
    public var maxAttempts: Int

    public init(base: Double = 5, cap: Double = 600, maxAttempts: Int = 5) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    public static let standard = RetryPolicy()

    public func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> Double {
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return ceiling / 2 + Double.random(in: 0...(ceiling / 2), using: &random)
    }
}

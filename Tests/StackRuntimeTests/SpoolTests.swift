import Foundation
import StackModel
import StackRuntime
import StackSystem
import StackTestSupport
import Testing

/// The queue on the in-memory world and the manual clock: order, supersession, backoff, set-aside
/// and recovery, each a story a receiver lives through.
@Suite struct SpoolTests {
    let clock = ManualClock()
    let fileSystem = InMemoryFileSystem()
    var queue: Spool { Spool(directory: "/root/db1/var/queue", fileSystem: fileSystem, clock: clock, holder: "test") }

    init() throws {
        try fileSystem.createDirectories("/root/db1/var/queue", mode: 0o700)
    }

    func entry(_ source: String, _ sequence: Int) -> QueueEntry {
        QueueEntry(id: "", kind: .dump, source: source, sequence: sequence, transaction: "tx-\(source)-\(sequence)", enqueued: clock.date)
    }

    @Test func entriesAreWorkedOnInOrderOfArrivalOneAtATime() throws {
        try queue.enqueue(entry("db0", 1))
        try queue.enqueue(entry("reports", 7))
        let first = try #require(try queue.claim().next)
        #expect(first.entry.source == "db0")
        #expect(queue.inProgress.count == 1)
        try queue.complete(first)
        let second = try #require(try queue.claim().next)
        #expect(second.entry.source == "reports" && second.entry.sequence == 7)
        try queue.complete(second)
        #expect(try queue.claim().next == nil)
    }

    @Test func aNewerSequenceFromTheSameSourceSupersedesTheWaitingOnesWhateverTheClockSays() throws {
        try queue.enqueue(entry("db0", 3))
        try queue.enqueue(entry("db0", 5))
        // Arrives last, but is older: a sender's clock or arrival never outranks the sequence.
        try queue.enqueue(entry("db0", 4))
        let claim = try queue.claim()
        #expect(claim.next?.entry.sequence == 5)
        #expect(claim.superseded.map(\.entry.sequence).sorted() == [3, 4])
        #expect(queue.waiting.isEmpty)
    }

    @Test func aFailureBacksOffExponentiallyWithJitterUpToTheCapThenIsSetAside() throws {
        var random = SeededGenerator(state: 7)
        let retry = RetryPolicy(base: 10, cap: 60, maxAttempts: 5)
        try queue.enqueue(entry("db0", 1))
        var delays: [Double] = []
        for attempt in 1...4 {
            let claimed = try #require(try queue.claim().next, "attempt \(attempt) is due")
            let outcome = try queue.fail(claimed, error: "ssh: connection refused", retry: retry, random: &random)
            #expect(!outcome.setAside)
            let delay = try #require(outcome.entry.notBefore).timeIntervalSince(clock.date)
            delays.append(delay)
            let ceiling = min(60, 10 * pow(2, Double(attempt - 1)))
            #expect(delay >= ceiling / 2 && delay <= ceiling, "attempt \(attempt): \(delay) s within [\(ceiling / 2), \(ceiling)]")
            #expect(try queue.claim().next == nil, "not due before its backoff ends")
            clock.advance(by: .seconds(Int64(delay.rounded(.up))))
        }
        let last = try #require(try queue.claim().next)
        let outcome = try queue.fail(last, error: "ssh: connection refused", retry: retry, random: &random)
        #expect(outcome.setAside)
        #expect(queue.waiting.isEmpty && queue.setAside.count == 1)
        #expect(queue.setAside[0].entry.attempts == 5 && queue.setAside[0].entry.lastError == "ssh: connection refused")
        // Put back by a person: due at once, its attempts reset.
        #expect(try queue.retry("all").count == 1)
        #expect(try queue.claim().next?.entry.attempts == 0)
    }

    @Test func aSetAsideEntryCanBeDropped() throws {
        var random = SeededGenerator(state: 1)
        try queue.enqueue(entry("db0", 1))
        let claimed = try #require(try queue.claim().next)
        _ = try queue.fail(claimed, error: "boom", retry: RetryPolicy(maxAttempts: 1), random: &random)
        #expect(try queue.drop(queue.setAside[0].name).map(\.sequence) == [1])
        #expect(queue.setAside.isEmpty && queue.waiting.isEmpty)
    }

    @Test func anEntryAKilledWorkerLeftInCurIsPutBackByTheNextWorker() throws {
        try queue.enqueue(entry("db0", 9))
        var lock = try #require(try queue.lockWorker())
        _ = try queue.claim()
        // The worker dies here: its flock goes with it, its entry stays in cur/.
        lock.unlock()
        #expect(queue.waiting.isEmpty && queue.inProgress.count == 1)
        lock = try #require(try queue.lockWorker())
        #expect(try queue.recover().map(\.entry.sequence) == [9])
        #expect(try queue.claim().next?.entry.sequence == 9)
        lock.unlock()
    }

    @Test func aSecondWorkerFindsTheQueueBusyAndWhoHoldsIt() throws {
        let held = try #require(try queue.lockWorker())
        let other = Spool(directory: queue.directory, fileSystem: fileSystem, clock: clock, holder: "process 99 on host")
        #expect(try other.lockWorker() == nil)
        #expect(other.workerHolder == "test")
        held.unlock()
    }

    @Test func aFileThatDoesNotParseIsMovedToCorruptNotLostNorRetried() throws {
        try queue.prepare()
        try fileSystem.write(Data("{not json".utf8), to: queue.directory + "/new/000000000001-db0-1.json", mode: 0o600, durability: .synced)
        try queue.enqueue(entry("db0", 2))
        // Looking (status, queue ls) moves nothing; the worker's claim does.
        #expect(queue.waiting.map(\.entry.sequence) == [2] && queue.corrupted.isEmpty)
        #expect(try queue.claim().next?.entry.sequence == 2)
        #expect(queue.corrupted == ["000000000001-db0-1.json"])
    }

    @Test func arrivalNumbersNeverRepeatAcrossRestarts() throws {
        let first = try queue.enqueue(entry("db0", 1))
        let second = try Spool(directory: queue.directory, fileSystem: fileSystem, clock: clock, holder: "later").enqueue(entry("db0", 2))
        #expect(first.id < second.id)
        #expect(first.id.hasPrefix("000000000001-") && second.id.hasPrefix("000000000002-"))
    }
}

/// The worker's loop on the manual clock: a simulated day of notifications with an import that
/// fails for a while, runs in milliseconds.
@Suite struct QueueWorkerTests {
    @Test func aDayOfHourlyDumpsWithAnOutageIsAppliedInOrderWithBackoffAndNothingTwice() throws {
        let clock = ManualClock()
        let fileSystem = InMemoryFileSystem()
        try fileSystem.createDirectories("/root/db1/var/queue", mode: 0o700)
        try fileSystem.createDirectories("/root/db1/var/log", mode: 0o750)
        let world = TestWorld.simulated(clock: clock, fileSystem: fileSystem)
        let context = JobContext(world: world, instance: "db1", layout: InstanceLayout(directory: "/root/db1"))
        let worker = QueueWorker(context: context, queuePath: "/root/db1/var/queue", retry: RetryPolicy(base: 60, cap: 900, maxAttempts: 10), step: "import")
        let sender = Spool(directory: "/root/db1/var/queue", fileSystem: fileSystem, clock: clock, holder: "pbs")
        var random = SeededGenerator(state: 42)
        var applied: [Int] = []
        var attempts = 0
        // The standby is down from 03:00 to 05:30.
        let outage = ManualClock.epoch.addingTimeInterval(3 * 3600)...ManualClock.epoch.addingTimeInterval(5.5 * 3600)
        for minute in stride(from: 0, to: 24 * 60, by: 5) {
            if minute % 60 == 0 {
                try sender.enqueue(QueueEntry(id: "", kind: .snapshot, source: "pbs-db-1", sequence: minute / 60 + 1, transaction: "t\(minute / 60 + 1)", enqueued: clock.date))
            }
            _ = try worker.drain(random: &random) { (entry: QueueEntry) throws(RuntimeError) -> EntryResult in
                attempts += 1
                if outage.contains(clock.date) { throw RuntimeError(.commandFailed, "the standby is down") }
                if let last = applied.last, entry.sequence <= last { return .skipped("already imported") }
                applied.append(entry.sequence)
                return .applied("restored")
            }
            clock.advance(by: .seconds(300))
        }
        #expect(applied == applied.sorted() && Set(applied).count == applied.count, "in order, none twice: \(applied)")
        #expect(applied.last == 24, "the last dump of the day arrived")
        // During the outage newer dumps superseded the waiting one: 4 and 5 were never applied.
        #expect(!applied.contains(4) && !applied.contains(5) && applied.contains(6), "\(applied)")
        #expect(attempts < 60, "backoff, not a retry every five minutes: \(attempts) attempts")
        let events = EventLog(path: "/root/db1/var/log/events.jsonl", fileSystem: fileSystem).events()
        #expect(events.contains { $0.outcome == .superseded })
        #expect(events.contains { $0.outcome == .failed && ($0.message ?? "").contains("next attempt after") })
        #expect(events.filter { $0.outcome == .applied }.allSatisfy { $0.transaction == "t\($0.sequence ?? 0)" }, "each attempt carries its transaction")
    }
}

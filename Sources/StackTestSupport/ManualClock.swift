import Foundation
import StackSystem

/// A clock that moves only when a test moves it: sleepers wake, in deadline order, when
/// `advance` passes their deadline, so a day of schedules runs in milliseconds.
public final class ManualClock: StackClock, @unchecked Sendable {
    public struct Instant: InstantProtocol, Sendable {
        /// Since the clock's start, which is `ManualClock.epoch` in wall time.
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    /// The wall time a manual clock starts at: 2026-12-01T00:00:00Z.
    public static let epoch = Date(timeIntervalSince1970: 1_796_083_200)

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [Sleeper] = []
    private var nextID = 0
    /// Tests waiting for a number of sleepers.
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private let start: Date

    public init(start: Date = ManualClock.epoch) { self.start = start }

    public var now: Instant {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    public var minimumResolution: Duration { .zero }

    public func date(at instant: Instant) -> Date { start.addingTimeInterval(instant.offset.seconds) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id: Int = lock.withLock {
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                if deadline <= current {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                let ready = waiters.filter { $0.count <= sleepers.count }
                waiters.removeAll { $0.count <= sleepers.count }
                lock.unlock()
                for waiter in ready { waiter.continuation.resume() }
            }
        } onCancel: {
            let cancelled = lock.withLock { sleepers.firstIndex { $0.id == id }.map { sleepers.remove(at: $0) } }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking every sleeper whose deadline it reaches, earliest first.
    public func advance(by duration: Duration) {
        lock.lock()
        current = current.advanced(by: duration)
        let due = sleepers.filter { $0.deadline <= current }.sorted { $0.deadline < $1.deadline }
        sleepers.removeAll { $0.deadline <= current }
        lock.unlock()
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits until at least `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if sleepers.count >= count {
                lock.unlock()
                continuation.resume()
                return
            }
            waiters.append((count, continuation))
            lock.unlock()
        }
    }
}

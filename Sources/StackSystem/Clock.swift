import Foundation

/// Time as stackc sees it: a Swift `Clock` to wait on and measure with, and the wall-clock date
/// of its instants (manifests, logs and schedules are written in dates). Injected everywhere, so
/// tests run a day of schedules on a manual clock in milliseconds.
public protocol StackClock: Clock, Sendable where Duration == Swift.Duration {
    /// The wall-clock date of `instant`.
    func date(at instant: Instant) -> Date
}

extension StackClock {
    /// The wall-clock date now.
    public var date: Date { date(at: now) }

    /// Blocks the calling thread for `duration` on this clock (for synchronous code such as a
    /// lock retry; async code awaits `sleep(for:)` instead).
    public func sleepBlocking(for duration: Duration) {
        let done = DispatchSemaphore(value: 0)
        Task {
            try? await self.sleep(for: duration)
            done.signal()
        }
        done.wait()
    }
}

/// The machine's clock: monotonic instants (`ContinuousClock`) and the system's date.
public struct SystemClock: StackClock {
    public typealias Instant = ContinuousClock.Instant
    private let clock = ContinuousClock()

    public init() {}

    public var now: Instant { clock.now }
    public var minimumResolution: Duration { clock.minimumResolution }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await clock.sleep(until: deadline, tolerance: tolerance)
    }

    /// Dates follow the system's date (which NTP may step), measured from now.
    public func date(at instant: Instant) -> Date {
        let offset = instant - clock.now
        let (seconds, attoseconds) = offset.components
        return Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    }
}

extension Duration {
    /// In seconds, as a `Double` (for rates and messages).
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

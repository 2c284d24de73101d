import Foundation
import StackSystem
import StackTestSupport
import Testing

@Suite struct ClockTests {
    @Test func aSleeperWakesWhenTheManualClockPassesItsDeadlineAndNotBefore() async throws {
        let clock = ManualClock()
        let woke = Counter()
        let sleeper = Task {
            try await clock.sleep(for: .seconds(60))
            woke.increment()
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(59))
        try await Task.sleep(for: .milliseconds(20))
        #expect(woke.value == 0)
        clock.advance(by: .seconds(1))
        try await sleeper.value
        #expect(woke.value == 1)
        #expect(clock.date == ManualClock.epoch.addingTimeInterval(60))
    }
}

/// A count several tasks bump.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

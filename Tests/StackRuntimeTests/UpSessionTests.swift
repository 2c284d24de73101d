import Foundation
import StackModel
import StackRuntime
import StackSystem
import StackTestSupport
import Testing

/// Processes that run on the manual clock: each launch is recorded, and ends after `runFor`.
final class ClockLauncher: ProcessLauncher, @unchecked Sendable {
    let clock: ManualClock
    let runFor: @Sendable ([String]) -> Duration
    private let lock = NSLock()
    private var recorded: [(command: [String], at: Date)] = []
    private var nextPID: Int32 = 1000

    init(clock: ManualClock, runFor: @escaping @Sendable ([String]) -> Duration) {
        self.clock = clock
        self.runFor = runFor
    }

    var launches: [(command: [String], at: Date)] { lock.withLock { recorded } }
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// Returns once `count` processes were launched (spinning on Task.yield starves the session).
    func waitForLaunches(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if recorded.count >= count {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append((count, continuation))
                lock.unlock()
            }
        }
    }

    func launch(_ command: [String], directory: String, log: String, environment: [String: String]) throws(ProcessFailure) -> any LaunchedProcess {
        lock.lock()
        recorded.append((command, clock.date))
        nextPID += 1
        let pid = nextPID
        let ready = waiters.filter { $0.count <= recorded.count }
        waiters.removeAll { $0.count <= recorded.count }
        lock.unlock()
        for waiter in ready { waiter.continuation.resume() }
        return Simulated(pid: pid, clock: clock, duration: runFor(command))
    }

    final class Simulated: LaunchedProcess, @unchecked Sendable {
        let pid: Int32
        private let ended: Task<Int32, Never>

        init(pid: Int32, clock: ManualClock, duration: Duration) {
            self.pid = pid
            // The end is fixed at launch, whenever the task gets to sleep.
            let end = clock.now.advanced(by: duration)
            ended = Task {
                do { try await clock.sleep(until: end, tolerance: nil) } catch { return 143 }
                return 0
            }
        }

        func exitStatus() async -> Int32 { await ended.value }
        func signal(_ signal: Int32) { ended.cancel() }
    }
}

/// Lines `up` says, collected.
final class Said: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Suite struct UpSessionTests {
    func plan(_ schedule: String, services: [UpPlan.Service] = []) throws -> UpPlan {
        let cron = try CronSchedule.parse(schedule).get()
        return UpPlan(root: "/root", services: services,
                      scheduled: [.init(instance: "db0", name: "db0-export", command: ["/root/db0/bin/exporter"], schedule: cron)],
                      queueJobs: [], exports: ["db0": ["/root/db0/bin/exporter"]], imports: [:], pullBackups: [:])
    }

    func world(_ clock: ManualClock) throws -> SystemWorld {
        let fileSystem = InMemoryFileSystem()
        try fileSystem.createDirectories("/root/db0/var/log", mode: 0o755)
        return TestWorld.simulated(clock: clock, fileSystem: fileSystem)
    }

    @Test func aDayOfAHalfHourlyScheduleRunsFortyEightTimesOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let launcher = ClockLauncher(clock: clock) { _ in .zero }
        let session = UpSession(plan: try plan("*/30 * * * *"), world: try world(clock), launcher: launcher, seed: 1) { _ in }
        try await session.start()
        await clock.waitForSleepers(1)
        for step in 1...(24 * 4) {
            clock.advance(by: .seconds(900))
            // Each fire is seen before time moves on, as it would be in a day that really passes.
            await launcher.waitForLaunches(step / 2)
            while await session.runningJobs > 0 { await Task.yield() }
            await clock.waitForSleepers(1)
        }
        await session.stop()
        let times = launcher.launches.map { Int($0.at.timeIntervalSince(ManualClock.epoch) / 60) }
        #expect(times.count == 48, "\(times)")
        #expect(times.first == 30 && times.last == 24 * 60)
        #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == 30 })
    }

    @Test func aRunThatOutlastsItsIntervalMakesTheNextFireASkipThatIsLogged() async throws {
        let clock = ManualClock()
        let launcher = ClockLauncher(clock: clock) { _ in .seconds(45 * 60) }
        let said = Said()
        let session = UpSession(plan: try plan("*/30 * * * *"), world: try world(clock), launcher: launcher, seed: 1) { said.add($0) }
        try await session.start()
        await clock.waitForSleepers(1)
        for step in 1...(4 * 4) {
            clock.advance(by: .seconds(900))
            // Fires at 30, 60, 90 … minutes: runs at 30 and 90 of each two hours, skips between.
            let fires = step / 2
            await launcher.waitForLaunches((fires + 1) / 2)
            while said.all.count < fires / 2 { await Task.yield() }
            // A run started at :30 ends at :15 of the next hour.
            let minute = step * 15
            let busy = minute >= 30 && (minute - 30) % 60 < 45 ? 1 : 0
            while await session.runningJobs != busy { await Task.yield() }
            await clock.waitForSleepers(1)
        }
        await session.stop()
        #expect(launcher.launches.count == 4, "00:30, 01:30, 02:30, 03:30: \(launcher.launches.map(\.at))")
        #expect(said.all.filter { $0.contains("skipped db0-export: its previous run is still going") }.count == 4, "\(said.all)")
    }

    @Test func aServiceThatDiesIsRestartedWithGrowingBackoff() async throws {
        let clock = ManualClock()
        // The service dies 10 s after each start.
        let launcher = ClockLauncher(clock: clock) { command in command == ["/root/db0/etc/service/postgresql"] ? .seconds(10) : .zero }
        let said = Said()
        let service = UpPlan.Service(definition: ServiceDefinition(instance: "db0", name: "postgresql", command: ["/root/db0/etc/service/postgresql"],
                                                                   address: nil, port: nil, ready: [], connection: nil), portSetAt: nil)
        let session = UpSession(plan: try plan("0 0 1 1 *", services: [service]), world: try world(clock), launcher: launcher, seed: 1) { said.add($0) }
        try await session.start()
        for _ in 1...60 {
            // Quiet means two sleepers: the yearly schedule, and the service running or its backoff.
            await clock.waitForSleepers(2)
            clock.advance(by: .seconds(1))
        }
        await session.stop()
        let starts = launcher.launches.filter { $0.command.first == "/root/db0/etc/service/postgresql" }.map { Int($0.at.timeIntervalSince(ManualClock.epoch)) }
        // Up 10 s, then 1 s, 2 s, 4 s of backoff: started at 0, 11, 23, 37.
        #expect(Array(starts.prefix(4)) == [0, 11, 23, 37], "\(starts)")
        #expect(said.all.contains { $0.contains("postgresql of db0 exited with status 0; restarting in 2 s") }, "\(said.all)")
    }
}

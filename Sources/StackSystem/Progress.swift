import Foundation

/// Where long transfers report how far they are: a terminal line, or nothing.
public protocol ProgressSink: Sendable {
    /// A task of `total` bytes, labelled (`backup`, `restore`, `verify`).
    func start(_ label: String, total: Int64) -> any ProgressTask
}

public protocol ProgressTask: AnyObject, Sendable {
    func add(_ bytes: Int64)
    func finish()
}

/// Progress nobody sees.
public struct NoProgress: ProgressSink {
    public init() {}
    public func start(_ label: String, total: Int64) -> any ProgressTask { Silent() }

    private final class Silent: ProgressTask {
        func add(_ bytes: Int64) {}
        func finish() {}
    }
}

/// Bytes, rate and ETA on one rewritten stderr line, at most four times a second.
public struct TerminalProgress: ProgressSink {
    private let clock: any StackClock

    public init(clock: any StackClock) { self.clock = clock }

    public func start(_ label: String, total: Int64) -> any ProgressTask {
        Line(label: label, total: total, clock: clock)
    }

    private final class Line: ProgressTask, @unchecked Sendable {
        private let lock = NSLock()
        private let label: String
        private let total: Int64
        private let clock: any StackClock
        private var done: Int64 = 0
        private let started: Date
        private var lastPrint = Date.distantPast

        init(label: String, total: Int64, clock: any StackClock) {
            self.label = label
            self.total = total
            self.clock = clock
            started = clock.date
        }

        func add(_ bytes: Int64) {
            lock.lock()
            done += bytes
            let now = clock.date
            let due = now.timeIntervalSince(lastPrint) > 0.25
            if due { lastPrint = now }
            let done = self.done
            lock.unlock()
            if due { print(done: done, elapsed: now.timeIntervalSince(started), final: false) }
        }

        func finish() {
            lock.lock()
            let done = self.done
            lock.unlock()
            print(done: done, elapsed: clock.date.timeIntervalSince(started), final: true)
        }

        private func print(done: Int64, elapsed: Double, final: Bool) {
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 && total > done ? "  ETA \(Int((Double(total - done) / rate).rounded())) s" : ""
            let line = "\r\(label)  \(ByteCount.format(done)) / \(ByteCount.format(total))  \(ByteCount.format(Int64(rate)))/s\(final ? "" : eta)\u{1B}[K"
                + (final ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

import Foundation
import StackModel
import StackSystem

/// What a job made of one queue entry.
public enum EntryResult: Sendable, Equatable {
    /// Done: the data moved on.
    case applied(String)
    /// Nothing to do, for good (already applied, or older than what the receiver holds).
    case skipped(String)
}

/// Drains a queue: one worker per queue (its flock), entries one at a time in arrival order,
/// each attempt one event line. A failure puts the entry back with a backoff, or sets it aside
/// after `retry.maxAttempts`.
public struct QueueWorker: Sendable {
    public var context: JobContext
    public var queue: Spool
    public var retry: RetryPolicy
    /// The job's name in events ("pull", "import").
    public var step: String

    public init(context: JobContext, queuePath: String, retry: RetryPolicy = .standard, step: String) {
        self.context = context
        self.queue = Spool(directory: queuePath, fileSystem: context.fileSystem, clock: context.world.clock, holder: context.holder)
        self.retry = retry
        self.step = step
    }

    public struct Report: Sendable, Equatable {
        public var applied = 0
        public var skipped = 0
        public var failed = 0
        public var setAside = 0
        /// The failures' messages, in order.
        public var errors: [String] = []
        /// Another worker held the queue.
        public var busy: String?
        public var succeeded: Bool { failed == 0 && setAside == 0 }
    }

    /// Runs every due entry through `handle`, then returns. With `whenIdle`, runs it once if the
    /// queue held nothing due (a scheduled run with no notification still pulls a new dump).
    public func drain(random: inout some RandomNumberGenerator, whenIdle: (() throws(RuntimeError) -> EntryResult)? = nil,
                      _ handle: (QueueEntry) throws(RuntimeError) -> EntryResult) throws(RuntimeError) -> Report {
        var report = Report()
        let lock: FileLock?
        do { lock = try queue.lockWorker() } catch { throw .io("cannot lock the queue \(queue.directory)", error) }
        guard let lock else {
            report.busy = queue.workerHolder ?? "another process"
            return report
        }
        defer { lock.unlock() }
        do {
            for stored in try queue.recover() {
                event(.recovered, stored.entry, message: "put back in line: a worker stopped while working on it")
            }
        } catch { throw .io("cannot recover the queue \(queue.directory)", error) }
        var worked = false
        while true {
            let claim: Spool.Claim
            do { claim = try queue.claim() } catch { throw .io("cannot read the queue \(queue.directory)", error) }
            for old in claim.superseded {
                event(.superseded, old.entry, message: "a newer entry of \(old.entry.source) is waiting")
            }
            guard let next = claim.next else { break }
            worked = true
            let attempt = next.entry.attempts + 1
            event(.started, next.entry, attempt: attempt)
            let started = context.now
            do throws(RuntimeError) {
                let result = try handle(next.entry)
                let seconds = context.now.timeIntervalSince(started)
                switch result {
                case .applied(let message):
                    report.applied += 1
                    event(.applied, next.entry, attempt: attempt, seconds: seconds, message: message)
                case .skipped(let message):
                    report.skipped += 1
                    event(.skipped, next.entry, attempt: attempt, seconds: seconds, message: message)
                }
                do { try queue.complete(next) } catch { throw RuntimeError.io("cannot remove the done entry \(next.name)", error) }
            } catch {
                let message = error.description
                report.errors.append(message)
                let outcome: (entry: QueueEntry, setAside: Bool)
                do { outcome = try queue.fail(next, error: message, retry: retry, random: &random) } catch {
                    throw RuntimeError.io("cannot put the failed entry \(next.name) back", error)
                }
                if outcome.setAside {
                    report.setAside += 1
                    event(.setAside, outcome.entry, attempt: attempt, message: message)
                } else {
                    report.failed += 1
                    event(.failed, outcome.entry, attempt: attempt,
                          message: message + "; next attempt after " + Timestamp.format(outcome.entry.notBefore ?? context.now))
                }
            }
        }
        if !worked, let whenIdle {
            do throws(RuntimeError) {
                switch try whenIdle() {
                case .applied(let message):
                    report.applied += 1
                    context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: step, outcome: .applied, message: message))
                case .skipped:
                    break
                }
            } catch {
                report.failed += 1
                report.errors.append(error.description)
                context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: step, outcome: .failed, message: error.description))
            }
        }
        return report
    }

    private func event(_ outcome: RuntimeEvent.Outcome, _ entry: QueueEntry, attempt: Int? = nil, seconds: Double? = nil, message: String? = nil) {
        context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: step, outcome: outcome, transaction: entry.transaction,
                                        source: entry.source, sequence: entry.sequence, entry: entry.id, attempt: attempt, snapshot: entry.snapshot,
                                        seconds: seconds, message: message))
    }
}

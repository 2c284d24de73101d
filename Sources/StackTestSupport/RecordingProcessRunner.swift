import Foundation
import StackSystem

/// A process runner that runs nothing: it records each request and answers with what the test's
/// `respond` says (by default, exit 0 with no output).
public final class RecordingProcessRunner: ProcessRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [ProcessRequest] = []
    private let respond: @Sendable (ProcessRequest) -> ProcessOutcome.Termination

    public init(respond: @escaping @Sendable (ProcessRequest) -> ProcessOutcome.Termination = { _ in .exited(0) }) {
        self.respond = respond
    }

    public func run(_ request: ProcessRequest) async throws(ProcessFailure) -> ProcessOutcome {
        let pid = lock.withLock {
            recorded.append(request)
            return Int32(1000 + recorded.count)
        }
        return ProcessOutcome(pid: pid, termination: respond(request), output: Data(), errorOutput: Data(), timedOut: false, duration: .zero)
    }

    /// What was asked to run, in order.
    public var requests: [ProcessRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

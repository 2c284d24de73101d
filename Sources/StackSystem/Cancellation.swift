import Foundation

/// A flag a supervisor raises to stop long work cleanly: backup, restore and verify check it
/// between chunks and stop with a `cancelled` failure, leaving nothing half-published.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    public init() {}

    public func cancel() {
        lock.lock()
        raised = true
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}

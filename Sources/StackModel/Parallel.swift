import Foundation

/// The one way stackc spreads independent work over cores: a fixed number of parts, each run on
/// its own thread (with a large stack when the work recurses), results kept in part order so
/// output never depends on scheduling.
public enum Parallel {
    /// The stack of a thread whose work recurses as deep as a profile nests (substitution chains,
    /// nested values): a deep profile must give a diagnostic, never a stack overflow.
    public static let largeStack = 256 << 20

    /// Contiguous ranges covering 0..<count, at most `workers` of them and none smaller than
    /// `minimum` items: a fixed split, so results never depend on timing.
    public static func ranges(of count: Int, workers: Int, minimum: Int = 1) -> [Range<Int>] {
        let parts = max(1, min(workers, count / max(minimum, 1)))
        let size = max(1, (count + parts - 1) / parts)
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    /// `body(part)` for each part in 0..<count, at the same time, on Dispatch's pool; the results
    /// in part order.
    public static func map<Output>(_ count: Int, _ body: @Sendable (Int) -> Output) -> [Output] {
        guard count > 1 else { return (0..<count).map(body) }
        let slots = PartSlots<Output>(count)
        DispatchQueue.concurrentPerform(iterations: count) { part in slots.set(part, body(part)) }
        return slots.values
    }

    /// The same, each part on a thread of its own with a stack of `stackSize` bytes (work that
    /// recurses as deep as a profile nests). The closure escapes to the threads, which may still
    /// hold it for a moment after their part is done.
    /// A single part runs inline, on the calling thread.
    public static func map<Output>(_ count: Int, stackSize: Int, _ body: @escaping @Sendable (Int) -> Output) -> [Output] {
        guard count > 1 else { return (0..<count).map(body) }
        return onThreads(count, stackSize: stackSize, body)
    }

    private static func onThreads<Output>(_ count: Int, stackSize: Int, _ body: @escaping @Sendable (Int) -> Output) -> [Output] {
        let slots = PartSlots<Output>(count)
        let group = DispatchGroup()
        for part in 0..<count {
            group.enter()
            let thread = Thread {
                slots.set(part, body(part))
                group.leave()
            }
            thread.stackSize = stackSize
            thread.start()
        }
        group.wait()
        return slots.values
    }

    /// `transform` of each input, at the same time, results in input order.
    public static func map<Input: Sendable, Output>(_ inputs: [Input], stackSize: Int,
                                                    _ transform: @escaping @Sendable (Input) -> Output) -> [Output] {
        map(inputs.count, stackSize: stackSize) { transform(inputs[$0]) }
    }

    /// Runs `body` on a thread of its own with a stack of `stackSize` bytes and waits for it.
    public static func onLargeStack<Output>(_ stackSize: Int, _ body: @escaping @Sendable () -> Output) -> Output {
        onThreads(1, stackSize: stackSize) { _ in body() }[0]
    }
}

/// Results written by concurrent parts, one slot each.
private final class PartSlots<Output>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Output?]

    init(_ count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ part: Int, _ value: Output) {
        lock.lock()
        slots[part] = value
        lock.unlock()
    }

    var values: [Output] { slots.map { $0! } }
}

/// Work started on its own thread at once; `value()` waits for it (call it once).
public final class Background<Output, Failure: Error>: @unchecked Sendable {
    private var result: Result<Output, Failure>?
    private let done = DispatchSemaphore(value: 0)

    public init(_ work: @escaping @Sendable () throws(Failure) -> Output) {
        Thread {
            self.result = Result { () throws(Failure) in try work() }
            self.done.signal()
        }.start()
    }

    public func value() throws(Failure) -> Output {
        done.wait()
        return try result!.get()
    }
}

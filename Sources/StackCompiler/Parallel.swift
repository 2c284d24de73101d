import Foundation

/// Runs independent work on the machine's cores, on threads with large stacks (substitution
/// recurses, and a deep profile must give a diagnostic, not a stack overflow).
enum Parallel {
    static let stackSize = 256 << 20

    /// Contiguous ranges covering 0..<count: a fixed split, so results never depend on scheduling.
    static func chunks(of count: Int) -> [Range<Int>] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 64))
        let size = (count + workers - 1) / max(workers, 1)
        return stride(from: 0, to: count, by: max(size, 1)).map { $0..<min($0 + size, count) }
    }

    /// `transform` applied to each element, in parallel, results in input order.
    static func map<Input: Sendable, Output>(_ inputs: [Input], _ transform: @escaping @Sendable (Input) -> Output) -> [Output] {
        guard inputs.count > 1 else { return inputs.map(transform) }
        let slots = Slots<Output>(inputs.count)
        let group = DispatchGroup()
        for (index, input) in inputs.enumerated() {
            group.enter()
            let thread = Thread {
                let output = transform(input)
                slots[index] = output  // each thread writes its own slot; no shared array is mutated
                group.leave()
            }
            thread.stackSize = stackSize
            thread.start()
        }
        group.wait()
        return slots.values.map { $0! }
    }
}

/// Result slots written by separate threads, each its own index; read after they all finish.
private final class Slots<Output>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Output?>

    init(_ count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    subscript(index: Int) -> Output? {
        get { buffer[index] }
        set { buffer[index] = newValue }
    }

    var values: [Output?] { Array(buffer) }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }
}

import Foundation

/// A process started to run alongside stackc (a service, a job `up` runs), not awaited at once.
public protocol LaunchedProcess: AnyObject, Sendable {
    var pid: Int32 { get }
    /// Waits for the process to end; its exit status, or 128 + the signal that ended it.
    func exitStatus() async -> Int32
    func signal(_ signal: Int32)
}

/// Starts processes with their output appended to a log file: the real one spawns them, a test's
/// plays them on the manual clock.
public protocol ProcessLauncher: Sendable {
    func launch(_ command: [String], directory: String, log: String, environment: [String: String]) throws(ProcessFailure) -> any LaunchedProcess
}

/// Spawns with Foundation's `Process`: argv, never a shell string.
public struct LocalLauncher: ProcessLauncher {
    public init() {}

    public func launch(_ command: [String], directory: String, log: String, environment: [String: String]) throws(ProcessFailure) -> any LaunchedProcess {
        guard let program = command.first else { throw ProcessFailure(program: "", cause: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ProcessFailure(program: program, cause: SystemError.last("open", path: log)) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let launched = Launched(process)
        process.terminationHandler = { ended in launched.ended(ended) }
        do { try process.run() } catch { throw ProcessFailure(program: program, cause: ErrorText("\(error)")) }
        return launched
    }

    final class Launched: LaunchedProcess, @unchecked Sendable {
        private let process: Process
        private let lock = NSLock()
        private var status: Int32?
        private var waiters: [CheckedContinuation<Int32, Never>] = []

        init(_ process: Process) { self.process = process }

        var pid: Int32 { process.processIdentifier }

        func ended(_ process: Process) {
            let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            lock.lock()
            status = code
            let waiting = waiters
            waiters = []
            lock.unlock()
            for waiter in waiting { waiter.resume(returning: code) }
        }

        func exitStatus() async -> Int32 {
            await withCheckedContinuation { continuation in
                lock.lock()
                if let status {
                    lock.unlock()
                    continuation.resume(returning: status)
                } else {
                    waiters.append(continuation)
                    lock.unlock()
                }
            }
        }

        func signal(_ signal: Int32) {
            lock.lock()
            let running = status == nil
            lock.unlock()
            if running { kill(process.processIdentifier, signal) }
        }
    }
}

import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Spawns real processes with swift-subprocess: program and arguments (no shell), the
/// environment given, output streams captured (their tails kept), and a timeout that sends
/// `SIGTERM`, then `SIGKILL` after a grace period.
public struct SubprocessRunner<C: StackClock>: ProcessRunner {
    private let clock: C

    public init(clock: C) { self.clock = clock }

    public func run(_ request: ProcessRequest) async throws(ProcessFailure) -> ProcessOutcome {
        let executable: Executable = request.program.contains("/") ? .path(FilePath(request.program)) : .name(request.program)
        var variables: [Environment.Key: String] = [:]
        for (name, value) in request.environment {
            if let key = Environment.Key(rawValue: name) { variables[key] = value }
        }
        let environment: Environment = request.inheritEnvironment
            ? .inherit.updating(variables.mapValues { Optional($0) }) : .custom(variables)
        var options = PlatformOptions()
        // When the calling task is cancelled (a supervisor stopping): SIGTERM, then SIGKILL.
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: request.gracePeriod)]
        let platformOptions = options
        let limit = request.outputLimit
        let clock = self.clock
        let started = clock.now
        // Raised by the timeout before it tears the process down.
        let timedOut = CancellationFlag()
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(request.arguments), environment: environment,
                workingDirectory: request.workingDirectory.map { FilePath($0) }, platformOptions: platformOptions,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                // The timeout runs on a Dispatch timer, not a task: a busy cooperative pool must not
                // let a hung command outlive it. The process is not reaped before both streams end,
                // so its pid cannot be reused while the timers may still fire.
                let pid = execution.processIdentifier.value
                let terminate = DispatchWorkItem {
                    timedOut.cancel()
                    kill(pid, SIGTERM)
                }
                let forceKill = DispatchWorkItem { kill(pid, SIGKILL) }
                if let timeout = request.timeout {
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds, execute: terminate)
                    DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds + request.gracePeriod.seconds, execute: forceKill)
                }
                defer {
                    terminate.cancel()
                    forceKill.cancel()
                }
                async let output = Self.tail(of: execution.standardOutput, limit: limit)
                async let error = Self.tail(of: execution.standardError, limit: limit)
                return (try await output, try await error, pid)
            }
            let termination: ProcessOutcome.Termination = switch result.terminationStatus {
            case .exited(let code): .exited(code)
            case .signaled(let signal): .signalled(signal)
            }
            let (output, error, pid) = result.closureResult
            return ProcessOutcome(pid: pid, termination: termination, output: output, errorOutput: error, timedOut: timedOut.isCancelled,
                                  duration: started.duration(to: clock.now))
        } catch {
            throw ProcessFailure(program: request.program, cause: ErrorText(String(describing: error)))
        }
    }

    /// The last `limit` bytes of a stream, read to its end.
    private static func tail(of stream: SubprocessOutputSequence, limit: Int) async throws -> Data {
        var kept = Data()
        for try await buffer in stream {
            buffer.withUnsafeBytes { kept.append(contentsOf: $0) }
            if kept.count > limit * 2 { kept = kept.suffix(limit) }
        }
        return kept.count > limit ? Data(kept.suffix(limit)) : kept
    }
}

/// A cause known only by its text (an error from a library that offers nothing better).
public struct ErrorText: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

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
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: request.gracePeriod)]
        let teardown = options.teardownSequence
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
                try await withThrowingTaskGroup(of: Captured.self) { group in
                    group.addTask { .output(try await Self.tail(of: execution.standardOutput, limit: limit)) }
                    group.addTask { .error(try await Self.tail(of: execution.standardError, limit: limit)) }
                    if let timeout = request.timeout {
                        group.addTask {
                            try await clock.sleep(for: timeout)
                            timedOut.cancel()
                            await execution.teardown(using: teardown)
                            return .timedOut
                        }
                    }
                    var captured = (output: Data(), error: Data(), timedOut: false)
                    var streams = 0
                    while streams < 2, let next = try await group.next() {
                        switch next {
                        case .output(let data): captured.output = data; streams += 1
                        case .error(let data): captured.error = data; streams += 1
                        case .timedOut: captured.timedOut = true
                        }
                    }
                    group.cancelAll()
                    return (captured.output, captured.error, captured.timedOut || timedOut.isCancelled, execution.processIdentifier.value)
                }
            }
            let termination: ProcessOutcome.Termination = switch result.terminationStatus {
            case .exited(let code): .exited(code)
            case .signaled(let signal): .signalled(signal)
            }
            let (output, error, timedOut, pid) = result.closureResult
            return ProcessOutcome(pid: pid, termination: termination, output: output, errorOutput: error, timedOut: timedOut,
                                  duration: started.duration(to: clock.now))
        } catch {
            throw ProcessFailure(program: request.program, cause: ErrorText(String(describing: error)))
        }
    }

    private enum Captured: Sendable {
        case output(Data)
        case error(Data)
        case timedOut
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

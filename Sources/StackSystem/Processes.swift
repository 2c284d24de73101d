import Foundation

/// A program to run: never a shell string, always a program and its arguments.
public struct ProcessRequest: Sendable {
    /// An absolute path, or a name looked up in `PATH`.
    public var program: String
    public var arguments: [String]
    /// Variables set for the child; with `inheritEnvironment` on top of this process's own.
    public var environment: [String: String]
    public var inheritEnvironment: Bool
    public var workingDirectory: String?
    /// Killed after this long: first `SIGTERM`, then `SIGKILL` after `gracePeriod`.
    public var timeout: Duration?
    public var gracePeriod: Duration
    /// Bytes kept of each output stream: the last ones (a failing command's tail is what explains it).
    public var outputLimit: Int

    public init(_ program: String, _ arguments: [String] = [], environment: [String: String] = [:], inheritEnvironment: Bool = true,
                workingDirectory: String? = nil, timeout: Duration? = nil, gracePeriod: Duration = .seconds(5), outputLimit: Int = 64 << 10) {
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.inheritEnvironment = inheritEnvironment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.gracePeriod = gracePeriod
        self.outputLimit = outputLimit
    }
}

/// How a process ended and what it wrote.
public struct ProcessOutcome: Sendable {
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    public var pid: Int32
    public var termination: Termination
    /// The last `outputLimit` bytes of each stream.
    public var output: Data
    public var errorOutput: Data
    public var timedOut: Bool
    public var duration: Duration

    public init(pid: Int32, termination: Termination, output: Data, errorOutput: Data, timedOut: Bool, duration: Duration) {
        self.pid = pid
        self.termination = termination
        self.output = output
        self.errorOutput = errorOutput
        self.timedOut = timedOut
        self.duration = duration
    }

    public var succeeded: Bool { termination == .exited(0) && !timedOut }

    /// The last lines of stderr, for a message.
    public func errorTail(lines: Int = 20) -> String {
        let text = String(decoding: errorOutput, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
    }
}

/// A process could not be started.
public struct ProcessFailure: StackFailure {
    public var program: String
    public var cause: (any Error & Sendable)?

    public init(program: String, cause: (any Error & Sendable)?) {
        self.program = program
        self.cause = cause
    }

    public var code: String { "spawn" }
    public var message: String { "cannot start '\(program)'" }
    public var remedy: String? { "check that the program exists and is executable" }
    public var exitStatus: ExitStatus { .failure }
}

/// Runs processes: the real one spawns them, a test's records what it was asked.
public protocol ProcessRunner: Sendable {
    func run(_ request: ProcessRequest) async throws(ProcessFailure) -> ProcessOutcome
}

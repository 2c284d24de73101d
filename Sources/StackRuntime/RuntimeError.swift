import StackSystem

/// A runtime job's failure: what failed, what was kept, what to do (README, "Exit codes").
public struct RuntimeError: StackFailure {
    public enum Kind: String, Sendable {
        /// Another process holds the job's lock.
        case locked
        /// The software's backup or restore command failed.
        case commandFailed = "command-failed"
        /// A dump's bytes are not what its manifest says.
        case mismatch
        /// Restored data does not show the manifest's facts.
        case factsMismatch = "facts-mismatch"
        /// A sequence not newer than what the receiver holds.
        case stale
        /// The instance directory lacks what install puts there.
        case layout
        /// Reading or writing the instance's files, the archive or a peer's.
        case io
        /// A receiver's queue could not take the notification.
        case notify
    }

    public var kind: Kind
    public var message: String
    public var remedy: String?
    public var cause: (any Error & Sendable)?

    public init(_ kind: Kind, _ message: String, remedy: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.remedy = remedy
        self.cause = cause
    }

    public var code: String { kind.rawValue }
    public var exitStatus: ExitStatus { .failure }

    static func io(_ message: String, _ cause: any Error & Sendable) -> RuntimeError {
        RuntimeError(.io, message, cause: cause)
    }
}

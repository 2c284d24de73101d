import StackSystem

/// A failure of an archive operation: what failed, on which object, what to do, and the failure
/// underneath (an errno, a damaged chunk).
public struct ArchiveError: StackFailure {
    public enum Code: String, Sendable {
        /// Data read back does not match its hash, or cannot be decoded.
        case corrupt
        /// An object a snapshot refers to is not in the repository.
        case missing
        case locked
        case io
        case usage
        case notFound = "not-found"
        /// Stopped by its caller (a supervisor stopping the job); nothing half-done was published.
        case cancelled
        /// stackc's own fault (a value that could not be encoded): never written as if it were data.
        case bug
    }

    public var kind: Code
    public var message: String
    public var remedy: String?
    public var cause: (any Error & Sendable)?

    public init(_ kind: Code, _ message: String, remedy: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.remedy = remedy
        self.cause = cause
    }

    public var code: String { kind.rawValue }

    /// Usage problems and unknown snapshots are the user's to fix (1); the rest are failures (2).
    public var exitStatus: ExitStatus { kind == .usage || kind == .notFound ? .configuration : .failure }

    /// An I/O failure of a system call, with the remedy a full disk calls for.
    static func io(_ message: String, _ cause: SystemError) -> ArchiveError {
        ArchiveError(.io, message, remedy: cause.errno.isNoSpace
            ? "free space where the repository is (a prune reclaims what no snapshot uses), then run it again" : nil, cause: cause)
    }

    /// An impossible state, reported as stackc's bug.
    static func bug(_ message: String, cause: (any Error & Sendable)? = nil) -> ArchiveError {
        let report = BugReport(message, cause: cause)
        return ArchiveError(.bug, message, remedy: report.remedy, cause: cause)
    }

    static func cancelled(_ operation: String) -> ArchiveError {
        ArchiveError(.cancelled, "the \(operation) was stopped before it finished", remedy: "run it again")
    }
}

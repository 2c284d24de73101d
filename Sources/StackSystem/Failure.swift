import Foundation

/// How a stackc process ends: the CLI contract's three exit statuses.
public enum ExitStatus: Int32, Sendable, Comparable {
    case success = 0
    /// A usage or configuration problem the user can fix (a bad profile, a refusal they can lift).
    case configuration = 1
    /// A runtime failure: I/O, damage, a held lock, a command that failed.
    case failure = 2

    public static func < (a: ExitStatus, b: ExitStatus) -> Bool { a.rawValue < b.rawValue }
}

/// The one shape of a runtime failure: a stable code, a message that says what failed, what to do
/// about it, the failure underneath (a typed chain, errno included) and the exit status it means.
/// Configuration problems are not failures: they are positioned `Diagnostic`s.
public protocol StackFailure: Error, Sendable, CustomStringConvertible {
    /// Stable, kebab-case: scripts and logs may match on it.
    var code: String { get }
    /// What failed, with the names involved; lower-case, no remedy.
    var message: String { get }
    var remedy: String? { get }
    /// The failure this one wraps (an errno, a child process's status, another failure).
    var cause: (any Error & Sendable)? { get }
    var exitStatus: ExitStatus { get }
}

extension StackFailure {
    /// "message: cause…; remedy" — the cause chain inline, the remedy last.
    public var description: String {
        var text = message
        var next = cause
        while let current = next {
            if let failure = current as? any StackFailure {
                text += ": " + failure.message
                next = failure.cause
            } else {
                text += ": \(current)"
                next = nil
            }
        }
        if let remedy = deepestRemedy { text += "; " + remedy }
        return text
    }

    /// This failure's remedy, or the first one found down its chain.
    private var deepestRemedy: String? {
        if let remedy { return remedy }
        var next = cause
        while let failure = next as? any StackFailure {
            if let remedy = failure.remedy { return remedy }
            next = failure.cause
        }
        return nil
    }
}

/// An errno, typed: compared by value, printed as the C library says it.
public struct Errno: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno, now (take it before anything else can change it).
    public static var current: Errno { Errno(Glibc.errno) }

    public var description: String { String(cString: strerror(rawValue)) }

    /// The disk or the quota is full: freeing space is the remedy.
    public var isNoSpace: Bool { rawValue == ENOSPC || rawValue == EDQUOT }

    public static let noEntry = Errno(ENOENT)
    public static let exists = Errno(EEXIST)
    public static let noSpace = Errno(ENOSPC)
    public static let readOnly = Errno(EROFS)
    public static let accessDenied = Errno(EACCES)
    public static let interrupted = Errno(EINTR)
}

/// A system call that failed: which call, on what, and its errno. The typed cause at the bottom
/// of a failure's chain, so no message pastes `strerror` text of its own.
public struct SystemError: StackFailure {
    public var errno: Errno
    /// The call or operation ("open", "rename", "write").
    public var operation: String
    public var path: String?

    public init(_ errno: Errno, _ operation: String, path: String? = nil) {
        self.errno = errno
        self.operation = operation
        self.path = path
    }

    /// The current errno, for `operation` just failed.
    public static func last(_ operation: String, path: String? = nil) -> SystemError {
        SystemError(.current, operation, path: path)
    }

    public var code: String { "system" }
    public var message: String { errno.description }
    public var remedy: String? { errno.isNoSpace ? "free space on that file system, then run it again" : nil }
    public var cause: (any Error & Sendable)? { nil }
    public var exitStatus: ExitStatus { .failure }
}

/// An impossible state: stackc's own fault, reported as such and never written as if it were data.
public struct BugReport: StackFailure {
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ message: String, cause: (any Error & Sendable)? = nil) {
        self.message = message
        self.cause = cause
    }

    public var code: String { "bug" }
    public var remedy: String? { "this is a bug in stackc; please report it with the command that led here" }
    public var exitStatus: ExitStatus { .failure }
}

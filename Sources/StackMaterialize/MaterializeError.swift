import StackSystem

/// A failure while materializing: what failed, where, what to do about it, and the failure
/// underneath.
public struct MaterializeError: StackFailure {
    public enum Code: String, Sendable {
        case escapesRoot = "escapes-root"
        case dataLoss = "data-loss"
        case fileSystem = "file-system"
        case template
        case invalidOption = "invalid-option"
        case state
        case bug
    }

    public var kind: Code
    public var detail: String
    public var remedy: String?
    public var path: String?
    public var cause: (any Error & Sendable)?

    public init(_ kind: Code, _ message: String, path: String? = nil, remedy: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.kind = kind
        detail = message
        self.path = path
        self.remedy = remedy
        self.cause = cause
    }

    public var code: String { kind.rawValue }
    public var message: String { detail + (path.map { " (\($0))" } ?? "") }

    /// A refusal the user can lift (data loss, a path leaving the root) is theirs to fix (1).
    public var exitStatus: ExitStatus { kind == .dataLoss || kind == .escapesRoot ? .configuration : .failure }

    /// A file-system call that failed on `path`.
    static func fileSystem(_ message: String, _ cause: SystemError) -> MaterializeError {
        MaterializeError(.fileSystem, message, path: cause.path, cause: cause)
    }

    /// A path refused by the root's confinement.
    static func escape(_ escape: Confined.Escape) -> MaterializeError {
        MaterializeError(.escapesRoot, escape.reason, path: escape.isLink ? escape.path : nil,
                         remedy: escape.isLink ? "remove the link, then re-run" : "use a relative path without '..'")
    }
}

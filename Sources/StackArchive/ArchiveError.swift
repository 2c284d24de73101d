/// A failure of an archive operation: what failed, on which object, and what to do.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Data read back does not match its hash, or cannot be decoded.
        case corrupt
        /// An object a snapshot refers to is not in the repository.
        case missing
        case locked
        case io
        case usage
        case notFound = "not-found"
    }

    public var code: Code
    public var message: String
    public var remedy: String?

    public init(_ code: Code, _ message: String, remedy: String? = nil) {
        self.code = code
        self.message = message
        self.remedy = remedy
    }

    public var description: String { message + (remedy.map { "; " + $0 } ?? "") }
}

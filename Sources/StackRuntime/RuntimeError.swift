/// A failure while materializing or running: what failed, where, and what to do about it.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case escapesRoot = "escapes-root"
        case dataLoss = "data-loss"
        case fileSystem = "file-system"
        case template
        case invalidOption = "invalid-option"
        case state
    }

    public var code: Code
    public var message: String
    public var remedy: String?
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil, remedy: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.remedy = remedy
    }

    public var description: String {
        var text = message
        if let path { text += " (\(path))" }
        if let remedy { text += "; " + remedy }
        return text
    }
}

import Logging

/// A log handler that hands each message to a closure: tests collect what a library logged
/// without bootstrapping the process-wide logging system (tests run in parallel).
private struct ForwardingLogHandler: LogHandler {
    let forward: @Sendable (Logger.Level, String) -> Void
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { forward(event.level, event.message.description) }
}

extension Logger {
    /// A logger whose every message, with its level, goes to `forward`.
    public static func forwarding(_ forward: @escaping @Sendable (Logger.Level, String) -> Void) -> Logger {
        Logger(label: "test") { _ in ForwardingLogHandler(forward: forward) }
    }
}

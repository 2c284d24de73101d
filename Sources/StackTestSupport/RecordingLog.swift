import Foundation
import Logging

/// The messages a library logged, for assertions (`Logger.recording()`).
public final class LogRecord: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String)] = []

    func append(_ level: Logger.Level, _ message: String) {
        lock.lock()
        entries.append((level, message))
        lock.unlock()
    }

    /// Every message, oldest first.
    public var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.map(\.message)
    }

    /// Messages at `level` or above.
    public func messages(atLeast level: Logger.Level) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return entries.filter { $0.level >= level }.map(\.message)
    }
}

private struct RecordingLogHandler: LogHandler {
    let record: LogRecord
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { record.append(event.level, event.message.description) }
}

extension Logger {
    /// A logger whose messages land in the returned record (no bootstrap: tests run in parallel).
    public static func recording(_ label: String = "test") -> (Logger, LogRecord) {
        let record = LogRecord()
        return (Logger(label: label) { _ in RecordingLogHandler(record: record) }, record)
    }
}

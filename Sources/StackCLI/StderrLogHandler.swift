import Foundation
import Logging

/// Log records as the CLI shows them on stderr: notices as `note: …`, warnings and errors with
/// their level; info and below only with `STACKC_LOG_LEVEL` (trace, debug, info).
struct StderrLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(label: String) {
        self.label = label
        logLevel = ProcessInfo.processInfo.environment["STACKC_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = switch event.level {
        case .trace, .debug, .info: "info: "
        case .notice: "note: "
        case .warning: "warning: "
        case .error, .critical: "error: "
        }
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}

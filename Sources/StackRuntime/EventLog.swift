import Foundation
import StackModel
import StackSystem

/// One step of a job, as one JSON line in `var/log/events.jsonl`: every queue attempt and every
/// job's outcome, carrying the transaction id that follows a dump from export to import.
public struct RuntimeEvent: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case started, applied, skipped, superseded, failed, setAside = "set-aside", recovered
    }

    public var time: Date
    public var instance: String
    /// export, pull, push, notify, import, queue.
    public var step: String
    public var outcome: Outcome
    public var transaction: String?
    public var source: String?
    public var sequence: Int?
    public var entry: String?
    public var attempt: Int?
    public var snapshot: String?
    public var bytes: Int64?
    public var seconds: Double?
    public var message: String?

    public init(time: Date, instance: String, step: String, outcome: Outcome, transaction: String? = nil, source: String? = nil,
                sequence: Int? = nil, entry: String? = nil, attempt: Int? = nil, snapshot: String? = nil, bytes: Int64? = nil,
                seconds: Double? = nil, message: String? = nil) {
        self.time = time
        self.instance = instance
        self.step = step
        self.outcome = outcome
        self.transaction = transaction
        self.source = source
        self.sequence = sequence
        self.entry = entry
        self.attempt = attempt
        self.snapshot = snapshot
        self.bytes = bytes
        self.seconds = seconds
        self.message = message
    }
}

/// The instance's event log. A line that cannot be written is a notice, never the job's failure:
/// the job's state records are what status trusts.
public struct EventLog: Sendable {
    public let path: String
    let fileSystem: any FileSystem

    public init(path: String, fileSystem: any FileSystem) {
        self.path = path
        self.fileSystem = fileSystem
    }

    public func record(_ event: RuntimeEvent) {
        guard let line = try? ContractCoding.line(event) else { return }
        try? fileSystem.append(line, to: path)
    }

    /// Every event, oldest first (lines that do not parse are skipped).
    public func events() -> [RuntimeEvent] {
        guard let data = try? fileSystem.read(path) else { return [] }
        return data.split(separator: 0x0A).compactMap { try? ContractCoding.decode(RuntimeEvent.self, from: Data($0)) }
    }
}

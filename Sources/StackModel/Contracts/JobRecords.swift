import Foundation

/// A job's last success and last failure, as status shows them.
public struct JobOutcome: Codable, Sendable, Equatable {
    public var lastSuccess: Date?
    public var lastFailure: Date?
    public var lastError: String?
    /// Failures since the last success.
    public var failures: Int

    public init(lastSuccess: Date? = nil, lastFailure: Date? = nil, lastError: String? = nil, failures: Int = 0) {
        self.lastSuccess = lastSuccess
        self.lastFailure = lastFailure
        self.lastError = lastError
        self.failures = failures
    }

    public mutating func succeeded(at time: Date) {
        lastSuccess = time
        failures = 0
    }

    public mutating func failed(at time: Date, _ message: String) {
        lastFailure = time
        lastError = message
        failures += 1
    }

    /// Failing now: the last attempt failed.
    public var failing: Bool { failures > 0 }
}

/// `var/state/export.json`: what the export last produced.
public struct ExportRecord: Codable, Sendable, Equatable {
    public var job = JobOutcome()
    /// The last dump in place (0: none yet).
    public var sequence = 0
    public var transaction: String?
    public var dataTime: Date?
    public var finished: Date?
    public var bytes: Int64 = 0
    public var seconds: Double = 0

    public init() {}
}

/// `var/state/pull.json`: what the pull-backup last archived and pushed.
public struct PullRecord: Codable, Sendable, Equatable {
    public var job = JobOutcome()
    public var archivedSequence = 0
    public var snapshot: String?
    public var pushedSequence = 0
    /// The last sequence whose import holds the notification: a pull is done only then.
    public var notifiedSequence = 0
    public var transaction: String?
    /// New bytes the last snapshot stored (after deduplication and compression), and its size.
    public var storedBytes: Int64 = 0
    public var bytes: Int64 = 0
    public var seconds: Double = 0

    public init() {}
}

/// `var/state/import.json`: what the standby holds.
public struct ImportRecord: Codable, Sendable, Equatable {
    public var job = JobOutcome()
    /// The last sequence imported and verified (0: none yet).
    public var sequence = 0
    public var snapshot: String?
    public var transaction: String?
    public var dataTime: Date?
    public var imported: Date?
    /// RPO at import time: the import's end minus the data's point in time.
    public var lagSeconds: Double?
    /// RTO: how long the restore took.
    public var restoreSeconds: Double?
    public var bytes: Int64 = 0

    public init() {}
}

/// `var/log/imports.jsonl`: one line per sequence applied, the standby's history.
public struct ImportHistoryLine: Codable, Sendable, Equatable {
    public var sequence: Int
    public var transaction: String?
    public var snapshot: String?
    public var imported: Date
    public var restoreSeconds: Double

    public init(sequence: Int, transaction: String?, snapshot: String?, imported: Date, restoreSeconds: Double) {
        self.sequence = sequence
        self.transaction = transaction
        self.snapshot = snapshot
        self.imported = imported
        self.restoreSeconds = restoreSeconds
    }
}

import Foundation

/// One notification in a receiver's queue: "source has sequence N ready". Durable before the
/// sender reports success; ordered by arrival; superseded by a newer sequence of the same source.
public struct QueueEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// An export's new dump, for a pull-backup.
        case dump
        /// A pull-backup's new snapshot pushed, for an import.
        case snapshot
    }

    /// Unique in the queue; also the entry's file name.
    public var id: String
    public var kind: Kind
    /// The instance whose data this is.
    public var source: String
    public var sequence: Int
    public var epoch: Int
    /// The same from export through pull and push to import, so one dump's journey can be followed in the logs.
    public var transaction: String
    public var enqueued: Date
    /// Failed attempts so far, and the last failure's message.
    public var attempts: Int
    public var lastError: String?
    /// Not tried again before this time (the backoff after a failure).
    public var notBefore: Date?
    /// For a `snapshot` entry: the archive snapshot that was pushed.
    public var snapshot: String?

    public init(id: String, kind: Kind, source: String, sequence: Int, epoch: Int = 0, transaction: String, enqueued: Date,
                attempts: Int = 0, lastError: String? = nil, snapshot: String? = nil) {
        self.id = id
        self.kind = kind
        self.source = source
        self.sequence = sequence
        self.epoch = epoch
        self.transaction = transaction
        self.enqueued = enqueued
        self.attempts = attempts
        self.lastError = lastError
        self.snapshot = snapshot
    }
}

import Foundation

/// `manifest.json` beside an export's dump: what the dump holds and what a restore of it can be
/// checked against. Written by `export` once the dump is complete; pull verifies every file
/// against it before a snapshot is stored, and import checks the restored data against `facts`.
public struct ExportManifest: Codable, Sendable, Equatable {
    public static let formatVersion = 1
    public static let fileName = "manifest.json"

    public struct File: Codable, Sendable, Equatable {
        /// Relative to the dump directory.
        public var path: String
        public var size: Int64
        /// Lowercase hex.
        public var sha256: String

        public init(path: String, size: Int64, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    /// What a restore of one database must show (for postgres, each table's row count).
    public struct DatabaseFacts: Codable, Sendable, Equatable {
        public var database: String
        public var rowCounts: [String: Int64]

        public init(database: String, rowCounts: [String: Int64]) {
            self.database = database
            self.rowCounts = rowCounts
        }
    }

    public var formatVersion: Int
    public var instance: String
    public var software: String
    /// Grows by one per successful export of the instance; receivers order and deduplicate by it.
    public var sequence: Int
    /// The leadership epoch the export ran in (0 until takeover arrives).
    public var epoch: Int
    public var started: Date
    public var finished: Date
    /// The data's own point in time, where the software has one (postgres: the dump's snapshot).
    public var dataTime: Date?
    /// Sorted by path.
    public var files: [File]
    public var facts: [DatabaseFacts]
    /// The id that follows this dump through pull, push and import in every log line.
    public var transaction: String?

    public init(instance: String, software: String, sequence: Int, epoch: Int = 0, started: Date, finished: Date, dataTime: Date?,
                files: [File], facts: [DatabaseFacts], transaction: String? = nil) {
        formatVersion = Self.formatVersion
        self.instance = instance
        self.software = software
        self.sequence = sequence
        self.epoch = epoch
        self.started = started
        self.finished = finished
        self.dataTime = dataTime
        self.files = files.sorted { $0.path < $1.path }
        self.facts = facts.sorted { $0.database < $1.database }
        self.transaction = transaction
    }
}

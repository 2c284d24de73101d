import Foundation
import StackModel
import StackSystem

/// One entry of a snapshot's tree.
public struct TreeEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, directory, symlink }

    /// Relative to the backed-up directory, `/`-separated.
    public var path: String
    public var kind: Kind
    public var mode: Int
    public var size: Int64
    /// Modification time in nanoseconds since the epoch (lets the next backup skip unchanged files).
    public var mtime: Int64
    /// A file's status-change time (nanoseconds) and inode number: with size and mtime, what the
    /// next backup compares to skip it unread (as restic and borg do), so a file rewritten in
    /// place to the same size and mtime (a tool that restores mtimes) is still read. Absent in
    /// trees written before they were recorded: such files are read once more.
    public var ctime: Int64? = nil
    public var inode: UInt64? = nil
    public var target: String?
    /// SHA-256 of each chunk, in order.
    public var chunks: [String]?
    /// The byte length of each chunk, in order (absent in trees written before it was recorded).
    /// The next backup of a changed file checks these extents first instead of searching for cuts.
    public var lengths: [Int64]? = nil
    /// A small file stored inside a bundle chunk: its bytes are `size` bytes at `offset` of `chunk`.
    public var bundle: BundleSlice?

    /// Every chunk this entry needs.
    public var chunkReferences: [String] { (chunks ?? []) + (bundle.map { [$0.chunk] } ?? []) }
}

/// Where a small file lives inside a bundle: files below the minimum chunk size are stored
/// back to back in one chunk, so twenty thousand small files are tens of objects, not thousands.
public struct BundleSlice: Codable, Sendable, Equatable {
    public var chunk: String
    public var offset: Int64
}

/// A snapshot manifest: written last, published atomically; until it exists, the snapshot does not.
/// It is small — the tree lives in chunks it names — so listing snapshots reads kilobytes, not trees.
public struct Snapshot: Codable, Sendable {
    public var version = 2
    /// The source this is a copy of (an export instance, a path); retention applies per source.
    public var source: String
    /// When the data was taken (the export's time when known), ISO 8601 UTC; orders snapshots.
    public var time: Date
    public var hostname: String
    /// Free-form facts from the source (the export's manifest, its epoch …).
    public var metadata: [String: String]
    /// The chunks whose concatenation is the tree document (a JSON array of `TreeEntry`, sorted by path).
    public var tree: [String]
    public var parent: String?
    public var fileCount: Int
    public var totalSize: Int64
    /// The permission bits of the backed-up directory itself, which a restore gives its target
    /// (absent in manifests written before it was kept: such a target gets 0755).
    public var rootMode: Int? = nil

    public init(source: String, time: Date, hostname: String, metadata: [String: String], tree: [String], parent: String?,
                fileCount: Int, totalSize: Int64) {
        self.source = source
        self.time = time
        self.hostname = hostname
        self.metadata = metadata
        self.tree = tree
        self.parent = parent
        self.fileCount = fileCount
        self.totalSize = totalSize
    }
}

/// A snapshot whose manifest cannot be trusted: listed, never skipped silently.
public struct DamagedSnapshot: Sendable, Equatable {
    public var id: String
    public var reason: String
    public var shortID: String { String(id.prefix(12)) }
}

/// Every manifest of a repository, readable or not.
public struct SnapshotCatalog: Sendable {
    /// Oldest first.
    public var records: [SnapshotRecord]
    /// By id.
    public var damaged: [DamagedSnapshot]
}

/// A snapshot with its id (the SHA-256 of its manifest).
public struct SnapshotRecord: Sendable {
    public var id: String
    public var snapshot: Snapshot
    public var shortID: String { String(id.prefix(12)) }
}

/// The JSON of manifests, config and lock files: the contracts' coding (keys sorted, times in
/// ISO 8601 UTC with milliseconds), compact, since a manifest's bytes are its id.
enum Coding {
    /// `value` as JSON; a value that cannot be encoded is a bug, never an empty file.
    static func encode<T: Encodable>(_ value: T) throws(ArchiveError) -> Data {
        do { return try ContractCoding.compact(value) } catch { throw .bug(error.description) }
    }

    /// The same, ended by a newline (a file a person may read).
    static func encodeLine<T: Encodable>(_ value: T) throws(ArchiveError) -> Data {
        try encode(value) + Data("\n".utf8)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try ContractCoding.decode(type, from: data) }

    static func format(_ date: Date) -> String { Timestamp.format(date) }
}

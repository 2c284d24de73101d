import Crypto
import Foundation
import Logging
import StackSystem

/// The world an archive operation runs in: its clock, the host it runs on, where notices and
/// progress go, and the flag that stops it. The CLI builds it from the real world; tests from theirs.
public struct ArchiveContext: Sendable {
    public var clock: any StackClock
    public var host: HostFacts
    /// Notices (a stale lock cleared, a leftover removed) at `.notice`.
    public var logger: Logger
    public var progress: any ProgressSink
    /// Backup, restore and verify stop between chunks once it is raised.
    public var cancellation: CancellationFlag
    public var fileSystem: any FileSystem

    public init(clock: any StackClock, host: HostFacts, logger: Logger, progress: any ProgressSink = NoProgress(),
                cancellation: CancellationFlag = CancellationFlag(), fileSystem: any FileSystem) {
        self.clock = clock
        self.host = host
        self.logger = logger
        self.progress = progress
        self.cancellation = cancellation
        self.fileSystem = fileSystem
    }

    public init(world: SystemWorld, cancellation: CancellationFlag = CancellationFlag()) {
        self.init(clock: world.clock, host: world.host, logger: world.logger, progress: world.progress,
                  cancellation: cancellation, fileSystem: world.fileSystem)
    }

    /// Throws `cancelled` once the flag is raised.
    func checkCancellation(_ operation: String) throws(ArchiveError) {
        if cancellation.isCancelled { throw .cancelled(operation) }
    }
}

/// An archive repository: content-defined chunks deduplicated by SHA-256, zstd-compressed, and
/// snapshot manifests published last. See docs/ARCHIVE.md.
public struct Repository: Sendable {
    public let storage: any ArchiveStorage
    public let config: RepositoryConfig
    public let context: ArchiveContext

    public static let formatVersion = 2

    /// Creates an empty repository at `path` (which must be absent or empty), in a local directory.
    public static func initialize(at path: String, chunkSize: Int = ChunkerParameters.default.average,
                                  level: Int = 3, context: ArchiveContext) throws(ArchiveError) -> Repository {
        if let entries = try? context.fileSystem.list(path), !entries.isEmpty {
            throw ArchiveError(.usage, "'\(path)' is not empty", remedy: "choose a new directory for the repository")
        }
        return try initialize(in: local(path, context), chunkSize: chunkSize, level: level, context: context)
    }

    /// Creates an empty repository in `storage`.
    public static func initialize(in storage: any ArchiveStorage, chunkSize: Int = ChunkerParameters.default.average,
                                  level: Int = 3, context: ArchiveContext) throws(ArchiveError) -> Repository {
        guard (1...19).contains(level) else { throw ArchiveError(.usage, "compression level must be from 1 to 19, got \(level)") }
        guard (64 << 10...64 << 20).contains(chunkSize) else {
            throw ArchiveError(.usage, "average chunk size must be from 64 KiB to 64 MiB, got \(chunkSize)")
        }
        let config = RepositoryConfig(chunker: ChunkerParameters(average: chunkSize), compressionLevel: level)
        try storage.prepare()
        let sealed = try config.sealed()
        try storage.publish(RepositoryConfig.copyKey, sealed)
        try storage.publish(RepositoryConfig.key, sealed)
        return Repository(storage: storage, config: config, context: context)
    }

    /// The repository in a local directory.
    public static func open(_ path: String, context: ArchiveContext) throws(ArchiveError) -> Repository {
        try open(local(path, context), context: context)
    }

    static func local(_ path: String, _ context: ArchiveContext) -> LocalStorage {
        LocalStorage(root: path, fileSystem: context.fileSystem, host: context.host, clock: context.clock)
    }

    public static func open(_ storage: any ArchiveStorage, context: ArchiveContext) throws(ArchiveError) -> Repository {
        Repository(storage: storage, config: try readConfig(storage, logger: context.logger), context: context)
    }

    static func chunkKey(_ hash: String) -> String { "chunks/\(hash.prefix(2))/\(hash)" }
    static func snapshotKey(_ id: String) -> String { "snapshots/\(id).json" }

    /// A digest's lowercase hex: the name of every chunk and snapshot.
    static func hex<D: Digest>(_ digest: D) -> String {
        digest.withUnsafeBytes { Hex.string($0) }
    }

    // MARK: - Snapshots

    /// Every readable snapshot, oldest first by the time in its manifest (never by id or name).
    public func snapshots() throws(ArchiveError) -> [SnapshotRecord] { try catalog().records }

    /// Every snapshot manifest: the readable ones oldest first, and the damaged ones — a manifest
    /// that does not parse, or whose bytes are not its id (a flipped byte can leave valid JSON
    /// naming another source, time or tree) — by id, each with the reason.
    public func catalog() throws(ArchiveError) -> SnapshotCatalog {
        var records: [SnapshotRecord] = []
        var damaged: [DamagedSnapshot] = []
        for (key, _) in try storage.list("snapshots/") where key.hasSuffix(".json") {
            let id = String(key.dropFirst("snapshots/".count).dropLast(5))
            guard let data = try? storage.get(key) else {
                damaged.append(DamagedSnapshot(id: id, reason: "its manifest cannot be read"))
                continue
            }
            guard let snapshot = try? Coding.decode(Snapshot.self, from: data) else {
                damaged.append(DamagedSnapshot(id: id, reason: "its manifest does not parse"))
                continue
            }
            guard Self.hex(SHA256.hash(data: data)) == id else {
                damaged.append(DamagedSnapshot(id: id, reason: "its manifest does not match its id"))
                continue
            }
            records.append(SnapshotRecord(id: id, snapshot: snapshot))
        }
        return SnapshotCatalog(records: records.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) },
                               damaged: damaged.sorted { $0.id < $1.id })
    }

    /// A snapshot by id, unique id prefix, or `latest` (the newest of `source`; with several
    /// sources, `source` is required). `latest` refuses while a manifest is damaged — it may be
    /// the newest, and another snapshot must not stand in for it silently — unless `skipDamaged`,
    /// which takes the newest readable one and says so.
    public func snapshot(_ reference: String, source: String? = nil, skipDamaged: Bool = false) throws(ArchiveError) -> SnapshotRecord {
        let catalog = try catalog()
        let record = try Self.snapshot(reference, source: source, among: catalog, skipDamaged: skipDamaged)
        if reference == "latest", skipDamaged, !catalog.damaged.isEmpty {
            context.logger.notice("skipping \(catalog.damaged.count) damaged snapshot\(catalog.damaged.count == 1 ? "" : "s") (\(catalog.damaged.map(\.shortID).joined(separator: ", "))); taking \(record.shortID), the newest readable snapshot of '\(record.snapshot.source)'")
        }
        return record
    }

    /// The same, among snapshots already read.
    static func snapshot(_ reference: String, source: String? = nil, among catalog: SnapshotCatalog,
                         skipDamaged: Bool = false) throws(ArchiveError) -> SnapshotRecord {
        let all = catalog.records.filter { source == nil || $0.snapshot.source == source }
        if reference == "latest" {
            let sources = Set(catalog.records.map(\.snapshot.source)).sorted()
            if source == nil, sources.count > 1 {
                throw ArchiveError(.usage, "'latest' is ambiguous: the repository holds snapshots of \(sources.count) sources (\(sources.joined(separator: ", ")))",
                                   remedy: "name one with --source")
            }
            if let first = catalog.damaged.first, !skipDamaged {
                throw ArchiveError(.corrupt, "snapshot \(first.shortID) is damaged (\(first.reason)) and may be the newest"
                                   + (source.map { " of '\($0)'" } ?? "") + (catalog.damaged.count > 1 ? " (and \(catalog.damaged.count - 1) more)" : "")
                                   + "; no other snapshot is taken in its place",
                                   remedy: "run 'stackc archive verify'; pass --skip-damaged to take the newest readable snapshot")
            }
            guard let latest = all.last else { throw ArchiveError(.notFound, "no snapshot" + (source.map { " of source '\($0)'" } ?? "")) }
            return latest
        }
        let matches = all.filter { $0.id.hasPrefix(reference) }
        let damaged = catalog.damaged.filter { $0.id.hasPrefix(reference) }
        if matches.isEmpty, damaged.count == 1, let hit = damaged.first {
            throw ArchiveError(.corrupt, "snapshot \(hit.shortID) is damaged: \(hit.reason)", remedy: "run 'stackc archive verify'; an older snapshot may hold what you need")
        }
        guard matches.count + damaged.count == 1, let match = matches.first else {
            throw ArchiveError(.notFound, matches.isEmpty && damaged.isEmpty ? "no snapshot '\(reference)'"
                               : "'\(reference)' matches \(matches.count + damaged.count) snapshots; give more of the id")
        }
        return match
    }

    /// The entries of a snapshot's tree, read from its tree chunks (each checked against its hash).
    public func tree(of record: SnapshotRecord) throws(ArchiveError) -> [TreeEntry] {
        let decompressor = ZstdDecompressor()
        var document = Data()
        for hash in record.snapshot.tree {
            do throws(ArchiveError) { document.append(try readChunk(hash, using: decompressor)) } catch {
                throw ArchiveError(error.kind, "the tree of snapshot \(record.shortID) cannot be read: \(error.message)", remedy: error.remedy, cause: error.cause)
            }
        }
        do throws(TreeDocument.Malformed) { return try TreeDocument.decode(document) } catch {
            throw ArchiveError(.corrupt, "the tree of snapshot \(record.shortID) does not parse (byte \(error.offset): \(error.reason))")
        }
    }

    /// Reads one chunk and checks it: decompressed, its SHA-256 must be its name.
    func readChunk(_ hash: String, using decompressor: ZstdDecompressor) throws(ArchiveError) -> Data {
        let stored = try storage.get(Self.chunkKey(hash))
        guard let data = decompressor.decompress(stored, limit: config.chunker.maximum * 2 + (1 << 20)),
              Self.hex(SHA256.hash(data: data)) == hash else {
            throw ArchiveError(.corrupt, "chunk \(hash.prefix(12)) is damaged (its content does not match its hash)")
        }
        return data
    }
}

import Crypto
import Foundation

/// `config.json`: the format and how this repository chunks and compresses.
public struct RepositoryConfig: Codable, Sendable {
    public var format = "stackc-archive"
    public var version = 2
    public var chunker: ChunkerParameters
    public var compressionLevel: Int
}

/// An archive repository: content-defined chunks deduplicated by SHA-256, zstd-compressed, and
/// snapshot manifests published last. See docs/ARCHIVE.md.
public struct Repository: Sendable {
    public let storage: LocalStorage
    public let config: RepositoryConfig

    public static let formatVersion = 2

    /// Creates an empty repository at `path` (which must be absent or empty).
    public static func initialize(at path: String, chunkSize: Int = ChunkerParameters.default.average,
                                  level: Int = 3) throws(ArchiveError) -> Repository {
        guard (1...19).contains(level) else { throw ArchiveError(.usage, "compression level must be from 1 to 19, got \(level)") }
        guard (64 << 10...64 << 20).contains(chunkSize) else {
            throw ArchiveError(.usage, "average chunk size must be from 64 KiB to 64 MiB, got \(chunkSize)")
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path), !entries.isEmpty {
            throw ArchiveError(.usage, "'\(path)' is not empty", remedy: "choose a new directory for the repository")
        }
        let storage = LocalStorage(root: path)
        let config = RepositoryConfig(chunker: ChunkerParameters(average: chunkSize), compressionLevel: level)
        // The 256 chunk directories up front: no backup has to create one on its hot path.
        for directory in ["snapshots", "locks"] + (0..<256).map({ String(format: "chunks/%02x", $0) }) {
            do { try FileManager.default.createDirectory(atPath: path + "/" + directory, withIntermediateDirectories: true) } catch {
                throw ArchiveError(.io, "cannot create \(path)/\(directory): \(error.localizedDescription)")
            }
        }
        try storage.publish("config.json", (try? Coding.encoder.encode(config)) ?? Data())
        return Repository(storage: storage, config: config)
    }

    public static func open(_ path: String) throws(ArchiveError) -> Repository {
        let storage = LocalStorage(root: path)
        guard let data = try? storage.get("config.json") else {
            throw ArchiveError(.notFound, "no archive repository at '\(path)'", remedy: "create one with 'stackc archive init \(path)'")
        }
        guard let config = try? Coding.decoder.decode(RepositoryConfig.self, from: data), config.format == "stackc-archive" else {
            throw ArchiveError(.corrupt, "config.json of '\(path)' is damaged")
        }
        guard config.version <= formatVersion else {
            throw ArchiveError(.usage, "repository format \(config.version) is newer than this stackc reads (\(formatVersion))", remedy: "upgrade stackc")
        }
        guard config.version == formatVersion else {
            // Format 1 (trees inside manifests) only ever came from development builds.
            throw ArchiveError(.usage, "repository format \(config.version) of '\(path)' predates this stackc's format \(formatVersion)",
                               remedy: "back up into a new repository ('stackc archive init')")
        }
        return Repository(storage: storage, config: config)
    }

    static func chunkKey(_ hash: String) -> String { "chunks/\(hash.prefix(2))/\(hash)" }
    static func snapshotKey(_ id: String) -> String { "snapshots/\(id).json" }

    /// Lowercase hex, written straight into the string's storage: every chunk read, written or
    /// compared is named this way, tens of thousands of times a backup.
    static func hex<D: Digest>(_ digest: D) -> String {
        digest.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                let digits: StaticString = "0123456789abcdef"
                digits.withUTF8Buffer { digits in
                    for (index, byte) in bytes.enumerated() {
                        out[index * 2] = digits[Int(byte >> 4)]
                        out[index * 2 + 1] = digits[Int(byte & 0x0F)]
                    }
                }
                return bytes.count * 2
            }
        }
    }

    // MARK: - Snapshots

    /// Every readable snapshot, oldest first by the time in its manifest (never by id or name).
    public func snapshots() throws(ArchiveError) -> [SnapshotRecord] {
        var records: [SnapshotRecord] = []
        for (key, _) in try storage.list("snapshots/") where key.hasSuffix(".json") {
            let id = String(key.dropFirst("snapshots/".count).dropLast(5))
            guard let data = try? storage.get(key), let snapshot = try? Coding.decoder.decode(Snapshot.self, from: data) else { continue }
            records.append(SnapshotRecord(id: id, snapshot: snapshot))
        }
        return records.sorted { ($0.snapshot.time, $0.id) < ($1.snapshot.time, $1.id) }
    }

    /// A snapshot by id, unique id prefix, or `latest` (of `source` when given).
    public func snapshot(_ reference: String, source: String? = nil) throws(ArchiveError) -> SnapshotRecord {
        try Self.snapshot(reference, source: source, among: try snapshots())
    }

    /// The same, among snapshots already read (oldest first).
    static func snapshot(_ reference: String, source: String? = nil, among records: [SnapshotRecord]) throws(ArchiveError) -> SnapshotRecord {
        let all = records.filter { source == nil || $0.snapshot.source == source }
        if reference == "latest" {
            guard let latest = all.last else { throw ArchiveError(.notFound, "no snapshot" + (source.map { " of source '\($0)'" } ?? "")) }
            return latest
        }
        let matches = all.filter { $0.id.hasPrefix(reference) }
        guard matches.count == 1, let match = matches.first else {
            throw ArchiveError(.notFound, matches.isEmpty ? "no snapshot '\(reference)'" : "'\(reference)' matches \(matches.count) snapshots; give more of the id")
        }
        return match
    }

    /// The entries of a snapshot's tree, read from its tree chunks (each checked against its hash).
    public func tree(of record: SnapshotRecord) throws(ArchiveError) -> [TreeEntry] {
        let decompressor = ZstdDecompressor()
        var document = Data()
        for hash in record.snapshot.tree {
            do throws(ArchiveError) { document.append(try readChunk(hash, using: decompressor)) } catch {
                throw ArchiveError(error.code, "the tree of snapshot \(record.shortID) cannot be read: \(error.message)", remedy: error.remedy)
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

/// SHA-256 of a whole buffer.
enum SHA256Hasher {
    static func hash(_ data: Data) -> SHA256.Digest { SHA256.hash(data: data) }
}

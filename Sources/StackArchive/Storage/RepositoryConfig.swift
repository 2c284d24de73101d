import Crypto
import Foundation
import Logging
import StackModel
import StackSystem

/// `config.json`: the format and how this repository chunks and compresses. Everything written
/// depends on it (a wrong maximum silently ends deduplication), so it carries a checksum and is
/// kept twice, `config.json` and `config.copy.json`, as pgBackRest keeps its info files: a damaged
/// copy is recovered from the intact one, and a config that is damaged or implausible is refused.
public struct RepositoryConfig: Codable, Sendable, Equatable {
    public var format = "stackc-archive"
    public var version = 2
    public var chunker: ChunkerParameters
    public var compressionLevel: Int
    /// SHA-256 (hex) of the config encoded without it; absent in configs written before it was kept.
    public var checksum: String?

    public init(chunker: ChunkerParameters, compressionLevel: Int) {
        self.chunker = chunker
        self.compressionLevel = compressionLevel
    }

    static let key = "config.json"
    static let copyKey = "config.copy.json"

    /// The bytes to store: checksummed.
    func sealed() throws(ArchiveError) -> Data {
        var unsealed = self
        unsealed.checksum = nil
        var sealed = self
        sealed.checksum = Repository.hex(SHA256.hash(data: try Coding.encode(unsealed)))
        return try Coding.encodeLine(sealed)
    }

    /// Why these bytes cannot be this repository's config, or nil when they can.
    static func problem(in data: Data) -> (config: RepositoryConfig?, problem: String?) {
        guard let config = try? Coding.decode(RepositoryConfig.self, from: data) else { return (nil, "it does not parse") }
        guard config.format == "stackc-archive" else { return (nil, "its format is '\(config.format)', not 'stackc-archive'") }
        if let checksum = config.checksum {
            var unsealed = config
            unsealed.checksum = nil
            guard let bytes = try? Coding.encode(unsealed), Repository.hex(SHA256.hash(data: bytes)) == checksum else {
                return (config, "its checksum does not match its content")
            }
        }
        if let implausible = config.implausibility { return (config, implausible) }
        return (config, nil)
    }

    /// What no config this stackc writes can hold.
    var implausibility: String? {
        let average = chunker.average
        guard average > 0, average & (average - 1) == 0, (64 << 10...64 << 20).contains(average) else {
            return "its average chunk size \(average) is not a power of two from 64 KiB to 64 MiB"
        }
        guard chunker.minimum == average / 4, chunker.maximum == average * 4 else {
            return "its chunk sizes \(chunker.minimum)–\(chunker.maximum) do not fit its average \(average) (a quarter to four times it)"
        }
        guard (1...19).contains(compressionLevel) else { return "its compression level \(compressionLevel) is not from 1 to 19" }
        return nil
    }
}

extension Repository {
    /// Reads the config from its two copies: the first intact one wins, a damaged or missing copy
    /// is rewritten from it (with a notice) where the repository can be written.
    static func readConfig(_ storage: any ArchiveStorage, logger: Logger) throws(ArchiveError) -> RepositoryConfig {
        let path = storage.location
        let primary = try? storage.get(RepositoryConfig.key)
        let copy = try? storage.get(RepositoryConfig.copyKey)
        guard primary != nil || copy != nil else {
            throw ArchiveError(.notFound, "no archive repository at '\(path)'", remedy: "create one with 'stackc archive init \(path)'")
        }
        let first = primary.map(RepositoryConfig.problem(in:))
        let second = copy.map(RepositoryConfig.problem(in:))
        if let config = first?.config, first?.problem == nil {
            if copy == nil || config.checksum == nil {
                // A config from before checksums and copies were kept, or a copy lost: protect it now
                // (where the repository can be written; a read-only one is read as it is).
                if let data = try? config.sealed() {
                    try? storage.publish(RepositoryConfig.copyKey, data)
                    if config.checksum == nil { try? storage.publish(RepositoryConfig.key, data) }
                }
            } else if second?.problem != nil || second?.config != config {
                logger.notice("\(RepositoryConfig.copyKey) of '\(path)' is damaged (\(second?.problem ?? "it differs from config.json")); rewriting it from config.json")
                if let data = try? config.sealed() { try? storage.publish(RepositoryConfig.copyKey, data) }
            }
            return try version(config, path)
        }
        if let config = second?.config, second?.problem == nil {
            logger.notice("\(RepositoryConfig.key) of '\(path)' is \(primary == nil ? "missing" : "damaged (\(first?.problem ?? ""))"); using \(RepositoryConfig.copyKey) and rewriting config.json from it")
            if let data = try? config.sealed() { try? storage.publish(RepositoryConfig.key, data) }
            return try version(config, path)
        }
        throw ArchiveError(.corrupt, "config.json of '\(path)' is damaged: \(first?.problem ?? "it is missing")"
                           + (copy == nil ? "" : ", and so is its copy: \(second?.problem ?? "")"),
                           remedy: "restore config.json from a copy of the repository; the archive's chunks cannot be written or checked safely without it")
    }

    private static func version(_ config: RepositoryConfig, _ path: String) throws(ArchiveError) -> RepositoryConfig {
        guard config.version <= formatVersion else {
            throw ArchiveError(.usage, "repository format \(config.version) is newer than this stackc reads (\(formatVersion))", remedy: "upgrade stackc")
        }
        guard config.version == formatVersion else {
            // Format 1 (trees inside manifests) only ever came from development builds.
            throw ArchiveError(.usage, "repository format \(config.version) of '\(path)' predates this stackc's format \(formatVersion)",
                               remedy: "back up into a new repository ('stackc archive init')")
        }
        return config
    }

    /// Problems with either copy of the config, for verify.
    func configProblems() -> [String] {
        [RepositoryConfig.key, RepositoryConfig.copyKey].compactMap { key in
            guard let data = try? storage.get(key) else { return "\(key) is missing" }
            let (config, problem) = RepositoryConfig.problem(in: data)
            if let problem { return "\(key) is damaged: \(problem)" }
            if config?.checksum == nil { return "\(key) has no checksum (written before checksums were kept)" }
            return nil
        }
    }
}

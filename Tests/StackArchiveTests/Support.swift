import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

/// The archive's world in these tests: the real machine, its notices recorded.
extension Repository {
    static func initialize(at path: String, chunkSize: Int = ChunkerParameters.default.average, level: Int = 3) throws(ArchiveError) -> Repository {
        try initialize(at: path, chunkSize: chunkSize, level: level, context: .forTests())
    }

    static func open(_ path: String) throws(ArchiveError) -> Repository { try open(path, context: .forTests()) }

    /// The same repository, its notices going to `report` (one call per message).
    func reporting(_ report: @escaping @Sendable (String) -> Void) -> Repository {
        var context = self.context
        context.logger = .forwarding { _, message in report(message) }
        return Repository(storage: storage, config: config, context: context)
    }

    func lock(for operation: LockedOperation = .backup, report: @escaping @Sendable (String) -> Void) throws(ArchiveError) -> RepositoryLock {
        try reporting(report).lock(for: operation)
    }

    func readLock(for operation: LockedOperation, report: @escaping @Sendable (String) -> Void) throws(ArchiveError) -> RepositoryLock? {
        try reporting(report).readLock(for: operation)
    }

    func restore(_ record: SnapshotRecord, to target: String, report: @escaping @Sendable (String) -> Void) throws(ArchiveError) -> (files: Int, bytes: Int64) {
        try reporting(report).restore(record, to: target)
    }

    func prune(_ policy: RetentionPolicy, dryRun: Bool, report: @escaping @Sendable (String) -> Void) throws(ArchiveError) -> PruneResult {
        try reporting(report).prune(policy, dryRun: dryRun)
    }
}

extension ArchiveContext {
    /// The tests' context, its notices going to `report`.
    static func reporting(_ report: @escaping @Sendable (String) -> Void) -> ArchiveContext {
        .forTests(logger: .forwarding { _, message in report(message) })
    }
}

/// Messages a test collects from several threads.
final class Messages: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [String] = []
    func append(_ message: String) { lock.withLock { all.append(message) } }
    var list: [String] { lock.withLock { all } }
}

typealias Seeded = SeededGenerator

func randomBytes(_ count: Int, _ rng: inout Seeded) -> Data {
    var data = Data(count: count)
    data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
        var index = 0
        while index < count {
            var word = rng.next()
            for _ in 0..<8 where index < count {
                raw[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
    return data
}

/// SQL-like text: compressible, like the dumps the archive mostly holds.
func dumpText(_ lines: Int, _ rng: inout Seeded) -> Data {
    var text = ""
    for line in 0..<lines { text += "INSERT INTO orders VALUES (\(line), 'customer-\(rng.next() % 5000)', \(rng.next() % 100_000));\n" }
    return Data(text.utf8)
}

/// Everything under `root` that a restore must reproduce: kinds, modes, contents, link targets.
func fingerprint(_ root: String) -> [String] {
    (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted().map { path in
        var info = stat()
        lstat(root + "/" + path, &info)
        switch info.st_mode & S_IFMT {
        case S_IFLNK: return "l \(path) -> \((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + path)) ?? "?")"
        case S_IFDIR: return "d \(String(info.st_mode & 0o7777, radix: 8)) \(path)"
        default:
            let data = FileManager.default.contents(atPath: root + "/" + path) ?? Data()
            return "f \(String(info.st_mode & 0o7777, radix: 8)) \(path) \(data.count) \(Repository.hex(SHA256.hash(data: data)))"
        }
    }
}

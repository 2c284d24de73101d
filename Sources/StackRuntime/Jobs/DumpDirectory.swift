import Crypto
import Foundation
import StackModel
import StackSystem

/// A dump directory: the files a software's backup command wrote, and the manifest that
/// describes them. The operations every job shares: list and hash the files, check them against
/// a manifest, link a copy, and swap a new directory in place of the old in one step.
struct DumpDirectory {
    let path: String
    let fileSystem: any FileSystem

    var manifestPath: String { path + "/" + ExportManifest.fileName }

    /// Every regular file under the directory, relative and sorted, the manifest excluded. A
    /// symbolic link or a special file is refused: a dump is plain files.
    func files() throws(RuntimeError) -> [(path: String, size: Int64)] {
        var found: [(String, Int64)] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let full = relative.isEmpty ? path : path + "/" + relative
            let names: [String]
            do { names = try fileSystem.list(full) } catch { throw .io("cannot read the dump directory \(full)", error) }
            for name in names {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard let info = fileSystem.info(path + "/" + child) else { continue }
                switch info.kind {
                case .directory: pending.append(child)
                case .file: if child != ExportManifest.fileName { found.append((child, info.size)) }
                case .symlink, .other:
                    throw RuntimeError(.mismatch, "the dump holds '\(child)', which is not a regular file",
                                       remedy: "a dump is plain files: make the backup command write no links or special files")
                }
            }
        }
        return found.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    }

    /// The manifest's file list: each file's size and SHA-256, hashed on every core.
    func describe(cores: Int) throws(RuntimeError) -> [ExportManifest.File] {
        let listed = try files()
        let order = listed.indices.sorted { listed[$0].size > listed[$1].size }
        let fileSystem = self.fileSystem
        let path = self.path
        let hashes = Parallel.map(order.count) { slot -> Result<String, SystemError> in
            let index = order[slot]
            return Result { () throws(SystemError) in try Self.sha256(path + "/" + listed[index].path, fileSystem) }
        }
        var files: [ExportManifest.File] = []
        var bySlot: [Int: Result<String, SystemError>] = [:]
        for (slot, index) in order.enumerated() { bySlot[index] = hashes[slot] }
        for (index, file) in listed.enumerated() {
            switch bySlot[index]! {
            case .success(let hash): files.append(.init(path: file.path, size: file.size, sha256: hash))
            case .failure(let error): throw .io("cannot read \(path)/\(file.path)", error)
            }
        }
        return files
    }

    static func sha256(_ path: String, _ fileSystem: any FileSystem) throws(SystemError) -> String {
        var hasher = SHA256()
        try fileSystem.stream(path, chunk: 1 << 20) { hasher.update(bufferPointer: $0) }
        return Hex.string(hasher.finalize())
    }

    func readManifest() throws(RuntimeError) -> ExportManifest {
        let data: Data
        do { data = try fileSystem.read(manifestPath) } catch {
            throw RuntimeError(error.errno == .noEntry ? .layout : .io, "\(path) holds no complete dump (no \(ExportManifest.fileName))", cause: error)
        }
        do { return try ContractCoding.decode(ExportManifest.self, from: data) } catch {
            throw RuntimeError(.mismatch, "the manifest \(manifestPath) does not parse", cause: ErrorText("\(error)"))
        }
    }

    /// Refuses a directory whose files are not exactly the manifest's: one missing, one extra,
    /// or one whose size or SHA-256 differs, each named.
    func verify(against manifest: ExportManifest, cores: Int) throws(RuntimeError) {
        let actual = try describe(cores: cores)
        let expected = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let found = Dictionary(actual.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        for file in manifest.files {
            guard let seen = found[file.path] else { problems.append("\(file.path) is missing"); continue }
            if seen.size != file.size { problems.append("\(file.path) has \(seen.size) bytes, the manifest says \(file.size)") }
            else if seen.sha256 != file.sha256 { problems.append("\(file.path)'s SHA-256 is \(seen.sha256.prefix(12))…, the manifest says \(file.sha256.prefix(12))…") }
        }
        for file in actual where expected[file.path] == nil { problems.append("\(file.path) is not in the manifest") }
        guard problems.isEmpty else {
            throw RuntimeError(.mismatch, "dump \(manifest.sequence) of \(manifest.instance) in \(path) does not match its manifest: "
                               + problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; \(problems.count - 5) more" : ""),
                               remedy: "the dump was changed or damaged after its export; the next export replaces it")
        }
    }

    /// A copy of this directory at `target` (created 0700), its files hard links where the file
    /// system allows (nothing rewrites a dump's file in place: a new dump is a new directory).
    func link(to target: String) throws(RuntimeError) {
        do {
            try linkTree(to: target)
        } catch {
            try? fileSystem.removeTree(target)
            throw .io("cannot copy \(path) to \(target)", error)
        }
    }

    private func linkTree(to target: String) throws(SystemError) {
        try fileSystem.createDirectory(target, mode: 0o700)
        var pending = [""]
        while let relative = pending.popLast() {
            let from = relative.isEmpty ? path : path + "/" + relative
            for name in try fileSystem.list(from) where !name.hasPrefix(temporaryFilePrefix) {
                let child = relative.isEmpty ? name : relative + "/" + name
                guard let info = fileSystem.info(path + "/" + child) else { continue }
                let destination = target + "/" + child
                switch info.kind {
                case .directory:
                    try fileSystem.createDirectory(destination, mode: info.mode)
                    pending.append(child)
                case .file:
                    try linkFile(path + "/" + child, to: destination, mode: info.mode)
                case .symlink, .other:
                    throw SystemError(Errno(EINVAL), "copy", path: path + "/" + child)
                }
            }
        }
    }

    /// A hard link, or a copy where the file system has none between the two paths.
    private func linkFile(_ source: String, to destination: String, mode: Int) throws(SystemError) {
        let linked: SystemError?
        do { try fileSystem.hardLink(source, to: destination); linked = nil } catch { linked = error }
        guard let linked else { return }
        guard linked.errno.rawValue == EXDEV || linked.errno.rawValue == EPERM else { throw linked }
        try fileSystem.write(try fileSystem.read(source), to: destination, mode: mode, durability: .whole)
    }

    /// Puts `staging` where this directory is, in one step: the old directory comes out at
    /// `staging`'s name and is removed. Before the swap everything is synced, so what is in
    /// place after a crash is either the old dump or the whole new one.
    func replace(with staging: String) throws(RuntimeError) {
        do {
            try fileSystem.sync(fileSystemOf: staging)
            if fileSystem.exists(path) {
                try fileSystem.exchange(staging, path)
                try fileSystem.sync(fileSystemOf: path)
                try fileSystem.removeTree(staging)
            } else {
                try fileSystem.rename(staging, to: path)
                try fileSystem.sync(fileSystemOf: path)
            }
        } catch {
            throw .io("cannot put the new dump in place at \(path)", error)
        }
    }

    /// Removes what killed runs left beside the directory: `.NAME.*` staging directories.
    func sweepStaging() {
        let parent = Path.parent(path)
        let prefix = "." + Path.name(path) + "."
        for name in (try? fileSystem.list(parent)) ?? [] where name.hasPrefix(prefix) {
            try? fileSystem.removeTree(parent + "/" + name)
        }
    }

    /// A fresh staging directory's path beside this one (not created).
    func stagingPath(_ purpose: String) -> String {
        Path.parent(path) + "/." + Path.name(path) + "." + purpose + "-" + UUID().uuidString.lowercased().prefix(8)
    }
}

/// The facts a software's commands write to `$STACKC_FACTS`, tab-separated:
/// `data-time<TAB>ISO-8601` and `rows<TAB>database<TAB>schema.table<TAB>count`.
enum FactsFile {
    struct Parsed: Equatable {
        var dataTime: Date?
        var facts: [ExportManifest.DatabaseFacts]
    }

    static func parse(_ data: Data) throws(RuntimeError) -> Parsed {
        var dataTime: Date?
        var rows: [String: [String: Int64]] = [:]
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "data-time" where fields.count == 2:
                guard let time = Timestamp.parse(fields[1]) else { throw bad(number, "a time that is not ISO 8601: '\(fields[1])'") }
                dataTime = time
            case "rows" where fields.count == 4:
                guard let count = Int64(fields[3]), count >= 0 else { throw bad(number, "a row count that is not a number: '\(fields[3])'") }
                rows[fields[1], default: [:]][fields[2]] = count
            default:
                throw bad(number, "'\(line.prefix(80))'")
            }
        }
        return Parsed(dataTime: dataTime, facts: rows.map { .init(database: $0.key, rowCounts: $0.value) }.sorted { $0.database < $1.database })
    }

    private static func bad(_ number: Int, _ what: String) -> RuntimeError {
        RuntimeError(.commandFailed, "the facts the software's command wrote have, on line \(number + 1), \(what)",
                     remedy: "lines are 'data-time<TAB>TIME' or 'rows<TAB>DATABASE<TAB>TABLE<TAB>COUNT'")
    }

    /// The `rows` lines of `facts`, sorted, as the restore command is given them to check against.
    static func rows(_ facts: [ExportManifest.DatabaseFacts]) -> Data {
        var lines: [String] = []
        for database in facts {
            for (table, count) in database.rowCounts { lines.append("rows\t\(database.database)\t\(table)\t\(count)") }
        }
        return Data((lines.sorted().joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8)
    }
}

import Foundation
import StackModel
import StackSystem

extension Repository {
    /// Restores a snapshot (or the entries matching `patterns`) into `target`: written to a temporary
    /// directory beside it, every chunk checked against its hash, and renamed into place only when
    /// all is written. A damaged chunk fails with a `corrupt` error naming the file; nothing is left
    /// half-restored and no wrong byte is written.
    /// Stops with a `cancelled` failure, the target untouched, once the context's flag is raised.
    public func restore(_ record: SnapshotRecord, to target: String, patterns: [String] = [], force: Bool = false) throws(ArchiveError) -> (files: Int, bytes: Int64) {
        let held = try readLock(for: .restore)
        defer { held?.release() }
        try requirePresent(record)
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fileManager.fileExists(atPath: target, isDirectory: &isDirectory)
        if exists {
            let empty = isDirectory.boolValue && ((try? fileManager.contentsOfDirectory(atPath: target))?.isEmpty ?? false)
            if !empty && !force {
                throw ArchiveError(.usage, "'\(target)' is not empty", remedy: "restore into a new directory, or pass --force to replace it")
            }
        }
        let entries = Self.select(try tree(of: record), patterns: patterns)
        if !patterns.isEmpty && entries.isEmpty {
            throw ArchiveError(.notFound, "no path of snapshot \(record.shortID) matches " + patterns.map { "'\($0)'" }.joined(separator: ", "))
        }
        let enclosing = Path.parent(target)
        let parent = enclosing.isEmpty ? "." : enclosing
        let stagingPrefix = "." + Path.name(target) + ".stackc-restore-"
        let pid = context.host.pid
        let staging = parent + "/" + stagingPrefix + "\(pid)"
        try? fileManager.removeItem(atPath: staging)
        // A restore killed before its rename left its staging directory, possibly as large as the
        // snapshot: the next restore to the same target removes those whose process is gone.
        for name in (try? fileManager.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(stagingPrefix) {
            guard let other = Int32(name.dropFirst(stagingPrefix.count)), other != pid, !processExists(other) else { continue }
            context.logger.notice("removing \(name), left by a restore (process \(other)) that did not finish")
            try? fileManager.removeItem(atPath: parent + "/" + name)
        }
        do { try context.fileSystem.createDirectories(staging, mode: 0o700) } catch {
            throw .io("cannot create \(staging)", error)
        }
        var finished = false
        defer { if !finished { try? fileManager.removeItem(atPath: staging) } }

        let progress = context.progress.start("restore", total: entries.reduce(0) { $0 + $1.size })
        let chunks = ChunkPrefetcher(repository: self, order: entries.flatMap { entry -> [String] in
            guard entry.kind == .file else { return [] }
            return (entry.chunks ?? []) + (entry.bundle.map { [$0.chunk] } ?? [])
        })
        var files = 0
        var bytes: Int64 = 0
        for entry in entries {
            try context.checkCancellation("restore")
            let path = staging + "/" + entry.path
            let directory = entry.kind == .directory ? path : Path.parent(path)
            try? fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            switch entry.kind {
            case .directory: continue
            case .symlink:
                guard symlink(entry.target ?? "", path) == 0 else { throw .io("cannot create link \(entry.path)", .last("symlink", path: path)) }
            case .file:
                let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                guard fd >= 0 else { throw .io("cannot write \(entry.path)", .last("open", path: path)) }
                defer { close(fd) }
                var written: Int64 = 0
                var pieces: [(hash: String, range: Range<Int>?)] = (entry.chunks ?? []).map { ($0, nil) }
                if let slice = entry.bundle { pieces.append((slice.chunk, Int(slice.offset)..<Int(slice.offset + entry.size))) }
                for (hash, range) in pieces {
                    var data: Data
                    do throws(ArchiveError) {
                        let chunk = try chunks.take(hash)
                        if let range {
                            guard range.upperBound <= chunk.count else {
                                throw ArchiveError(.corrupt, "bundle \(hash.prefix(12)) is shorter than the manifest says")
                            }
                            data = chunk.subdata(in: range)
                        } else {
                            data = chunk
                        }
                    } catch {
                        throw ArchiveError(error.kind, "cannot restore '\(entry.path)': \(error.message)",
                                           remedy: "run 'stackc archive verify' to see what else is damaged; an older snapshot may hold an intact copy",
                                           cause: error.cause)
                    }
                    do { try LocalFileSystem.writeAll(data, to: fd, path: path) } catch { throw .io("cannot write \(entry.path)", error) }
                    written += Int64(data.count)
                    progress.add(Int64(data.count))
                }
                guard written == entry.size else {
                    throw ArchiveError(.corrupt, "cannot restore '\(entry.path)': its chunks hold \(written) bytes, the manifest says \(entry.size)")
                }
                files += 1
                bytes += written
            }
        }
        // Modes and times last, deepest first, so a read-only directory does not block its contents.
        for entry in entries.reversed() where entry.kind != .symlink {
            let path = staging + "/" + entry.path
            chmod(path, mode_t(entry.mode))
            var times = [timespec(tv_sec: Int(entry.mtime / 1_000_000_000), tv_nsec: Int(entry.mtime % 1_000_000_000)),
                         timespec(tv_sec: Int(entry.mtime / 1_000_000_000), tv_nsec: Int(entry.mtime % 1_000_000_000))]
            utimensat(AT_FDCWD, path, &times, 0)
        }
        // The target takes the mode of the directory the snapshot was taken of: a 0700 data
        // directory stays 0700 (a snapshot from before modes were kept gives 0755).
        guard chmod(staging, mode_t(record.snapshot.rootMode ?? 0o755)) == 0 else {
            throw .io("cannot set the mode of '\(target)'", .last("chmod", path: staging))
        }
        progress.finish()
        if exists {
            let old = staging + "-replaced"
            guard rename(target, old) == 0 else { throw .io("cannot move '\(target)' aside", .last("rename", path: target)) }
            guard rename(staging, target) == 0 else {
                let failure = SystemError.last("rename", path: staging)
                rename(old, target)
                throw .io("cannot move the restored tree into '\(target)'", failure)
            }
            try? fileManager.removeItem(atPath: old)
        } else {
            guard rename(staging, target) == 0 else { throw .io("cannot move the restored tree into '\(target)'", .last("rename", path: staging)) }
        }
        finished = true
        return (files, bytes)
    }

    /// Entries matching any pattern (fnmatch, where `*` also crosses `/`; a matched directory brings
    /// its subtree), with the directories above them; everything when there is no pattern.
    static func select(_ tree: [TreeEntry], patterns: [String]) -> [TreeEntry] {
        guard !patterns.isEmpty else { return tree }
        let matches = { (path: String) in patterns.contains { fnmatch($0, path, 0) == 0 } }
        var chosen = Set<String>()
        var subtrees: [String] = []
        for entry in tree where matches(entry.path) {
            chosen.insert(entry.path)
            if entry.kind == .directory { subtrees.append(entry.path + "/") }
        }
        for entry in tree where subtrees.contains(where: { entry.path.hasPrefix($0) }) { chosen.insert(entry.path) }
        for path in Array(chosen) {
            var parent = Path.parent(path)
            while !parent.isEmpty {
                chosen.insert(parent)
                parent = Path.parent(parent)
            }
        }
        return tree.filter { chosen.contains($0.path) }
    }
}

import CSystem
import Foundation

/// Where an archive keeps its objects: a small protocol so an object store (S3 with put-if-absent)
/// can replace the local directory. Keys are relative paths such as `chunks/ab/ab12…`.
public protocol ArchiveStorage: Sendable {
    /// Stores `data` under `key` unless the key exists; returns whether it wrote. Atomic: a reader
    /// never sees part of an object.
    func putIfAbsent(_ key: String, _ data: Data) throws(ArchiveError) -> Bool
    /// Replaces `key` atomically and durably (snapshot manifests, config).
    func publish(_ key: String, _ data: Data) throws(ArchiveError)
    /// Makes every object written so far durable (before a manifest refers to them).
    func sync() throws(ArchiveError)
    func get(_ key: String) throws(ArchiveError) -> Data
    func exists(_ key: String) -> Bool
    /// Keys under a prefix (`chunks/`, `snapshots/`), with their sizes.
    func list(_ prefix: String) throws(ArchiveError) -> [(key: String, size: Int64)]
    func delete(_ key: String) throws(ArchiveError)
}

/// A repository in a local directory: each object a file, written to `tmp/` and renamed into place.
public struct LocalStorage: ArchiveStorage {
    public let root: String

    public init(root: String) { self.root = root }

    private func path(_ key: String) -> String { root + "/" + key }

    public func putIfAbsent(_ key: String, _ data: Data) throws(ArchiveError) -> Bool {
        if exists(key) { return false }
        try store(key, data, durable: false)
        return true
    }

    public func publish(_ key: String, _ data: Data) throws(ArchiveError) {
        try store(key, data, durable: true)
    }

    /// One syncfs(2) for a whole backup's chunks instead of an fsync per chunk: the manifest that
    /// refers to them is published only after it.
    public func sync() throws(ArchiveError) {
        let fd = open(root, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw ArchiveError(.io, "cannot open \(root): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard stackc_syncfs(fd) == 0 else { throw ArchiveError(.io, "cannot sync \(root): \(String(cString: strerror(errno)))") }
    }

    private func store(_ key: String, _ data: Data, durable: Bool) throws(ArchiveError) {
        let target = path(key)
        let directory = (target as NSString).deletingLastPathComponent
        // The temporary file lives beside its target: one directory's inode allocation is not a
        // point of contention for every writer, and the rename stays within the directory.
        let temporary = directory + "/" + Self.temporaryPrefix + UUID().uuidString
        var fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 && errno == ENOENT {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw ArchiveError(.io, "cannot create \(directory): \(error.localizedDescription)")
            }
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        }
        guard fd >= 0 else { throw ArchiveError(.io, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        // The errno of the first step that failed, taken before close or unlink can change it.
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = n == 0 ? EIO : errno
                    return
                }
                offset += n
            }
        }
        // Manifests and config: fsync before rename, so after a crash the object is whole or absent.
        // Chunks: their write-back starts now, and the backup's one syncfs waits for it at the end.
        if failure == 0 {
            if durable { if fsync(fd) != 0 { failure = errno } } else { _ = stackc_start_writeback(fd) }
        }
        close(fd)
        if failure == 0 && rename(temporary, target) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temporary)
            let full = failure == ENOSPC || failure == EDQUOT
            throw ArchiveError(.io, "cannot write \(target): \(String(cString: strerror(failure)))",
                               remedy: full ? "free space where the repository is (a prune reclaims what no snapshot uses), then run it again" : nil)
        }
    }

    static let temporaryPrefix = ".tmp-"

    public func get(_ key: String) throws(ArchiveError) -> Data {
        guard let data = FileManager.default.contents(atPath: path(key)) else {
            throw ArchiveError(exists(key) ? .io : .missing, "cannot read \(key)")
        }
        return data
    }

    public func exists(_ key: String) -> Bool {
        var info = stat()
        return stat(path(key), &info) == 0
    }

    public func list(_ prefix: String) throws(ArchiveError) -> [(key: String, size: Int64)] {
        let base = path(prefix)
        guard let enumerator = FileManager.default.enumerator(atPath: base) else { return [] }
        var keys: [(String, Int64)] = []
        while let item = enumerator.nextObject() as? String {
            var info = stat()
            if !(item as NSString).lastPathComponent.hasPrefix(Self.temporaryPrefix),
               stat(base + "/" + item, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                keys.append((prefix + item, Int64(info.st_size)))
            }
        }
        return keys.sorted { $0.0 < $1.0 }
    }

    public func delete(_ key: String) throws(ArchiveError) {
        if unlink(path(key)) != 0 && errno != ENOENT {
            throw ArchiveError(.io, "cannot delete \(key): \(String(cString: strerror(errno)))")
        }
    }

    /// Leftovers of writes a crash interrupted (`.tmp-*` beside their targets).
    func clearTemporary() {
        for directory in ["", "snapshots"] + (0..<256).map({ String(format: "chunks/%02x", $0) }) {
            for item in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + directory)) ?? []
            where item.hasPrefix(Self.temporaryPrefix) {
                unlink(root + "/" + directory + "/" + item)
            }
        }
    }
}

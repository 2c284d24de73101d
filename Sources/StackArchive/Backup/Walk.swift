import Foundation
import StackModel
import StackSystem

extension Repository {
    /// The tree under `directory`, sorted by path; sockets and devices are skipped. Walked with
    /// readdir and fstatat (FileManager's enumerator cost a quarter of an unchanged re-run); the
    /// names of a large directory are statted on every core, as a dump directory of thousands of
    /// files would otherwise make the walk the longest step of a re-run.
    static func walk(_ directory: String, cores: Int) throws(ArchiveError) -> [TreeEntry] {
        var rootInfo = stat()
        guard stat(directory, &rootInfo) == 0, (rootInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw ArchiveError(.usage, "'\(directory)' is not a directory")
        }
        var entries: [TreeEntry] = []
        var directories = [""]
        while let relative = directories.popLast() {
            let full = relative.isEmpty ? directory : directory + "/" + relative
            guard let handle = opendir(full) else {
                throw .io("cannot read the directory '\(full)'", .last("opendir", path: full))
            }
            defer { closedir(handle) }
            let fd = dirfd(handle)
            var names: [String] = []
            while let item = readdir(handle) {
                let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { names.append(name) }
            }
            let prefix = relative.isEmpty ? "" : relative + "/"
            let listed = names
            let cores = listed.count >= 2048 ? cores : 1
            let parts = Parallel.map(cores) { part in
                stride(from: part, to: listed.count, by: cores).compactMap { entry(listed[$0], path: prefix + listed[$0], in: fd) }
            }
            for part in parts {
                for entry in part {
                    if entry.kind == .directory { directories.append(entry.path) }
                    entries.append(entry)
                }
            }
        }
        return sortedBytewise(entries)
    }

    /// The entry for `name` in the directory open as `fd`; nil for what a snapshot does not hold
    /// (sockets, devices, FIFOs) and for a name gone since readdir.
    private static func entry(_ name: String, path: String, in fd: Int32) -> TreeEntry? {
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let mode = Int(info.st_mode & 0o7777)
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            var file = TreeEntry(path: path, kind: .file, mode: mode, size: Int64(info.st_size), mtime: mtime, target: nil, chunks: nil, bundle: nil)
            file.ctime = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            file.inode = UInt64(info.st_ino)
            return file
        case S_IFDIR:
            return TreeEntry(path: path, kind: .directory, mode: mode, size: 0, mtime: mtime, target: nil, chunks: nil, bundle: nil)
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlinkat(fd, name, &target, target.count - 1)
            let text = length >= 0 ? String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            return TreeEntry(path: path, kind: .symlink, mode: mode, size: 0, mtime: mtime, target: text, chunks: nil, bundle: nil)
        default:
            return nil
        }
    }

    /// Entries in byte order of their paths: the paths are laid end to end in one buffer and the
    /// indices sorted with memcmp, which costs a fifth of sorting the entries themselves (each move
    /// of an entry retains and releases its strings and arrays).
    static func sortedBytewise(_ entries: [TreeEntry]) -> [TreeEntry] {
        var bytes: [UInt8] = []
        var spans: [(start: Int, count: Int)] = []
        spans.reserveCapacity(entries.count)
        for entry in entries {
            let start = bytes.count
            bytes.append(contentsOf: entry.path.utf8)
            spans.append((start, bytes.count - start))
        }
        var order = Array(entries.indices)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            spans.withUnsafeBufferPointer { spans in
                order.sort { a, b in
                    let x = spans[a], y = spans[b]
                    let common = min(x.count, y.count)
                    let order = common == 0 ? 0 : memcmp(base + x.start, base + y.start, common)
                    return order != 0 ? order < 0 : x.count < y.count
                }
            }
        }
        return order.map { entries[$0] }
    }
}

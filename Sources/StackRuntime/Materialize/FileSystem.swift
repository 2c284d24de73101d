import Foundation

/// File operations the materializer needs, each confined to a root it cannot leave.
public struct Confined: Sendable {
    /// Absolute, normalized directory everything lives under.
    let root: String

    init(root: String) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// `relative` under the root, refusing absolute paths, `..` and any existing symlink on the way,
    /// so nothing a profile names (or someone planted) can make us write outside.
    func resolve(_ relative: String) throws(RuntimeError) -> String {
        guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
            throw RuntimeError(.escapesRoot, "path '\(relative)' would escape the root", path: root,
                               remedy: "use a relative path without '..'")
        }
        var current = root
        for component in relative.split(separator: "/") where component != "." {
            current += "/" + component
            var info = stat()
            if lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
                throw RuntimeError(.escapesRoot, "'\(current)' is a symbolic link; stackc does not follow links inside an instance",
                                   path: current, remedy: "remove the link, then re-run")
            }
        }
        return current
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    func mode(_ path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Int(info.st_mode & 0o7777)
    }

    /// Creates `path` and missing parents (parents 0755), then sets `mode` on `path` itself.
    func makeDirectory(_ path: String, mode: Int) throws(RuntimeError) {
        var missing: [String] = []
        var current = path
        while !exists(current) && current.count >= root.count {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        for directory in missing.reversed() {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST {
                throw RuntimeError(.fileSystem, "cannot create directory: \(String(cString: strerror(errno)))", path: directory)
            }
        }
        if self.mode(path) != mode, chmod(path, mode_t(mode)) != 0 {
            throw RuntimeError(.fileSystem, "cannot set mode \(String(mode, radix: 8)): \(String(cString: strerror(errno)))", path: path)
        }
    }

    /// Writes through a temporary file renamed into place, so a reader (or a crash) sees the old
    /// file or the new one, never half of one. Returns false when the content and mode were already so.
    @discardableResult
    func write(_ data: Data, to path: String, mode: Int) throws(RuntimeError) -> Bool {
        if let existing = FileManager.default.contents(atPath: path), existing == data, self.mode(path) == mode { return false }
        try makeDirectory((path as NSString).deletingLastPathComponent, mode: parentMode(of: path))
        let temporary = path + ".stackc-tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw RuntimeError(.fileSystem, "cannot write: \(String(cString: strerror(errno)))", path: temporary) }
        let written = data.withUnsafeBytes { buffer in
            buffer.baseAddress.map { Foundation.write(fd, $0, buffer.count) } ?? 0
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced, chmod(temporary, mode_t(mode)) == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RuntimeError(.fileSystem, "cannot write: \(String(cString: strerror(errno)))", path: path)
        }
        return true
    }

    /// Existing parents keep their mode; new ones are 0755.
    private func parentMode(of path: String) -> Int {
        mode((path as NSString).deletingLastPathComponent) ?? 0o755
    }

    func removeFile(_ path: String) throws(RuntimeError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw RuntimeError(.fileSystem, "cannot remove: \(String(cString: strerror(errno)))", path: path)
        }
    }

    /// Removes a directory and everything in it (only ever a directory a part created and owns).
    func removeTree(_ path: String) throws(RuntimeError) {
        guard exists(path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw RuntimeError(.fileSystem, "cannot remove directory: \(error.localizedDescription)", path: path)
        }
    }

    /// Removes empty directories from `path` up to (not including) `stop`.
    func pruneEmptyDirectories(from path: String, upTo stop: String) {
        var current = path
        while current.count > stop.count, current.hasPrefix(stop + "/") {
            if rmdir(current) != 0 { return }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Regular files and bytes under `path`, for "what would be lost".
    func usage(of path: String) -> (files: Int, bytes: Int64) {
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return (0, 0) }
        var files = 0
        var bytes: Int64 = 0
        while let item = enumerator.nextObject() as? String {
            var info = stat()
            if lstat(path + "/" + item, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                files += 1
                bytes += Int64(info.st_size)
            }
        }
        return (files, bytes)
    }
}

/// Quoting for /bin/sh: every value single-quoted, single quotes spelled `'\''`.
enum Shell {
    static func quote(_ text: String) -> String {
        if !text.isEmpty, text.utf8.allSatisfy({ byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || "/._-:,+@".utf8.contains(byte)
        }) {
            return text
        }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == 0x5F || (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) else { return false }
        return name.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

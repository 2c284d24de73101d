import CLinux
import Foundation
import StackModel

/// What a path is, read without following a final symbolic link.
public struct FileInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory, symlink, other }

    public var kind: Kind
    /// Permission bits (0o7777).
    public var mode: Int
    public var size: Int64

    public init(kind: Kind, mode: Int, size: Int64) {
        self.kind = kind
        self.mode = mode
        self.size = size
    }
}

/// How far a write must have reached the disk before it returns. Every atomic write in stackc
/// goes to a temporary file beside its target (`.tmp-<random>`) and is renamed into place, so a
/// reader — or a crash — sees the old file or the new one, never half of one; the levels differ
/// only in what a power loss may undo:
/// - `synced`: the file's data and then its directory are fsynced; once `write` returns the new
///   file survives a power loss (queue entries, a record a success is reported on).
/// - `whole`: the file's data is fsynced before the rename, so after a crash the file is whole
///   (old or new), but the rename itself may be undone: for files a re-run rewrites anyway
///   (install's wrappers and state, an archive's manifest, published after a `sync`).
/// - `writeBack`: write-back starts at once and nothing waits for it; a later
///   `sync(fileSystemOf:)` makes a batch durable before anything refers to it (archive chunks).
public enum Durability: Sendable {
    case synced, whole, writeBack
}

/// The file system, behind the calls stackc makes of it, so tests can run on an in-memory one.
/// Paths are absolute; no call follows a symbolic link at its last component.
public protocol FileSystem: Sendable {
    func info(_ path: String) -> FileInfo?
    /// The whole content of a regular file.
    func read(_ path: String) throws(SystemError) -> Data
    /// Replaces `path` atomically with `data` and `mode` (see `Durability`); the parent must exist.
    func write(_ data: Data, to path: String, mode: Int, durability: Durability) throws(SystemError)
    /// One directory; its parent must exist. An existing directory is an `EEXIST` error.
    func createDirectory(_ path: String, mode: Int) throws(SystemError)
    func setMode(_ mode: Int, of path: String) throws(SystemError)
    /// A file or a symbolic link (not a directory).
    func removeFile(_ path: String) throws(SystemError)
    /// An empty directory.
    func removeDirectory(_ path: String) throws(SystemError)
    func rename(_ source: String, to target: String) throws(SystemError)
    /// The names in a directory, unsorted, without `.` and `..`.
    func list(_ directory: String) throws(SystemError) -> [String]
    /// Waits until everything written on the file system holding `path` is on disk.
    func sync(fileSystemOf path: String) throws(SystemError)
    /// An exclusive lock on `path` (created if absent, `holder` written into it for others'
    /// messages); nil when another process holds it and `wait` is false.
    func lock(_ path: String, holder: String, wait: Bool) throws(SystemError) -> FileLock?
    /// What the holder of the lock at `path` wrote into it.
    func lockHolder(_ path: String) -> String?
    /// Swaps two existing paths in one atomic step.
    func exchange(_ first: String, _ second: String) throws(SystemError)
    /// A second name for a regular file.
    func hardLink(_ source: String, to target: String) throws(SystemError)
    /// Reads a regular file in pieces of about `chunk` bytes, in order (for files too large to hold).
    func stream(_ path: String, chunk: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(SystemError)
    /// Appends `data` to `path` (created if absent) in one write.
    func append(_ data: Data, to path: String) throws(SystemError)
}

/// The prefix of every atomic write's temporary file: what listings skip and sweeps remove.
public let temporaryFilePrefix = ".tmp-"

extension FileSystem {
    public func exists(_ path: String) -> Bool { info(path) != nil }

    public func isDirectory(_ path: String) -> Bool { info(path)?.kind == .directory }

    /// The content, or nil when there is no such file.
    public func readIfPresent(_ path: String) throws(SystemError) -> Data? {
        do { return try read(path) } catch where error.errno == .noEntry { return nil }
    }

    /// Creates `path` and its missing parents: parents with `parentMode`, `path` itself with `mode`
    /// (set even when it already exists).
    public func createDirectories(_ path: String, mode: Int, parentMode: Int = 0o755) throws(SystemError) {
        var missing: [String] = []
        var current = path
        while current.count > 1 && !exists(current) {
            missing.append(current)
            current = Path.parent(current)
        }
        for directory in missing.reversed() {
            do { try createDirectory(directory, mode: directory == path ? mode : parentMode) } catch where error.errno == .exists {}
        }
        if let info = info(path), info.mode != mode { try setMode(mode, of: path) }
    }

    /// Removes a file, a link or a whole directory tree; nothing when it is absent.
    public func removeTree(_ path: String) throws(SystemError) {
        guard let info = info(path) else { return }
        guard info.kind == .directory else {
            do { try removeFile(path) } catch where error.errno == .noEntry {}
            return
        }
        for name in try list(path) { try removeTree(path + "/" + name) }
        do { try removeDirectory(path) } catch where error.errno == .noEntry {}
    }

    /// Regular files under `path` and their bytes, for "what would be lost".
    public func usage(of path: String) -> (files: Int, bytes: Int64) {
        guard let info = info(path) else { return (0, 0) }
        switch info.kind {
        case .file: return (1, info.size)
        case .directory:
            var total = (files: 0, bytes: Int64(0))
            for name in (try? list(path)) ?? [] {
                let inner = usage(of: path + "/" + name)
                total.files += inner.files
                total.bytes += inner.bytes
            }
            return total
        default: return (0, 0)
        }
    }
}

/// The machine's file system, through POSIX calls.
public struct LocalFileSystem: FileSystem {
    public init() {}

    public func info(_ path: String) -> FileInfo? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        let kind: FileInfo.Kind = switch status.st_mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
        return FileInfo(kind: kind, mode: Int(status.st_mode & 0o7777), size: Int64(status.st_size))
    }

    public func read(_ path: String) throws(SystemError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .last("open", path: path) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n >= 0 else { throw .last("read", path: path) }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    public func write(_ data: Data, to path: String, mode: Int, durability: Durability) throws(SystemError) {
        let directory = Path.parent(path)
        let temporary = (directory.isEmpty ? "." : directory) + "/" + temporaryFilePrefix + UUID().uuidString
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .last("open", path: temporary) }
        // The errno of the first step that failed, taken before close or unlink can change it.
        var failure: SystemError?
        do throws(SystemError) {
            try Self.writeAll(data, to: fd, path: path)
            if fchmod(fd, mode_t(mode)) != 0 { throw .last("chmod", path: path) }
            switch durability {
            case .synced, .whole: if fsync(fd) != 0 { throw .last("fsync", path: path) }
            case .writeBack: _ = stackc_start_writeback(fd)
            }
        } catch {
            failure = error
        }
        close(fd)
        if failure == nil && Foundation.rename(temporary, path) != 0 { failure = .last("rename", path: path) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        if durability == .synced { try syncDirectory(directory.isEmpty ? "." : directory) }
    }

    /// Writes every byte of `data` to `fd`, retrying short writes and interruptions.
    public static func writeAll(_ data: Data, to fd: Int32, path: String) throws(SystemError) {
        let outcome = data.withUnsafeBytes { raw in Result { () throws(SystemError) in try writeAll(raw, to: fd, path: path) } }
        try outcome.get()
    }

    public static func writeAll(_ raw: UnsafeRawBufferPointer, to fd: Int32, path: String) throws(SystemError) {
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let n = Foundation.write(fd, base + offset, raw.count - offset)
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n > 0 else { throw n == 0 ? SystemError(Errno(EIO), "write", path: path) : .last("write", path: path) }
            offset += n
        }
    }

    private func syncDirectory(_ directory: String) throws(SystemError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .last("open", path: directory) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .last("fsync", path: directory) }
    }

    public func createDirectory(_ path: String, mode: Int) throws(SystemError) {
        guard mkdir(path, mode_t(mode)) == 0 else { throw .last("mkdir", path: path) }
        // mkdir's mode passes through the umask; the mode asked for is the mode set.
        if chmod(path, mode_t(mode)) != 0 { throw .last("chmod", path: path) }
    }

    public func setMode(_ mode: Int, of path: String) throws(SystemError) {
        if chmod(path, mode_t(mode)) != 0 { throw .last("chmod", path: path) }
    }

    public func removeFile(_ path: String) throws(SystemError) {
        if unlink(path) != 0 { throw .last("unlink", path: path) }
    }

    public func removeDirectory(_ path: String) throws(SystemError) {
        if rmdir(path) != 0 { throw .last("rmdir", path: path) }
    }

    public func rename(_ source: String, to target: String) throws(SystemError) {
        if Foundation.rename(source, target) != 0 { throw .last("rename", path: source) }
    }

    public func list(_ directory: String) throws(SystemError) -> [String] {
        guard let handle = opendir(directory) else { throw .last("opendir", path: directory) }
        defer { closedir(handle) }
        var names: [String] = []
        while let item = readdir(handle) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// One syncfs(2) for a whole batch instead of an fsync per file.
    public func sync(fileSystemOf path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .last("open", path: path) }
        defer { close(fd) }
        if stackc_syncfs(fd) != 0 { throw .last("syncfs", path: path) }
    }
}

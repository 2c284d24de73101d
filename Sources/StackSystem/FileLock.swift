import CLinux
import Foundation

/// An exclusive advisory lock on a file (`flock`), held until `unlock()` or until its process
/// dies: the kernel releases it with the process, so a `kill -9` never leaves it held and a
/// reused pid never fools it, unlike a pid file.
public final class FileLock: @unchecked Sendable {
    private let lock = NSLock()
    private var release: (@Sendable () -> Void)?

    public init(release: @escaping @Sendable () -> Void) {
        self.release = release
    }

    public func unlock() {
        lock.lock()
        let release = self.release
        self.release = nil
        lock.unlock()
        release?()
    }

    deinit { unlock() }
}

extension LocalFileSystem {
    public func lock(_ path: String, holder: String, wait: Bool) throws(SystemError) -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .last("open", path: path) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let error = SystemError.last("flock", path: path)
            if error.errno == .interrupted { continue }
            close(fd)
            if error.errno.rawValue == EWOULDBLOCK { return nil }
            throw error
        }
        // Who holds it, for the message of whoever finds it held; not synced: a crash releases it.
        _ = ftruncate(fd, 0)
        let text = Data((holder + "\n").utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock { close(fd) }
    }

    public func lockHolder(_ path: String) -> String? {
        guard let data = try? read(path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    public func exchange(_ first: String, _ second: String) throws(SystemError) {
        if stackc_exchange(first, second) != 0 { throw .last("renameat2", path: first) }
    }

    public func hardLink(_ source: String, to target: String) throws(SystemError) {
        if Glibc.link(source, target) != 0 { throw .last("link", path: target) }
    }

    public func append(_ data: Data, to path: String) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw .last("open", path: path) }
        defer { close(fd) }
        try Self.writeAll(data, to: fd, path: path)
    }
}

extension LocalFileSystem {
    public func stream(_ path: String, chunk: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .last("open", path: path) }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(4096, chunk), alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = Foundation.read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n >= 0 else { throw .last("read", path: path) }
            if n == 0 { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}

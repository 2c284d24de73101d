import Foundation

/// Calls back when a file appears in one of the watched directories (inotify: a rename into it
/// or a file closed after writing), from a thread blocked in `read`: waiting costs no CPU.
public final class DirectoryWatcher: @unchecked Sendable {
    private let fd: Int32
    /// Written to by `stop`: a close alone does not wake a thread blocked on the descriptor.
    private var wake: [Int32] = [-1, -1]
    private var directories: [Int32: String] = [:]
    private let lock = NSLock()
    private var thread: Thread?

    public init() throws(SystemError) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw .last("inotify_init1") }
        guard pipe(&wake) == 0 else {
            close(fd)
            throw .last("pipe")
        }
        for end in wake { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    }

    public func watch(_ directory: String) throws(SystemError) {
        let descriptor = inotify_add_watch(fd, directory, UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE))
        guard descriptor >= 0 else { throw .last("inotify_add_watch", path: directory) }
        lock.lock()
        directories[descriptor] = directory
        lock.unlock()
    }

    /// Starts delivering: `changed` gets the directory in which something appeared.
    public func start(_ changed: @escaping @Sendable (String) -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                var descriptors = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0)]
                let ready = poll(&descriptors, 2, -1)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0, descriptors[1].revents == 0 else {
                    close(fd)
                    close(wake[0])
                    return
                }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                var offset = 0
                var seen: Set<String> = []
                while offset + MemoryLayout<inotify_event>.size <= n {
                    let (descriptor, length) = buffer.withUnsafeBytes { raw -> (Int32, Int) in
                        let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        return (event.wd, Int(event.len))
                    }
                    lock.lock()
                    let directory = directories[descriptor]
                    lock.unlock()
                    if let directory { seen.insert(directory) }
                    offset += MemoryLayout<inotify_event>.size + length
                }
                for directory in seen.sorted() { changed(directory) }
            }
        }
        thread.name = "stackc-watch"
        self.thread = thread
        thread.start()
    }

    /// Stops watching; the thread ends (a pending read is woken by the close).
    public func stop() {
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
        close(wake[1])
    }
}

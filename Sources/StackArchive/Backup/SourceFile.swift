import Foundation
import StackSystem

/// A file being backed up, open for positioned reads by several threads; closed when the last
/// chunk read from it is done.
final class SourceFile: @unchecked Sendable {
    let path: String
    private let fd: Int32

    init(_ path: String) throws(ArchiveError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot read '\(path)'", .last("open", path: path)) }
    }

    deinit { close(fd) }

    /// Appends a small file's bytes, as many as it has when read (it may have changed since the
    /// walk), to `buffer`; returns how many.
    static func append(_ path: String, to buffer: inout Data) throws(ArchiveError) -> Int {
        let file = try SourceFile(path)
        let start = buffer.count
        var length = 0
        while true {
            if buffer.count < start + length + 4096 { buffer.count = start + length + 65536 }
            let room = buffer.count - start - length
            let n = buffer.withUnsafeMutableBytes { Foundation.read(file.fd, $0.baseAddress! + start + length, room) }
            if n < 0 && Errno.current == .interrupted { continue }
            if n < 0 {
                let failure = SystemError.last("read", path: path)
                buffer.count = start
                throw .io("cannot read '\(path)'", failure)
            }
            if n == 0 { break }
            length += n
        }
        buffer.count = start + length
        return length
    }

    func size() throws(ArchiveError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("cannot read '\(path)'", .last("fstat", path: path)) }
        return Int64(info.st_size)
    }

    /// Fills `buffer` from `offset`; a file that shrank meanwhile is an error, not a short chunk.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(ArchiveError) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && Errno.current == .interrupted { continue }
            if n < 0 { throw .io("cannot read '\(path)'", .last("pread", path: path)) }
            if n == 0 {
                throw ArchiveError(.io, "'\(path)' shrank while it was being backed up", remedy: "back it up when nothing writes to it (an export's dump is complete once its manifest exists)")
            }
            done += n
        }
    }
}

import CZstd
import Foundation

/// zstd through libzstd: one compression context per call site, reused (contexts are costly to create).
final class ZstdCompressor: @unchecked Sendable {
    private let context: OpaquePointer
    let level: Int32

    init(level: Int) {
        context = ZSTD_createCCtx()
        self.level = Int32(level)
    }

    deinit { ZSTD_freeCCtx(context) }

    func compress(_ input: UnsafeRawBufferPointer) throws(ArchiveError) -> Data {
        let bound = ZSTD_compressBound(input.count)
        // Uninitialized memory handed to Data without a copy: zero-filling or copying a buffer
        // zstd overwrites would cost a pass over every chunk.
        guard let memory = malloc(max(bound, 1)) else { throw ArchiveError(.io, "out of memory compressing a chunk") }
        let status = ZSTD_compressCCtx(context, memory, bound, input.baseAddress, input.count, level)
        if ZSTD_isError(status) != 0 {
            free(memory)
            throw ArchiveError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(status)))")
        }
        return Data(bytesNoCopy: memory, count: status, deallocator: .free)
    }
}

final class ZstdDecompressor: @unchecked Sendable {
    private let context: OpaquePointer

    init() { context = ZSTD_createDCtx() }
    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses one frame; `limit` bounds the size a (possibly damaged) header may claim.
    func decompress(_ input: Data, limit: Int) -> Data? {
        input.withUnsafeBytes { raw -> Data? in
            let size = ZSTD_getFrameContentSize(raw.baseAddress, raw.count)
            // ZSTD_CONTENTSIZE_UNKNOWN and _ERROR are the two largest UInt64 values; both exceed any limit.
            guard size <= UInt64(limit) else { return nil }
            guard let memory = malloc(max(Int(size), 1)) else { return nil }
            let written = ZSTD_decompressDCtx(context, memory, Int(size), raw.baseAddress, raw.count)
            guard ZSTD_isError(written) == 0, written == Int(size) else {
                free(memory)
                return nil
            }
            return Data(bytesNoCopy: memory, count: written, deallocator: .free)
        }
    }
}

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
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { out in
            ZSTD_compressCCtx(context, out.baseAddress, bound, input.baseAddress, input.count, level)
        }
        if ZSTD_isError(written) != 0 {
            throw ArchiveError(.io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        output.count = written
        return output
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
            var output = Data(count: Int(size))
            let written = output.withUnsafeMutableBytes { out in
                ZSTD_decompressDCtx(context, out.baseAddress, Int(size), raw.baseAddress, raw.count)
            }
            guard ZSTD_isError(written) == 0, written == Int(size) else { return nil }
            return output
        }
    }
}

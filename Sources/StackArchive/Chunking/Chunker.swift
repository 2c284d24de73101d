import CGear
import StackModel

/// Content-defined chunking, FastCDC style (Xia et al., 2016/2020): a gear rolling hash with
/// normalized chunking — a stricter mask before the average size and a looser one after — so
/// boundaries follow content (an insertion moves only nearby cuts) and sizes cluster near average.
public struct ChunkerParameters: Codable, Sendable, Equatable {
    public var minimum: Int
    public var average: Int
    public var maximum: Int

    /// 128 KiB average (32–512 KiB). A dump changes in scattered rows; each change re-stores about
    /// one chunk, so smaller chunks store less per change (a 1 % change to the bench's data stores
    /// 29 MB, against 46 MB at 256 KiB and 138 MB at 1 MiB) and re-runs are faster, for eight
    /// thousand objects per gigabyte — casync's default is 64 KiB, restic's 1 MiB.
    public static let `default` = ChunkerParameters(average: 128 << 10)

    public init(average: Int) {
        // At least 256 so that the minimum (a quarter) covers the gear hash's 64-byte window.
        let bits = max(8, Int.bitWidth - 1 - average.leadingZeroBitCount)
        self.average = 1 << bits
        minimum = self.average / 4
        maximum = self.average * 4
    }

    var bits: Int { Int.bitWidth - 1 - average.leadingZeroBitCount }
}

struct Chunker {
    let parameters: ChunkerParameters
    private let maskSmall: UInt64
    private let maskLarge: UInt64

    /// 256 pseudo-random 64-bit values from a fixed seed (every repository cuts the same data the
    /// same way), as plain memory for the C loop, allocated once for the process.
    nonisolated(unsafe) static let gearTable: UnsafePointer<UInt64> = table { $0 }
    /// The same values shifted left by one, for the first byte of each two-byte step.
    nonisolated(unsafe) static let shiftedGearTable: UnsafePointer<UInt64> = table { $0 << 1 }

    private static func table(_ transform: (UInt64) -> UInt64) -> UnsafePointer<UInt64> {
        let memory = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        var generator = SeededGenerator(state: 0x5354_4143_4B43_0001)  // "STACKC" 1
        for index in 0..<256 {
            (memory + index).initialize(to: transform(generator.next()))
        }
        return UnsafePointer(memory)
    }

    init(_ parameters: ChunkerParameters) {
        self.parameters = parameters
        // Masks with their one-bits spread over the high half of the hash, as FastCDC recommends,
        // below bit 63 so that the one-bit-shifted mask of the two-byte step loses none of them.
        func mask(_ ones: Int) -> UInt64 {
            var value: UInt64 = 0
            var placed = 0
            var bit = 62
            while placed < ones && bit >= 0 {
                value |= 1 << UInt64(bit)
                placed += 1
                bit -= 2
            }
            return value
        }
        maskSmall = mask(parameters.bits + 2)
        maskLarge = mask(max(1, parameters.bits - 2))
    }

    /// The length of the first chunk of `bytes` (all of it when shorter than the minimum, or
    /// when `final` is false and no cut is found before the end: more data is needed then).
    ///
    /// The hash tested at position i is the gear hash of the 64 bytes ending at i (older bytes are
    /// shifted out), so whether i is a cut *candidate* does not depend on where the chunk began:
    /// that is what lets `scan` find candidates in parallel parts of a large file and `nextCut`
    /// pick the same cuts as this function.
    func cut(_ bytes: UnsafeRawBufferPointer, final: Bool) -> Int? {
        let count = bytes.count
        if count <= parameters.minimum { return final ? count : nil }
        guard let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let limit = min(count, parameters.maximum)
        let normal = min(limit, parameters.average)
        // The hash at the first position tested covers the 64 bytes before it, as everywhere.
        var hash = Self.roll(0, start, from: parameters.minimum - Self.window, to: parameters.minimum)
        var index = parameters.minimum
        while true {
            index = stackc_gear_next(start, index, limit, &hash, Self.gearTable, Self.shiftedGearTable, maskLarge)
            guard index < limit else { break }
            // Before the average size only a candidate that also meets the stricter mask cuts.
            if index >= normal || hash & maskSmall == 0 { return index + 1 }
            index += 1
        }
        if limit == parameters.maximum || final { return limit }
        return nil
    }

    /// The hash after rolling `bytes[from..<to]` into `hash`, without looking for candidates.
    private static func roll(_ hash: UInt64, _ bytes: UnsafePointer<UInt8>, from: Int, to: Int) -> UInt64 {
        var state = hash
        for index in from..<to { state = (state << 1) &+ gearTable[Int(bytes[index])] }
        return state
    }

    /// Bytes that determine the hash at a position.
    static let window = 64

    /// A position whose hash matches the large mask; `strict` when it matches the small one too
    /// (the small mask's one-bits include the large one's).
    struct Candidate: Equatable {
        var offset: Int64
        var strict: Bool
    }

    /// Candidates among `bytes`, whose first byte is at `base` in the file; `hash` carries the
    /// rolling state across calls (start a part with the 64 bytes before it, scanned with
    /// `collect` false).
    func scan(_ bytes: UnsafeRawBufferPointer, base: Int64, hash: inout UInt64, collect: Bool = true, into candidates: inout [Candidate]) {
        guard let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = bytes.count
        guard collect else {
            hash = Self.roll(hash, start, from: 0, to: count)
            return
        }
        var state = hash
        var index = 0
        while true {
            index = stackc_gear_next(start, index, count, &state, Self.gearTable, Self.shiftedGearTable, maskLarge)
            guard index < count else { break }
            candidates.append(Candidate(offset: base + Int64(index), strict: state & maskSmall == 0))
            index += 1
        }
        hash = state
    }

    /// The end of the chunk that starts at `start` in a file of `size` bytes, from the candidates
    /// (sorted, from `first` on) of a file scanned up to `scanned`; nil when the answer needs bytes
    /// not scanned yet. The same cut `cut(_:final:)` finds, without re-reading the bytes.
    func nextCut(start: Int64, size: Int64, scanned: Int64, candidates: [Candidate], first: inout Int) -> Int64? {
        let remaining = size - start
        if remaining <= Int64(parameters.minimum) { return scanned >= size ? size : nil }
        let limit = min(remaining, Int64(parameters.maximum))
        guard scanned >= start + limit else { return nil }
        let normal = min(limit, Int64(parameters.average))
        let low = start + Int64(parameters.minimum)
        while first < candidates.count && candidates[first].offset < low { first += 1 }
        var index = first
        while index < candidates.count && candidates[index].offset < start + limit {
            let candidate = candidates[index]
            if candidate.offset < start + normal ? candidate.strict : true { return candidate.offset + 1 }
            index += 1
        }
        return start + limit
    }
}

/// Content-defined chunking, FastCDC style (Xia et al., 2016/2020): a gear rolling hash with
/// normalized chunking — a stricter mask before the average size and a looser one after — so
/// boundaries follow content (an insertion moves only nearby cuts) and sizes cluster near average.
public struct ChunkerParameters: Codable, Sendable, Equatable {
    public var minimum: Int
    public var average: Int
    public var maximum: Int

    /// 1 MiB average (256 KiB–4 MiB): large enough that a 1 GB dump is about a thousand objects,
    /// small enough that a changed table re-stores about a megabyte around each change.
    public static let `default` = ChunkerParameters(average: 1 << 20)

    public init(average: Int) {
        let bits = max(6, Int.bitWidth - 1 - average.leadingZeroBitCount)
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

    /// 256 pseudo-random 64-bit values from a fixed seed: every repository cuts the same data the same way.
    static let gear: [UInt64] = {
        var state: UInt64 = 0x5354_4143_4B43_0001  // "STACKC" 1
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }()

    init(_ parameters: ChunkerParameters) {
        self.parameters = parameters
        // Masks with their one-bits spread over the high half of the hash, as FastCDC recommends.
        func mask(_ ones: Int) -> UInt64 {
            var value: UInt64 = 0
            var placed = 0
            var bit = 63
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
    func cut(_ bytes: UnsafeRawBufferPointer, final: Bool) -> Int? {
        let count = bytes.count
        if count <= parameters.minimum { return final ? count : nil }
        let limit = min(count, parameters.maximum)
        let normal = min(limit, parameters.average)
        var hash: UInt64 = 0
        var index = parameters.minimum
        let gear = Self.gear
        return gear.withUnsafeBufferPointer { table -> Int? in
            while index < normal {
                hash = (hash << 1) &+ table[Int(bytes[index])]
                if hash & maskSmall == 0 { return index + 1 }
                index += 1
            }
            while index < limit {
                hash = (hash << 1) &+ table[Int(bytes[index])]
                if hash & maskLarge == 0 { return index + 1 }
                index += 1
            }
            if limit == parameters.maximum || final { return limit }
            return nil
        }
    }
}

import Foundation
import StackModel

/// A snapshot's tree as stored: a JSON array of entries, keys sorted, one entry per line. Written
/// and read by hand because Foundation's Codable spends about 6 µs on an entry, which made an
/// unchanged re-run over 20,000 files cost a third of a second in tree coding alone.
enum TreeDocument {
    /// Long trees are encoded in parts on every core and joined (the parts are independent lines).
    static func encode(_ entries: [TreeEntry], workers: Int = 1) -> Data {
        let ranges = Parallel.ranges(of: entries.count, workers: workers, minimum: 4096)
        let pieces = Parallel.map(ranges.count) { part in encode(entries[ranges[part]], first: part == 0) }
        var out = Data("[".utf8)
        out.reserveCapacity(pieces.reduce(8) { $0 + $1.count })
        for piece in pieces { out.append(contentsOf: piece) }
        out.append(contentsOf: "\n]\n".utf8)
        return out
    }

    /// The lines of `entries`, each but the document's first preceded by a comma.
    private static func encode(_ entries: ArraySlice<TreeEntry>, first: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 160 + 8)
        func text(_ value: String) { JSONText.append(value, to: &out) }
        func raw(_ value: StaticString) {
            value.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func number<T: BinaryInteger>(_ value: T) {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            var magnitude = UInt64(value.magnitude)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var count = 0
                repeat {
                    digits[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                    count += 1
                } while magnitude > 0
                out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
            }
        }
        func list<T>(_ items: [T], _ element: (T) -> Void) {
            raw("[")
            for (position, item) in items.enumerated() {
                if position > 0 { raw(",") }
                element(item)
            }
            raw("]")
        }
        for (index, entry) in zip(entries.indices, entries) {
            raw(first && index == entries.startIndex ? "\n{" : ",\n{")
            if let bundle = entry.bundle {
                raw("\"bundle\":{\"chunk\":")
                text(bundle.chunk)
                raw(",\"offset\":")
                number(bundle.offset)
                raw("},")
            }
            if let chunks = entry.chunks {
                raw("\"chunks\":")
                list(chunks, text)
                raw(",")
            }
            if let ctime = entry.ctime {
                raw("\"ctime\":")
                number(ctime)
                raw(",")
            }
            if let inode = entry.inode {
                raw("\"inode\":")
                number(inode)
                raw(",")
            }
            raw("\"kind\":\"")
            out.append(contentsOf: entry.kind.rawValue.utf8)
            raw("\"")
            if let lengths = entry.lengths {
                raw(",\"lengths\":")
                list(lengths, number)
            }
            raw(",\"mode\":")
            number(entry.mode)
            raw(",\"mtime\":")
            number(entry.mtime)
            raw(",\"path\":")
            text(entry.path)
            raw(",\"size\":")
            number(entry.size)
            if let target = entry.target {
                raw(",\"target\":")
                text(target)
            }
            raw("}")
        }
        return out
    }

    struct Malformed: Error {
        var offset: Int
        var reason: String
    }

    static func decode(_ document: Data) throws(Malformed) -> [TreeEntry] {
        let result: Result<[TreeEntry], Malformed> = document.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw)
            do throws(Malformed) { return .success(try reader.entries()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// A JSON reader for exactly this document; unknown keys are skipped so that later versions
    /// may add fields.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func entries() throws(Malformed) -> [TreeEntry] {
            let entries = try array { (reader) throws(Malformed) in try reader.entry() }
            skipSpace()
            guard index == bytes.count else { throw Malformed(offset: index, reason: "trailing bytes") }
            return entries
        }

        mutating func entry() throws(Malformed) -> TreeEntry {
            var entry = TreeEntry(path: "", kind: .file, mode: 0, size: 0, mtime: 0, target: nil, chunks: nil, bundle: nil)
            var sawPath = false, sawKind = false
            try object { (key, reader) throws(Malformed) in
                switch key {
                case "path": entry.path = try reader.string(); sawPath = true
                case "kind":
                    let start = reader.index
                    guard let kind = TreeEntry.Kind(rawValue: try reader.string()) else { throw Malformed(offset: start, reason: "unknown kind") }
                    entry.kind = kind
                    sawKind = true
                case "mode": entry.mode = Int(try reader.integer())
                case "size": entry.size = try reader.integer()
                case "mtime": entry.mtime = try reader.integer()
                case "ctime": entry.ctime = try reader.integer()
                case "inode": entry.inode = try reader.unsigned()
                case "target": entry.target = try reader.nullable { (reader) throws(Malformed) in try reader.string() }
                case "chunks":
                    entry.chunks = try reader.nullable { (reader) throws(Malformed) in try reader.array { (reader) throws(Malformed) in try reader.string() } }
                case "lengths":
                    entry.lengths = try reader.nullable { (reader) throws(Malformed) in try reader.array { (reader) throws(Malformed) in try reader.integer() } }
                case "bundle":
                    entry.bundle = try reader.nullable { (reader) throws(Malformed) in
                        var slice = BundleSlice(chunk: "", offset: 0)
                        try reader.object { (key, reader) throws(Malformed) in
                            switch key {
                            case "chunk": slice.chunk = try reader.string()
                            case "offset": slice.offset = try reader.integer()
                            default: try reader.skipValue()
                            }
                        }
                        return slice
                    }
                default: try reader.skipValue()
                }
            }
            guard sawPath && sawKind else { throw Malformed(offset: index, reason: "an entry without path or kind") }
            return entry
        }

        mutating func object(_ field: (String, inout Reader) throws(Malformed) -> Void) throws(Malformed) {
            try expect(UInt8(ascii: "{"))
            if try peek() == UInt8(ascii: "}") { index += 1; return }
            repeat {
                let key = try string()
                try expect(UInt8(ascii: ":"))
                try field(key, &self)
            } while try separator(closing: UInt8(ascii: "}"))
        }

        mutating func array<T>(_ element: (inout Reader) throws(Malformed) -> T) throws(Malformed) -> [T] {
            var items: [T] = []
            try expect(UInt8(ascii: "["))
            if try peek() == UInt8(ascii: "]") { index += 1; return items }
            repeat { items.append(try element(&self)) } while try separator(closing: UInt8(ascii: "]"))
            return items
        }

        mutating func nullable<T>(_ value: (inout Reader) throws(Malformed) -> T) throws(Malformed) -> T? {
            if try peek() == UInt8(ascii: "n") {
                try literal("null")
                return nil
            }
            return try value(&self)
        }

        /// After a value: true at a comma, false at the closing bracket.
        mutating func separator(closing: UInt8) throws(Malformed) -> Bool {
            switch try peek() {
            case UInt8(ascii: ","): index += 1; return true
            case closing: index += 1; return false
            default: throw Malformed(offset: index, reason: "expected ',' or '\(Character(Unicode.Scalar(closing)))'")
            }
        }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }

        mutating func peek() throws(Malformed) -> UInt8 {
            skipSpace()
            guard index < bytes.count else { throw Malformed(offset: index, reason: "unexpected end") }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws(Malformed) {
            guard try peek() == byte else { throw Malformed(offset: index, reason: "expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        mutating func literal(_ word: String) throws(Malformed) {
            for byte in word.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw Malformed(offset: index, reason: "expected \(word)") }
                index += 1
            }
        }

        mutating func integer() throws(Malformed) -> Int64 {
            _ = try peek()
            let negative = bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let start = index
            let value = try digits()
            guard value <= UInt64(Int64.max) else { throw Malformed(offset: start, reason: "number out of range") }
            return negative ? -Int64(value) : Int64(value)
        }

        /// A non-negative integer up to 2⁶⁴−1 (inode numbers).
        mutating func unsigned() throws(Malformed) -> UInt64 {
            _ = try peek()
            return try digits()
        }

        /// The decimal digits at the current position, as a number.
        private mutating func digits() throws(Malformed) -> UInt64 {
            let start = index
            var value: UInt64 = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[index] - 0x30))
                guard !overflow1 && !overflow2 else { throw Malformed(offset: start, reason: "number out of range") }
                value = sum
                index += 1
            }
            guard index > start else { throw Malformed(offset: start, reason: "expected a number") }
            return value
        }

        mutating func string() throws(Malformed) -> String {
            try expect(UInt8(ascii: "\""))
            let start = index
            // Most strings have no escape: decode the bytes in place.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
            guard index < bytes.count else { throw Malformed(offset: start, reason: "unterminated string") }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self)
            }
            var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            while true {
                guard index < bytes.count else { throw Malformed(offset: start, reason: "unterminated string") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
                guard index < bytes.count else { throw Malformed(offset: start, reason: "unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Malformed(offset: index, reason: "bad \\u escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw Malformed(offset: index - 1, reason: "bad escape")
                }
            }
        }

        mutating func hex4() throws(Malformed) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Malformed(offset: index, reason: "bad \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { throw Malformed(offset: index, reason: "bad \\u escape") }
                value = value * 16 + UInt32(digit)
                index += 1
            }
            return value
        }

        /// Skips any JSON value (a field this version does not know).
        mutating func skipValue() throws(Malformed) {
            switch try peek() {
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "{"): try object { (_, reader) throws(Malformed) in try reader.skipValue() }
            case UInt8(ascii: "["):
                index += 1
                if try peek() == UInt8(ascii: "]") { index += 1; return }
                repeat { try skipValue() } while try separator(closing: UInt8(ascii: "]"))
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default:
                let start = index
                while index < bytes.count, "+-.eE0123456789".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { throw Malformed(offset: start, reason: "unexpected byte") }
            }
        }
    }
}

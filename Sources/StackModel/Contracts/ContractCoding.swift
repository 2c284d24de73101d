import Foundation

/// How the contracts between install and run are written and read: JSON with sorted keys, so the
/// same value is always the same bytes. Encoding a contract cannot fail for well-formed values;
/// when it does, the error is stackc's bug and is thrown, never written as an empty file.
public enum ContractCoding {
    public struct EncodingFailure: Error, Sendable, CustomStringConvertible {
        public var type: String
        public var reason: String
        public var description: String { "cannot encode \(type) as JSON: \(reason)" }
    }

    /// Indented, one key per line, ending in a newline (state files a person may read).
    public static func pretty<T: Encodable>(_ value: T) throws(EncodingFailure) -> Data {
        try encode(value, [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) + Data("\n".utf8)
    }

    /// On one line, `{"key": value, …}`, ending in a newline (small files that are read whole:
    /// the notifier's receivers, a queue entry).
    public static func line<T: Encodable>(_ value: T) throws(EncodingFailure) -> Data {
        Data(spaced(try compact(value)) + [0x0A])
    }

    /// On one line with no spaces (archive manifests, whose bytes are their id).
    public static func compact<T: Encodable>(_ value: T) throws(EncodingFailure) -> Data {
        try encode(value, [.sortedKeys, .withoutEscapingSlashes])
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder.decode(type, from: data)
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time '\(text)'"))
            }
            return date
        }
        return decoder
    }

    private static func encode<T: Encodable>(_ value: T, _ formatting: JSONEncoder.OutputFormatting) throws(EncodingFailure) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        do { return try encoder.encode(value) } catch {
            throw EncodingFailure(type: String(describing: T.self), reason: String(describing: error))
        }
    }

    /// Compact JSON with a space after each `:` and `,` outside strings.
    private static func spaced(_ compact: Data) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(compact.count + compact.count / 8)
        var inString = false
        var escaped = false
        for byte in compact {
            out.append(byte)
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
            } else if byte == 0x22 {
                inString = true
            } else if byte == 0x3A || byte == 0x2C {
                out.append(0x20)
            }
        }
        return out
    }
}

/// Times in contracts: ISO 8601 in UTC with milliseconds.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// With or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

import Foundation

extension String {
    /// `trimmingCharacters(in: .whitespaces)` without a trip through NSString for the usual key,
    /// which starts and ends with neither a space nor a byte that could begin a Unicode space.
    var trimmingSpaces: String {
        let bytes = utf8
        guard let first = bytes.first, let last = bytes.last else { return self }
        let mayBeSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte >= 0x80 }
        if !mayBeSpace(first) && !mayBeSpace(last) { return self }
        return trimmingCharacters(in: .whitespaces)
    }
}

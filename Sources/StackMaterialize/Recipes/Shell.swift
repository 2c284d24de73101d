/// Quoting for /bin/sh: every value single-quoted, single quotes spelled `'\''`.
enum Shell {
    static func quote(_ text: String) -> String {
        if !text.isEmpty, text.utf8.allSatisfy({ byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || "/._-:,+@".utf8.contains(byte)
        }) {
            return text
        }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == 0x5F || (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) else { return false }
        return name.utf8.allSatisfy { $0 == 0x5F || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

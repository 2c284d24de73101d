import StackModel

/// Quoting for /bin/sh: every value single-quoted, single quotes spelled `'\''`.
enum Shell {
    static func quote(_ text: String) -> String {
        if NameRules.isShellSafeWord(text) { return text }
        return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

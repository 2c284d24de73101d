import StackModel

/// The encoders of the generated formats, one per format; what each cannot carry at all is
/// `TargetFormat`'s rule, refused by the compiler before anything reaches an encoder.
///
/// /bin/sh (wrappers, cron.d commands): every value single-quoted unless it is a plain word,
/// single quotes spelled `'\''`.
enum Shell {
    static func quote(_ text: String) -> String {
        if NameRules.isShellSafeWord(text) { return text }
        // Split on the quote's byte, not on characters: a quote followed by a combining mark is one
        // Character to Swift and still a quote to the shell.
        let pieces = text.utf8.split(separator: 0x27, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return "'" + pieces.joined(separator: "'\\''") + "'"
    }
}

/// systemd's `ExecStart=`: words split on whitespace, single and double quotes honoured, `\`
/// escapes, `%` specifiers and `$` variables expanded, a lone `;` separating commands. A word with
/// any of these (or empty) is double-quoted with `\` and `"` escaped, and `%` and `$` doubled.
enum SystemdUnit {
    static func word(_ text: String) -> String {
        // By scalar: a special followed by a combining mark is one Character but still special to systemd.
        let special: Set<Unicode.Scalar> = [" ", "\t", "\"", "'", "\\", "%", "$", ";"]
        guard text.isEmpty || text.unicodeScalars.contains(where: { special.contains($0) }) else { return text }
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "%": out.append(contentsOf: "%%".unicodeScalars)
            case "$": out.append(contentsOf: "$$".unicodeScalars)
            default: out.append(scalar)
            }
        }
        out.append("\"")
        return String(out)
    }
}

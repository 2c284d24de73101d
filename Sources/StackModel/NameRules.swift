/// The characters names may hold where a name becomes a path, a file name or a shell word: the
/// one place each rule is written.
public enum NameRules {
    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// An instance name: a safe directory name of at most 63 bytes, a letter or digit first, then
    /// letters, digits, `.`, `_` and `-`.
    public static func isInstanceName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || isDigit(first), name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A cron.d or systemd unit name: letters, digits, `-` and `_` (cron skips file names with dots).
    public static func isUnitName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// A shell variable name: letters, digits and `_`, not first a digit.
    public static func isShellVariable(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    /// A word the shell reads as itself without quotes.
    public static func isShellSafeWord(_ word: String) -> Bool {
        !word.isEmpty && word.utf8.allSatisfy { isLetter($0) || isDigit($0) || "/._-:,+@".utf8.contains($0) }
    }
}

/// Path arithmetic on plain strings (NSString's crashes on some scalars on Linux, and profiles may
/// hold any of them).
public enum Path {
    /// Everything before the last `/` ("" for a bare name, "/" for a top-level path).
    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The components between `/` bytes, as the kernel splits them (not Swift's characters: a `/`
    /// followed by a combining mark is one Character, and still a separator to the kernel).
    public static func components(_ path: String) -> [String] {
        path.utf8.split(separator: 0x2F).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func isAbsolute(_ path: String) -> Bool { path.utf8.first == 0x2F }

    /// A path relative to a directory that no component takes out of it: not absolute, no `..`.
    public static func staysInside(_ path: String) -> Bool { !isAbsolute(path) && !components(path).contains("..") }

    /// The path without `.` components and repeated separators.
    public static func normalized(_ path: String) -> String { components(path).filter { $0 != "." }.joined(separator: "/") }

    /// Everything after the last `/`.
    public static func name(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

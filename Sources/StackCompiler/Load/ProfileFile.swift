import Foundation
import StackModel

/// One profile file as read from disk: its top-level map, with positions.
public struct ProfileFile: Sendable {
    /// The path as shown to users (relative when the user gave a relative path).
    public var path: String
    /// The resolved absolute path: identity for diamonds and cycles.
    public var identity: String
    /// The top-level map (empty for an empty file).
    public var root: [MapEntry]
}

/// Reads profile files once each and hands out the parsed result.
public final class ProfileReader: @unchecked Sendable {
    private var cache: [String: Result<ProfileFile, DiagnosticError>] = [:]
    private let fileManager = FileManager.default

    public init() {}

    /// Reads `path` (already joined to its referrer's directory); `reference` is where it was named.
    func read(_ path: String, reference: SourceLocation?) throws(DiagnosticError) -> ProfileFile {
        let identity = Paths.identity(of: path)
        if let cached = cache[identity] { return try cached.get() }
        let result: Result<ProfileFile, DiagnosticError>
        do {
            result = .success(try parse(path, identity: identity, reference: reference))
        } catch {
            result = .failure(error)
        }
        cache[identity] = result
        return try result.get()
    }

    /// Where the first byte that is not UTF-8 is: its line and column (counted in characters, as
    /// every other position is) and its offset in the file.
    static func firstInvalidByte(in data: Data) -> (line: Int, column: Int, offset: Int, byte: UInt8) {
        var iterator = data.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var line = 1, column = 1, offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                if encoded.count == 1 && encoded.first == 0x0A {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                return (line, column, offset, data[data.startIndex + offset])
            case .emptyInput:
                return (line, column, offset, 0)
            }
        }
    }

    private func parse(_ path: String, identity: String, reference: SourceLocation?) throws(DiagnosticError) -> ProfileFile {
        let at = reference ?? SourceLocation(file: path, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DiagnosticError(.error("no such profile '\(path)'", at: at))
        }
        guard !isDirectory.boolValue else { throw DiagnosticError(.error("'\(path)' is a directory, not a profile", at: at)) }
        guard let data = fileManager.contents(atPath: path) else {
            throw DiagnosticError(.error("cannot read profile '\(path)'", at: at))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let invalid = Self.firstInvalidByte(in: data)
            throw DiagnosticError(.error("profile is not valid UTF-8: byte 0x\(String(format: "%02X", invalid.byte)) at byte offset \(invalid.offset) cannot start or continue a character",
                                         at: SourceLocation(file: path, line: invalid.line, column: invalid.column)))
        }
        let root: ValueNode?
        switch Paths.format(of: path) {
        case .yaml: root = try YAMLReader.read(text, file: path)
        case .jsonc: root = try JSONCReader.read(text, file: path)
        case nil:
            throw DiagnosticError(.error("unknown profile format for '\(path)' (expected .yaml, .yml, .json or .jsonc)", at: at))
        }
        guard let root else { return ProfileFile(path: path, identity: identity, root: []) }
        guard case .map(let entries) = root.value else {
            throw DiagnosticError(.error("a profile must be a map of sections, got a \(root.value.kindName)", at: root.location))
        }
        return ProfileFile(path: path, identity: identity, root: entries)
    }
}

/// Path handling for profiles: lexical joins for what users see, real paths for identity.
enum Paths {
    enum Format { case yaml, jsonc }

    static func format(of path: String) -> Format? {
        let lower = path.lowercased()
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return .yaml }
        if lower.hasSuffix(".json") || lower.hasSuffix(".jsonc") { return .jsonc }
        return nil
    }

    /// `relative` resolved against the directory of `referrer`, normalized lexically.
    static func join(_ relative: String, toDirectoryOf referrer: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        let directory = Path.parent(referrer)
        return normalize(directory.isEmpty ? relative : directory + "/" + relative)
    }

    /// Removes `.` and folds `dir/..` without touching the file system, keeping leading `..`.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", absolute, parts.isEmpty { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func identity(of path: String) -> String {
        // realpath(3) resolves symlinks in one call; a file that does not exist keeps its lexical form.
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return normalize(absolute)
    }
}

import Foundation
import StackSystem

/// What one part installed, recorded like buildout's `.installed.cfg`.
public struct InstalledFile: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, directory, secret }

    /// Relative to the instance directory.
    public var path: String
    public var kind: Kind
    public var mode: Int
    public var contents: Output.Contents?

    public init(path: String, kind: Kind, mode: Int, contents: Output.Contents? = nil) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.contents = contents
    }
}

public struct InstalledPart: Codable, Sendable {
    public var name: String
    public var recipe: String
    /// SHA-256 of the recipe, its resolved options and what else shapes its output.
    public var hash: String
    /// False while the part is being installed: a run killed half-way reinstalls it.
    public var complete: Bool
    /// Each option's value as canonical JSON, to say which option changed.
    public var options: [String: String]
    public var files: [InstalledFile]
}

/// `<root>/<instance>/.installed.json`: the parts of one instance, in install order.
public struct InstalledState: Codable, Sendable {
    public var version = 1
    public var instance: String
    public var parts: [InstalledPart]

    public static let fileName = ".installed.json"

    static func load(_ path: String, from fileSystem: any FileSystem) throws(MaterializeError) -> InstalledState? {
        guard let data = try? fileSystem.readIfPresent(path) else { return nil }
        do { return try JSONDecoder().decode(InstalledState.self, from: data) } catch {
            throw MaterializeError(.state, "cannot read the installed state: \(error)", path: path,
                               remedy: "restore the file, or remove the instance directory and install again")
        }
    }

    func save(to path: String, in filesystem: Confined) throws(MaterializeError) {
        let data = try encodeSorted(self)
        try io { () throws(SystemError) in try filesystem.write(data, to: path, mode: 0o644) }
    }
}

/// `<root>/.stackc-installed.json`: which instances this root holds, so dropped ones are removed.
struct RootState: Codable, Sendable {
    var version = 1
    var instances: [String]

    static let fileName = ".stackc-installed.json"
}

/// Pretty JSON with sorted keys and a final newline; a value that cannot be encoded is a bug,
/// never an empty file written in its place.
func encodeSorted<T: Encodable>(_ value: T) throws(MaterializeError) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    do { return try encoder.encode(value) + Data("\n".utf8) } catch {
        let report = BugReport("cannot encode \(T.self) as JSON", cause: ErrorText(String(describing: error)))
        throw MaterializeError(.bug, report.message, remedy: report.remedy, cause: report.cause)
    }
}

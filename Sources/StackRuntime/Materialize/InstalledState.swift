import Foundation

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

    static func load(_ path: String) throws(RuntimeError) -> InstalledState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(InstalledState.self, from: data) } catch {
            throw RuntimeError(.state, "cannot read the installed state: \(error)", path: path,
                               remedy: "restore the file, or remove the instance directory and install again")
        }
    }

    func save(to path: String, in filesystem: Confined) throws(RuntimeError) {
        try filesystem.write(encodeSorted(self), to: path, mode: 0o644)
    }
}

/// `<root>/.stackc-installed.json`: which instances this root holds, so dropped ones are removed.
struct RootState: Codable, Sendable {
    var version = 1
    var instances: [String]

    static let fileName = ".stackc-installed.json"
}

func encodeSorted<T: Encodable>(_ value: T) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return ((try? encoder.encode(value)) ?? Data()) + Data("\n".utf8)
}

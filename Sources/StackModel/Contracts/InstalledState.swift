import Foundation

/// What one part installed, recorded like buildout's `.installed.cfg`.
public struct InstalledFile: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case file, directory, secret }

    /// Relative to the instance directory.
    public var path: String
    public var kind: Kind
    public var mode: Int
    public var contents: Contents?

    /// What removing a directory means.
    public enum Contents: String, Sendable, Codable {
        /// Holds data (backups, archives): removed only with --allow-data-loss.
        case data
        /// Holds transient entries (queues): removed with what is in it.
        case transient
        /// Removed when empty, otherwise left in place.
        case plain
    }

    public init(path: String, kind: Kind, mode: Int, contents: Contents? = nil) {
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

    public init(name: String, recipe: String, hash: String, complete: Bool, options: [String: String], files: [InstalledFile]) {
        self.name = name
        self.recipe = recipe
        self.hash = hash
        self.complete = complete
        self.options = options
        self.files = files
    }
}

/// `<root>/<instance>/.installed.json`: the parts of one instance, in install order.
public struct InstalledState: Codable, Sendable {
    public var version = 1
    public var instance: String
    public var parts: [InstalledPart]

    public static let fileName = ".installed.json"

    public init(instance: String, parts: [InstalledPart]) {
        self.instance = instance
        self.parts = parts
    }
}

/// `<root>/.stackc-installed.json`: which instances this root holds, so dropped ones are removed.
public struct RootState: Codable, Sendable {
    public var version = 1
    public var instances: [String]

    public static let fileName = ".stackc-installed.json"

    public init(instances: [String]) { self.instances = instances }
}

/// Pretty JSON with sorted keys and a final newline; a value that cannot be encoded is a bug,
/// never an empty file written in its place.

import Foundation
import StackModel
import StackSystem

extension Part {
    /// A required option the compiler has typed; its absence is stackc's bug, not the profile's.
    func required<T>(_ option: RecipeCatalog.Option, _ read: (RecipeCatalog.Option) -> T?) throws(MaterializeError) -> T {
        guard let value = read(option) else {
            throw MaterializeError(.bug, "part '\(name)' reached install without its option '\(option.rawValue)' typed",
                                   remedy: BugReport("").remedy)
        }
        return value
    }
}

/// What the materializer knows about the instance a part belongs to.
public struct PartitionContext: Sendable {
    public var instance: String
    /// Absolute path of the instance directory.
    public var directory: String
    /// Absolute path of the stackc binary the wrappers call.
    public var stackc: String
    public var templates: Templates
    /// Absolute queue directory of each instance that has one, for notifier lists.
    public var queues: [String: String]
    /// The user cron entries run as.
    public var user: String

    public init(instance: String, directory: String, stackc: String, templates: Templates, queues: [String: String], user: String) {
        self.instance = instance
        self.directory = directory
        self.stackc = stackc
        self.templates = templates
        self.queues = queues
        self.user = user
    }
}

/// One thing a part puts in the instance directory.
public struct Output: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file(Data, mode: Int)
        /// A directory. `contents` says what removing it means.
        case directory(mode: Int, contents: Contents)
        /// A random token, generated once and kept across reinstalls.
        case secret(bytes: Int)
    }

    public typealias Contents = InstalledFile.Contents

    /// Relative to the instance directory.
    public var path: String
    public var kind: Kind
}

/// A recipe: the options it reads and what it installs. Outputs are computed in memory; the
/// default install / update / uninstall write and remove them, and a recipe overrides what it
/// must (a secret is generated once and kept).
public protocol Recipe: Sendable {
    static var name: String { get }
    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output]
    func install(_ outputs: [Output], in filesystem: Confined, instance: String) throws(MaterializeError) -> [InstalledFile]
    func uninstall(_ files: [InstalledFile], in filesystem: Confined, instance: String, allowDataLoss: Bool) throws(MaterializeError)
}

extension Recipe {
    public func install(_ outputs: [Output], in filesystem: Confined, instance: String) throws(MaterializeError) -> [InstalledFile] {
        var installed: [InstalledFile] = []
        for output in outputs {
            let path = try filesystem.within(instance + "/" + output.path)
            switch output.kind {
            case .file(let data, let mode):
                try io { () throws(SystemError) in try filesystem.write(data, to: path, mode: mode) }
                installed.append(InstalledFile(path: output.path, kind: .file, mode: mode))
            case .directory(let mode, let contents):
                try io { () throws(SystemError) in try filesystem.makeDirectory(path, mode: mode) }
                installed.append(InstalledFile(path: output.path, kind: .directory, mode: mode, contents: contents))
            case .secret(let bytes):
                // Generated once: an existing token is kept, so peers holding it keep working.
                if !filesystem.exists(path) {
                    var generator = SystemRandomNumberGenerator()
                    let token = Hex.string((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
                    try io { () throws(SystemError) in
                        try filesystem.makeDirectory(Path.parent(path), mode: 0o700)
                        try filesystem.write(Data((token + "\n").utf8), to: path, mode: 0o600)
                    }
                }
                installed.append(InstalledFile(path: output.path, kind: .secret, mode: 0o600))
            }
        }
        return installed
    }

    public func uninstall(_ files: [InstalledFile], in filesystem: Confined, instance: String, allowDataLoss: Bool) throws(MaterializeError) {
        let base = filesystem.root + "/" + instance
        for file in files.reversed() {
            let path = try filesystem.within(instance + "/" + file.path)
            switch file.kind {
            case .file, .secret:
                try io { () throws(SystemError) in try filesystem.removeFile(path) }
            case .directory:
                switch file.contents ?? .plain {
                case .data:
                    if filesystem.usage(of: path).files > 0 && !allowDataLoss {
                        throw MaterializeError(.dataLoss, "'\(file.path)' of instance '\(instance)' holds data", path: path,
                                           remedy: "pass --allow-data-loss to remove it")
                    }
                    try io { () throws(SystemError) in try filesystem.removeTree(path) }
                case .transient:
                    try io { () throws(SystemError) in try filesystem.removeTree(path) }
                case .plain:
                    filesystem.removeIfEmpty(path)  // left in place when something else lives there
                }
            }
            filesystem.pruneEmptyDirectories(from: Path.parent(path), upTo: base)
        }
    }
}

extension Confined {
    /// `relative` under the root, or the refusal as a materializing failure.
    func within(_ relative: String) throws(MaterializeError) -> String {
        do { return try resolve(relative) } catch { throw .escape(error) }
    }
}

/// A file-system step of install, its failure named by the call and path that failed.
@discardableResult
func io<T>(_ body: () throws(SystemError) -> T) throws(MaterializeError) -> T {
    do { return try body() } catch { throw .fileSystem("cannot \(error.operation)", error) }
}

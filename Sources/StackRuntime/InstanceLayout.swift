import StackModel
import StackSystem

/// Where the runtime finds what install put in an instance directory (README, "The partition
/// layout"): the one description of those paths the runtime's jobs read.
public struct InstanceLayout: Sendable, Equatable {
    /// The instance directory, absolute.
    public let directory: String

    /// `directory` must be absolute; `relative` paths the wrappers pass (`srv/backup/postgres`,
    /// `var/queue`) resolve under it and may not leave it.
    public init(directory: String) {
        self.directory = directory
    }

    /// A path the wrapper passed, under the instance directory; nil when it would leave it.
    public func resolve(_ relative: String) -> String? {
        if Path.isAbsolute(relative) {
            return relative.utf8.starts(with: (directory + "/").utf8) && !Path.components(relative).contains("..") ? relative : nil
        }
        guard !relative.isEmpty, Path.staysInside(relative) else { return nil }
        return directory + "/" + Path.normalized(relative)
    }

    public var installedState: String { directory + "/.installed.json" }
    public var log: String { directory + "/var/log" }
    public var run: String { directory + "/var/run" }

    /// The dump directory of a software (`srv/backup/<software>`).
    public func dump(of software: String) -> String { directory + "/srv/backup/" + software }
}

/// What every runtime job is given: the world it runs in and the instance it runs for.
public struct JobContext: Sendable {
    public var world: SystemWorld
    public var instance: String
    public var layout: InstanceLayout

    public init(world: SystemWorld, instance: String, layout: InstanceLayout) {
        self.world = world
        self.instance = instance
        self.layout = layout
    }
}

import Foundation

/// Facts about the machine and this process, read once by the CLI and passed down: nothing below
/// the CLI asks the operating system who or where it is.
public struct HostFacts: Sendable {
    public var hostname: String
    /// The effective user's name.
    public var user: String
    public var pid: Int32
    /// Cores work may be spread over (at least 1).
    public var cores: Int
    /// The absolute path of the running stackc: wrappers call the stackc that installed them.
    public var executable: String

    public init(hostname: String, user: String, pid: Int32, cores: Int, executable: String) {
        self.hostname = hostname
        self.user = user
        self.pid = pid
        self.cores = max(1, cores)
        self.executable = executable
    }

    /// This process on this machine.
    public static func current() -> HostFacts {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        var user = "root"
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { user = String(cString: name) }
        return HostFacts(hostname: ProcessInfo.processInfo.hostName, user: user, pid: getpid(),
                         cores: ProcessInfo.processInfo.activeProcessorCount, executable: executable)
    }
}

/// Whether a process with this pid exists on this host (a pid that may have been reused: use an
/// flock where that matters).
public func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || Glibc.errno != ESRCH
}

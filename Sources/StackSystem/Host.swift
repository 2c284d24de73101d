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

/// A process's start time since boot, in clock ticks (`/proc/PID/stat`, field 22): with its pid,
/// it names one process for good, as a pid alone does not once the pid is reused.
public func processStartTime(_ pid: Int32) -> UInt64? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    // After the command (which may hold spaces and parentheses): state is field 3, start time 22.
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 19 ? UInt64(fields[19]) : nil
}

/// Whether something already listens on, or holds, `address:port` (TCP, IPv4): a bind that fails
/// with EADDRINUSE.
public func portIsTaken(address: String, port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
    guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else { return false }
    let result = withUnsafePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return result != 0 && errno == EADDRINUSE
}

import Logging

/// Everything outside stackc that its libraries touch, in one value: the CLI builds the real one
/// (`SystemWorld.real`), tests build theirs from a manual clock, an in-memory file system and a
/// recording process runner.
public struct SystemWorld: Sendable {
    public var clock: any StackClock
    public var fileSystem: any FileSystem
    public var processes: any ProcessRunner
    public var host: HostFacts
    public var progress: any ProgressSink
    public var logger: Logger

    public init(clock: any StackClock, fileSystem: any FileSystem, processes: any ProcessRunner, host: HostFacts,
                progress: any ProgressSink, logger: Logger) {
        self.clock = clock
        self.fileSystem = fileSystem
        self.processes = processes
        self.host = host
        self.progress = progress
        self.logger = logger
    }

    /// This machine: its clock, file system and processes. `showProgress` draws progress lines on
    /// stderr (the CLI passes whether stderr is a terminal).
    public static func real(logger: Logger, showProgress: Bool) -> SystemWorld {
        let clock = SystemClock()
        return SystemWorld(clock: clock, fileSystem: LocalFileSystem(), processes: SubprocessRunner(clock: clock),
                           host: .current(), progress: showProgress ? TerminalProgress(clock: clock) : NoProgress(), logger: logger)
    }
}

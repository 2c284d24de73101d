import Foundation
import Logging
import StackArchive
import StackSystem

/// The worlds tests run in.
public enum TestWorld {
    /// This machine's clock, disk and processes, with a recording logger: for tests whose point
    /// is the real world (files, processes, crashes).
    public static func real(logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) -> SystemWorld {
        let clock = SystemClock()
        return SystemWorld(clock: clock, fileSystem: LocalFileSystem(), processes: SubprocessRunner(clock: clock),
                           host: .current(), progress: NoProgress(), logger: logger)
    }

    /// A manual clock, an in-memory file system and a recording process runner: for tests whose
    /// point is logic (schedules, backoff, supersession), which then run in milliseconds.
    public static func simulated(clock: ManualClock = ManualClock(), fileSystem: InMemoryFileSystem = InMemoryFileSystem(),
                                 processes: RecordingProcessRunner = RecordingProcessRunner(), cores: Int = 2,
                                 logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) -> SystemWorld {
        SystemWorld(clock: clock, fileSystem: fileSystem, processes: processes,
                    host: HostFacts(hostname: "test-host", user: "stackc", pid: 4242, cores: cores, executable: "/opt/stackc/bin/stackc"),
                    progress: NoProgress(), logger: logger)
    }
}

extension ArchiveContext {
    /// The real machine, notices recorded into `logger` (silent by default).
    public static func forTests(logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }) -> ArchiveContext {
        ArchiveContext(world: TestWorld.real(logger: logger))
    }
}

import Foundation
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

    /// The root the instance lives in (a peer on this machine is a sibling directory).
    public var root: String { Path.parent(directory) }
    public var name: String { Path.name(directory) }

    public var installedState: String { directory + "/.installed.json" }
    public var log: String { directory + "/var/log" }
    public var run: String { directory + "/var/run" }
    public var state: String { directory + "/var/state" }
    public var scratch: String { directory + "/var/tmp" }
    public var events: String { log + "/events.jsonl" }
    public var importHistory: String { log + "/imports.jsonl" }
    public var services: String { directory + "/etc/service" }

    /// The dump directory of a software (`srv/backup/<software>`).
    public func dump(of software: String) -> String { directory + "/srv/backup/" + software }
    /// The lock a dump directory's swap is made under.
    public var dumpLock: String { run + "/dump.lock" }
    public func record(_ job: String) -> String { state + "/" + job + ".json" }
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

    var fileSystem: any FileSystem { world.fileSystem }
    var now: Date { world.clock.date }
    var holder: String { "process \(world.host.pid) on \(world.host.hostname)" }
    var log: EventLog { EventLog(path: layout.events, fileSystem: fileSystem) }

    /// Creates the runtime's own directories under the instance (var/state, var/run, var/tmp, var/log).
    func prepare() throws(RuntimeError) {
        guard fileSystem.isDirectory(layout.directory) else {
            throw RuntimeError(.layout, "\(layout.directory) is not an instance directory", remedy: "run 'stackc install' first, then the wrapper from its instance")
        }
        for (path, mode) in [(layout.directory + "/var", 0o755), (layout.state, 0o700), (layout.run, 0o755), (layout.scratch, 0o700), (layout.log, 0o750)]
        where !fileSystem.isDirectory(path) {
            do { try fileSystem.createDirectory(path, mode: mode) } catch where error.errno == .exists {} catch {
                throw .io("cannot create \(path)", error)
            }
        }
    }

    func load<Record: Decodable>(_ type: Record.Type, _ job: String, default empty: Record) -> Record {
        guard let data = try? fileSystem.read(layout.record(job)) else { return empty }
        return (try? ContractCoding.decode(type, from: data)) ?? empty
    }

    func save<Record: Encodable>(_ record: Record, _ job: String) throws(RuntimeError) {
        do {
            let data = try ContractCoding.pretty(record)
            try fileSystem.write(data, to: layout.record(job), mode: 0o600, durability: .synced)
        } catch let error as SystemError {
            throw .io("cannot record the \(job)'s state in \(layout.record(job))", error)
        } catch {
            throw RuntimeError(.io, "cannot encode the \(job)'s state", cause: ErrorText("\(error)"))
        }
    }

    /// Takes a job's lock at once or says who holds it.
    func lockOrRefuse(_ path: String, what: String) throws(RuntimeError) -> FileLock {
        let lock: FileLock?
        do { lock = try fileSystem.lock(path, holder: holder + " since " + Timestamp.format(now), wait: false) } catch {
            throw .io("cannot take the lock \(path)", error)
        }
        guard let lock else {
            throw RuntimeError(.locked, "\(what) of \(instance) is already running (\(fileSystem.lockHolder(path) ?? "holder unknown"))",
                               remedy: "wait for it to finish; the lock is released when that process ends")
        }
        return lock
    }

    /// Waits for a lock a peer holds for a moment (a dump directory's swap).
    func lockWaiting(_ path: String) throws(RuntimeError) -> FileLock {
        do {
            // A peer that never ran has no var/run yet.
            if !fileSystem.isDirectory(Path.parent(path)) { try fileSystem.createDirectories(Path.parent(path), mode: 0o755) }
            if let lock = try fileSystem.lock(path, holder: holder, wait: true) { return lock }
        } catch {
            throw .io("cannot take the lock \(path)", error)
        }
        throw RuntimeError(.locked, "the lock \(path) is held", remedy: "try again")
    }

    /// The software's backup or restore command, under `flock(1)` on `var/run/software.lock`:
    /// the lock is the command's own, so a stackc killed with SIGKILL leaves it held until the
    /// command it started has ended, and the next run waits for that instead of racing it.
    func underSoftwareLock(_ program: String, environment: [String: String]) -> ProcessRequest {
        ProcessRequest("/usr/bin/flock", [layout.run + "/software.lock", program], environment: environment, workingDirectory: layout.directory)
    }

    /// Runs a program of the instance and waits for it, from synchronous code.
    func run(_ request: ProcessRequest) throws(ProcessFailure) -> ProcessOutcome {
        let processes = world.processes
        let box = ResultBox<ProcessOutcome, ProcessFailure>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do throws(ProcessFailure) { box.set(.success(try await processes.run(request))) } catch { box.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try box.get()
    }
}

/// A value handed from a task to the thread waiting for it.
final class ResultBox<Success: Sendable, Failure: Error>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Success, Failure>?

    func set(_ value: Result<Success, Failure>) {
        lock.lock()
        result = value
        lock.unlock()
    }

    func get() throws(Failure) -> Success {
        lock.lock()
        defer { lock.unlock() }
        return try result!.get()
    }
}

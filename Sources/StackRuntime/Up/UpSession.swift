import Foundation
import Logging
import StackModel
import StackSystem

/// What `stackc up` runs, taken from the compiled graph and the installed instances.
public struct UpPlan: Sendable {
    /// A cron entry `install` wrote, run in-process on its schedule (jitter applied).
    public struct ScheduledJob: Sendable {
        public var instance: String
        public var name: String
        /// Absolute program and its arguments.
        public var command: [String]
        public var schedule: CronSchedule

        public init(instance: String, name: String, command: [String], schedule: CronSchedule) {
            self.instance = instance
            self.name = name
            self.command = command
            self.schedule = schedule
        }
    }

    /// A queue and the wrapper that drains it (`bin/pull`, `bin/importer`).
    public struct QueueJob: Sendable {
        public var instance: String
        public var queue: String
        public var command: [String]

        public init(instance: String, queue: String, command: [String]) {
            self.instance = instance
            self.queue = queue
            self.command = command
        }
    }

    public struct Service: Sendable {
        public var definition: ServiceDefinition
        /// Where the profile set its port (`file:line:column`), for a port that is taken.
        public var portSetAt: String?

        public init(definition: ServiceDefinition, portSetAt: String?) {
            self.definition = definition
            self.portSetAt = portSetAt
        }
    }

    public var root: String
    public var services: [Service]
    public var scheduled: [ScheduledJob]
    public var queueJobs: [QueueJob]
    /// Each export and its `bin/exporter`.
    public var exports: [String: [String]]
    /// Each import and the export whose data it holds.
    public var imports: [String: String]
    /// Each pull-backup and the export it pulls from.
    public var pullBackups: [String: String]

    public init(root: String, services: [Service], scheduled: [ScheduledJob], queueJobs: [QueueJob], exports: [String: [String]],
                imports: [String: String], pullBackups: [String: String]) {
        self.root = root
        self.services = services
        self.scheduled = scheduled
        self.queueJobs = queueJobs
        self.exports = exports
        self.imports = imports
        self.pullBackups = pullBackups
    }
}

/// `<root>/.stackc-up.json`: the processes a running `up` started, by pid and start time, so the
/// next `up` stops what a killed one left behind (a pid alone may have been reused since).
public struct UpRecord: Codable, Sendable, Equatable {
    public struct Started: Codable, Sendable, Equatable {
        public var pid: Int32
        public var startTime: UInt64
        public var instance: String
        public var name: String
    }

    public var pid: Int32
    public var processes: [Started]
}

/// One `stackc up`: supervises the services, runs the cron entries on the injected clock, and
/// starts a queue's worker as soon as an entry lands in it (inotify, no polling), until `stop()`.
public actor UpSession {
    let plan: UpPlan
    let world: SystemWorld
    let launcher: any ProcessLauncher
    let calendar: Calendar
    var random: SeededGenerator
    let say: @Sendable (String) -> Void

    private var started: [String: any LaunchedProcess] = [:]
    private var running: Set<String> = []
    /// Queues whose worker is running or about to; `pending`: an entry arrived meanwhile.
    private var draining: Set<String> = []
    private var pending: Set<String> = []
    private var tasks: [Task<Void, Never>] = []
    private var stopping = false
    private var watcher: DirectoryWatcher?
    private var lock: FileLock?

    /// `say` gets the lines a person watching `up` reads (started, restarted, skipped).
    public init(plan: UpPlan, world: SystemWorld, launcher: any ProcessLauncher, calendar: Calendar = Calendar(identifier: .gregorian),
                seed: UInt64 = UInt64.random(in: 0...UInt64.max), say: @escaping @Sendable (String) -> Void) {
        self.plan = plan
        self.world = world
        self.launcher = launcher
        var calendar = calendar
        calendar.timeZone = TimeZone.current
        self.calendar = calendar
        self.random = SeededGenerator(state: seed)
        self.say = say
    }

    var recordPath: String { plan.root + "/.stackc-up.json" }

    // MARK: starting and stopping

    /// Stops what a killed `up` left, starts every service and waits until each is ready, then
    /// starts the schedules and the queue watchers.
    public func start(schedules: Bool = true) async throws(RuntimeError) {
        let lockPath = plan.root + "/.stackc-up.lock"
        let taken: FileLock?
        do { taken = try world.fileSystem.lock(lockPath, holder: "process \(world.host.pid)", wait: false) } catch {
            throw .io("cannot lock \(lockPath)", error)
        }
        guard let taken else {
            throw RuntimeError(.locked, "'stackc up' is already running for \(plan.root) (\(world.fileSystem.lockHolder(lockPath) ?? "holder unknown"))",
                               remedy: "stop it first (SIGINT or SIGTERM), or work with the running one")
        }
        lock = taken
        await stopLeftovers()
        for service in plan.services {
            try await startService(service)
        }
        if schedules {
            for job in plan.scheduled { tasks.append(Task { await self.schedule(job) }) }
        }
        try watchQueues()
    }

    /// Signals every process it started (services last, so jobs end first), waits for them, and
    /// forgets the record.
    public func stop() async {
        stopping = true
        watcher?.stop()
        for task in tasks { task.cancel() }
        // Jobs first, all at once, then the services, all at once, each with its stop signal.
        for services in [false, true] {
            let group = started.filter { $0.key.hasPrefix("service/") == services }
            await withTaskGroup(of: Void.self) { tasks in
                for (key, process) in group {
                    let signal = services ? stopSignal(for: key) : SIGTERM
                    tasks.addTask { await self.terminate(process, with: signal) }
                }
            }
        }
        started = [:]
        try? world.fileSystem.removeFile(recordPath)
        lock?.unlock()
    }

    private func stopSignal(for key: String) -> Int32 {
        let name = plan.services.first { "service/\($0.definition.instance)/\($0.definition.name)" == key }?.definition.stopSignal
        return ["INT": SIGINT, "QUIT": SIGQUIT, "HUP": SIGHUP][name ?? ""] ?? SIGTERM
    }

    /// The signal, then SIGKILL if the process has not ended 20 s later.
    private nonisolated func terminate(_ process: any LaunchedProcess, with signal: Int32) async {
        process.signal(signal)
        let deadline = Task { [clock = world.clock] in
            do { try await Self.sleep(clock, seconds: 20) } catch { return }
            process.signal(SIGKILL)
        }
        _ = await process.exitStatus()
        deadline.cancel()
    }

    private func stopLeftovers() async {
        guard let data = try? world.fileSystem.read(recordPath), let record = try? ContractCoding.decode(UpRecord.self, from: data) else { return }
        for process in record.processes where processStartTime(process.pid) == process.startTime {
            say("stopping \(process.name) of \(process.instance) (pid \(process.pid)), left running by an 'up' that was killed")
            kill(process.pid, SIGTERM)
            for _ in 0..<300 where processStartTime(process.pid) == process.startTime {
                try? await Self.sleep(world.clock, seconds: 0.1)
            }
            if processStartTime(process.pid) == process.startTime { kill(process.pid, SIGKILL) }
        }
        try? world.fileSystem.removeFile(recordPath)
    }

    private func saveRecord() {
        let processes = started.sorted { $0.key < $1.key }.compactMap { key, process -> UpRecord.Started? in
            guard let start = processStartTime(process.pid) else { return nil }
            let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
            return UpRecord.Started(pid: process.pid, startTime: start, instance: parts.count > 1 ? parts[1] : "", name: parts.last ?? key)
        }
        if let data = try? ContractCoding.pretty(UpRecord(pid: world.host.pid, processes: processes)) {
            try? world.fileSystem.write(data, to: recordPath, mode: 0o600, durability: .whole)
        }
    }

    static func sleep<C: StackClock>(_ clock: C, seconds: Double) async throws {
        // Rounded up: a sleep never ends before the time it was meant to reach.
        try await clock.sleep(for: .milliseconds(Int64((max(0, seconds) * 1000).rounded(.up))))
    }

    // MARK: services

    private func startService(_ service: UpPlan.Service) async throws(RuntimeError) {
        let definition = service.definition
        let directory = plan.root + "/" + definition.instance
        if let address = definition.address, let port = definition.port, portIsTaken(address: address, port: port) {
            throw RuntimeError(.layout, "\(definition.instance)'s \(definition.name) cannot listen on \(address):\(port): the port is taken"
                               + (service.portSetAt.map { " (set at \($0))" } ?? ""),
                               remedy: "stop what holds it, or give \(definition.instance) another port in the profile")
        }
        let key = "service/" + definition.instance + "/" + definition.name
        let log = directory + "/var/log/" + definition.name + ".log"
        let process: any LaunchedProcess
        do { process = try launcher.launch(definition.command, directory: directory, log: log, environment: [:]) } catch {
            throw RuntimeError(.commandFailed, "cannot start \(definition.name) of \(definition.instance)", cause: error)
        }
        started[key] = process
        saveRecord()
        let began = world.clock.date
        let exited = ExitWatch(process)
        while true {
            if let status = exited.status {
                started[key] = nil
                saveRecord()
                throw RuntimeError(.commandFailed, "\(definition.name) of \(definition.instance) exited with status \(status) before it was ready",
                                   remedy: "see \(log)")
            }
            if await isReady(definition, directory: directory) { break }
            if world.clock.date.timeIntervalSince(began) > 120 {
                throw RuntimeError(.commandFailed, "\(definition.name) of \(definition.instance) was not ready after 120 s", remedy: "see \(log)")
            }
            try? await Self.sleep(world.clock, seconds: 0.2)
        }
        if let setup = definition.setup, let program = setup.first {
            let environment = definition.environment ?? [:]
            let outcome = try? await world.processes.run(ProcessRequest(program, Array(setup.dropFirst()), environment: environment, workingDirectory: directory,
                                                                       timeout: .seconds(120)))
            guard let outcome, outcome.succeeded else {
                throw RuntimeError(.commandFailed, "the setup of \(definition.name) of \(definition.instance) failed" + (outcome.map { ": " + $0.errorTail(lines: 3) } ?? ""))
            }
        }
        say("started \(definition.name) for \(definition.instance)" + (definition.port.map { " (\(definition.address ?? "*"):\($0))" } ?? ""))
        tasks.append(Task { await self.supervise(service, process: process) })
    }

    private func isReady(_ definition: ServiceDefinition, directory: String) async -> Bool {
        guard let program = definition.ready.first else { return true }
        let request = ProcessRequest(program, Array(definition.ready.dropFirst()), workingDirectory: directory, timeout: .seconds(10))
        return (try? await world.processes.run(request))?.succeeded ?? false
    }

    /// Restarts a service that died, after 1, 2, 4 … 60 s; a run of a minute resets the delay.
    private func supervise(_ service: UpPlan.Service, process: any LaunchedProcess) async {
        var process = process
        var delay = 1.0
        let definition = service.definition
        let key = "service/" + definition.instance + "/" + definition.name
        while !Task.isCancelled {
            let began = world.clock.date
            let status = await process.exitStatus()
            guard !stopping, !Task.isCancelled else { return }
            if world.clock.date.timeIntervalSince(began) > 60 { delay = 1 }
            say("\(definition.name) of \(definition.instance) exited with status \(status); restarting in \(Int(delay)) s")
            world.logger.warning("\(definition.name) of \(definition.instance) exited with status \(status); restarting in \(Int(delay)) s")
            try? await Self.sleep(world.clock, seconds: delay)
            guard !stopping, !Task.isCancelled else { return }
            delay = min(60, delay * 2)
            do {
                process = try launcher.launch(definition.command, directory: plan.root + "/" + definition.instance,
                                              log: plan.root + "/" + definition.instance + "/var/log/" + definition.name + ".log", environment: [:])
                started[key] = process
                saveRecord()
            } catch {
                say("cannot restart \(definition.name) of \(definition.instance): \(error)")
            }
        }
    }

    // MARK: jobs

    /// How many jobs run now (for a test to wait until the session is quiet).
    public var runningJobs: Int { running.count }

    /// Runs a job unless its previous run is still going (the overlap guard: the skip is logged).
    /// Returns its exit status, or nil when skipped.
    @discardableResult
    func runJob(_ key: String, instance: String, command: [String]) async -> Int32? {
        guard !stopping else { return nil }
        guard !running.contains(key) else {
            say("skipped \(key): its previous run is still going")
            world.logger.notice("skipped \(key) of \(instance): its previous run is still going")
            return nil
        }
        running.insert(key)
        defer { running.remove(key) }
        let directory = plan.root + "/" + instance
        let name = Path.name(command.first ?? "job")
        let process: any LaunchedProcess
        do { process = try launcher.launch(command, directory: directory, log: directory + "/var/log/" + name + ".log", environment: [:]) } catch {
            say("cannot start \(key): \(error)")
            return 127
        }
        started["job/" + instance + "/" + key] = process
        saveRecord()
        let status = await process.exitStatus()
        started["job/" + instance + "/" + key] = nil
        saveRecord()
        return status
    }

    /// A cron entry on the injected clock: sleeps until its next minute, runs, again.
    func schedule(_ job: UpPlan.ScheduledJob) async {
        // Each fire is computed from the previous one, not from a clock that may read a hair
        // before the minute after a sleep: every minute of the schedule fires once.
        var after = world.clock.date
        while !Task.isCancelled && !stopping {
            guard let next = job.schedule.next(after: after, calendar: calendar) else { return }
            while world.clock.date < next {
                do { try await Self.sleep(world.clock, seconds: next.timeIntervalSince(world.clock.date)) } catch { return }
            }
            guard !stopping else { return }
            after = next
            // Not awaited: a run that outlasts the interval must not delay the next fire, which the guard then skips.
            tasks.append(Task { await self.runJob(job.name, instance: job.instance, command: job.command) })
        }
    }

    // MARK: queues

    private func watchQueues() throws(RuntimeError) {
        guard !plan.queueJobs.isEmpty else { return }
        let watcher: DirectoryWatcher
        do {
            watcher = try DirectoryWatcher()
            for job in plan.queueJobs {
                let queue = Spool(directory: job.queue, fileSystem: world.fileSystem, clock: world.clock, holder: "up")
                try queue.prepare()
                try watcher.watch(job.queue + "/new")
            }
        } catch {
            throw .io("cannot watch the queues", error)
        }
        watcher.start { [weak self] directory in
            guard let self else { return }
            Task { await self.queueChanged(Path.parent(directory)) }
        }
        self.watcher = watcher
        // Whatever waited before up started is worked on now.
        for job in plan.queueJobs { queueChanged(job.queue) }
    }

    func queueChanged(_ queuePath: String) {
        guard let job = plan.queueJobs.first(where: { $0.queue == queuePath }), !stopping else { return }
        let key = job.instance + "-worker"
        guard !draining.contains(key) else {
            pending.insert(key)
            return
        }
        draining.insert(key)
        tasks.append(Task { await self.drain(job, key: key) })
    }

    /// Runs the worker until nothing new arrived during its run; an entry backing off is worked
    /// on again when it is due.
    private func drain(_ job: UpPlan.QueueJob, key: String) async {
        repeat {
            pending.remove(key)
            await runJob(key, instance: job.instance, command: job.command)
        } while pending.contains(key) && !stopping
        draining.remove(key)
        let queue = Spool(directory: job.queue, fileSystem: world.fileSystem, clock: world.clock, holder: "up")
        if let due = queue.nextDue, !stopping {
            let wait = max(0.1, due.timeIntervalSince(world.clock.date))
            let clock = world.clock
            tasks.append(Task {
                try? await Self.sleep(clock, seconds: wait)
                self.queueChanged(job.queue)
            })
        }
    }
}

/// Whether a launched process has ended yet, without waiting for it.
final class ExitWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32?

    init(_ process: any LaunchedProcess) {
        Task { [self] in self.set(await process.exitStatus()) }
    }

    private func set(_ status: Int32) {
        lock.lock()
        value = status
        lock.unlock()
    }

    var status: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

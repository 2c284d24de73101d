import ArgumentParser
import Dispatch
import Foundation
import StackCompiler
import StackMaterialize
import StackModel
import StackRuntime
import StackSystem

/// `stackc up PROFILE --root DIR [--once]`: the whole stack on this machine.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Install the profile, start its services, run its schedules and queues until SIGINT or SIGTERM (or one cycle with --once).")

    @Argument(help: "The deployment profile.")
    var profile: String

    @OptionGroup var options: MaterializeOptions

    @Flag(help: "Run one full cycle (every export once, until every import applied it or failed), then stop; exit 0 only if every import holds the export's latest dump.")
    var once = false

    func run() throws {
        var options = options
        options.root = Self.absolute(options.root)
        let graph = try compiledGraph(profile)
        let world = CLI.world
        if !world.fileSystem.isDirectory(options.root) {
            try world.fileSystem.createDirectories(options.root, mode: 0o755)
        }
        try Self.checkReachable(options.root, graph: graph)
        let plan = try InstallCommand.install(profile, options, graph: graph)
        let creates = plan.changes.filter { $0.action == .create }.count
        write(plan.hasChanges ? "installed \(graph.instances.count) instances (\(creates) parts created, \(plan.changes.count - creates) changed)\n"
              : "installed \(graph.instances.count) instances (no change)\n")
        let upPlan = try Self.plan(graph, root: options.root)
        let say: @Sendable (String) -> Void = { line in write(line + "\n") }
        let session = UpSession(plan: upPlan, world: world, launcher: LocalLauncher(), say: say)
        let pushes = Dictionary(graph.edges.filter { $0.kind == .push }.map { ($0.from, $0.to) }, uniquingKeysWith: { a, _ in a })
        let once = self.once
        let outcome = ResultHolder()
        let done = DispatchSemaphore(value: 0)
        let signals = Self.onTermination {
            Task {
                await session.stop()
                outcome.set(ExitStatus.success.rawValue)
                done.signal()
            }
        }
        Task {
            do throws(RuntimeError) {
                try await session.start(schedules: !once)
                guard once else { return }
                let report = await session.runCycle(pushes: pushes) { step in say(Self.line(step)) }
                say(Self.summary(report))
                await session.stop()
                outcome.set(report.complete ? ExitStatus.success.rawValue : ExitStatus.failure.rawValue)
            } catch {
                Exit.printFailure(error)
                await session.stop()
                outcome.set(error.exitStatus.rawValue)
            }
            done.signal()
        }
        // The signal sources must outlive the wait: an optimized build releases an unused local at once.
        withExtendedLifetime(signals) { done.wait() }
        throw ExitCode(outcome.value ?? 0)
    }

    static func absolute(_ path: String) -> String {
        "/" + Path.normalized(Path.isAbsolute(path) ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// As root, a service runs as the postgres user, which must be able to reach its directory.
    static func checkReachable(_ root: String, graph: InstanceGraph) throws {
        guard geteuid() == 0, graph.instances.contains(where: { $0.recipeParts.contains { $0.recipe == "service" } }) else { return }
        var path = root
        while !path.isEmpty && path != "/" {
            if let info = CLI.world.fileSystem.info(path), info.kind == .directory, info.mode & 0o001 == 0 {
                throw RuntimeError(.layout, "the postgres user, which runs the services as root's stand-in, cannot reach \(root): \(path) is \(String(info.mode, radix: 8))",
                                   remedy: "choose a --root under /srv or /tmp, or give \(path) o+x")
            }
            path = Path.parent(path)
        }
    }

    /// The services installed, the cron entries and queues of the graph, and its data flow.
    static func plan(_ graph: InstanceGraph, root: String) throws -> UpPlan {
        let fileSystem = CLI.world.fileSystem
        var services: [UpPlan.Service] = []
        var scheduled: [UpPlan.ScheduledJob] = []
        var queues: [UpPlan.QueueJob] = []
        var exports: [String: [String]] = [:]
        for instance in graph.instances.sorted(by: { $0.name < $1.name }) {
            let directory = root + "/" + instance.name
            let resolve = { (word: String) in word.utf8.contains(0x2F) && !Path.isAbsolute(word) ? directory + "/" + word : word }
            for part in instance.recipeParts {
                switch part.recipe {
                case "service":
                    guard let name = part.text(.name) else { continue }
                    let data = try fileSystem.read(directory + "/etc/service/" + name + ".json")
                    let definition = try ContractCoding.decode(ServiceDefinition.self, from: data)
                    let port = part.options.first { $0.name == "port" }
                    services.append(UpPlan.Service(definition: definition, portSetAt: port?.valueLocation.description))
                case "cron":
                    guard var schedule = part.schedule(.schedule) else { continue }
                    if part.flag(.jitter) == true { schedule = schedule.jittered(by: instance.name) }
                    var command = part.words(.command)
                    guard !command.isEmpty else { continue }
                    command[0] = command[0] == "stackc" ? CLI.world.host.executable : resolve(command[0])
                    scheduled.append(UpPlan.ScheduledJob(instance: instance.name, name: part.text(.name) ?? part.name, command: command, schedule: schedule))
                case "queue":
                    guard let path = part.text(.path) else { continue }
                    let worker = instance.role == .import ? "bin/importer" : "bin/pull"
                    queues.append(UpPlan.QueueJob(instance: instance.name, queue: directory + "/" + path, command: [directory + "/" + worker]))
                default:
                    continue
                }
            }
            if instance.role == .export { exports[instance.name] = [directory + "/bin/exporter"] }
        }
        let edges = { (kind: Edge.Kind) in Dictionary(graph.edges.filter { $0.kind == kind }.map { ($0.from, $0.to) }, uniquingKeysWith: { a, _ in a }) }
        return UpPlan(root: root, services: services, scheduled: scheduled, queueJobs: queues, exports: exports,
                      imports: edges(.takeover), pullBackups: edges(.pull))
    }

    static func line(_ step: CycleReport.Step) -> String {
        let figures = [step.bytes.map(ByteCount.format), step.seconds.map { String(format: "%.1f s", $0) }].compactMap { $0 }.joined(separator: "  ")
        let name = step.instance.padding(toLength: max(10, step.instance.count + 1), withPad: " ", startingAt: 0)
        let verb = step.step.padding(toLength: 8, withPad: " ", startingAt: 0)
        return "\(name)\(verb)\(step.failed ? "FAILED: " : "")\(step.detail)\(figures.isEmpty ? "" : "  " + figures)"
    }

    static func summary(_ report: CycleReport) -> String {
        guard report.complete else {
            return "cycle failed: " + report.failures.joined(separator: "; ")
        }
        let sequences = Set(report.imported.values)
        let holds = sequences.count == 1 ? "sequence \(sequences.first!)" : report.imported.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let rpo = report.lag.values.max().map { String(format: "%.1f s", $0) } ?? "?"
        let rto = report.restore.values.max().map { String(format: "%.1f s", $0) } ?? "?"
        return "cycle complete: every import holds \(holds) (RPO \(rpo), RTO \(rto))"
    }

    /// Calls `handler` once on the first SIGINT or SIGTERM (the default actions are turned off).
    static func onTermination(_ handler: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
        let fired = ResultHolder()
        return [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard fired.value == nil else { return }
                fired.set(number)
                handler()
            }
            source.resume()
            return source
        }
    }
}

/// A value set once from another thread.
final class ResultHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int32?

    func set(_ value: Int32) {
        lock.lock()
        if stored == nil { stored = value }
        lock.unlock()
    }

    var value: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

import Foundation
import StackModel
import StackSystem

/// Every recipe, by the name profiles use (the catalog in StackModel says what each reads).
public enum Recipes {
    public static let all: [String: any Recipe] = [
        WrapperRecipe.name: WrapperRecipe(), CronRecipe.name: CronRecipe(), SystemdTimerRecipe.name: SystemdTimerRecipe(),
        DirectoryRecipe.name: DirectoryRecipe(), FileRecipe.name: FileRecipe(), QueueRecipe.name: QueueRecipe(),
        NotifierRecipe.name: NotifierRecipe(), SecretRecipe.name: SecretRecipe(), ServiceRecipe.name: ServiceRecipe(),
    ]
}

/// The command a part runs: `stackc` becomes the absolute path of the installing binary, and a
/// relative program path (`bin/exporter`) the path inside the instance directory.
func commandLine(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [String] {
    var words = try part.required(.command, part.words)
    if words[0] == "stackc" {
        words[0] = context.stackc
    } else if words[0].utf8.contains(0x2F), !Path.isAbsolute(words[0]) {
        words[0] = context.directory + "/" + words[0]
    }
    return words + part.words(.arguments)
}

/// The command's words, each fit for `format`: the profile's values were checked by the compiler,
/// so what can still be unfit is what install adds, the instance directory under `--root`.
func encodable(_ words: [String], for format: TargetFormat, part: Part) throws(MaterializeError) -> [String] {
    for word in words {
        if let reason = format.refusal(word) {
            throw MaterializeError(.invalidOption, "the command of part '\(part.name)' would be '\(word)', which holds \(reason)",
                                   remedy: "install under a --root whose path has no such character")
        }
    }
    return words
}

/// `bin/…`: an executable /bin/sh script that sets its environment and working directory and
/// execs the command, every value quoted.
struct WrapperRecipe: Recipe {
    static let name = "wrapper"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let path = try part.required(.path, part.text)
        let environment = part.pairs(.environment).map { ["name": $0.name, "value": Shell.quote($0.value)] }
        let directory = part.text(.workingDirectory).map { context.directory + "/" + $0 } ?? context.directory
        let script = try context.templates.render("wrapper.sh", [
            "instance": Shell.quote(context.instance), "part": Shell.quote(part.name),
            "directory": Shell.quote(directory), "environment": environment,
            "command": try commandLine(part, context).map(Shell.quote).joined(separator: " "),
        ])
        return [Output(path: path, kind: .file(Data(script.utf8), mode: 0o755))]
    }
}

/// A cron.d entry, its schedule (typed by the compiler) optionally jittered by the instance name.
struct CronRecipe: Recipe {
    static let name = "cron"

    static func schedule(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> CronSchedule {
        let schedule = try part.required(.schedule, part.schedule)
        return part.flag(.jitter) == true ? schedule.jittered(by: context.instance) : schedule
    }

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let directory = part.text(.path) ?? "etc/cron.d"
        let entry = try context.templates.render("cron.d", [
            "instance": context.instance, "part": part.name,
            "schedule": try Self.schedule(part, context).expression,
            "user": part.text(.user) ?? context.user,
            "command": try encodable(commandLine(part, context), for: .cronLine, part: part).map(Shell.quote).joined(separator: " "),
        ])
        return [Output(path: directory + "/" + (part.text(.name) ?? part.name), kind: .file(Data(entry.utf8), mode: 0o644))]
    }
}

/// A systemd service and timer pair equivalent to the cron schedule.
struct SystemdTimerRecipe: Recipe {
    static let name = "systemd-timer"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let directory = part.text(.path) ?? "etc/systemd"
        let unit = part.text(.name) ?? part.name
        let schedule = try CronRecipe.schedule(part, context)
        let command = try encodable(commandLine(part, context), for: .systemdUnit, part: part).map(SystemdUnit.word).joined(separator: " ")
        let service = try context.templates.render("systemd.service", ["instance": context.instance, "part": part.name, "command": command])
        let timer = try context.templates.render("systemd.timer", [
            "instance": context.instance, "part": part.name, "unit": unit,
            "calendar": schedule.onCalendar, "cron": schedule.expression,
        ])
        return [
            Output(path: "\(directory)/\(unit).service", kind: .file(Data(service.utf8), mode: 0o644)),
            Output(path: "\(directory)/\(unit).timer", kind: .file(Data(timer.utf8), mode: 0o644)),
        ]
    }
}

/// A long-running service (SlapOS's `etc/service`): `etc/service/<name>`, a wrapper script that
/// runs it in the foreground, and `etc/service/<name>.json`, what `stackc up` needs to supervise
/// it (its address and port, its readiness check) and `status` shows.
struct ServiceRecipe: Recipe {
    static let name = "service"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let name = try part.required(.name, part.text)
        let environment = part.pairs(.environment).map { ["name": $0.name, "value": Shell.quote($0.value)] }
        let script = try context.templates.render("wrapper.sh", [
            "instance": Shell.quote(context.instance), "part": Shell.quote(part.name),
            "directory": Shell.quote(context.directory), "environment": environment,
            "command": try commandLine(part, context).map(Shell.quote).joined(separator: " "),
        ])
        let inInstance = { (words: [String]) -> [String] in
            guard let first = words.first, first.utf8.contains(0x2F), !Path.isAbsolute(first) else { return words }
            return [context.directory + "/" + first] + words.dropFirst()
        }
        let ready = inInstance(part.words(.ready))
        let setup = part.words(.setup).isEmpty ? nil : inInstance(part.words(.setup))
        let address = part.text(.address)
        let port = part.count(.port)
        // A libpq-style connection string when the service is reached by address and port; the
        // software's profile may say more through the environment (PGHOST: a socket directory).
        let socket = part.pairs(.environment).first { $0.name == "PGHOST" }?.value
        let connection: String? = socket.map { "host=\(Path.isAbsolute($0) ? $0 : context.directory + "/" + $0) port=\(port ?? 5432) user=postgres dbname=postgres" }
            ?? address.map { "\($0):\(port.map(String.init) ?? "")" }
        var definition = ServiceDefinition(instance: context.instance, name: name, command: [context.directory + "/etc/service/" + name],
                                           address: address, port: port, ready: ready, setup: setup,
                                           environment: part.pairs(.environment).isEmpty ? nil : Dictionary(part.pairs(.environment).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                           connection: connection)
        definition.stopSignal = part.text(.stopSignal)
        return [
            Output(path: "etc/service/" + name, kind: .file(Data(script.utf8), mode: 0o755)),
            Output(path: "etc/service/" + name + ".json", kind: .file(try encoded(definition, line: false), mode: 0o644)),
        ]
    }
}

/// A directory with a mode; `holds-data: true` protects its contents from removal.
struct DirectoryRecipe: Recipe {
    static let name = "directory"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        [Output(path: try part.required(.path, part.text),
                kind: .directory(mode: part.mode(.mode) ?? 0o755, contents: part.flag(.holdsData) == true ? .data : .plain))]
    }
}

/// A file rendered from a template with the part's `variables`.
struct FileRecipe: Recipe {
    static let name = "file"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        var variables: [String: Any] = ["instance": context.instance, "part": part.name, "directory": context.directory]
        for pair in part.pairs(.variables) { variables[pair.name] = pair.value }
        let template = try part.required(.template, part.text)
        let text = try context.templates.render(template.hasSuffix(".mustache") ? String(template.dropLast(9)) : template, variables)
        return [Output(path: try part.required(.path, part.text), kind: .file(Data(text.utf8), mode: part.mode(.mode) ?? 0o644))]
    }
}

/// A notification queue's directory (entries are transient: removed with the queue).
struct QueueRecipe: Recipe {
    static let name = "queue"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        [Output(path: try part.required(.path, part.text), kind: .directory(mode: 0o700, contents: .transient))]
    }
}

/// The receivers to notify: each instance and the absolute path of its queue, as JSON.
struct NotifierRecipe: Recipe {
    static let name = "notifier"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        var receivers: [NotifierReceivers.Receiver] = []
        for name in part.words(.receivers) {
            guard let queue = context.queues[name] else {
                throw MaterializeError(.invalidOption, "part '\(part.name)' notifies '\(name)', which has no queue part")
            }
            receivers.append(.init(instance: name, queue: queue))
        }
        let contract = NotifierReceivers(instance: context.instance, receivers: receivers)
        return [Output(path: try part.required(.path, part.text), kind: .file(try encoded(contract, line: true), mode: 0o644))]
    }
}

/// A random token (hex), mode 0600 in a 0700 directory, generated once and kept across reinstalls.
struct SecretRecipe: Recipe {
    static let name = "secret"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let path = try part.required(.path, part.text)
        let parent = Path.parent(path)
        return (parent.isEmpty ? [] : [Output(path: parent, kind: .directory(mode: 0o700, contents: .plain))])
            + [Output(path: path, kind: .secret(bytes: part.count(.bytes) ?? 32))]
    }
}

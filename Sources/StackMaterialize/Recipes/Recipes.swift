import Foundation
import StackModel

/// Every recipe, by the name profiles use.
public enum Recipes {
    public static let all: [String: any Recipe] = [
        WrapperRecipe.name: WrapperRecipe(), CronRecipe.name: CronRecipe(), SystemdTimerRecipe.name: SystemdTimerRecipe(),
        DirectoryRecipe.name: DirectoryRecipe(), FileRecipe.name: FileRecipe(), QueueRecipe.name: QueueRecipe(),
        NotifierRecipe.name: NotifierRecipe(), SecretRecipe.name: SecretRecipe(),
    ]
}

/// The command a part runs: `stackc` becomes the absolute path of the installing binary, and a
/// relative program path (`bin/exporter`) the path inside the instance directory.
func commandLine(_ part: Part, _ context: PartitionContext, option: String = "command") throws(MaterializeError) -> [String] {
    var words = try part.strings(option)
    guard let program = words.first, !program.isEmpty else {
        throw MaterializeError(.invalidOption, "option '\(option)' of part '\(part.name)' is empty")
    }
    if program == "stackc" {
        words[0] = context.stackc
    } else if program.contains("/"), !program.hasPrefix("/") {
        words[0] = context.directory + "/" + program
    }
    return words + (try part.strings("arguments"))
}

/// `bin/…`: an executable /bin/sh script that sets its environment and working directory and
/// execs the command, every value quoted.
struct WrapperRecipe: Recipe {
    static let name = "wrapper"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let path = try part.relativePath("path")
        var environment: [[String: String]] = []
        if let value = part.value("environment") {
            guard case .map(let entries) = value else {
                throw MaterializeError(.invalidOption, "option 'environment' of part '\(part.name)' must be a map of NAME: value")
            }
            for entry in entries.sorted(by: { $0.key < $1.key }) {
                guard Shell.isVariableName(entry.key) else {
                    throw MaterializeError(.invalidOption, "environment variable name '\(entry.key)' of part '\(part.name)' is not a shell name")
                }
                guard let text = entry.node.string else {
                    throw MaterializeError(.invalidOption, "environment variable '\(entry.key)' of part '\(part.name)' must be text")
                }
                environment.append(["name": entry.key, "value": Shell.quote(text)])
            }
        }
        let workingDirectory = part.value("working-directory") == nil ? "" : try part.relativePath("working-directory")
        let directory = workingDirectory.isEmpty ? context.directory : context.directory + "/" + workingDirectory
        let script = try context.templates.render("wrapper.sh", [
            "instance": Shell.quote(context.instance), "part": Shell.quote(part.name),
            "directory": Shell.quote(directory), "environment": environment,
            "command": try commandLine(part, context).map(Shell.quote).joined(separator: " "),
        ])
        return [Output(path: path, kind: .file(Data(script.utf8), mode: 0o755))]
    }
}

/// A cron.d entry, its schedule validated and optionally jittered by the instance name.
struct CronRecipe: Recipe {
    static let name = "cron"

    static func schedule(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> CronSchedule {
        let text = try part.string("schedule")
        switch CronSchedule.parse(text) {
        case .success(let schedule): return try part.flag("jitter", default: false) ? schedule.jittered(by: context.instance) : schedule
        case .failure(let error): throw MaterializeError(.invalidOption, "schedule of part '\(part.name)': \(error.message)")
        }
    }

    /// cron.d and systemd unit names: letters, digits, '-' and '_' (cron skips names with dots).
    static func unitName(_ part: Part) throws(MaterializeError) -> String {
        let name = try part.optionalString("name") ?? part.name
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }) else {
            throw MaterializeError(.invalidOption, "name '\(name)' of part '\(part.name)' must be letters, digits, '-' and '_' (cron ignores files with dots)")
        }
        return name
    }

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let directory = part.value("path") == nil ? "etc/cron.d" : try part.relativePath("path")
        let entry = try context.templates.render("cron.d", [
            "instance": context.instance, "part": part.name,
            "schedule": try Self.schedule(part, context).expression,
            "user": try part.optionalString("user") ?? context.user,
            "command": try commandLine(part, context).map(Shell.quote).joined(separator: " "),
        ])
        return [Output(path: directory + "/" + (try Self.unitName(part)), kind: .file(Data(entry.utf8), mode: 0o644))]
    }
}

/// A systemd service and timer pair equivalent to the cron schedule.
struct SystemdTimerRecipe: Recipe {
    static let name = "systemd-timer"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let directory = part.value("path") == nil ? "etc/systemd" : try part.relativePath("path")
        let unit = try CronRecipe.unitName(part)
        let schedule = try CronRecipe.schedule(part, context)
        // systemd splits ExecStart on spaces and honours double quotes; quote each word that way.
        let command = try commandLine(part, context).map { word in
            word.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "%" || $0 == "$" })
                ? "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    .replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$") + "\""
                : word
        }.joined(separator: " ")
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

/// A directory with a mode; `holds-data: true` protects its contents from removal.
struct DirectoryRecipe: Recipe {
    static let name = "directory"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        [Output(path: try part.relativePath("path"),
                kind: .directory(mode: try part.mode("mode", default: 0o755),
                                 contents: try part.flag("holds-data", default: false) ? .data : .plain))]
    }
}

/// A file rendered from a template with the part's `variables`.
struct FileRecipe: Recipe {
    static let name = "file"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        var variables: [String: Any] = ["instance": context.instance, "part": part.name, "directory": context.directory]
        if case .map(let entries)? = part.value("variables") {
            for entry in entries { variables[entry.key] = entry.node.string ?? entry.node.value.summary }
        }
        let template = try part.string("template")
        let text = try context.templates.render(template.hasSuffix(".mustache") ? String(template.dropLast(9)) : template, variables)
        return [Output(path: try part.relativePath("path"), kind: .file(Data(text.utf8), mode: try part.mode("mode", default: 0o644)))]
    }
}

/// A notification queue's directory (entries are transient: removed with the queue).
struct QueueRecipe: Recipe {
    static let name = "queue"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        [Output(path: try part.relativePath("path"), kind: .directory(mode: 0o700, contents: .transient))]
    }
}

/// The receivers to notify: each instance and the absolute path of its queue, as JSON.
struct NotifierRecipe: Recipe {
    static let name = "notifier"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        var receivers: [[String: Any]] = []
        for (index, name) in try part.strings("receivers").enumerated() {
            guard let queue = context.queues[name] else {
                throw MaterializeError(.invalidOption, "part '\(part.name)' notifies '\(name)', which has no queue part")
            }
            receivers.append(["first": index == 0, "name": JSONText.quoted(name), "queue": JSONText.quoted(queue)])
        }
        let text = try context.templates.render("notifier.json", ["instance": JSONText.quoted(context.instance), "receivers": receivers])
        return [Output(path: try part.relativePath("path"), kind: .file(Data(text.utf8), mode: 0o644))]
    }
}

/// A random token (hex), mode 0600 in a 0700 directory, generated once and kept across reinstalls.
struct SecretRecipe: Recipe {
    static let name = "secret"

    func outputs(_ part: Part, _ context: PartitionContext) throws(MaterializeError) -> [Output] {
        let bytes = Int(try part.optionalString("bytes") ?? "32") ?? 0
        guard (16...1024).contains(bytes) else {
            throw MaterializeError(.invalidOption, "option 'bytes' of part '\(part.name)' must be from 16 to 1024")
        }
        let path = try part.relativePath("path")
        let parent = (path as NSString).deletingLastPathComponent
        return (parent.isEmpty ? [] : [Output(path: parent, kind: .directory(mode: 0o700, contents: .plain))])
            + [Output(path: path, kind: .secret(bytes: bytes))]
    }
}

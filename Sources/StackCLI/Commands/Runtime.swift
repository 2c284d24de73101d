import ArgumentParser
import Foundation
import StackArchive
import StackModel
import StackRuntime
import StackSystem

/// The runtime verbs the wrappers call, each in the instance directory it works for (the
/// wrapper's `cd`): `export`, `import`, `pull` (README, "The runtime verbs the wrappers call").
enum RuntimeVerbs {
    /// The instance the wrapper runs in: its working directory, which must be named `--instance`.
    static func context(instance: String) throws -> JobContext {
        let directory = FileManager.default.currentDirectoryPath
        guard NameRules.isInstanceName(instance), Path.name(directory) == instance else {
            throw RuntimeError(.layout, "'stackc' runtime verbs run in the instance directory of --instance \(instance), not in \(directory)",
                               remedy: "run the instance's wrapper (bin/exporter, bin/importer, bin/pull), which changes there first")
        }
        return JobContext(world: CLI.world, instance: instance, layout: InstanceLayout(directory: directory))
    }

    /// One line per report: what was applied, skipped or failed; a failure fails the verb.
    static func finish(_ report: QueueWorker.Report, verb: String, instance: String) throws {
        if let busy = report.busy {
            CLI.logger.notice("\(verb) of \(instance): the queue is being worked on by \(busy); it will take this entry too")
            return
        }
        write("\(instance) \(verb): \(report.applied) applied, \(report.skipped) skipped, \(report.failed) failed, \(report.setAside) set aside\n")
        if !report.succeeded {
            throw RuntimeError(.commandFailed, "\(verb) of \(instance) failed: " + (report.errors.last ?? "see var/log/events.jsonl"),
                               remedy: report.setAside > 0 ? "see 'stackc queue ls \(instance) --root ..'; 'stackc queue retry' puts it back in line"
                                   : "it is retried with backoff; see var/log/events.jsonl")
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: RuntimeVerb.export.abstract)
    @OptionGroup var arguments: ExportArguments

    func run() throws {
        let context = try RuntimeVerbs.context(instance: arguments.instance)
        let outcome = try ExportJob(context: context, software: arguments.software, dump: arguments.dump, command: arguments.run,
                                    notifier: arguments.notifier).run()
        write("\(arguments.instance) export: sequence \(outcome.manifest.sequence), \(outcome.manifest.files.count) files, "
              + "\(ByteCount.format(outcome.bytes)) in \(String(format: "%.1f", outcome.seconds)) s; notified \(outcome.notified.isEmpty ? "nobody" : outcome.notified.joined(separator: ", "))\n")
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: RuntimeVerb.import.abstract)
    @OptionGroup var arguments: ImportArguments

    func run() throws {
        let context = try RuntimeVerbs.context(instance: arguments.instance)
        var random = SystemRandomNumberGenerator()
        let report = try ImportJob(context: context, software: arguments.software, dump: arguments.dump, command: arguments.run,
                                   queue: arguments.queue).run(random: &random)
        try RuntimeVerbs.finish(report, verb: "import", instance: arguments.instance)
    }
}

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: RuntimeVerb.pull.abstract)
    @OptionGroup var arguments: PullArguments

    func run() throws {
        let context = try RuntimeVerbs.context(instance: arguments.instance)
        var retention = RetentionPolicy()
        retention.last = arguments.keepLast ?? 0
        retention.daily = arguments.keepDaily ?? 0
        var random = SystemRandomNumberGenerator()
        let report = try PullJob(context: context, from: LocalPeer(context: context, instance: arguments.from),
                                 to: LocalPeer(context: context, instance: arguments.to), archive: arguments.archive, queue: arguments.queue,
                                 notifier: arguments.notifier, retention: retention).run(random: &random)
        try RuntimeVerbs.finish(report, verb: "pull", instance: arguments.instance)
    }
}

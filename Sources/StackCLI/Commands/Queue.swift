import ArgumentParser
import Foundation
import StackModel
import StackRuntime
import StackSystem

/// `stackc queue ls|retry|drop INSTANCE --root DIR`: an instance's waiting and set-aside
/// entries, and what a person does with the ones that failed too often.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List an instance's queue; put set-aside entries back in line, or drop them.",
        subcommands: [List.self, Retry.self, Drop.self])

    struct Target: ParsableArguments {
        @Argument(help: "The instance (an import or a pull-backup).") var instance: String
        @Option(help: "The directory holding one directory per instance.") var root: String

        func spool() throws -> Spool {
            let directory = UpCommand.absolute(root) + "/" + instance
            guard NameRules.isInstanceName(instance), CLI.world.fileSystem.isDirectory(directory + "/var/queue") else {
                throw RuntimeError(.layout, "\(instance) has no queue under \(root)", remedy: "name an import or a pull-backup of that root")
            }
            return Spool(directory: directory + "/var/queue", fileSystem: CLI.world.fileSystem, clock: CLI.world.clock, holder: "stackc queue")
        }
    }

    static func line(_ stored: Spool.Stored, state: String) -> String {
        let entry = stored.entry
        return "\(entry.id)  \(state)  \(entry.kind.rawValue) \(entry.source) sequence \(entry.sequence)  attempts \(entry.attempts)"
            + (entry.lastError.map { "  last error: \($0)" } ?? "")
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Every entry: waiting, in progress, set aside, corrupt.")
        @OptionGroup var target: Target

        func run() throws {
            let spool = try target.spool()
            var lines = spool.inProgress.map { QueueCommand.line($0, state: "in-progress") }
            lines += spool.waiting.map { QueueCommand.line($0, state: "waiting") }
            lines += spool.setAside.map { QueueCommand.line($0, state: "set-aside") }
            lines += spool.corrupted.map { "\($0)  corrupt" }
            write(lines.isEmpty ? "\(target.instance): the queue is empty\n" : lines.joined(separator: "\n") + "\n")
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Put set-aside entries back in line, their attempts reset.")
        @OptionGroup var target: Target
        @Argument(help: "An entry id (or a prefix of one), or 'all'.") var entry: String

        func run() throws {
            let moved = try target.spool().retry(entry)
            guard !moved.isEmpty else { throw RuntimeError(.layout, "no set-aside entry of \(target.instance) matches '\(entry)'", remedy: "see 'stackc queue ls'") }
            write("\(moved.count) entr\(moved.count == 1 ? "y" : "ies") back in line: \(moved.map(\.id).joined(separator: ", "))\n")
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "drop", abstract: "Remove set-aside entries for good.")
        @OptionGroup var target: Target
        @Argument(help: "An entry id (or a prefix of one), or 'all'.") var entry: String

        func run() throws {
            let dropped = try target.spool().drop(entry)
            guard !dropped.isEmpty else { throw RuntimeError(.layout, "no set-aside entry of \(target.instance) matches '\(entry)'", remedy: "see 'stackc queue ls'") }
            write("dropped \(dropped.count): \(dropped.map(\.id).joined(separator: ", "))\n")
        }
    }
}

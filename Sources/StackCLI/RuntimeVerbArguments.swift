import ArgumentParser
import StackModel

/// The arguments of the runtime verbs the wrappers call, declared for argument-parser after
/// `RuntimeVerb`'s contract (the verbs themselves arrive with the runtime). A test parses each
/// contract's arguments through these and gets the same values back, so the two cannot drift.
protocol RuntimeVerbArguments: ParsableArguments {
    static var verb: RuntimeVerb { get }
    /// The parsed values by flag name, as the contract names them.
    var values: [String: String] { get }
}

struct ExportArguments: RuntimeVerbArguments {
    static let verb = RuntimeVerb.export
    @Option(help: ArgumentHelp(RuntimeVerb.export.help("instance"), valueName: "name")) var instance: String
    @Option(help: ArgumentHelp(RuntimeVerb.export.help("software"), valueName: "name")) var software: String
    @Option(help: ArgumentHelp(RuntimeVerb.export.help("dump"), valueName: "path")) var dump: String
    @Option(help: ArgumentHelp(RuntimeVerb.export.help("run"), valueName: "path")) var run: String
    @Option(help: ArgumentHelp(RuntimeVerb.export.help("notifier"), valueName: "path")) var notifier: String

    var values: [String: String] { ["instance": instance, "software": software, "dump": dump, "run": run, "notifier": notifier] }
}

struct ImportArguments: RuntimeVerbArguments {
    static let verb = RuntimeVerb.import
    @Option(help: ArgumentHelp(RuntimeVerb.import.help("instance"), valueName: "name")) var instance: String
    @Option(help: ArgumentHelp(RuntimeVerb.import.help("software"), valueName: "name")) var software: String
    @Option(help: ArgumentHelp(RuntimeVerb.import.help("dump"), valueName: "path")) var dump: String
    @Option(help: ArgumentHelp(RuntimeVerb.import.help("run"), valueName: "path")) var run: String
    @Option(help: ArgumentHelp(RuntimeVerb.import.help("queue"), valueName: "path")) var queue: String

    var values: [String: String] { ["instance": instance, "software": software, "dump": dump, "run": run, "queue": queue] }
}

struct PullArguments: RuntimeVerbArguments {
    static let verb = RuntimeVerb.pull
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("instance"), valueName: "name")) var instance: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("from"), valueName: "export")) var from: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("to"), valueName: "import")) var to: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("archive"), valueName: "path")) var archive: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("queue"), valueName: "path")) var queue: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("notifier"), valueName: "path")) var notifier: String
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("keep-last"), valueName: "n")) var keepLast: Int?
    @Option(help: ArgumentHelp(RuntimeVerb.pull.help("keep-daily"), valueName: "n")) var keepDaily: Int?

    var values: [String: String] {
        var values = ["instance": instance, "from": from, "to": to, "archive": archive, "queue": queue, "notifier": notifier]
        values["keep-last"] = keepLast.map(String.init)
        values["keep-daily"] = keepDaily.map(String.init)
        return values
    }
}

extension RuntimeVerb {
    /// The contract's help text of a flag.
    func help(_ flag: String) -> String { flags.first { $0.name == flag }?.help ?? "" }

    /// The argument-parser declaration of this verb's arguments.
    var declaration: any RuntimeVerbArguments.Type {
        switch self {
        case .export: ExportArguments.self
        case .import: ImportArguments.self
        case .pull: PullArguments.self
        }
    }
}

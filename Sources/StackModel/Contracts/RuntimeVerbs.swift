/// The argument contract between the wrappers `install` writes (`bin/exporter`, `bin/importer`,
/// `bin/pull`) and the runtime verbs they call: one description of each verb's flags, which the
/// compiler checks wrapper commands against and the CLI's verbs are declared from (a test proves
/// the two parse the same arguments).
public enum RuntimeVerb: String, CaseIterable, Sendable {
    case export
    case `import`
    case pull

    public struct Flag: Sendable, Equatable {
        /// Without the leading `--`.
        public var name: String
        public var valueName: String
        public var required: Bool
        public var help: String
    }

    private static func flag(_ name: String, _ valueName: String, required: Bool = true, _ help: String) -> Flag {
        Flag(name: name, valueName: valueName, required: required, help: help)
    }

    public var abstract: String {
        switch self {
        case .export: "Run the software's backup command into a fresh dump, write its manifest, and notify every receiver."
        case .import: "Verify the pushed dump against its manifest and restore it with the software's restore command."
        case .pull: "Pull the export's dump, verify it, store it as a snapshot, push it to the import and notify it."
        }
    }

    public var flags: [Flag] {
        switch self {
        case .export:
            [Self.flag("instance", "name", "The instance the wrapper belongs to."),
             Self.flag("software", "name", "The software whose data is dumped (postgres, files)."),
             Self.flag("dump", "path", "The dump directory, relative to the instance (srv/backup/SOFTWARE)."),
             Self.flag("run", "path", "The software's backup command (bin/SOFTWARE-exporter)."),
             Self.flag("notifier", "path", "The receivers to notify (etc/notify).")]
        case .import:
            [Self.flag("instance", "name", "The instance the wrapper belongs to."),
             Self.flag("software", "name", "The software whose data is restored."),
             Self.flag("dump", "path", "Where the pull-backup pushes the dump (srv/backup/SOFTWARE)."),
             Self.flag("run", "path", "The software's restore command (bin/SOFTWARE-importer)."),
             Self.flag("queue", "path", "The instance's notification queue (var/queue).")]
        case .pull:
            [Self.flag("instance", "name", "The pull-backup instance."),
             Self.flag("from", "export", "The export whose dump is pulled."),
             Self.flag("to", "import", "The import the snapshot is pushed to."),
             Self.flag("archive", "path", "The historical archive (srv/archive)."),
             Self.flag("queue", "path", "The instance's notification queue (var/queue)."),
             Self.flag("notifier", "path", "The receivers to notify (etc/notify)."),
             Self.flag("keep-last", "n", required: false, "Keep the N newest snapshots."),
             Self.flag("keep-daily", "n", required: false, "Keep the newest snapshot of each of the last N days.")]
        }
    }

    /// Why arguments do not fit the contract.
    public struct Mismatch: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The flag values of `arguments` (what follows `stackc VERB`), or why they do not fit.
    public func parse(_ arguments: [String]) -> Result<[String: String], Mismatch> {
        var values: [String: String] = [:]
        var index = 0
        let known = Dictionary(uniqueKeysWithValues: flags.map { ($0.name, $0) })
        while index < arguments.count {
            let word = arguments[index]
            guard word.hasPrefix("--"), let flag = known[String(word.dropFirst(2))] else {
                let hint = Suggestions.closest(to: String(word.drop { $0 == "-" }), in: flags.map(\.name)).map { " (did you mean '--\($0)'?)" } ?? ""
                return .failure(Mismatch(description: "'stackc \(rawValue)' takes no argument '\(word)'\(hint)"))
            }
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                return .failure(Mismatch(description: "'--\(flag.name)' of 'stackc \(rawValue)' needs a value (\(flag.valueName))"))
            }
            values[flag.name] = arguments[index + 1]
            index += 2
        }
        let missing = flags.filter { $0.required && values[$0.name] == nil }.map { "--" + $0.name }
        guard missing.isEmpty else {
            return .failure(Mismatch(description: "'stackc \(rawValue)' needs \(missing.joined(separator: ", "))"))
        }
        return .success(values)
    }

    /// The arguments that say `values`, in the contract's order.
    public func arguments(_ values: [String: String]) -> [String] {
        flags.flatMap { flag in values[flag.name].map { ["--" + flag.name, $0] } ?? [] }
    }
}

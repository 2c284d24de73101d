/// Every recipe and the options it reads, each with its type: the one place option names and
/// types live. The compiler checks profiles against it (positioned, exit 1) and gives each part
/// its options already typed; the materializer's recipes read those typed values and never parse
/// an option again.
public enum RecipeCatalog {
    /// An option a recipe reads, by the name profiles use.
    public enum Option: String, Sendable, CaseIterable {
        case path, command, arguments, environment, schedule, name, jitter, user, mode, template, variables, receivers, bytes
        case address, port, ready, setup
        case workingDirectory = "working-directory"
        case holdsData = "holds-data"
        case stopSignal = "stop-signal"
    }

    /// What an option's value must be.
    public enum Kind: Sendable, Equatable {
        /// Text (a number or a boolean is taken as its text).
        case text
        /// A path inside the instance directory: relative, never `..`.
        case path
        /// A command's words: a list of texts (a list inside it spliced in), or one text.
        case words
        /// `true` or `false`.
        case flag
        /// An octal permission mode, `"0750"` or `750`.
        case mode
        /// A cron schedule (five fields, or an `@hourly`-style name).
        case schedule
        /// A map of shell variable names to texts.
        case environment
        /// A map of names to values a template reads (inserted as text).
        case variables
        /// A list of instance names.
        case names
        /// A cron.d or systemd unit name: letters, digits, '-' and '_'.
        case unitName
        /// A user name, as cron.d's user field holds it: no space, nothing a line cannot carry.
        case userName
        /// A whole number in a range.
        case count(ClosedRange<Int>)
        /// The signal a service is stopped with: TERM, INT, QUIT or HUP.
        case signalName
    }

    public struct OptionSpec: Sendable {
        public var option: Option
        public var kind: Kind
        public var required: Bool
        public var name: String { option.rawValue }
    }

    public struct Recipe: Sendable {
        public var name: String
        public var specs: [OptionSpec]
        /// Where its texts end up: every text, word and map value it reads must fit.
        public var format: TargetFormat = .shell

        public var required: [String] { specs.filter(\.required).map(\.name) }
        public var optional: [String] { specs.filter { !$0.required }.map(\.name) }
        public var options: [String] { specs.map(\.name) }

        public func spec(_ name: String) -> OptionSpec? { specs.first { $0.name == name } }
    }

    private static func required(_ option: Option, _ kind: Kind) -> OptionSpec { OptionSpec(option: option, kind: kind, required: true) }
    private static func optional(_ option: Option, _ kind: Kind) -> OptionSpec { OptionSpec(option: option, kind: kind, required: false) }

    public static let recipes: [Recipe] = [
        Recipe(name: "wrapper", specs: [required(.path, .path), required(.command, .words), optional(.arguments, .words),
                                        optional(.environment, .environment), optional(.workingDirectory, .path)]),
        Recipe(name: "cron", specs: [required(.schedule, .schedule), required(.command, .words), optional(.name, .unitName),
                                     optional(.jitter, .flag), optional(.path, .path), optional(.user, .userName)], format: .cronLine),
        Recipe(name: "systemd-timer", specs: [required(.schedule, .schedule), required(.command, .words), optional(.name, .unitName),
                                              optional(.jitter, .flag), optional(.path, .path)], format: .systemdUnit),
        Recipe(name: "directory", specs: [required(.path, .path), optional(.mode, .mode), optional(.holdsData, .flag)]),
        Recipe(name: "file", specs: [required(.path, .path), required(.template, .text), optional(.mode, .mode), optional(.variables, .variables)]),
        Recipe(name: "queue", specs: [required(.path, .path)]),
        Recipe(name: "notifier", specs: [required(.path, .path), required(.receivers, .names)], format: .json),
        Recipe(name: "secret", specs: [required(.path, .path), optional(.bytes, .count(16...1024))]),
        Recipe(name: "service", specs: [required(.name, .unitName), required(.command, .words), optional(.environment, .environment),
                                        optional(.address, .text), optional(.port, .count(1...65535)), optional(.ready, .words),
                                        optional(.setup, .words), optional(.stopSignal, .signalName)]),
    ]

    public static func recipe(named name: String) -> Recipe? { recipes.first { $0.name == name } }

    /// Options every section with a recipe may carry.
    public static let commonOptions = ["recipe", "<=", "description"]

    /// Options the `stack` section understands.
    public static let stackOptions = ["extends", "include", "parts", "instances", "software-types", "name", "description"]
}

/// An option's value, typed by its recipe's catalog entry.
public enum OptionValue: Sendable, Equatable {
    case text(String)
    case words([String])
    case flag(Bool)
    case mode(Int)
    case schedule(CronSchedule)
    /// Sorted by name.
    case map([Pair])
    case count(Int)

    public struct Pair: Sendable, Equatable {
        public var name: String
        public var value: String
    }
}

extension RecipeCatalog {
    /// `option` typed as `kind` and fit for `format`, or the positioned diagnostic that says why it
    /// cannot be. `section` names the section in messages.
    public static func decode(_ option: ResolvedOption, as kind: Kind, section: String, format: TargetFormat = .json) -> Result<OptionValue, Diagnostic> {
        // A value that is one whole substitution was written where the substituted value was set
        // (a deployment's parameter, say): that is where the author looks; the template line that
        // substituted it is a note.
        let whole = option.wholeSubstitution
        var notes: [Note] = option.history.last?.via ?? []
        let at = option.valueLocation
        if let whole {
            notes = [Note("substituted into option '\(option.name)' of section '\(section)' here", at: option.node.location)] + whole.via
        }
        func failure(_ message: String, at location: SourceLocation? = nil) -> Result<OptionValue, Diagnostic> {
            .failure(.error(message, at: location ?? at, notes: notes))
        }
        func text(_ node: ValueNode) -> String? {
            switch node.value {
            case .string(let text), .number(let text): text
            case .bool(let flag): flag ? "true" : "false"
            default: nil
            }
        }
        let value = option.value
        let name = option.name
        /// A text that `format` cannot carry, refused at the node that holds it.
        func unfit(_ text: String, at node: ValueNode?) -> Diagnostic? {
            guard let reason = format.refusal(text) else { return nil }
            return .error("option '\(name)' of section '\(section)' holds \(reason)", at: node?.location ?? at, notes: notes)
        }
        if kind != .words, kind != .environment, kind != .variables, kind != .names, let text = text(option.node),
           let problem = unfit(text, at: option.node) {
            return .failure(problem)
        }
        switch kind {
        case .text:
            guard let text = text(option.node) else { return failure("option '\(name)' of section '\(section)' must be text, got a \(value.kindName)") }
            return .success(.text(text))
        case .path:
            guard let path = text(option.node) else { return failure("option '\(name)' of section '\(section)' must be a path, got a \(value.kindName)") }
            if !Path.staysInside(path) || path.isEmpty {
                return failure("'\(name)' of section '\(section)' is '\(path)', which would escape the instance directory (use a relative path without '..')")
            }
            return .success(.text(Path.normalized(path)))
        case .words:
            var words: [String] = []
            func flatten(_ node: ValueNode) -> Diagnostic? {
                if case .list(let items) = node.value {
                    for item in items { if let problem = flatten(item) { return problem } }
                    return nil
                }
                guard let word = text(node) else {
                    return .error("option '\(name)' of section '\(section)' must list texts, got a \(node.value.kindName)", at: node.location, notes: notes)
                }
                if let problem = unfit(word, at: node) { return problem }
                words.append(word)
                return nil
            }
            if let problem = flatten(option.node) { return .failure(problem) }
            if option.option == .command, words.first?.isEmpty ?? true {
                return failure("option '\(name)' of section '\(section)' is empty: it names the program to run")
            }
            return .success(.words(words))
        case .flag:
            guard case .bool(let flag) = value else { return failure("option '\(name)' of section '\(section)' must be true or false, got a \(value.kindName)") }
            return .success(.flag(flag))
        case .mode:
            guard let text = text(option.node), let mode = Int(text, radix: 8), (0...0o7777).contains(mode) else {
                return failure("option '\(name)' of section '\(section)' must be an octal mode such as \"0750\", got '\(value.summary)'")
            }
            return .success(.mode(mode))
        case .schedule:
            guard let text = text(option.node) else { return failure("option '\(name)' of section '\(section)' must be a cron schedule, got a \(value.kindName)") }
            switch CronSchedule.parse(text) {
            case .success(let schedule): return .success(.schedule(schedule))
            case .failure(let error): return failure("invalid schedule '\(text)': \(error.message)")
            }
        case .environment, .variables:
            guard case .map(let entries) = value else { return failure("option '\(name)' of section '\(section)' must be a map of NAME: value, got a \(value.kindName)") }
            var pairs: [OptionValue.Pair] = []
            for entry in entries {
                if kind == .environment {
                    guard NameRules.isShellVariable(entry.key) else {
                        return failure("environment variable name '\(entry.key)' of section '\(section)' is not a shell name (letters, digits and '_', not first a digit)",
                                       at: entry.keyLocation)
                    }
                    guard let text = text(entry.node) else {
                        return failure("environment variable '\(entry.key)' of section '\(section)' must be text, got a \(entry.node.value.kindName)", at: entry.node.location)
                    }
                    if let problem = unfit(text, at: entry.node) { return .failure(problem) }
                    pairs.append(.init(name: entry.key, value: text))
                } else {
                    pairs.append(.init(name: entry.key, value: entry.node.string ?? entry.node.value.summary))
                }
            }
            return .success(.map(pairs.sorted { $0.name < $1.name }))
        case .names:
            var names: [String] = []
            let items: [ValueNode] = if case .list(let items) = value { items } else { [option.node] }
            for item in items {
                guard let name = item.string else { return failure("option '\(option.name)' of section '\(section)' lists instance names, got a \(item.value.kindName)", at: item.location) }
                names.append(name)
            }
            return .success(.words(names))
        case .unitName:
            guard let text = text(option.node), NameRules.isUnitName(text) else {
                return failure("option '\(name)' of section '\(section)' is '\(value.summary)': a unit name is letters, digits, '-' and '_' (cron ignores files with dots)")
            }
            return .success(.text(text))
        case .userName:
            // By byte: a space followed by a combining mark is one Character, and still a field separator to cron.
            guard let text = text(option.node), !text.isEmpty, !text.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) else {
                return failure("option '\(name)' of section '\(section)' is '\(value.summary)': a user name has no spaces")
            }
            return .success(.text(text))
        case .signalName:
            guard let text = text(option.node), ["TERM", "INT", "QUIT", "HUP"].contains(text) else {
                return failure("option '\(name)' of section '\(section)' must be TERM, INT, QUIT or HUP, got '\(value.summary)'")
            }
            return .success(.text(text))
        case .count(let range):
            guard let text = text(option.node), let count = Int(text), range.contains(count) else {
                return failure("option '\(name)' of section '\(section)' must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(value.summary)'")
            }
            return .success(.count(count))
        }
    }
}

private extension ResolvedOption {
    var option: RecipeCatalog.Option? { RecipeCatalog.Option(rawValue: name) }
}

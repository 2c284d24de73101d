import StackModel

/// Resolves `${section:option}` and `${:option}` lazily, each option once, reporting cycles with
/// every link; `$${…}` loses one `$` and is left for the next stage.
/// One option of one section, as references name it.
struct OptionKey: Hashable {
    var section: String
    var option: String
}

struct Substituter {
    typealias Key = OptionKey

    /// The most a substitution may make one value (1 MiB) and all of one profile's values (64 MiB):
    /// a value written twice in each of forty sections would otherwise double forty times.
    static let maximumValueBytes = 1 << 20
    static let maximumTotalBytes = 64 << 20
    private var totalBytes = 0
    /// The profile's total was crossed and reported once; later values past it fail quietly.
    private var totalReported = false

    private let configuration: LayeredConfiguration
    private var resolved: [Key: ResolvedOption] = [:]
    private var failed: Set<Key> = []
    private var inProgress: [(key: Key, reference: SourceLocation?)] = []
    /// Every option some substitution read, for the unused-option check.
    private(set) var referenced: Set<OptionKey> = []

    static func resolve(_ configuration: LayeredConfiguration, referenced: inout Set<OptionKey>,
                        diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        var substituter = Substituter(configuration: configuration)
        var sections: [ResolvedSection] = []
        sections.reserveCapacity(configuration.sections.count)
        for section in configuration.sections {
            var options: [ResolvedOption] = []
            options.reserveCapacity(section.options.count)
            for option in section.options {
                // Most options hold no reference: they resolve to themselves, with no memo to keep.
                if !Self.mayReference(option.node.value) {
                    options.append(ResolvedOption(name: option.name, node: option.node, keyLocation: option.keyLocation, history: option.history))
                    continue
                }
                if let value = substituter.resolve(Key(section: section.name, option: option.name), reference: nil, diagnostics: &diagnostics) {
                    options.append(value)
                } else {
                    // Already reported; keeping the unsubstituted value spares later checks a cascade of "missing option" errors.
                    options.append(ResolvedOption(name: option.name, node: option.node, keyLocation: option.keyLocation, history: option.history,
                                                  isUnresolved: true))
                }
            }
            sections.append(ResolvedSection(name: section.name, location: section.location, origin: section.origin, options: options))
        }
        referenced.formUnion(substituter.referenced)
        return ResolvedConfiguration(sections: sections)
    }

    private init(configuration: LayeredConfiguration) { self.configuration = configuration }

    /// Whether a value holds a `$` anywhere, the only way it can hold a reference or an escape.
    static func mayReference(_ value: Value) -> Bool {
        switch value {
        case .string(let text): text.utf8.contains(UInt8(ascii: "$"))
        case .list(let items): items.contains { mayReference($0.value) }
        case .map(let entries): entries.contains { mayReference($0.node.value) }
        default: false
        }
    }

    private mutating func resolve(_ key: Key, reference: SourceLocation?, diagnostics: inout DiagnosticBag) -> ResolvedOption? {
        guard let state = configuration.option(key.section, key.option) else { return nil }
        return resolve(key, state: state, reference: reference, diagnostics: &diagnostics)
    }

    private mutating func resolve(_ key: Key, state: OptionState, reference: SourceLocation?, diagnostics: inout DiagnosticBag) -> ResolvedOption? {
        // An option without a `$` is itself: no memo, no cycle to look for.
        if !Self.mayReference(state.node.value) {
            return ResolvedOption(name: key.option, node: state.node, keyLocation: state.keyLocation, history: state.history)
        }
        if let done = resolved[key] { return done }
        if !failed.isEmpty && failed.contains(key) { return nil }
        if let start = inProgress.firstIndex(where: { $0.key == key }) {
            let links = inProgress[start...].map { "${\($0.key.section):\($0.key.option)}" } + ["${\(key.section):\(key.option)}"]
            let notes = inProgress[(start + 1)...].compactMap { link in
                link.reference.map { Note("'${\(link.key.section):\(link.key.option)}' referenced here", at: $0) }
            }
            diagnostics.add(.error("substitution cycle: " + links.joined(separator: " → "),
                                   at: reference ?? configuration.option(key.section, key.option)?.node.location
                                        ?? SourceLocation(file: "?", line: 1, column: 1),
                                   notes: notes))
            for link in inProgress[start...] { failed.insert(link.key) }
            return nil
        }
        inProgress.append((key, reference))
        defer { inProgress.removeLast() }
        var history = state.history
        let origin = state.history.last?.origin
        guard let node = substitute(state.node, section: key.section, origin: origin, history: &history, diagnostics: &diagnostics),
              !failed.contains(key) else {
            failed.insert(key)
            return nil
        }
        let option = ResolvedOption(name: key.option, node: node, keyLocation: state.keyLocation, history: history)
        resolved[key] = option
        return option
    }

    private mutating func substitute(_ node: ValueNode, section: String, origin: Origin?, history: inout History,
                                     diagnostics: inout DiagnosticBag) -> ValueNode? {
        switch node.value {
        case .string(let text):
            guard text.unicodeScalars.contains("$") else { return node }
            return substituteText(text, node: node, section: section, origin: origin, history: &history, diagnostics: &diagnostics)
        case .list(let items):
            // Every item is substituted even after one failed: each bad reference is reported.
            var result: [ValueNode] = []
            result.reserveCapacity(items.count)
            var ok = true
            for item in items {
                if let value = substitute(item, section: section, origin: origin, history: &history, diagnostics: &diagnostics) {
                    result.append(value)
                } else {
                    ok = false
                }
            }
            return ok ? ValueNode(.list(result), at: node.location, contentOffset: node.contentOffset) : nil
        case .map(let entries):
            var result: [MapEntry] = []
            result.reserveCapacity(entries.count)
            var ok = true
            for entry in entries {
                if let value = substitute(entry.node, section: section, origin: origin, history: &history, diagnostics: &diagnostics) {
                    result.append(MapEntry(key: entry.key, at: entry.keyLocation, node: value))
                } else {
                    ok = false
                }
            }
            return ok ? ValueNode(.map(result), at: node.location, contentOffset: node.contentOffset) : nil
        default:
            return node
        }
    }

    private mutating func substituteText(_ text: String, node: ValueNode, section: String, origin: Origin?,
                                         history: inout History, diagnostics: inout DiagnosticBag) -> ValueNode? {
        // Works on UTF-8 bytes: '$', '{' and '}' are ASCII, so they never occur inside a multi-byte character.
        let bytes = Array(text.utf8)
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var index = 0
        var ok = true
        /// Positions count Unicode scalars, as the loaders do.
        func location(ofByte offset: Int) -> SourceLocation {
            node.location(ofScalarOffset: bytes[..<offset].reduce(0) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 })
        }
        while index < bytes.count {
            guard bytes[index] == dollar else {
                let next = bytes[index...].firstIndex(of: dollar) ?? bytes.count
                output.append(contentsOf: bytes[index..<next])
                index = next
                continue
            }
            var end = index
            while end < bytes.count && bytes[end] == dollar { end += 1 }
            let run = end - index
            guard end < bytes.count, bytes[end] == open else {
                output.append(contentsOf: bytes[index..<end])
                index = end
                continue
            }
            let closing = bytes[end...].firstIndex(of: close)
            if run >= 2 {
                // Escaped for the next stage: one `$` fewer, the braces kept verbatim.
                output.append(contentsOf: bytes[(index + 1)..<end])
                let stop = closing.map { $0 + 1 } ?? bytes.count
                output.append(contentsOf: bytes[end..<stop])
                index = stop
                continue
            }
            guard let closing else {
                diagnostics.add(.error("unterminated '${' (expected '${section:option}')", at: location(ofByte: index), notes: origin.chain))
                return nil
            }
            let inner = String(decoding: bytes[(end + 1)..<closing], as: UTF8.self)
            let start = index
            index = closing + 1
            guard let target = Self.parseReference(inner, in: section) else {
                diagnostics.add(.error("malformed reference '${\(inner)}' (expected '${section:option}' or '${:option}')",
                                       at: location(ofByte: start), notes: origin.chain))
                ok = false
                continue
            }
            let at = location(ofByte: start)
            guard let value = lookup(target, spelled: inner, at: at, origin: origin, diagnostics: &diagnostics) else {
                ok = false
                continue
            }
            history.append(HistoryStep(.substitute, value: value.value, at: at, origin: origin,
                                       detail: "${" + inner + "}", source: value.node.location))
            // A value that is exactly one reference takes the referenced value whole, keeping its type.
            if start == 0, index == bytes.count {
                return ValueNode(value.value, at: node.location, contentOffset: nil)
            }
            guard let text = Self.interpolated(value.value) else {
                diagnostics.add(.error("'${\(inner)}' is a \(value.value.kindName) and cannot be inserted into text", at: at,
                                       notes: origin.chain + [Note("the \(value.value.kindName) is set here", at: value.node.location)]))
                ok = false
                continue
            }
            output.append(contentsOf: text.utf8)
            if output.count > Self.maximumValueBytes || totalBytes + output.count > Self.maximumTotalBytes {
                reportSize(output.count, at: node.location, origin: origin, diagnostics: &diagnostics)
                return nil
            }
        }
        guard ok else { return nil }
        totalBytes += output.count
        return ValueNode(.string(String(decoding: output, as: UTF8.self)), at: node.location, contentOffset: nil)
    }

    /// The limit crossed, at the option that crossed it, with a note for each reference that led there.
    private mutating func reportSize(_ bytes: Int, at location: SourceLocation, origin: Origin?, diagnostics: inout DiagnosticBag) {
        let perValue = bytes > Self.maximumValueBytes
        for link in inProgress { failed.insert(link.key) }
        guard perValue || !totalReported else { return }
        if !perValue { totalReported = true }
        let chain = inProgress.map { "${\($0.key.section):\($0.key.option)}" }
        let option = inProgress.last.map { "option '\($0.key.option)' of section '\($0.key.section)'" } ?? "a value"
        let message = perValue
            ? "substitution makes \(option) longer than \(Self.maximumValueBytes >> 20) MiB, the limit of one value"
            : "substitution makes this profile's values longer than \(Self.maximumTotalBytes >> 20) MiB in all, the limit of one profile (at \(option))"
        let notes = inProgress.compactMap { link in link.reference.map { Note("'${\(link.key.section):\(link.key.option)}' referenced here", at: $0) } }
        diagnostics.add(.error(message + (chain.count > 1 ? " (through " + chain.joined(separator: " → ") + ")" : ""), at: location, notes: origin.chain + notes))
    }

    private mutating func lookup(_ key: Key, spelled: String, at: SourceLocation, origin: Origin?,
                                 diagnostics: inout DiagnosticBag) -> ResolvedOption? {
        if let state = configuration.option(key.section, key.option) {
            referenced.insert(key)
            return resolve(key, state: state, reference: at, diagnostics: &diagnostics)
        }
        guard let section = configuration[key.section] else {
            // An instance profile checked on its own: its `instance` section only exists per instance.
            let hint = key.section == "instance"
                ? " (the 'instance' section is given to a software type's profile for each instance: check the deployment that requests it)"
                : Suggestions.didYouMean(key.section, in: configuration.sections.map(\.name))
            diagnostics.add(.error("unknown section '\(key.section)' in '${\(spelled)}'" + hint, at: at, notes: origin.chain))
            return nil
        }
        guard section[key.option] != nil else {
            diagnostics.add(.error("section '\(key.section)' has no option '\(key.option)' (in '${\(spelled)}')" + Suggestions.didYouMean(key.option, in: section.options.map(\.name)),
                                   at: at, notes: origin.chain + [Note("section '\(key.section)' is defined here", at: section.location)]))
            return nil
        }
        referenced.insert(key)
        return resolve(key, reference: at, diagnostics: &diagnostics)
    }

    static func parseReference(_ inner: String, in section: String) -> Key? {
        let bytes = inner.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let sectionPart = inner[..<colon], optionPart = inner[inner.utf8.index(after: colon)...]
        guard !optionPart.isEmpty else { return nil }
        let valid = { (name: Substring) in
            name.utf8.allSatisfy { byte in
                // ASCII names fast; any non-ASCII letter is allowed too (its UTF-8 bytes are >= 0x80).
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte >= 0x80
            }
        }
        guard valid(sectionPart), valid(optionPart) else { return nil }
        return Key(section: sectionPart.isEmpty ? section : String(sectionPart), option: String(optionPart))
    }

    /// Scalars insert as their text; a list of scalars as its items joined by spaces.
    static func interpolated(_ value: Value) -> String? {
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return ""
        case .list(let items):
            var parts: [String] = []
            for item in items {
                guard case .string = item.value else {
                    guard let text = item.string else { return nil }
                    parts.append(text)
                    continue
                }
                parts.append(item.string ?? "")
            }
            return parts.joined(separator: " ")
        case .map: return nil
        }
    }
}

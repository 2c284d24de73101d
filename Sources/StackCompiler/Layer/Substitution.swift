import StackModel

/// Resolves `${section:option}` and `${:option}` lazily, each option once, reporting cycles with
/// every link; `$${…}` loses one `$` and is left for the next stage.
struct Substituter {
    private struct Key: Hashable {
        var section: String
        var option: String
    }

    private let configuration: LayeredConfiguration
    private var resolved: [Key: ResolvedOption] = [:]
    private var failed: Set<Key> = []
    private var inProgress: [(key: Key, reference: SourceLocation?)] = []
    /// Every `section\u{0}option` some substitution read, for the unused-option check.
    private(set) var referenced: Set<String> = []

    static func resolve(_ configuration: LayeredConfiguration, referenced: inout Set<String>,
                        diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        var substituter = Substituter(configuration: configuration)
        var sections: [ResolvedSection] = []
        sections.reserveCapacity(configuration.sections.count)
        for section in configuration.sections {
            var options: [ResolvedOption] = []
            options.reserveCapacity(section.options.count)
            for option in section.options {
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

    private mutating func resolve(_ key: Key, reference: SourceLocation?, diagnostics: inout DiagnosticBag) -> ResolvedOption? {
        if let done = resolved[key] { return done }
        if failed.contains(key) { return nil }
        if let start = inProgress.firstIndex(where: { $0.key == key }) {
            let links = inProgress[start...].map { "${\($0.key.section):\($0.key.option)}" } + ["${\(key.section):\(key.option)}"]
            let notes = inProgress[(start + 1)...].compactMap { link in
                link.reference.map { Note("'${\(link.key.section):\(link.key.option)}' referenced here", at: $0) }
            }
            diagnostics.add(.error("substitution cycle: " + links.joined(separator: " → "),
                                   at: reference ?? configuration[key.section]?[key.option]?.node.location
                                        ?? SourceLocation(file: "?", line: 1, column: 1),
                                   notes: notes))
            for link in inProgress[start...] { failed.insert(link.key) }
            return nil
        }
        guard let state = configuration[key.section]?[key.option] else { return nil }
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

    private mutating func substitute(_ node: ValueNode, section: String, origin: Origin?, history: inout [HistoryStep],
                                     diagnostics: inout DiagnosticBag) -> ValueNode? {
        switch node.value {
        case .string(let text):
            guard text.unicodeScalars.contains("$") else { return node }
            return substituteText(text, node: node, section: section, origin: origin, history: &history, diagnostics: &diagnostics)
        case .list(let items):
            var result: [ValueNode] = []
            result.reserveCapacity(items.count)
            for item in items {
                guard let value = substitute(item, section: section, origin: origin, history: &history, diagnostics: &diagnostics) else { return nil }
                result.append(value)
            }
            return ValueNode(.list(result), at: node.location, contentOffset: node.contentOffset)
        case .map(let entries):
            var result: [MapEntry] = []
            result.reserveCapacity(entries.count)
            for entry in entries {
                guard let value = substitute(entry.node, section: section, origin: origin, history: &history, diagnostics: &diagnostics) else { return nil }
                result.append(MapEntry(key: entry.key, at: entry.keyLocation, node: value))
            }
            return ValueNode(.map(result), at: node.location, contentOffset: node.contentOffset)
        default:
            return node
        }
    }

    private mutating func substituteText(_ text: String, node: ValueNode, section: String, origin: Origin?,
                                         history: inout [HistoryStep], diagnostics: inout DiagnosticBag) -> ValueNode? {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        var ok = true
        while index < scalars.count {
            guard scalars[index] == "$" else {
                output.append(scalars[index])
                index += 1
                continue
            }
            var end = index
            while end < scalars.count && scalars[end] == "$" { end += 1 }
            let run = end - index
            guard end < scalars.count, scalars[end] == "{" else {
                output.append(contentsOf: scalars[index..<end])
                index = end
                continue
            }
            let closing = scalars[end...].firstIndex(of: "}")
            if run >= 2 {
                // Escaped for the next stage: one `$` fewer, the braces kept verbatim.
                output.append(contentsOf: scalars[(index + 1)..<end])
                let stop = closing.map { $0 + 1 } ?? scalars.count
                output.append(contentsOf: scalars[end..<stop])
                index = stop
                continue
            }
            let at = node.location(ofScalarOffset: index)
            guard let closing else {
                diagnostics.add(.error("unterminated '${' (expected '${section:option}')", at: at, notes: origin.chain))
                return nil
            }
            let inner = String(String.UnicodeScalarView(scalars[(end + 1)..<closing]))
            index = closing + 1
            guard let target = Self.parseReference(inner, in: section) else {
                diagnostics.add(.error("malformed reference '${\(inner)}' (expected '${section:option}' or '${:option}')", at: at, notes: origin.chain))
                ok = false
                continue
            }
            guard let value = lookup(target, spelled: inner, at: at, origin: origin, diagnostics: &diagnostics) else {
                ok = false
                continue
            }
            history.append(HistoryStep(.substitute, value: value.value, at: at, origin: origin,
                                       detail: "${\(inner)} from \(value.node.location)"))
            // A value that is exactly one reference takes the referenced value whole, keeping its type.
            if end == 1, index == scalars.count {
                return ValueNode(value.value, at: node.location, contentOffset: nil)
            }
            guard let text = Self.interpolated(value.value) else {
                diagnostics.add(.error("'${\(inner)}' is a \(value.value.kindName) and cannot be inserted into text", at: at,
                                       notes: origin.chain + [Note("the \(value.value.kindName) is set here", at: value.node.location)]))
                ok = false
                continue
            }
            output.append(contentsOf: text.unicodeScalars)
        }
        guard ok else { return nil }
        return ValueNode(.string(String(output)), at: node.location, contentOffset: nil)
    }

    private mutating func lookup(_ key: Key, spelled: String, at: SourceLocation, origin: Origin?,
                                 diagnostics: inout DiagnosticBag) -> ResolvedOption? {
        guard let section = configuration[key.section] else {
            diagnostics.add(.error("unknown section '\(key.section)' in '${\(spelled)}'" + Suggestions.didYouMean(key.section, in: configuration.sections.map(\.name)),
                                   at: at, notes: origin.chain))
            return nil
        }
        guard section[key.option] != nil else {
            diagnostics.add(.error("section '\(key.section)' has no option '\(key.option)' (in '${\(spelled)}')" + Suggestions.didYouMean(key.option, in: section.options.map(\.name)),
                                   at: at, notes: origin.chain + [Note("section '\(key.section)' is defined here", at: section.location)]))
            return nil
        }
        referenced.insert(key.section + "\u{0}" + key.option)
        return resolve(key, reference: at, diagnostics: &diagnostics)
    }

    private static func parseReference(_ inner: String, in section: String) -> Key? {
        let parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        let valid = { (name: Substring) in name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) } }
        guard valid(parts[0]), valid(parts[1]) else { return nil }
        return Key(section: parts[0].isEmpty ? section : String(parts[0]), option: String(parts[1]))
    }

    /// Scalars insert as their text; a list of scalars as its items joined by spaces.
    private static func interpolated(_ value: Value) -> String? {
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

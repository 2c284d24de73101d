import Foundation
import StackModel

/// An option while layers are applied: its current value and every step that shaped it.
struct OptionState: Sendable {
    var name: String
    var keyLocation: SourceLocation
    var node: ValueNode
    var history: History
}

/// A section while layers are applied.
struct SectionState: Sendable {
    var name: String
    var location: SourceLocation
    var origin: Origin?
    var options: [OptionState] = []
    var index: [String: Int] = [:]
    /// The `<=` value: the sections this one copies options from.
    var macro: ValueNode?
    var macroOrigin: Origin?

    subscript(name: String) -> OptionState? {
        get { index[name].map { options[$0] } }
        set {
            if let position = index[name] {
                if let newValue { options[position] = newValue } else {
                    options.remove(at: position)
                    index = Dictionary(uniqueKeysWithValues: options.enumerated().map { ($1.name, $0) })
                }
            } else if let newValue {
                index[name] = options.count
                options.append(newValue)
            }
        }
    }
}

/// Every section of every layer, applied in order, before macros and substitution.
struct LayeredConfiguration: Sendable {
    var sections: [SectionState] = []
    var index: [String: Int] = [:]

    /// One option, read in place: copying its whole section to reach it cost the substituter a
    /// retain and release per field.
    func option(_ section: String, _ option: String) -> OptionState? {
        guard let position = index[section], let slot = sections[position].index[option] else { return nil }
        return sections[position].options[slot]
    }

    subscript(name: String) -> SectionState? {
        get { index[name].map { sections[$0] } }
        set {
            guard let newValue else { return }
            if let position = index[name] { sections[position] = newValue } else {
                index[name] = sections.count
                sections.append(newValue)
            }
        }
    }
}

/// The operator written after an option name.
enum Operation {
    case set, append, remove

    /// Splits `parts +=` into the name and its operator.
    static func parse(_ rawKey: String) -> (name: String, operation: Operation) {
        let key = rawKey.trimmingSpaces
        if key.hasSuffix("+=") { return (String(key.dropLast(2)).trimmingSpaces, .append) }
        if key.hasSuffix("-=") { return (String(key.dropLast(2)).trimmingSpaces, .remove) }
        return (key, .set)
    }

    var action: HistoryStep.Action {
        switch self {
        case .set: .set
        case .append: .append
        case .remove: .remove
        }
    }
}

/// Applies `extends` (left to right, a diamond base once, cycles reported) and the operators of each layer.
struct Layering {
    let reader: ProfileReader
    /// Linearized, include-expanded layers per profile, so instance profiles shared by many
    /// instances are read and ordered once.
    private(set) var linearizations: [String: [FileContent]] = [:]

    init(reader: ProfileReader) { self.reader = reader }

    /// The layers of `profile` in application order: each base before what extends it.
    mutating func layers(of path: String, reference: SourceLocation?, origin: Origin?,
                         diagnostics: inout DiagnosticBag) -> [FileContent] {
        let root: ProfileFile
        do {
            root = try reader.read(path, reference: reference)
        } catch {
            diagnostics.add(contentsOf: error.diagnostics.map { withChain($0, origin) })
            return []
        }
        if let cached = linearizations[root.identity] { return cached }
        let includes = IncludeExpander(reader: reader)

        // Iterative depth-first post-order, so a 10,000-deep chain cannot overflow the stack.
        struct Frame { var content: FileContent; var next: Int; var reference: SourceLocation? }
        var order: [FileContent] = []
        var done: Set<String> = []
        var onStack: [String: Int] = [root.identity: 0]
        var stack = [Frame(content: includes.content(of: root, origin: origin, diagnostics: &diagnostics), next: 0, reference: reference)]
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].content.extends.count else {
                let frame = stack.removeLast()
                onStack[frame.content.file.identity] = nil
                done.insert(frame.content.file.identity)
                order.append(frame.content)
                continue
            }
            let ref = stack[top].content.extends[stack[top].next]
            stack[top].next += 1
            guard let relative = ref.string else { continue }
            let path = Paths.join(relative, toDirectoryOf: ref.location.file)
            let file: ProfileFile
            do {
                file = try reader.read(path, reference: ref.location)
            } catch {
                diagnostics.add(contentsOf: error.diagnostics.map { withChain($0, stack[top].content.origin) })
                continue
            }
            if let start = onStack[file.identity] {
                let cycle = stack[start...].map(\.content.file.path) + [file.path]
                var notes = stack[(start + 1)...].compactMap { frame in
                    frame.reference.map { Note("'\(frame.content.file.path)' extended from here", at: $0) }
                }
                notes.append(Note("'\(file.path)' extended again from here", at: ref.location))
                diagnostics.add(.error("extends cycle: " + cycle.joined(separator: " → "), at: ref.location, notes: notes))
                continue
            }
            if done.contains(file.identity) { continue }
            let fileOrigin = Origin(Note("'\(file.path)' extended from '\(stack[top].content.file.path)'", at: ref.location),
                                    parent: stack[top].content.origin)
            onStack[file.identity] = stack.count
            stack.append(Frame(content: includes.content(of: file, origin: fileOrigin, diagnostics: &diagnostics), next: 0, reference: ref.location))
        }
        linearizations[root.identity] = order
        return order
    }

    /// Applies the layers in order: later wins, `+=` / `-=` work on what earlier layers left.
    static func apply(_ layers: [FileContent], to configuration: inout LayeredConfiguration, diagnostics: inout DiagnosticBag) {
        for layer in layers {
            for content in layer.sections {
                var section = configuration[content.name]
                    ?? SectionState(name: content.name, location: content.location, origin: content.origin)
                for item in content.items {
                    apply(item.entry, origin: item.origin, to: &section, diagnostics: &diagnostics)
                }
                configuration[content.name] = section
            }
        }
    }

    private static func apply(_ item: MapEntry, origin: Origin?, to section: inout SectionState, diagnostics: inout DiagnosticBag) {
        if item.key.trimmingSpaces == "<=" {
            section.macro = item.node
            section.macroOrigin = origin
            return
        }
        let (name, operation) = Operation.parse(item.key)
        guard !name.isEmpty else {
            diagnostics.add(.error("option name missing before the operator in '\(item.key)'", at: item.keyLocation, notes: origin.chain))
            return
        }
        let existing = section[name]
        let step = HistoryStep(operation.action, value: item.node.value, at: item.node.location, origin: origin)
        guard let result = combine(existing?.node, operation, item.node, origin: origin, diagnostics: &diagnostics) else {
            return
        }
        section[name] = OptionState(name: name, keyLocation: existing?.keyLocation ?? item.keyLocation,
                                    node: result, history: (existing?.history ?? []) + [step])
    }

    /// The value after applying `operation` with `operand` to what earlier layers left.
    /// Maps merge key by key (inner keys may carry operators too); scalars join and split by lines.
    static func combine(_ existing: ValueNode?, _ operation: Operation, _ operand: ValueNode, origin: Origin?,
                        diagnostics: inout DiagnosticBag) -> ValueNode? {
        guard let existing, !isNull(existing.value) else {
            if operation == .remove {
                diagnostics.add(.warning("'-=' has nothing to remove from: no earlier layer sets this option",
                                         at: operand.location, notes: origin.chain))
                return nil
            }
            return stripOperators(operand, origin: origin, diagnostics: &diagnostics)
        }
        switch (operation, existing.value, operand.value) {
        case (.set, .map, .map), (.append, .map, .map):
            return merge(existing, operand, origin: origin, diagnostics: &diagnostics)
        case (.set, _, _):
            return stripOperators(operand, origin: origin, diagnostics: &diagnostics)
        case (.append, .list(let items), .list(let more)):
            return ValueNode(.list(items + more), at: operand.location)
        case (.append, .list(let items), .string), (.append, .list(let items), .number), (.append, .list(let items), .bool):
            return ValueNode(.list(items + [operand]), at: operand.location)
        case (.append, _, _):
            if let base = existing.string, !isCollection(existing.value), let more = operand.string, !isCollection(operand.value) {
                return ValueNode(.string(base + "\n" + more), at: operand.location, contentOffset: nil)
            }
            diagnostics.add(.error("'+=' cannot append a \(operand.value.kindName) to a \(existing.value.kindName)",
                                   at: operand.location, notes: origin.chain + [Note("the \(existing.value.kindName) was set here", at: existing.location)]))
            return existing
        case (.remove, .list(let items), _):
            let removals: [ValueNode]
            if case .list(let list) = operand.value { removals = list } else { removals = [operand] }
            var kept = items
            for removal in removals {
                let before = kept.count
                kept.removeAll { $0.value.sameContent(as: removal.value) }
                if kept.count == before {
                    diagnostics.add(.warning("'-=' removes '\(removal.value.summary)', which the inherited list does not hold",
                                             at: removal.location, notes: origin.chain + [Note("the list was set here", at: existing.location)]))
                }
            }
            return ValueNode(.list(kept), at: operand.location)
        case (.remove, .map(let entries), _):
            let keys: [ValueNode]
            if case .list(let list) = operand.value { keys = list } else { keys = [operand] }
            var kept = entries
            for key in keys {
                guard let name = key.string else {
                    diagnostics.add(.error("'-=' on a map takes key names, got a \(key.value.kindName)", at: key.location, notes: origin.chain))
                    continue
                }
                if !kept.contains(where: { $0.key == name }) {
                    diagnostics.add(.warning("'-=' removes key '\(name)', which the inherited map does not hold", at: key.location, notes: origin.chain))
                }
                kept.removeAll { $0.key == name }
            }
            return ValueNode(.map(kept), at: operand.location)
        case (.remove, _, _):
            guard let base = existing.string, let line = operand.string, !isCollection(operand.value) else {
                diagnostics.add(.error("'-=' cannot remove a \(operand.value.kindName) from a \(existing.value.kindName)",
                                       at: operand.location, notes: origin.chain))
                return existing
            }
            var lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let before = lines.count
            lines.removeAll { $0 == line }
            if lines.count == before {
                diagnostics.add(.warning("'-=' removes the line '\(line)', which the inherited value does not hold",
                                         at: operand.location, notes: origin.chain))
            }
            return ValueNode(.string(lines.joined(separator: "\n")), at: operand.location, contentOffset: nil)
        }
    }

    private static func merge(_ base: ValueNode, _ overlay: ValueNode, origin: Origin?, diagnostics: inout DiagnosticBag) -> ValueNode {
        guard case .map(var entries) = base.value, case .map(let more) = overlay.value else { return overlay }
        for entry in more {
            let (name, operation) = Operation.parse(entry.key)
            let position = entries.firstIndex { $0.key == name }
            let existing = position.map { entries[$0].node }
            guard let combined = combine(existing, operation, entry.node, origin: origin, diagnostics: &diagnostics) else { continue }
            if let position { entries[position].node = combined } else {
                entries.append(MapEntry(key: name, at: entry.keyLocation, node: combined))
            }
        }
        return ValueNode(.map(entries), at: overlay.location)
    }

    /// A map written with `key +=` where nothing came before: the operators apply to nothing.
    private static func stripOperators(_ node: ValueNode, origin: Origin?, diagnostics: inout DiagnosticBag) -> ValueNode {
        guard case .map(let entries) = node.value, entries.contains(where: { Operation.parse($0.key).operation != .set }) else { return node }
        return merge(ValueNode(.map([]), at: node.location), node, origin: origin, diagnostics: &diagnostics)
    }

    private static func isNull(_ value: Value) -> Bool {
        if case .null = value { return true }
        return false
    }

    private static func isCollection(_ value: Value) -> Bool {
        switch value {
        case .list, .map: true
        default: false
        }
    }
}

import StackModel

/// A software type's instance profile prepared once for all its instances: options without a `$`
/// are resolved once, the others parsed into text runs and references. `instantiate` evaluates them
/// against one instance's facts. It handles the plain, successful case only: at anything else (a
/// missing option, a cycle, a map inserted into text, a `$` inside a fact) it returns nil, and the
/// caller runs the general `Substituter`, which reports exactly as it always has. The result is the
/// one `Substituter.resolve` gives — same values, same histories, same sections in the same order —
/// which a test checks on every shipped stack.
struct PartitionTemplate: Sendable {
    private struct Reference: Sendable {
        var key: OptionKey
        /// Where the `$` is, and the step's remark (`${section:option}`), computed once.
        var location: SourceLocation
        var remark: String
    }

    private enum Piece: Sendable {
        case text(String)
        case reference(Int)
    }

    /// A string with at least one `$`: text runs and references, in order.
    private struct Text: Sendable {
        var node: ValueNode
        var pieces: [Piece]
        var references: [Reference]
        /// The value is exactly one reference: it takes the referenced value whole, keeping its type.
        var whole: Bool { pieces.count == 1 && references.count == 1 }
    }

    /// A value as `Substituter.substitute` walks it.
    private indirect enum Shape: Sendable {
        case fixed(ValueNode)
        case text(Text)
        case list(ValueNode, [Shape])
        case map(ValueNode, [(key: String, location: SourceLocation, shape: Shape)])
    }

    private struct Template: Sendable {
        var shape: Shape
        var origin: Origin?
        var references: [OptionKey]
    }

    private enum Slot: Sendable {
        case constant(ResolvedOption)
        case template(OptionState, Template)
    }

    private struct Section: Sendable {
        var name: String
        var location: SourceLocation
        var origin: Origin?
        var slots: [Slot]
    }

    private var sections: [Section] = []
    /// Where each section's slots start in a flat numbering of all slots.
    private var firstSlot: [Int] = []
    private var slotCount = 0
    /// Options of the profile by section and name: (section, slot).
    private var positions: [OptionKey: (Int, Int)] = [:]
    /// Every option a template names: what `Substituter` records as referenced when all resolve.
    private(set) var referenced: Set<OptionKey> = []
    let factsSection: String

    /// nil when the profile has a value this fast path does not take (a `$` in a list or map, an
    /// escape, a malformed reference): every instance then goes through the general substituter.
    init?(_ profile: LayeredConfiguration, factsSection: String) {
        self.factsSection = factsSection
        guard profile[factsSection] == nil else { return nil }
        for (sectionIndex, section) in profile.sections.enumerated() {
            var slots: [Slot] = []
            slots.reserveCapacity(section.options.count)
            for option in section.options {
                positions[OptionKey(section: section.name, option: option.name)] = (sectionIndex, slots.count)
                guard Substituter.mayReference(option.node.value) else {
                    slots.append(.constant(ResolvedOption(name: option.name, node: option.node, keyLocation: option.keyLocation, history: option.history)))
                    continue
                }
                guard let shape = Self.shape(of: option.node, section: section.name) else { return nil }
                let template = Template(shape: shape, origin: option.history.last?.origin, references: Self.references(in: shape))
                referenced.formUnion(template.references)
                slots.append(.template(option, template))
            }
            sections.append(Section(name: section.name, location: section.location, origin: section.origin, slots: slots))
            firstSlot.append(slotCount)
            slotCount += slots.count
        }
    }

    private static func shape(of node: ValueNode, section: String) -> Shape? {
        switch node.value {
        case .string(let text):
            guard text.utf8.contains(UInt8(ascii: "$")) else { return .fixed(node) }
            return parse(text, node: node, section: section).map(Shape.text)
        case .list(let items):
            var shapes: [Shape] = []
            for item in items {
                guard let shape = shape(of: item, section: section) else { return nil }
                shapes.append(shape)
            }
            return .list(node, shapes)
        case .map(let entries):
            var shapes: [(key: String, location: SourceLocation, shape: Shape)] = []
            for entry in entries {
                guard let shape = shape(of: entry.node, section: section) else { return nil }
                shapes.append((entry.key, entry.keyLocation, shape))
            }
            return .map(node, shapes)
        default:
            return .fixed(node)
        }
    }

    private static func references(in shape: Shape) -> [OptionKey] {
        switch shape {
        case .fixed: []
        case .text(let text): text.references.map(\.key)
        case .list(_, let items): items.flatMap { references(in: $0) }
        case .map(_, let entries): entries.flatMap { references(in: $0.shape) }
        }
    }

    /// Text with `${section:option}` references and lone `$`s; nil for an escape (`$${`), an
    /// unterminated or a malformed reference (the general substituter reports or rewrites those).
    private static func parse(_ text: String, node: ValueNode, section: String) -> Text? {
        let bytes = Array(text.utf8)
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        var pieces: [Piece] = []
        var references: [Reference] = []
        var literal: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == dollar else {
                literal.append(bytes[index])
                index += 1
                continue
            }
            var end = index
            while end < bytes.count && bytes[end] == dollar { end += 1 }
            guard end < bytes.count, bytes[end] == open else {
                literal.append(contentsOf: bytes[index..<end])
                index = end
                continue
            }
            guard end - index == 1, let closing = bytes[end...].firstIndex(of: close) else { return nil }
            let inner = String(decoding: bytes[(end + 1)..<closing], as: UTF8.self)
            guard let key = Substituter.parseReference(inner, in: section) else { return nil }
            if !literal.isEmpty {
                pieces.append(.text(String(decoding: literal, as: UTF8.self)))
                literal.removeAll()
            }
            let scalars = bytes[..<index].reduce(0) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
            pieces.append(.reference(references.count))
            references.append(Reference(key: key, location: node.location(ofScalarOffset: scalars), remark: "${" + inner + "}"))
            index = closing + 1
        }
        if !literal.isEmpty { pieces.append(.text(String(decoding: literal, as: UTF8.self))) }
        return Text(node: node, pieces: pieces, references: references)
    }

    /// The profile resolved for one instance whose facts are `facts` (in their section's order);
    /// nil when the general substituter must run.
    func instantiate(facts: [OptionState], factsLocation: SourceLocation) -> ResolvedConfiguration? {
        guard !facts.contains(where: { Substituter.mayReference($0.node.value) }) else { return nil }
        var evaluation = Evaluation(template: self, facts: facts)
        var resolved: [ResolvedSection] = []
        resolved.reserveCapacity(sections.count + 1)
        for (sectionIndex, section) in sections.enumerated() {
            var options: [ResolvedOption] = []
            options.reserveCapacity(section.slots.count)
            for slotIndex in section.slots.indices {
                guard let option = evaluation.value(sectionIndex, slotIndex) else { return nil }
                options.append(option)
            }
            resolved.append(ResolvedSection(name: section.name, location: section.location, origin: section.origin, options: options))
        }
        resolved.append(ResolvedSection(name: factsSection, location: factsLocation, origin: nil,
                                        options: facts.map { ResolvedOption(name: $0.name, node: $0.node, keyLocation: $0.keyLocation, history: $0.history) }))
        return ResolvedConfiguration(sections: resolved)
    }

    /// One instance's evaluation: templates memoized, a cycle ends it.
    private struct Evaluation {
        let template: PartitionTemplate
        let facts: [OptionState]
        /// Results and in-progress marks by slot, flat: `template.firstSlot[section] + slot`.
        var done: [ResolvedOption?]
        var busy: [Bool]

        init(template: PartitionTemplate, facts: [OptionState]) {
            self.template = template
            self.facts = facts
            done = Array(repeating: nil, count: template.slotCount)
            busy = Array(repeating: false, count: template.slotCount)
        }

        mutating func value(_ section: Int, _ slot: Int) -> ResolvedOption? {
            switch template.sections[section].slots[slot] {
            case .constant(let option): return option
            case .template(let state, let template):
                let id = self.template.firstSlot[section] + slot
                if let option = done[id] { return option }
                guard !busy[id] else { return nil }
                busy[id] = true
                defer { busy[id] = false }
                var history = state.history
                guard let node = evaluate(template.shape, origin: template.origin, history: &history) else { return nil }
                let option = ResolvedOption(name: state.name, node: node, keyLocation: state.keyLocation, history: history)
                done[id] = option
                return option
            }
        }

        /// What `Substituter.substitute` makes of a value, on the successful path.
        private mutating func evaluate(_ shape: Shape, origin: Origin?, history: inout History) -> ValueNode? {
            switch shape {
            case .fixed(let node):
                return node
            case .list(let node, let items):
                var result: [ValueNode] = []
                result.reserveCapacity(items.count)
                for item in items {
                    guard let value = evaluate(item, origin: origin, history: &history) else { return nil }
                    result.append(value)
                }
                return ValueNode(.list(result), at: node.location, contentOffset: node.contentOffset)
            case .map(let node, let entries):
                var result: [MapEntry] = []
                result.reserveCapacity(entries.count)
                for entry in entries {
                    guard let value = evaluate(entry.shape, origin: origin, history: &history) else { return nil }
                    result.append(MapEntry(key: entry.key, at: entry.location, node: value))
                }
                return ValueNode(.map(result), at: node.location, contentOffset: node.contentOffset)
            case .text(let text):
                var output = ""
                for piece in text.pieces {
                    switch piece {
                    case .text(let literal): output += literal
                    case .reference(let index):
                        let reference = text.references[index]
                        guard let value = lookup(reference.key) else { return nil }
                        history.append(HistoryStep(.substitute, value: value.value, at: reference.location, origin: origin,
                                                   detail: reference.remark, source: value.node.location))
                        if text.whole { return ValueNode(value.value, at: text.node.location, contentOffset: nil) }
                        guard let inserted = Substituter.interpolated(value.value) else { return nil }
                        output += inserted
                        // Past the limit the general substituter reports it, with its chain.
                        if output.utf8.count > Substituter.maximumValueBytes { return nil }
                    }
                }
                return ValueNode(.string(output), at: text.node.location, contentOffset: nil)
            }
        }

        private mutating func lookup(_ key: OptionKey) -> ResolvedOption? {
            if key.section == template.factsSection {
                guard let fact = facts.last(where: { $0.name == key.option }) else { return nil }
                return ResolvedOption(name: fact.name, node: fact.node, keyLocation: fact.keyLocation, history: fact.history)
            }
            guard let (section, slot) = template.positions[key] else { return nil }
            return value(section, slot)
        }
    }
}

/// One step in the life of a resolved value, oldest first in `ResolvedOption.history`.
public struct HistoryStep: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case set, append, remove, macro, substitute, replicate, `default`
    }

    public var action: Action
    /// The value this step contributed (the operand), when it has one.
    public var value: Value?
    public var location: SourceLocation
    /// How the file or section holding this step was reached.
    public var origin: Origin?
    /// A short remark shown beside the step ("section 'backup'").
    public var remark: String?
    /// For a substitution: where the substituted value was set.
    public var source: SourceLocation?

    public init(_ action: Action, value: Value?, at location: SourceLocation, origin: Origin?, detail: String? = nil,
                source: SourceLocation? = nil) {
        self.action = action
        self.value = value
        self.location = location
        self.origin = origin
        self.remark = detail
        self.source = source
    }

    /// The remark with the source, as printed ("${db:port} from base.yaml:3:9").
    public var detail: String? {
        guard let source else { return remark }
        return (remark.map { $0 + " " } ?? "") + "from \(source)"
    }

    public var via: [Note] { origin.chain }
}

/// An option after layering, macros and substitution.
public struct ResolvedOption: Sendable {
    public var name: String
    public var node: ValueNode
    public var keyLocation: SourceLocation
    public var history: History
    /// A substitution in it failed (already reported); the value is the text as written.
    public var isUnresolved: Bool

    public init(name: String, node: ValueNode, keyLocation: SourceLocation, history: History, isUnresolved: Bool = false) {
        self.name = name
        self.node = node
        self.keyLocation = keyLocation
        self.history = history
        self.isUnresolved = isUnresolved
    }

    public var value: Value { node.value }
}

/// A section after layering: its options in the order first written.
public struct ResolvedSection: Sendable {
    public var name: String
    public var location: SourceLocation
    public var origin: Origin?
    public var options: [ResolvedOption]

    public init(name: String, location: SourceLocation, origin: Origin?, options: [ResolvedOption]) {
        self.name = name
        self.location = location
        self.origin = origin
        self.options = options
    }

    public subscript(option: String) -> ResolvedOption? {
        options.first { $0.name == option }
    }
}

/// A whole resolved configuration: every section of every layer, keyed by name.
public struct ResolvedConfiguration: Sendable {
    public var sections: [ResolvedSection]
    private var index: [String: Int]

    public init(sections: [ResolvedSection]) {
        self.sections = sections
        self.index = Dictionary(sections.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(section: String) -> ResolvedSection? {
        index[section].map { sections[$0] }
    }

    public var sectionNames: [String] { sections.map(\.name) }
}

/// The steps of a value, oldest first, as a persistent list: appending shares the earlier steps,
/// so a thousand instances stamping the same 100-layer history cost a thousand nodes, not copies.
public struct History: Sendable, Sequence, ExpressibleByArrayLiteral {
    final class Node: Sendable {
        let step: HistoryStep
        let previous: Node?
        let count: Int

        init(_ step: HistoryStep, previous: Node?) {
            self.step = step
            self.previous = previous
            self.count = (previous?.count ?? 0) + 1
        }
    }

    private var tail: Node?

    public init() {}

    public init(_ steps: [HistoryStep]) {
        for step in steps { append(step) }
    }

    public init(arrayLiteral steps: HistoryStep...) { self.init(steps) }

    public mutating func append(_ step: HistoryStep) { tail = Node(step, previous: tail) }

    /// `a` then `b`'s steps (b is re-linked onto a; a is shared).
    public static func + (a: History, b: History) -> History {
        var result = a
        for step in b.steps { result.append(step) }
        return result
    }

    public var count: Int { tail?.count ?? 0 }
    public var last: HistoryStep? { tail?.step }
    public var first: HistoryStep? { steps.first }

    /// Oldest first.
    public var steps: [HistoryStep] {
        var result: [HistoryStep] = []
        result.reserveCapacity(count)
        var node = tail
        while let current = node {
            result.append(current.step)
            node = current.previous
        }
        return result.reversed()
    }

    public func makeIterator() -> IndexingIterator<[HistoryStep]> { steps.makeIterator() }
}

extension ResolvedOption {
    /// The substitution a value is wholly made of, when it was written as exactly one reference
    /// (`${instance:schedule}`): its `source` is where the author wrote the value.
    public var wholeSubstitution: HistoryStep? {
        let steps = Array(history)
        let written: String? = steps.last { $0.action == .set || $0.action == .macro }?.value.flatMap { value in
            if case .string(let text) = value { return text }
            return nil
        }
        guard let written, written.hasPrefix("${"), written.hasSuffix("}"), written.components(separatedBy: "${").count == 2 else { return nil }
        return steps.last { $0.action == .substitute && $0.source != nil }
    }

    /// Where the value was written: for a wholly substituted value, where the substituted value
    /// was set (a deployment's parameter), else the value's own position.
    public var valueLocation: SourceLocation { wholeSubstitution?.source ?? node.location }

    /// Where a person changes this value: the author's line of a wholly substituted value, else
    /// the last step of its history.
    public var authorLocation: SourceLocation? {
        wholeSubstitution?.source ?? history.last?.location
    }
}

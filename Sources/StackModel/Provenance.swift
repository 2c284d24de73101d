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
    public var detail: String?

    public init(_ action: Action, value: Value?, at location: SourceLocation, origin: Origin?, detail: String? = nil) {
        self.action = action
        self.value = value
        self.location = location
        self.origin = origin
        self.detail = detail
    }

    public var via: [Note] { origin.chain }
}

/// An option after layering, macros and substitution.
public struct ResolvedOption: Sendable {
    public var name: String
    public var node: ValueNode
    public var keyLocation: SourceLocation
    public var history: [HistoryStep]
    /// A substitution in it failed (already reported); the value is the text as written.
    public var isUnresolved: Bool

    public init(name: String, node: ValueNode, keyLocation: SourceLocation, history: [HistoryStep], isUnresolved: Bool = false) {
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

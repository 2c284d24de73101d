/// What an instance does in a resilient group.
public enum Role: String, Sendable, CaseIterable, Comparable {
    case export
    case `import`
    case pullBackup = "pull-backup"
    case plain

    public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
}

/// A parameter a software type accepts, with its type, and a default or the fact that it is required.
public struct ParameterSpec: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case string, integer, number, boolean, list, map

        /// Whether a value fits this kind (an integer is also a number).
        public func accepts(_ value: Value) -> Bool {
            switch (self, value) {
            case (.string, .string): true
            case (.integer, .number(let text)): Int(text) != nil
            case (.number, .number): true
            case (.boolean, .bool): true
            case (.list, .list): true
            case (.map, .map): true
            default: false
            }
        }
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var defaultValue: ValueNode?
    public var location: SourceLocation

    public init(name: String, kind: Kind, required: Bool, defaultValue: ValueNode?, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.location = location
    }
}

/// A software type a stack declares: a name, an instance profile and a role.
public struct SoftwareType: Sendable {
    public var name: String
    public var role: Role
    /// The instance profile, as a path usable from the working directory.
    public var profile: String
    public var parameters: [ParameterSpec]
    public var location: SourceLocation

    public init(name: String, role: Role, profile: String, parameters: [ParameterSpec], location: SourceLocation) {
        self.name = name
        self.role = role
        self.profile = profile
        self.parameters = parameters
        self.location = location
    }
}

/// One instance to deploy: what it is, what it is given, and what its partition installs.
public struct Instance: Sendable {
    public var name: String
    public var role: Role
    public var softwareType: String
    public var parameters: [ResolvedOption]
    /// The instance profile, resolved for this instance; the materializer installs its `stack.parts`.
    public var partition: ResolvedConfiguration?
    /// Where the instance was requested (a replicate() call or an explicit entry).
    public var declaration: SourceLocation
    /// The parts the partition installs, in order, their options typed (set by the compiler).
    public var recipeParts: [Part] = []

    public init(name: String, role: Role, softwareType: String, parameters: [ResolvedOption],
                partition: ResolvedConfiguration?, declaration: SourceLocation) {
        self.name = name
        self.role = role
        self.softwareType = softwareType
        self.parameters = parameters
        self.partition = partition
        self.declaration = declaration
    }

    public func parameter(_ name: String) -> ResolvedOption? { parameters.first { $0.name == name } }

    /// The parts the partition installs, in order.
    public var parts: [String] {
        guard case .list(let items)? = partition?["stack"]?["parts"]?.value else { return [] }
        return items.compactMap(\.string)
    }
}

/// A relation between two instances; `from` is the one that acts.
public struct Edge: Sendable, Hashable, Comparable {
    public enum Kind: String, Sendable, CaseIterable, Comparable {
        /// `from` tells `to` that new data is ready.
        case notify
        /// `from` (a pull-backup) copies the dump of `to` (an export).
        case pull
        /// `from` (a pull-backup) hands its latest snapshot to `to` (an import).
        case push
        /// `from` (an import) can be promoted to replace `to` (an export).
        case takeover

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public var from: String
    public var to: String
    public var kind: Kind
    public var declaration: SourceLocation

    public init(from: String, to: String, kind: Kind, declaration: SourceLocation) {
        self.from = from
        self.to = to
        self.kind = kind
        self.declaration = declaration
    }

    public static func < (a: Edge, b: Edge) -> Bool { (a.from, a.to, a.kind) < (b.from, b.to, b.kind) }
    public static func == (a: Edge, b: Edge) -> Bool { a.from == b.from && a.to == b.to && a.kind == b.kind }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(to)
        hasher.combine(kind)
    }
}

/// The typed, validated graph of instances a deployment asks for.
public struct InstanceGraph: Sendable {
    /// Sorted by name.
    public var instances: [Instance]
    /// Sorted by (from, to, kind).
    public var edges: [Edge]
    public var softwareTypes: [SoftwareType]

    public init(instances: [Instance], edges: [Edge], softwareTypes: [SoftwareType]) {
        // Positions are sorted, not the (large) values, which then move once.
        self.instances = instances.indices.sorted { instances[$0].name < instances[$1].name }.map { instances[$0] }
        // Sort, then drop adjacent duplicates (replicate groups and explicit wiring may both declare an edge).
        var unique: [Edge] = []
        unique.reserveCapacity(edges.count)
        for position in edges.indices.sorted(by: { edges[$0] < edges[$1] }) where unique.last != edges[position] { unique.append(edges[position]) }
        self.edges = unique
        self.softwareTypes = softwareTypes.sorted { $0.name < $1.name }
    }

    public func instance(named name: String) -> Instance? { instances.first { $0.name == name } }

    public func edges(from name: String, kind: Edge.Kind) -> [Edge] { edges.filter { $0.from == name && $0.kind == kind } }
    public func edges(to name: String, kind: Edge.Kind) -> [Edge] { edges.filter { $0.to == name && $0.kind == kind } }
}

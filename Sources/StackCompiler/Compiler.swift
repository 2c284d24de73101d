import StackModel

/// What compiling a profile produced: the resolved sections, the instance graph, and every diagnostic.
public struct Compilation: Sendable {
    public var configuration: ResolvedConfiguration
    public var graph: InstanceGraph
    /// Errors first, then warnings, each group by position.
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// The pipeline's first four stages: load → layer → expand → graph.
public struct Compiler {
    private var layering: Layering
    /// Instance profiles layered once per file, shared by every instance of a software type.
    private var appliedProfiles: [String: LayeredConfiguration] = [:]

    public init(reader: ProfileReader = ProfileReader()) {
        layering = Layering(reader: reader)
    }

    /// Compiles the profile at `path` (a deployment, a stack or any layered file).
    public static func compile(profile path: String) -> Compilation {
        var compiler = Compiler()
        return compiler.compile(profile: path)
    }

    public mutating func compile(profile path: String) -> Compilation {
        var diagnostics = DiagnosticBag()
        var referenced: Set<String> = []
        let configuration = resolve(path, reference: nil, origin: nil, injecting: nil,
                                    referenced: &referenced, diagnostics: &diagnostics)
        UsageChecker.checkStack(configuration, diagnostics: &diagnostics)
        UsageChecker.checkRecipes(configuration, referenced: referenced, diagnostics: &diagnostics)
        UsageChecker.checkParts(configuration, diagnostics: &diagnostics)

        let types = SoftwareTypeReader.read(configuration, diagnostics: &diagnostics)
        let requests = InstanceExpander(configuration: configuration).requests(diagnostics: &diagnostics)
        var (instances, edges, incomplete) = GraphBuilder(types: types).build(requests, diagnostics: &diagnostics)
        var partitionReferences: Set<String> = []
        var checkedProfiles: Set<String> = []
        let edgesByActor = Dictionary(grouping: edges, by: \.from)
        for index in instances.indices {
            guard let type = types[instances[index].softwareType], !incomplete.contains(instances[index].name) else { continue }
            let partition = compilePartition(of: instances[index], type: type, edges: edgesByActor[instances[index].name] ?? [],
                                             referenced: &partitionReferences, diagnostics: &diagnostics)
            instances[index].partition = partition
            if checkedProfiles.insert(type.profile).inserted {
                UsageChecker.checkRecipes(partition, referenced: partitionReferences, diagnostics: &diagnostics)
                UsageChecker.checkParts(partition, diagnostics: &diagnostics)
            }
        }
        edges.sort()
        return Compilation(configuration: configuration,
                           graph: InstanceGraph(instances: instances, edges: edges, softwareTypes: Array(types.values)),
                           diagnostics: diagnostics.sorted)
    }

    /// Layers, macro-expands and substitutes one profile; `injecting` adds a section (an instance's facts).
    private mutating func resolve(_ path: String, reference: SourceLocation?, origin: Origin?, injecting: SectionState?,
                                  referenced: inout Set<String>, diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        var layered: LayeredConfiguration
        let key = path
        if let cached = appliedProfiles[key] {
            layered = cached
        } else {
            let layers = layering.layers(of: path, reference: reference, origin: origin, diagnostics: &diagnostics)
            layered = LayeredConfiguration()
            Layering.apply(layers, to: &layered, diagnostics: &diagnostics)
            if injecting != nil { appliedProfiles[key] = layered }
        }
        if let injecting {
            var section = layered[injecting.name] ?? SectionState(name: injecting.name, location: injecting.location, origin: injecting.origin)
            for option in injecting.options { section[option.name] = option }
            layered[injecting.name] = section
        }
        let expanded = MacroExpander.expand(layered, diagnostics: &diagnostics)
        return Substituter.resolve(expanded, referenced: &referenced, diagnostics: &diagnostics)
    }

    /// The instance profile resolved for one instance, with an `instance` section holding its facts:
    /// name, role, software-type, its parameters and its peers.
    /// `edges` are those the instance acts in.
    private mutating func compilePartition(of instance: Instance, type: SoftwareType, edges: [Edge],
                                           referenced: inout Set<String>, diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        let at = instance.declaration
        var facts = SectionState(name: "instance", location: at, origin: nil)
        func add(_ name: String, _ value: Value) {
            facts[name] = OptionState(name: name, keyLocation: at, node: ValueNode(value, at: at),
                                      history: [HistoryStep(.set, value: value, at: at, origin: nil, detail: "instance '\(instance.name)'")])
        }
        add("name", .string(instance.name))
        add("role", .string(instance.role.rawValue))
        add("software-type", .string(instance.softwareType))
        for parameter in instance.parameters {
            facts[parameter.name] = OptionState(name: parameter.name, keyLocation: parameter.keyLocation, node: parameter.node, history: parameter.history)
        }
        let list = { (names: [String]) in Value.list(names.sorted().map { ValueNode(.string($0), at: at) }) }
        let mine = edges
        add("notify", list(mine.filter { $0.kind == .notify }.map(\.to)))
        add("pull-from", list(mine.filter { $0.kind == .pull }.map(\.to)))
        add("push-to", list(mine.filter { $0.kind == .push }.map(\.to)))
        add("takeover-of", list(mine.filter { $0.kind == .takeover }.map(\.to)))
        let origin = Origin(Note("instance profile of software type '\(type.name)'", at: type.location), parent: nil)
        return resolve(type.profile, reference: type.location, origin: origin, injecting: facts,
                       referenced: &referenced, diagnostics: &diagnostics)
    }
}

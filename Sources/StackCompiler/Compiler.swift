import StackModel

/// What compiling a profile produced: the resolved sections, the instance graph, and every diagnostic.
public struct Compilation: Sendable {
    public var configuration: ResolvedConfiguration
    public var graph: InstanceGraph
    /// Errors first, then warnings, each group by position.
    public var diagnostics: [Diagnostic]
    /// How many instance partitions came from a prepared template rather than the general substituter.
    public var templatedPartitions = 0

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// The pipeline's first four stages: load → layer → expand → graph.
public struct Compiler {
    private var layering: Layering
    /// Instance profiles layered (and macro-expanded) once per file, shared by every instance of a software type.
    private var preparedProfiles: [String: PreparedProfile] = [:]

    private struct PreparedProfile: Sendable {
        var layered: LayeredConfiguration
        /// nil when a macro copies the injected section, so expansion must wait for each instance's facts.
        var expanded: LayeredConfiguration?
        /// The expanded profile's options parsed once, for the common case (see PartitionTemplate).
        var template: PartitionTemplate?
    }

    /// Whether instances may take the prepared-template path; tests turn it off to compare.
    public var usesPartitionTemplates = true

    /// Threads instance partitions are resolved on (the host's cores, from the CLI).
    public var workers: Int

    public init(reader: ProfileReader = ProfileReader(), workers: Int = 1) {
        layering = Layering(reader: reader)
        self.workers = max(1, workers)
    }

    /// Compiles the profile at `path` (a deployment, a stack or any layered file).
    public static func compile(profile path: String, workers: Int = 1) -> Compilation {
        var compiler = Compiler(workers: workers)
        return compiler.compile(profile: path)
    }

    /// The stack of the thread `compileOnLargeStack` runs on.
    public static let compilerStack = 1 << 30

    /// Compiles on a thread with a very large stack: deep substitution chains recurse, and a
    /// profile, however deep, must produce a diagnostic and never a stack overflow.
    public static func compileOnLargeStack(profile path: String, workers: Int = 1) -> Compilation {
        Parallel.onLargeStack(compilerStack) { compile(profile: path, workers: workers) }
    }

    public mutating func compile(profile path: String) -> Compilation {
        var diagnostics = DiagnosticBag()
        var referenced: Set<OptionKey> = []
        let configuration = resolve(path, reference: nil, origin: nil, referenced: &referenced, diagnostics: &diagnostics)
        UsageChecker.checkStack(configuration, diagnostics: &diagnostics)
        UsageChecker.checkRecipes(configuration, referenced: referenced, diagnostics: &diagnostics)
        UsageChecker.checkParts(configuration, diagnostics: &diagnostics)

        let types = SoftwareTypeReader.read(configuration, diagnostics: &diagnostics)
        let requests = InstanceExpander(configuration: configuration).requests(diagnostics: &diagnostics)
        let built = GraphBuilder(types: types).build(requests, diagnostics: &diagnostics)
        var instances = built.instances
        let (edges, incomplete) = (built.edges, built.incomplete)
        // Each software type's profile is read, layered and macro-expanded once; then every
        // instance's substitution runs in parallel, in fixed chunks so the output never depends on timing.
        var prepared: [String: PreparedProfile] = [:]
        for type in types.values.sorted(by: { $0.name < $1.name }) where instances.contains(where: { $0.softwareType == type.name }) {
            prepared[type.name] = prepare(type, diagnostics: &diagnostics)
        }
        let edgesByActor = Dictionary(grouping: edges, by: \.from)
        let (requested, profiles) = (instances, prepared)
        let jobs = instances.indices.filter { types[instances[$0].softwareType] != nil && !incomplete.contains(instances[$0].name) }
        let chunks = Parallel.ranges(of: jobs.count, workers: workers, minimum: 64)
        let results = Parallel.map(chunks, stackSize: Parallel.largeStack) { range in
            var bag = DiagnosticBag()
            var references: Set<OptionKey> = []
            var partitions: [(ResolvedConfiguration, [Part])] = []
            var templated = 0
            for job in jobs[range] {
                let instance = requested[job]
                guard let type = types[instance.softwareType], let profile = profiles[type.name] else { continue }
                let partition = Self.partition(of: instance, type: type, profile: profile, edges: edgesByActor[instance.name] ?? [],
                                               referenced: &references, templated: &templated, diagnostics: &bag)
                partitions.append((partition, RecipeCatalog.parts(of: partition, diagnostics: &bag)))
            }
            return (partitions, references, bag, templated)
        }
        var partitionReferences: Set<OptionKey> = []
        var templated = 0
        for (range, result) in zip(chunks, results) {
            templated += result.3
            for (job, (partition, parts)) in zip(jobs[range], result.0) {
                instances[job].partition = partition
                instances[job].recipeParts = parts
            }
            partitionReferences.formUnion(result.1)
            diagnostics.add(contentsOf: result.2.all)
        }
        Self.checkServiceAddresses(instances, diagnostics: &diagnostics)
        let graphHasErrors = diagnostics.hasErrors
        var checkedProfiles: Set<String> = []
        for instance in instances {
            guard let partition = instance.partition, let type = types[instance.softwareType],
                  checkedProfiles.insert(type.profile).inserted else { continue }
            // Runtime calls are checked only in a graph without errors: a broken wiring (an import no
            // pull-backup feeds) leaves a pull's peers empty, which would only repeat that error.
            UsageChecker.checkRecipes(partition, referenced: partitionReferences, checkRuntimeCalls: !graphHasErrors, diagnostics: &diagnostics)
            UsageChecker.checkParts(partition, diagnostics: &diagnostics)
        }
        return Compilation(configuration: configuration,
                           graph: InstanceGraph(instances: instances, edges: edges, softwareTypes: Array(types.values)),
                           diagnostics: diagnostics.sorted, templatedPartitions: templated)
    }

    /// Layers, macro-expands and substitutes one profile.
    private mutating func resolve(_ path: String, reference: SourceLocation?, origin: Origin?,
                                  referenced: inout Set<OptionKey>, diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        let layers = layering.layers(of: path, reference: reference, origin: origin, diagnostics: &diagnostics)
        var layered = LayeredConfiguration()
        Layering.apply(layers, to: &layered, diagnostics: &diagnostics)
        let expanded = MacroExpander.expand(layered, diagnostics: &diagnostics)
        return Substituter.resolve(expanded, referenced: &referenced, diagnostics: &diagnostics)
    }

    /// A software type's instance profile, layered, and macro-expanded unless a macro copies the
    /// `instance` section (then expansion waits for each instance's facts).
    private mutating func prepare(_ type: SoftwareType, diagnostics: inout DiagnosticBag) -> PreparedProfile {
        if let cached = preparedProfiles[type.profile] { return cached }
        let origin = Origin(Note("instance profile of software type '\(type.name)'", at: type.location), parent: nil)
        let layers = layering.layers(of: type.profile, reference: type.location, origin: origin, diagnostics: &diagnostics)
        var layered = LayeredConfiguration()
        Layering.apply(layers, to: &layered, diagnostics: &diagnostics)
        let copiesFacts = layered.sections.contains { $0.name == Self.factsSection || Self.names($0.macro).contains(Self.factsSection) }
        let expanded = copiesFacts ? nil : MacroExpander.expand(layered, diagnostics: &diagnostics)
        let template = usesPartitionTemplates ? expanded.flatMap { PartitionTemplate($0, factsSection: Self.factsSection) } : nil
        let profile = PreparedProfile(layered: layered, expanded: expanded, template: template)
        preparedProfiles[type.profile] = profile
        return profile
    }

    static let factsSection = "instance"

    /// The instance's own loopback address, as SlapOS gives each partition its own IP: derived
    /// from its name (FNV-1a), in 127.0.0.0/8, never 127.0.0.1 or a .0/.255 last byte, so
    /// services of one host differ by address and may all use their software's usual port.
    static func loopbackAddress(of name: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let second = (hash >> 16) & 0xFF, third = (hash >> 8) & 0xFF
        let fourth = 2 + (hash & 0xFF) % 253
        return "127.\(second).\(third).\(fourth)"
    }

    /// Two services of one host bound to the same address and port: an error at the second,
    /// naming the first (every instance of a graph runs on one host until hosts arrive).
    static func checkServiceAddresses(_ instances: [Instance], diagnostics: inout DiagnosticBag) {
        var seen: [String: (instance: String, location: SourceLocation)] = [:]
        for instance in instances.sorted(by: { $0.name < $1.name }) {
            for part in instance.recipeParts where part.recipe == "service" {
                guard let port = part.count(.port) else { continue }
                let address = part.text(.address) ?? "*"
                let option = part.options.first { $0.name == "port" }
                let location = option?.valueLocation ?? instance.declaration
                let key = address + ":" + String(port)
                if let first = seen[key] {
                    diagnostics.add(.error("\(instance.name)'s service '\(part.name)' binds \(key), which \(first.instance)'s service binds too",
                                           at: location, notes: [Note("\(first.instance)'s port is set here", at: first.location)]))
                } else {
                    seen[key] = (instance.name, location)
                }
            }
        }
    }

    /// The section names a `<=` value lists.
    private static func names(_ macro: ValueNode?) -> [String] {
        switch macro?.value {
        case .string(let name)?: [name]
        case .list(let items)?: items.compactMap(\.string)
        default: []
        }
    }

    /// The instance profile resolved for one instance, with an `instance` section holding its facts:
    /// name, role, software-type, its parameters and its peers. `edges` are those the instance acts in.
    private static func partition(of instance: Instance, type: SoftwareType, profile: PreparedProfile, edges: [Edge],
                                  referenced: inout Set<OptionKey>, templated: inout Int, diagnostics: inout DiagnosticBag) -> ResolvedConfiguration {
        let at = instance.declaration
        // The facts in section order; a later fact of the same name replaces an earlier one in place.
        var facts: [OptionState] = []
        facts.reserveCapacity(7 + instance.parameters.count)
        func put(_ option: OptionState) {
            if let position = facts.firstIndex(where: { $0.name == option.name }) { facts[position] = option } else { facts.append(option) }
        }
        let detail = "instance '\(instance.name)'"
        func add(_ name: String, _ value: Value) {
            put(OptionState(name: name, keyLocation: at, node: ValueNode(value, at: at),
                            history: [HistoryStep(.set, value: value, at: at, origin: nil, detail: detail)]))
        }
        add("name", .string(instance.name))
        add("role", .string(instance.role.rawValue))
        add("software-type", .string(instance.softwareType))
        add("loopback", .string(loopbackAddress(of: instance.name)))
        add("address", .string(loopbackAddress(of: instance.name)))
        for parameter in instance.parameters {
            put(OptionState(name: parameter.name, keyLocation: parameter.keyLocation, node: parameter.node, history: parameter.history))
        }
        let list = { (kind: Edge.Kind) in
            Value.list(edges.compactMap { $0.kind == kind ? $0.to : nil }.sorted().map { ValueNode(.string($0), at: at) })
        }
        add("notify", list(.notify))
        add("pull-from", list(.pull))
        add("push-to", list(.push))
        add("takeover-of", list(.takeover))
        if let template = profile.template, let resolved = template.instantiate(facts: facts, factsLocation: at) {
            referenced.formUnion(template.referenced)
            templated += 1
            return resolved
        }
        var factsState = SectionState(name: factsSection, location: at, origin: nil)
        for option in facts { factsState[option.name] = option }
        var configuration: LayeredConfiguration
        if let expanded = profile.expanded {
            configuration = expanded
            configuration[factsSection] = factsState
        } else {
            configuration = profile.layered
            var section = configuration[factsSection] ?? factsState
            for option in factsState.options { section[option.name] = option }
            configuration[factsSection] = section
            configuration = MacroExpander.expand(configuration, diagnostics: &diagnostics)
        }
        return Substituter.resolve(configuration, referenced: &referenced, diagnostics: &diagnostics)
    }
}

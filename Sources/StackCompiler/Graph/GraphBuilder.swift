import StackModel

/// Turns instance requests into the typed InstanceGraph and checks it as a whole,
/// one validator per invariant, every error at once.
struct GraphBuilder {
    let types: [String: SoftwareType]
    static let namePattern = "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters"

    /// The instances and edges; `incomplete` names instances already reported as broken, whose
    /// partitions and peers are not checked further (one mistake, one error).
    func build(_ requests: [InstanceRequest], diagnostics: inout DiagnosticBag) -> (instances: [Instance], edges: [Edge], incomplete: Set<String>) {
        // Positions in `requests`, not copies: two thousand requests moved on every resize showed up.
        var firstDeclaration: [String: Int] = [:]
        firstDeclaration.reserveCapacity(requests.count)
        var incomplete: Set<String> = []
        var instances: [Instance] = []
        var edges: [Edge] = []
        instances.reserveCapacity(requests.count)
        edges.reserveCapacity(requests.count * 3)
        for (position, request) in requests.enumerated() {
            guard validName(request, diagnostics: &diagnostics) else { continue }
            if let first = firstDeclaration[request.name] {
                diagnostics.add(.error("instance name '\(request.name)' is used twice", at: request.declaration,
                                       notes: [Note("first declared here", at: requests[first].declaration)]))
                continue
            }
            firstDeclaration[request.name] = position
            guard let type = types[request.softwareType] else {
                diagnostics.add(.error("unknown software type '\(request.softwareType)' for instance '\(request.name)'"
                                       + Suggestions.didYouMean(request.softwareType, in: types.keys.sorted()),
                                       at: request.softwareTypeLocation, notes: [Note("instance declared here", at: request.declaration)]))
                incomplete.insert(request.name)
                continue
            }
            if let group = request.group {
                let expected: Role = request.name == group.export ? .export : request.name == group.pullBackup ? .pullBackup : .import
                if type.role != expected {
                    diagnostics.add(.error("replicate(): software type '\(type.name)' has role '\(type.role.rawValue)', but '\(request.name)' needs \(SoftwareTypeReader.article(expected.rawValue)) type",
                                           at: request.softwareTypeLocation, notes: [Note("software type '\(type.name)' declared here", at: type.location)]))
                    incomplete.insert(request.name)
                    continue
                }
            }
            let reportedBefore = diagnostics.all.count
            let parameters = checkParameters(request, type: type, diagnostics: &diagnostics)
            let newErrors = diagnostics.all[reportedBefore...].contains { $0.severity == .error }
            if newErrors || parameters.contains(where: \.isUnresolved) {
                incomplete.insert(request.name)
            }
            instances.append(Instance(name: request.name, role: type.role, softwareType: type.name, parameters: parameters,
                                      partition: nil, declaration: request.declaration))
            edges += wiring(request, role: type.role, diagnostics: &diagnostics)
        }
        let dropped = Set(firstDeclaration.keys).subtracting(instances.map(\.name))
        if !dropped.isEmpty { edges.removeAll { dropped.contains($0.from) || dropped.contains($0.to) } }
        let declarations = firstDeclaration.mapValues { requests[$0].declaration }
        checkRoles(instances, declarations: declarations, edges: edges, diagnostics: &diagnostics)
        checkFeeds(instances, edges: edges, diagnostics: &diagnostics)
        checkAcyclic(instances, edges: edges, diagnostics: &diagnostics)
        return (instances, edges, incomplete)
    }

    /// Names become directory names: nothing that could climb out of `--root`.
    private func validName(_ request: InstanceRequest, diagnostics: inout DiagnosticBag) -> Bool {
        let name = request.name
        let bytes = Array(name.utf8)
        let escapes = bytes.contains(UInt8(ascii: "/")) || name == "."
            || zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }
        if escapes {
            diagnostics.add(.error("instance name '\(name)' would escape its directory (\(Self.namePattern))",
                                   at: request.nameLocation, notes: [Note("instance declared here", at: request.declaration)]))
            return false
        }
        guard NameRules.isInstanceName(name) else {
            diagnostics.add(.error("instance name '\(name)' is not a valid name (\(Self.namePattern))",
                                   at: request.nameLocation, notes: [Note("instance declared here", at: request.declaration)]))
            return false
        }
        return true
    }

    /// Applies defaults, reports missing required parameters, wrong types and unknown names.
    private func checkParameters(_ request: InstanceRequest, type: SoftwareType, diagnostics: inout DiagnosticBag) -> [ResolvedOption] {
        var parameters = request.parameters
        for spec in type.parameters {
            if let given = parameters.first(where: { $0.name == spec.name }) {
                if !given.isUnresolved, !spec.kind.accepts(given.value) {
                    diagnostics.add(.error("parameter '\(spec.name)' of instance '\(request.name)' must be \(SoftwareTypeReader.article(spec.kind.rawValue)), got \(given.value.kindName) '\(given.value.summary)'",
                                           at: given.node.location,
                                           notes: [Note("declared \(spec.kind.rawValue) by software type '\(type.name)'", at: spec.location),
                                                   Note("instance declared here", at: request.declaration)]))
                }
            } else if let value = spec.defaultValue {
                parameters.append(ResolvedOption(name: spec.name, node: value, keyLocation: spec.location,
                                                 history: [HistoryStep(.default, value: value.value, at: value.location, origin: nil,
                                                                       detail: "default of software type '\(type.name)'")]))
            } else if spec.required {
                diagnostics.add(.error("instance '\(request.name)' lacks required parameter '\(spec.name)' (\(spec.kind.rawValue))",
                                       at: request.declaration,
                                       notes: [Note("required by software type '\(type.name)'", at: spec.location),
                                               Note("software type '\(type.name)' is chosen here", at: request.softwareTypeLocation)]))
            }
        }
        if !type.parameters.isEmpty {
            for parameter in parameters where !type.parameters.contains(where: { $0.name == parameter.name }) {
                diagnostics.add(.warning("software type '\(type.name)' has no parameter '\(parameter.name)'" + Suggestions.didYouMean(parameter.name, in: type.parameters.map(\.name).sorted()),
                                         at: parameter.keyLocation, notes: [Note("given to instance '\(request.name)' here", at: request.declaration)]))
            }
        }
        return parameters.sorted { $0.name < $1.name }
    }

    /// The edges a request implies: a replicate() group, or an explicit pull-backup's `pull-from` / `push-to`.
    private func wiring(_ request: InstanceRequest, role: Role, diagnostics: inout DiagnosticBag) -> [Edge] {
        let at = request.declaration
        var source: String?
        var target: String?
        if let group = request.group, role == .pullBackup || request.name == group.pullBackup {
            source = group.export
            target = group.importName
        } else if role == .pullBackup {
            for (key, node) in [("pull-from", request.pullFrom), ("push-to", request.pushTo)] where node == nil {
                diagnostics.add(.error("pull-backup '\(request.name)' needs '\(key)'", at: at))
            }
            source = request.pullFrom?.string
            target = request.pushTo?.string
        } else {
            for node in [request.pullFrom, request.pushTo].compactMap({ $0 }) {
                diagnostics.add(.error("only a pull-backup pulls or pushes; '\(request.name)' is \(SoftwareTypeReader.article(role.rawValue))", at: node.location))
            }
        }
        var edges: [Edge] = []
        if let source {
            if source == request.name {
                diagnostics.add(.error("pull-backup '\(request.name)' pulls from itself", at: request.pullFrom?.location ?? at))
            } else {
                edges.append(Edge(from: source, to: request.name, kind: .notify, declaration: request.pullFrom?.location ?? at))
                edges.append(Edge(from: request.name, to: source, kind: .pull, declaration: request.pullFrom?.location ?? at))
            }
        }
        if let target {
            if target == request.name {
                diagnostics.add(.error("pull-backup '\(request.name)' pushes to itself", at: request.pushTo?.location ?? at))
            } else {
                edges.append(Edge(from: request.name, to: target, kind: .push, declaration: request.pushTo?.location ?? at))
                edges.append(Edge(from: request.name, to: target, kind: .notify, declaration: request.pushTo?.location ?? at))
                if let source, source != target {
                    edges.append(Edge(from: target, to: source, kind: .takeover, declaration: request.pushTo?.location ?? at))
                }
            }
        }
        return edges
    }

    /// A pull-backup pulls from an export and pushes to an import, both of which exist.
    private func checkRoles(_ instances: [Instance], declarations: [String: SourceLocation], edges: [Edge], diagnostics: inout DiagnosticBag) {
        let roles = Dictionary(instances.map { ($0.name, $0.role) }, uniquingKeysWith: { first, _ in first })
        for edge in edges where edge.kind == .pull || edge.kind == .push {
            let expected: Role = edge.kind == .pull ? .export : .import
            let verb = edge.kind == .pull ? "pulls from" : "pushes to"
            guard let role = roles[edge.to] else {
                diagnostics.add(.error("pull-backup '\(edge.from)' \(verb) '\(edge.to)', which is not an instance" + Suggestions.didYouMean(edge.to, in: roles.keys.sorted()),
                                       at: edge.declaration))
                continue
            }
            if role != expected {
                diagnostics.add(.error("pull-backup '\(edge.from)' \(verb) '\(edge.to)', which is \(SoftwareTypeReader.article(role.rawValue)), not \(SoftwareTypeReader.article(expected.rawValue))",
                                       at: edge.declaration, notes: declarations[edge.to].map { [Note("'\(edge.to)' declared here", at: $0)] } ?? []))
            }
        }
    }

    /// Every import is fed by exactly one pull-backup, which pulls from exactly one export.
    private func checkFeeds(_ instances: [Instance], edges: [Edge], diagnostics: inout DiagnosticBag) {
        var feeders: [String: [Edge]] = [:]
        for edge in edges where edge.kind == .push { feeders[edge.to, default: []].append(edge) }
        for instance in instances where instance.role == .import {
            let feeding = feeders[instance.name] ?? []
            if feeding.isEmpty {
                diagnostics.add(.error("import '\(instance.name)' is fed by no pull-backup (declare one with 'push-to: \(instance.name)', or use replicate())",
                                       at: instance.declaration))
            } else if feeding.count > 1 {
                diagnostics.add(.error("import '\(instance.name)' is fed by \(feeding.count) pull-backups: " + feeding.map { "'\($0.from)'" }.joined(separator: ", "),
                                       at: instance.declaration, notes: feeding.map { Note("'\($0.from)' pushes to it here", at: $0.declaration) }))
            }
        }
    }

    /// Data flows export → pull-backup → import; a loop in that flow could never settle.
    private func checkAcyclic(_ instances: [Instance], edges: [Edge], diagnostics: inout DiagnosticBag) {
        var next: [String: [Edge]] = [:]
        for edge in edges {
            switch edge.kind {
            case .pull: next[edge.to, default: []].append(Edge(from: edge.to, to: edge.from, kind: .pull, declaration: edge.declaration))
            case .push: next[edge.from, default: []].append(edge)
            default: break
            }
        }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        for start in next.keys.sorted() where state[start] == nil {
            var stack: [(String, Int)] = [(start, 0)]
            var path: [String] = [start]
            state[start] = 1
            while let (node, position) = stack.last {
                let outgoing = next[node] ?? []
                guard position < outgoing.count else {
                    state[node] = 2
                    stack.removeLast()
                    path.removeLast()
                    continue
                }
                stack[stack.count - 1].1 += 1
                let edge = outgoing[position]
                switch state[edge.to] {
                case 1:
                    let loop = path[(path.firstIndex(of: edge.to) ?? 0)...] + [edge.to]
                    diagnostics.add(.error("data flows in a cycle: " + loop.joined(separator: " → "), at: edge.declaration))
                case nil:
                    state[edge.to] = 1
                    stack.append((edge.to, 0))
                    path.append(edge.to)
                default: break
                }
            }
        }
    }
}

import StackModel

/// Reads `stack.software-types`: name → {profile, role, parameters}.
enum SoftwareTypeReader {
    static func read(_ configuration: ResolvedConfiguration, diagnostics: inout DiagnosticBag) -> [String: SoftwareType] {
        guard let option = configuration["stack"]?["software-types"] else { return [:] }
        guard case .map(let entries) = option.value else {
            diagnostics.add(.error("'software-types' must be a map of name → {profile, role}, got a \(option.value.kindName)", at: option.node.location))
            return [:]
        }
        var types: [String: SoftwareType] = [:]
        for entry in entries {
            guard case .map(let fields) = entry.node.value else {
                diagnostics.add(.error("software type '\(entry.key)' must be a map with 'profile' and 'role'", at: entry.node.location))
                continue
            }
            let known = ["profile", "role", "parameters", "description"]
            for field in fields where !known.contains(field.key) {
                diagnostics.add(.warning("unknown key '\(field.key)' in software type '\(entry.key)'" + Suggestions.didYouMean(field.key, in: known), at: field.keyLocation))
            }
            guard let profile = entry.node.value["profile"], case .string(let profilePath) = profile.value, !profilePath.isEmpty else {
                diagnostics.add(.error("software type '\(entry.key)' needs 'profile' (a path)", at: entry.node.value["profile"]?.location ?? entry.keyLocation))
                continue
            }
            guard let roleNode = entry.node.value["role"], let roleText = roleNode.string, let role = Role(rawValue: roleText) else {
                let given = entry.node.value["role"]
                diagnostics.add(.error("software type '\(entry.key)' needs 'role', one of " + Role.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
                                       + (given?.string.map { ", got '\($0)'" + Suggestions.didYouMean($0, in: Role.allCases.map(\.rawValue)) } ?? ""),
                                       at: given?.location ?? entry.keyLocation))
                continue
            }
            let parameters = readParameters(entry.node.value["parameters"], type: entry.key, diagnostics: &diagnostics)
            types[entry.key] = SoftwareType(name: entry.key, role: role,
                                            profile: Paths.join(profilePath, toDirectoryOf: profile.location.file),
                                            parameters: parameters, location: entry.keyLocation)
        }
        return types
    }

    /// `port: integer` or `port: {type: integer, required: true, default: 5432}`.
    private static func readParameters(_ node: ValueNode?, type: String, diagnostics: inout DiagnosticBag) -> [ParameterSpec] {
        guard let node else { return [] }
        guard case .map(let entries) = node.value else {
            diagnostics.add(.error("'parameters' of software type '\(type)' must be a map of name → type", at: node.location))
            return []
        }
        let kinds = ParameterSpec.Kind.allCases.map(\.rawValue)
        var specs: [ParameterSpec] = []
        for entry in entries {
            var kindNode: ValueNode? = entry.node
            var required = false
            var defaultValue: ValueNode?
            if case .map = entry.node.value {
                kindNode = entry.node.value["type"]
                if let flag = entry.node.value["required"] {
                    guard case .bool(let value) = flag.value else {
                        diagnostics.add(.error("'required' must be true or false", at: flag.location))
                        continue
                    }
                    required = value
                }
                defaultValue = entry.node.value["default"]
            }
            guard let kindText = kindNode?.string, let kind = ParameterSpec.Kind(rawValue: kindText) else {
                diagnostics.add(.error("parameter '\(entry.key)' of software type '\(type)' needs a type, one of " + kinds.joined(separator: ", ")
                                       + (kindNode?.string.map { Suggestions.didYouMean($0, in: kinds) } ?? ""),
                                       at: kindNode?.location ?? entry.keyLocation))
                continue
            }
            if let defaultValue, !kind.accepts(defaultValue.value) {
                diagnostics.add(.error("default of parameter '\(entry.key)' must be \(article(kind.rawValue)), got \(defaultValue.value.kindName) '\(defaultValue.value.summary)'",
                                       at: defaultValue.location))
            }
            specs.append(ParameterSpec(name: entry.key, kind: kind, required: required, defaultValue: defaultValue, location: entry.keyLocation))
        }
        return specs
    }

    static func article(_ word: String) -> String {
        (word.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + word
    }
}

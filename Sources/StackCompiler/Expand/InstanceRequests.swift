import Foundation
import StackModel

/// An instance a deployment asks for, before the graph checks it.
struct InstanceRequest {
    var name: String
    var nameLocation: SourceLocation
    var softwareType: String
    var softwareTypeLocation: SourceLocation
    var parameters: [ResolvedOption]
    /// The replicate() call or explicit entry that asked for it.
    var declaration: SourceLocation
    /// For an explicit pull-backup: the export it pulls from and the import it pushes to.
    var pullFrom: ValueNode?
    var pushTo: ValueNode?
    /// When replicate() made it: the group's role wiring is implied.
    var group: ReplicateGroup?
}

/// One replicate() expansion: who is the export, who backs up whom.
struct ReplicateGroup {
    var export: String
    var pullBackup: String?
    var importName: String?
}

/// Reads `stack.instances`: explicit entries, `replicate(…)` calls and `replicate:` maps.
struct InstanceExpander {
    let configuration: ResolvedConfiguration
    static let maxCount = 100_000

    func requests(diagnostics: inout DiagnosticBag) -> [InstanceRequest] {
        guard let option = configuration["stack"]?["instances"] else { return [] }
        guard case .list(let entries) = option.value else {
            diagnostics.add(.error("'instances' must be a list, got a \(option.value.kindName)", at: option.node.location))
            return []
        }
        var requests: [InstanceRequest] = []
        for entry in entries {
            switch entry.value {
            case .string(let text):
                guard let call = ReplicateCall.parse(text, node: entry, diagnostics: &diagnostics) else { continue }
                requests += expand(call, diagnostics: &diagnostics)
            case .map(let fields):
                if let body = entry.value["replicate"] {
                    if fields.count > 1 {
                        diagnostics.add(.error("a 'replicate' entry takes no other keys", at: fields.first { $0.key != "replicate" }?.keyLocation ?? entry.location))
                    }
                    guard let call = ReplicateCall.parse(map: body, diagnostics: &diagnostics) else { continue }
                    requests += expand(call, diagnostics: &diagnostics)
                } else if let request = explicit(entry, fields: fields, diagnostics: &diagnostics) {
                    requests.append(request)
                }
            default:
                diagnostics.add(.error("an instance entry is a 'replicate(…)' call or a map with 'name' and 'software-type', got a \(entry.value.kindName)",
                                       at: entry.location))
            }
        }
        return requests
    }

    private func explicit(_ entry: ValueNode, fields: [MapEntry], diagnostics: inout DiagnosticBag) -> InstanceRequest? {
        let known = ["name", "software-type", "parameters", "pull-from", "push-to"]
        for field in fields where !known.contains(field.key) {
            diagnostics.add(.error("unknown key '\(field.key)' in an instance entry" + Suggestions.didYouMean(field.key, in: known), at: field.keyLocation))
        }
        guard let name = entry.value["name"], case .string(let nameText) = name.value else {
            diagnostics.add(.error("an instance entry needs 'name' (a string)", at: entry.value["name"]?.location ?? entry.location))
            return nil
        }
        guard let type = entry.value["software-type"], case .string(let typeText) = type.value else {
            diagnostics.add(.error("instance '\(nameText)' needs 'software-type' (a string)", at: entry.value["software-type"]?.location ?? entry.location))
            return nil
        }
        var parameters: [ResolvedOption] = []
        if let given = entry.value["parameters"] {
            switch given.value {
            case .map(let items):
                parameters = items.map { item in
                    ResolvedOption(name: item.key, node: item.node, keyLocation: item.keyLocation,
                                   history: [HistoryStep(.set, value: item.node.value, at: item.node.location, origin: nil,
                                                         detail: "instance '\(nameText)'")])
                }
            case .null: break
            default:
                diagnostics.add(.error("'parameters' must be a map, got a \(given.value.kindName)", at: given.location))
            }
        }
        return InstanceRequest(name: nameText, nameLocation: name.location, softwareType: typeText, softwareTypeLocation: type.location,
                               parameters: parameters, declaration: entry.location,
                               pullFrom: entry.value["pull-from"], pushTo: entry.value["push-to"], group: nil)
    }

    /// export `<name>0`, imports `<name>1…`, and one pull-backup `pbs-<name>-<i>` per import.
    private func expand(_ call: ReplicateCall, diagnostics: inout DiagnosticBag) -> [InstanceRequest] {
        guard call.count >= 1 else {
            diagnostics.add(.error("replicate(): count must be at least 1, got \(call.count)", at: call.countLocation))
            return []
        }
        guard call.count <= Self.maxCount else {
            diagnostics.add(.error("replicate(): count must be at most \(Self.maxCount), got \(call.count)", at: call.countLocation))
            return []
        }
        let leader = parameters(from: call.leader, role: "leader", call: call, diagnostics: &diagnostics)
        let backup = parameters(from: call.backup, role: "backup", call: call, diagnostics: &diagnostics)
        let export = "\(call.name)0"
        var requests: [InstanceRequest] = []
        requests.reserveCapacity(call.count * 2)
        requests.append(InstanceRequest(
            name: export, nameLocation: call.nameLocation, softwareType: call.exportType, softwareTypeLocation: call.exportTypeLocation,
            parameters: stamp(leader, instance: export, section: call.leader?.string, call: call), declaration: call.location,
            group: ReplicateGroup(export: export)))
        for index in 1..<max(call.count, 1) {
            let importName = "\(call.name)\(index)"
            let pbs = "pbs-\(call.name)-\(index)"
            requests.append(InstanceRequest(
                name: importName, nameLocation: call.nameLocation, softwareType: call.importType, softwareTypeLocation: call.importTypeLocation,
                parameters: stamp(backup, instance: importName, section: call.backup?.string, call: call), declaration: call.location,
                group: ReplicateGroup(export: export, pullBackup: pbs, importName: importName)))
            requests.append(InstanceRequest(
                name: pbs, nameLocation: call.nameLocation, softwareType: call.pullBackupType, softwareTypeLocation: call.pullBackupTypeLocation,
                parameters: [], declaration: call.location,
                group: ReplicateGroup(export: export, pullBackup: pbs, importName: importName)))
        }
        return requests
    }

    private func parameters(from section: ValueNode?, role: String, call: ReplicateCall, diagnostics: inout DiagnosticBag) -> [ResolvedOption] {
        guard let section, let name = section.string else { return [] }
        guard let resolved = configuration[name] else {
            diagnostics.add(.error("replicate(): \(role) section '\(name)' is not defined" + Suggestions.didYouMean(name, in: configuration.sectionNames),
                                   at: section.location))
            return []
        }
        return resolved.options
    }

    private func stamp(_ options: [ResolvedOption], instance: String, section: String?, call: ReplicateCall) -> [ResolvedOption] {
        guard !options.isEmpty else { return [] }
        let step = HistoryStep(.replicate, value: nil, at: call.location, origin: nil,
                               detail: call.summary + " → " + instance + " takes '" + (section ?? "") + "'")
        return options.map { option in
            var copy = option
            copy.history.append(step)
            return copy
        }
    }
}

/// A replicate() request, from the call form or the map form; both carry the same fields.
struct ReplicateCall {
    var name: String
    var nameLocation: SourceLocation
    var count: Int
    var countLocation: SourceLocation
    var exportType: String
    var exportTypeLocation: SourceLocation
    var importType: String
    var importTypeLocation: SourceLocation
    var leader: ValueNode?
    var backup: ValueNode?
    var pullBackupType: String
    var pullBackupTypeLocation: SourceLocation
    var location: SourceLocation

    var summary: String { "replicate(\(name), \(count), …)" }

    /// `replicate(db, 3, postgres-export, postgres-import, leader, backup)` in a string value.
    static func parse(_ text: String, node: ValueNode, diagnostics: inout DiagnosticBag) -> ReplicateCall? {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        while start < scalars.count, scalars[start] == " " { start += 1 }
        let head = "replicate"
        let at = node.location(ofScalarOffset: start)
        guard String(String.UnicodeScalarView(scalars[start...])).hasPrefix(head) else {
            diagnostics.add(.error("an instance entry string must be a 'replicate(…)' call, got '\(text)'", at: at))
            return nil
        }
        var open = start + head.unicodeScalars.count
        while open < scalars.count, scalars[open] == " " { open += 1 }
        guard open < scalars.count, scalars[open] == "(" else {
            diagnostics.add(.error("expected '(' after 'replicate'", at: node.location(ofScalarOffset: open)))
            return nil
        }
        guard let close = scalars.lastIndex(of: ")"), close > open,
              scalars[(close + 1)...].allSatisfy({ $0 == " " }) else {
            diagnostics.add(.error("replicate(): missing ')'", at: node.location(ofScalarOffset: scalars.count)))
            return nil
        }
        // Split on commas, remembering where each argument starts for positioned errors.
        var arguments: [ValueNode] = []
        var current = String.UnicodeScalarView()
        var argumentStart = open + 1
        for index in (open + 1)...close {
            if index == close || scalars[index] == "," {
                var leading = 0
                for scalar in current { if scalar == " " { leading += 1 } else { break } }
                let trimmed = String(current).trimmingSpaces
                arguments.append(ValueNode(ScalarTyping.plain(trimmed), at: node.location(ofScalarOffset: argumentStart + leading)))
                current = String.UnicodeScalarView()
                argumentStart = index + 1
            } else {
                current.append(scalars[index])
            }
        }
        guard (4...6).contains(arguments.count) else {
            diagnostics.add(.error("replicate() takes 4 to 6 arguments (namebase, count, export-type, import-type[, leader-section[, backup-section]]), got \(arguments.count)",
                                   at: at))
            return nil
        }
        let names = ["namebase", "count", "export-type", "import-type", "leader-section", "backup-section"]
        for (index, argument) in arguments.enumerated() where argument.string?.isEmpty ?? true {
            diagnostics.add(.error("replicate(): argument '\(names[index])' is empty", at: argument.location))
            return nil
        }
        return build(name: arguments[0], count: arguments[1], export: arguments[2], import: arguments[3],
                     leader: arguments.count > 4 ? arguments[4] : nil, backup: arguments.count > 5 ? arguments[5] : nil,
                     pullBackup: nil, location: at, diagnostics: &diagnostics)
    }

    /// `replicate: {name: db, count: 3, export: …, import: …, leader: …, backup: …, pull-backup: …}`.
    static func parse(map node: ValueNode, diagnostics: inout DiagnosticBag) -> ReplicateCall? {
        guard case .map(let fields) = node.value else {
            diagnostics.add(.error("'replicate' takes a map (name, count, export, import, leader, backup, pull-backup)", at: node.location))
            return nil
        }
        let known = ["name", "count", "export", "import", "leader", "backup", "pull-backup"]
        for field in fields where !known.contains(field.key) {
            diagnostics.add(.error("unknown key '\(field.key)' in 'replicate'" + Suggestions.didYouMean(field.key, in: known), at: field.keyLocation))
        }
        var missing = false
        for key in ["name", "count", "export", "import"] where node.value[key] == nil {
            diagnostics.add(.error("'replicate' needs '\(key)'", at: node.location))
            missing = true
        }
        guard !missing, let name = node.value["name"], let count = node.value["count"],
              let export = node.value["export"], let importType = node.value["import"] else { return nil }
        return build(name: name, count: count, export: export, import: importType, leader: node.value["leader"],
                     backup: node.value["backup"], pullBackup: node.value["pull-backup"], location: node.location, diagnostics: &diagnostics)
    }

    private static func build(name: ValueNode, count: ValueNode, export: ValueNode, import importType: ValueNode,
                              leader: ValueNode?, backup: ValueNode?, pullBackup: ValueNode?, location: SourceLocation,
                              diagnostics: inout DiagnosticBag) -> ReplicateCall? {
        guard case .number(let countText) = count.value, let countValue = Int(countText) else {
            diagnostics.add(.error("replicate(): count must be an integer, got \(count.value.kindName) '\(count.value.summary)'", at: count.location))
            return nil
        }
        var fine = true
        for (label, node) in [("namebase", name), ("export-type", export), ("import-type", importType)] + [leader, backup, pullBackup].compactMap({ $0.map { ("section", $0) } }) {
            guard case .string = node.value else {
                diagnostics.add(.error("replicate(): \(label) must be a name, got \(node.value.kindName) '\(node.value.summary)'", at: node.location))
                fine = false
                continue
            }
        }
        guard fine, let nameText = name.string, let exportText = export.string, let importText = importType.string else { return nil }
        return ReplicateCall(name: nameText, nameLocation: name.location, count: countValue, countLocation: count.location,
                             exportType: exportText, exportTypeLocation: export.location,
                             importType: importText, importTypeLocation: importType.location,
                             leader: leader, backup: backup,
                             pullBackupType: pullBackup?.string ?? "pull-backup", pullBackupTypeLocation: pullBackup?.location ?? location,
                             location: location)
    }
}

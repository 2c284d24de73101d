import Foundation
import StackModel

/// The documents the read-only verbs print, built from a compilation.
public enum Renderer {
    /// `render`: sections, instances and edges; `only` keeps the named sections and instances
    /// (and the edges that touch a kept instance).
    /// Instances and edges are converted on `workers` threads in fixed runs, joined in order.
    public static func document(_ compilation: Compilation, only: Set<String> = [], workers: Int = 1) -> Tree {
        let keep = { (name: String) in only.isEmpty || only.contains(name) }
        let sections = compilation.configuration.sections.filter { keep($0.name) }.map { section in
            (section.name, Tree.object(sortedFrom: section.options.map { ($0.name, Tree($0.value)) }))
        }
        let kept = compilation.graph.instances.filter { keep($0.name) }
        let instances = Parallel.map(Parallel.ranges(of: kept.count, workers: workers, minimum: 64), stackSize: Parallel.largeStack) { range in kept[range].map(instance) }.flatMap { $0 }
        let keptEdges = compilation.graph.edges.filter { keep($0.from) || keep($0.to) }
        let edges = Parallel.map(Parallel.ranges(of: keptEdges.count, workers: workers, minimum: 64), stackSize: Parallel.largeStack) { range in
            keptEdges[range].map { edge in
                Tree.object([("from", .string(edge.from)), ("to", .string(edge.to)), ("kind", .string(edge.kind.rawValue))])
            }
        }.flatMap { $0 }
        return .object([("sections", .object(sortedFrom: sections)), ("instances", .list(instances)), ("edges", .list(edges))])
    }

    private static func instance(_ instance: Instance) -> Tree {
        .object([
            ("name", .string(instance.name)),
            ("role", .string(instance.role.rawValue)),
            ("softwareType", .string(instance.softwareType)),
            ("parameters", .object(sortedFrom: instance.parameters.map { ($0.name, Tree($0.value)) })),
            ("parts", .list(instance.parts.map(Tree.string))),
        ])
    }

    /// `graph --format dot`.
    public static func dot(_ graph: InstanceGraph) -> String {
        var out = "digraph stack {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
        for instance in graph.instances {
            let label = "\(instance.name)\\n\(instance.role.rawValue) · \(instance.softwareType)"
            out += "  \(dotID(instance.name)) [label=\"\(label)\", shape=\(shape(instance.role))];\n"
        }
        for edge in graph.edges {
            let style = edge.kind == .takeover ? ", style=dashed" : edge.kind == .notify ? ", style=dotted" : ""
            out += "  \(dotID(edge.from)) -> \(dotID(edge.to)) [label=\"\(edge.kind.rawValue)\"\(style)];\n"
        }
        return out + "}\n"
    }

    /// `graph --format mermaid`.
    public static func mermaid(_ graph: InstanceGraph) -> String {
        var ids: [String: String] = [:]
        for (index, instance) in graph.instances.enumerated() { ids[instance.name] = "n\(index)" }
        var out = "flowchart LR\n"
        for instance in graph.instances {
            out += "  \(ids[instance.name] ?? "")[\"\(instance.name)<br/>\(instance.role.rawValue) · \(instance.softwareType)\"]\n"
        }
        for edge in graph.edges {
            guard let from = ids[edge.from], let to = ids[edge.to] else { continue }
            let arrow = edge.kind == .takeover || edge.kind == .notify ? "-. \(edge.kind.rawValue) .->" : "-- \(edge.kind.rawValue) -->"
            out += "  \(from) \(arrow) \(to)\n"
        }
        return out
    }

    private static func dotID(_ name: String) -> String { "\"" + name + "\"" }

    private static func shape(_ role: Role) -> String {
        switch role {
        case .export: "box"
        case .import: "box3d"
        case .pullBackup: "cylinder"
        case .plain: "ellipse"
        }
    }
}

/// `explain SECTION:OPTION`: a value and its history.
public struct Explanation: Sendable {
    public var section: String
    public var option: String
    public var value: Value
    public var history: [HistoryStep]
    /// The errors that concern this value: at one of its steps, or naming it.
    public var errors: [Diagnostic] = []

    /// The compilation's errors positioned at a step of this value's history, or naming the option.
    public mutating func attach(_ diagnostics: [Diagnostic]) {
        let places = Set(history.map { "\($0.location.file):\($0.location.line)" } + history.compactMap { $0.source.map { "\($0.file):\($0.line)" } })
        let names = ["'\(option)' of section '\(section)'", "option '\(option)' in section '\(section)'", "${\(section):\(option)}"]
        errors = diagnostics.filter { diagnostic in
            diagnostic.severity == .error
                && (places.contains("\(diagnostic.location.file):\(diagnostic.location.line)") || names.contains { diagnostic.message.contains($0) })
        }
    }

    /// Looks the option up among sections first, then among instances' parameters.
    public static func find(_ target: String, in compilation: Compilation) -> Explanation? {
        let parts = target.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        if let option = compilation.configuration[parts[0]]?[parts[1]] {
            return Explanation(section: parts[0], option: parts[1], value: option.value, history: option.history.steps)
        }
        if let parameter = compilation.graph.instance(named: parts[0])?.parameter(parts[1]) {
            return Explanation(section: parts[0], option: parts[1], value: parameter.value, history: parameter.history.steps)
        }
        return nil
    }

    public var json: Tree {
        .object([
            ("section", .string(section)),
            ("option", .string(option)),
            ("value", Tree(value)),
            ("history", .list(history.map { step in
                .object([
                    ("action", .string(step.action.rawValue)),
                    ("value", step.value.map(Tree.init) ?? .null),
                    ("file", .string(step.location.file)),
                    ("line", .number(String(step.location.line))),
                    ("column", .number(String(step.location.column))),
                    ("detail", step.detail.map(Tree.string) ?? .null),
                    ("via", .list(step.via.map { note in
                        .object([("file", .string(note.location.file)), ("line", .number(String(note.location.line))),
                                 ("column", .number(String(note.location.column))), ("message", .string(note.message))])
                    })),
                ])
            })),
            ("errors", .list(errors.map { error in
                .object([("message", .string(error.message)), ("file", .string(error.location.file)),
                         ("line", .number(String(error.location.line))), ("column", .number(String(error.location.column)))])
            })),
        ])
    }

    public var text: String {
        var out = "\(section):\(option) = \(value.summary)\n"
        let actionWidth = max(9, history.map(\.action.rawValue.count).max() ?? 0)
        let values = history.map { $0.value.map { clip($0.summary) } ?? "" }
        let valueWidth = min(40, values.map(\.count).max() ?? 0)
        for (step, shown) in zip(history, values) {
            var line = "  " + step.action.rawValue.padding(toLength: actionWidth, withPad: " ", startingAt: 0)
            line += " " + shown.padding(toLength: max(valueWidth, shown.count), withPad: " ", startingAt: 0)
            line += "  " + step.location.description
            if let detail = step.detail { line += "   (\(detail))" }
            out += line + "\n"
            let via = step.via
            if !via.isEmpty {
                out += String(repeating: " ", count: actionWidth + 3) + "via " + via.map(\.location.description).joined(separator: " → ") + "\n"
            }
        }
        for error in errors { out += "  error     \(error.location): \(error.message)\n" }
        return out
    }

    private func clip(_ text: String) -> String { text.count > 40 ? String(text.prefix(37)) + "..." : text }
}

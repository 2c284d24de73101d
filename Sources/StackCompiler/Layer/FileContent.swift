import Foundation
import StackModel

/// A file's own contribution once its includes are merged in place: its `extends` and its sections.
struct FileContent {
    var file: ProfileFile
    /// How this file was reached from the profile the user named (nil for that profile).
    var origin: Origin?
    var extends: [ValueNode]
    var sections: [SectionContent]
}

/// One section as written in one file (or brought in by an include).
struct SectionContent {
    var name: String
    var location: SourceLocation
    var origin: Origin?
    /// Raw keys, operators still attached (`parts +=`).
    var items: [SectionItem]
}

/// One option as written, with how its file was reached (an included file has its own chain).
struct SectionItem {
    var entry: MapEntry
    var origin: Origin?
}

/// Expands `include` at the top level and inside sections, in place, as C's `#include` would.
struct IncludeExpander {
    let reader: ProfileReader
    static let maxDepth = 64

    func content(of file: ProfileFile, origin: Origin?, diagnostics: inout DiagnosticBag) -> FileContent {
        var content = FileContent(file: file, origin: origin, extends: [], sections: [])
        var active: [String] = [file.identity]
        expandTopLevel(file.root, origin: origin, into: &content, active: &active, diagnostics: &diagnostics)
        // `stack.extends` is consumed here: it shapes the layering and is not an option of the result.
        for index in content.sections.indices where content.sections[index].name == "stack" {
            content.sections[index].items.removeAll { item in
                let entry = item.entry
                guard entry.key.trimmingSpaces == "extends" else { return false }
                content.extends += pathList(entry.node, what: "extends", diagnostics: &diagnostics)
                return true
            }
        }
        return content
    }

    private func expandTopLevel(_ entries: [MapEntry], origin: Origin?, into content: inout FileContent,
                                active: inout [String], diagnostics: inout DiagnosticBag) {
        for entry in entries {
            if entry.key == "include" {
                for reference in pathList(entry.node, what: "include", diagnostics: &diagnostics) {
                    guard let (included, includeOrigin) = open(reference, origin: origin, active: active, diagnostics: &diagnostics) else { continue }
                    active.append(included.identity)
                    expandTopLevel(included.root, origin: includeOrigin, into: &content, active: &active, diagnostics: &diagnostics)
                    active.removeLast()
                }
                continue
            }
            guard case .map(let options) = entry.node.value else {
                if case .null = entry.node.value {
                    content.sections.append(SectionContent(name: entry.key, location: entry.keyLocation, origin: origin, items: []))
                    continue
                }
                if ["instances", "extends", "software-types", "parts"].contains(entry.key) {
                    diagnostics.add(.error("'\(entry.key)' is a key of section 'stack', not a section: indent it under 'stack:'",
                                           at: entry.keyLocation, notes: origin.chain))
                } else {
                    diagnostics.add(.error("section '\(entry.key)' must be a map of options, got a \(entry.node.value.kindName)",
                                           at: entry.node.location, notes: origin.chain))
                }
                continue
            }
            var items: [SectionItem] = []
            expandSection(options, origin: origin, into: &items, active: &active, diagnostics: &diagnostics)
            content.sections.append(SectionContent(name: entry.key, location: entry.keyLocation, origin: origin, items: items))
        }
    }

    private func expandSection(_ options: [MapEntry], origin: Origin?, into items: inout [SectionItem],
                               active: inout [String], diagnostics: inout DiagnosticBag) {
        for option in options {
            guard option.key == "include" else {
                items.append(SectionItem(entry: option, origin: origin))
                continue
            }
            for reference in pathList(option.node, what: "include", diagnostics: &diagnostics) {
                guard let (included, includeOrigin) = open(reference, origin: origin, active: active, diagnostics: &diagnostics) else { continue }
                active.append(included.identity)
                expandSection(included.root, origin: includeOrigin, into: &items, active: &active, diagnostics: &diagnostics)
                active.removeLast()
            }
        }
    }

    private func open(_ reference: ValueNode, origin: Origin?, active: [String],
                      diagnostics: inout DiagnosticBag) -> (ProfileFile, Origin)? {
        guard let relative = reference.string else { return nil }
        let path = Paths.join(relative, toDirectoryOf: reference.location.file)
        let file: ProfileFile
        do {
            file = try reader.read(path, reference: reference.location)
        } catch {
            diagnostics.add(contentsOf: error.diagnostics.map { withChain($0, origin) })
            return nil
        }
        if active.contains(file.identity) {
            diagnostics.add(.error("include cycle: '\(path)' includes itself", at: reference.location, notes: origin.chain))
            return nil
        }
        if active.count >= Self.maxDepth {
            diagnostics.add(.error("includes nested more than \(Self.maxDepth) deep", at: reference.location, notes: origin.chain))
            return nil
        }
        return (file, Origin(Note("included from here", at: reference.location), parent: origin))
    }

    /// A path or a list of paths, each a string; anything else is reported.
    func pathList(_ node: ValueNode, what: String, diagnostics: inout DiagnosticBag) -> [ValueNode] {
        let items: [ValueNode]
        switch node.value {
        case .list(let list): items = list
        case .string: items = [node]
        case .null: items = []
        default:
            diagnostics.add(.error("'\(what)' takes a path or a list of paths, got a \(node.value.kindName)", at: node.location))
            return []
        }
        return items.filter { item in
            guard case .string(let path) = item.value, !path.isEmpty else {
                diagnostics.add(.error("'\(what)' takes paths, got a \(item.value.kindName)", at: item.location))
                return false
            }
            return true
        }
    }
}

/// Appends the chain of `origin` to a diagnostic raised inside a file reached through it.
func withChain(_ diagnostic: Diagnostic, _ origin: Origin?) -> Diagnostic {
    var copy = diagnostic
    copy.notes += origin.chain
    return copy
}

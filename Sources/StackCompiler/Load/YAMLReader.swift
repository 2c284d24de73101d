import Foundation
import StackModel
import Yams

/// Reads YAML into positioned values, walking Yams nodes so every key and value keeps its mark.
/// Built once and only read: Yams would otherwise build a default constructor (several
/// dictionaries) for every file it parses, and stackc does not use it to construct values.
nonisolated(unsafe) private let sharedConstructor = Constructor.default

enum YAMLReader {
    /// Alias expansion can make a small file huge ("billion laughs"); past this many nodes we refuse.
    static let nodeLimit = 2_000_000

    static func read(_ text: String, file: String) throws(DiagnosticError) -> ValueNode? {
        let root: Yams.Node?
        do {
            // The basic resolver resolves no implicit tags (we type scalars ourselves), which spares
            // Yams a regular-expression match per key when it checks for duplicate keys.
            root = try Parser(yaml: text, resolver: .basic, constructor: sharedConstructor, encoding: .utf8).singleRoot()
        } catch let error as YamlError {
            throw DiagnosticError(diagnostic(for: error, file: file, text: text))
        } catch {
            throw DiagnosticError(.error("cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1)))
        }
        guard let root else { return nil }
        var budget = nodeLimit
        return try convert(root, file: file, budget: &budget)
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Yams.Node, file: String, budget: inout Int) throws(DiagnosticError) -> ValueNode {
        budget -= 1
        let at = location(node.mark, file)
        if budget < 0 {
            throw DiagnosticError(.error("document expands to more than \(nodeLimit) values (aliases nested too deeply?)", at: at))
        }
        switch node {
        case .scalar(let scalar):
            return scalarNode(scalar, at: at)
        case .sequence(let sequence):
            var items: [ValueNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return ValueNode(.list(items), at: at)
        case .mapping(let mapping):
            var entries: [MapEntry] = []
            entries.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                let keyAt = location(key.mark, file)
                guard case .scalar(let keyScalar) = key else {
                    throw DiagnosticError(.error("a key must be a plain name, not a list or a map", at: keyAt))
                }
                entries.append(MapEntry(key: keyScalar.string, at: keyAt, node: try convert(value, file: file, budget: &budget)))
            }
            return ValueNode(.map(entries), at: at)
        case .alias:
            // Yams resolves aliases while composing; an unresolved one is a malformed document.
            throw DiagnosticError(.error("unresolved YAML alias", at: at))
        }
    }

    /// YAML 1.2 core-schema typing for plain scalars; anything quoted stays a string.
    private static func scalarNode(_ scalar: Yams.Node.Scalar, at: SourceLocation) -> ValueNode {
        let text = scalar.string
        switch scalar.style {
        case .singleQuoted, .doubleQuoted:
            // Escapes make inner columns approximate; a quote is one column.
            return ValueNode(.string(text), at: at, contentOffset: text.utf8.contains(0x0A) ? nil : 1)
        case .literal, .folded:
            return ValueNode(.string(text), at: at, contentOffset: nil)
        default:
            return ValueNode(ScalarTyping.plain(text), at: at, contentOffset: text.utf8.contains(0x0A) ? nil : 0)
        }
    }

    private static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let at = location(mark, file)
            let opened = context.map { location($0.mark, file) }
            return plainWords(problem: problem, context: context?.text, at: at, opened: opened, text: text)
        case let .reader(problem, offset, _, yaml):
            return .error("YAML syntax: \(problem)", at: locationOf(offset: offset, in: yaml, file: file))
        case let .duplicatedKeysInMapping(duplicates, context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return .error("key \(names) appears more than once in this map", at: location(context.mark, file))
        default:
            return .error("cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// libyaml's message in the words of someone editing a profile, at the same position.
    static func plainWords(problem: String, context: String?, at: SourceLocation, opened: SourceLocation?, text: String) -> Diagnostic {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(at.line - 1).first.map(String.init) ?? ""
        let character = line.unicodeScalars.dropFirst(at.column - 1).first
        let indentedWithTab = line.unicodeScalars.prefix { $0 == " " || $0 == "\t" }.contains("\t")
        let openedNote = { (what: String) in opened.map { [Note(what, at: $0)] } ?? [] }
        let context = context ?? ""
        if problem.contains("cannot start any token") && (character == "\t" || indentedWithTab) {
            return .error("this line is indented with a tab: YAML indents with spaces only", at: at)
        }
        if context.contains("quoted scalar") && problem.contains("end of stream") {
            return .error("a quoted string is never closed: add the closing quote", at: opened ?? at, notes: opened == nil ? [] : [Note("the file ends here", at: at)])
        }
        if problem.contains("nest") || problem.contains("yaml_set_max_nest_level") {
            return .error("the document nests lists and maps too deeply", at: at)
        }
        if problem.contains("expected ',' or ']'") {
            return .error("a list opened with '[' is not closed: add ']', or a ',' between its items", at: at, notes: openedNote("the list opens here"))
        }
        if problem.contains("expected ',' or '}'") {
            return .error("a map opened with '{' is not closed: add '}', or a ',' between its entries", at: at, notes: openedNote("the map opens here"))
        }
        if problem.contains("mapping values are not allowed") {
            return .error("a ': ' here makes this value a map: quote the value if it is text, or start the map on its own line under its key", at: at)
        }
        if problem.contains("did not find expected key") && context.contains("block mapping") {
            return .error("this line is not indented like the other keys of its map", at: at, notes: openedNote("the map starts here"))
        }
        if problem.contains("did not find expected '-' indicator") {
            return .error("this line is not indented like the other items of its list", at: at, notes: openedNote("the list starts here"))
        }
        if problem.contains("could not find expected ':'") {
            return .error("a key needs a ':' after it (or this line continues a value and needs quotes)", at: opened ?? at)
        }
        if problem.contains("block sequence entries are not allowed") {
            return .error("a list item ('- ') cannot start here: put the list on its own lines under its key", at: at)
        }
        if problem.contains("found character that cannot start any token"), let character {
            return .error("'\(character)' cannot start a value here: quote the value", at: at)
        }
        if problem.contains("end of stream") {
            return .error("the file ends in the middle of a value" + (context.isEmpty ? "" : " (\(context.replacingOccurrences(of: "while ", with: "")))"), at: at, notes: openedNote("it starts here"))
        }
        return .error("YAML syntax: \(problem)" + (context.isEmpty ? "" : " (\(context))"), at: at, notes: openedNote(context))
    }

    private static func locationOf(offset: Int?, in text: String, file: String) -> SourceLocation {
        guard let offset else { return SourceLocation(file: file, line: 1, column: 1) }
        var line = 1, column = 1
        for (index, byte) in text.utf8.enumerated() {
            if index >= offset { break }
            if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}

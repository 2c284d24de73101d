/// A profile value: what YAML or JSONC said, with every element's position kept.
public indirect enum Value: Sendable {
    /// Text; may hold `${section:option}` references until substitution.
    case string(String)
    /// A number kept in its canonical text, so rendering never reformats it.
    case number(String)
    case bool(Bool)
    case null
    case list([ValueNode])
    case map([MapEntry])

    /// The kind named in messages ("expected a list, got a map").
    public var kindName: String {
        switch self {
        case .string: "string"
        case .number(let text): text.contains(".") || text.contains("e") || text.contains("E") ? "number" : "integer"
        case .bool: "boolean"
        case .null: "null"
        case .list: "list"
        case .map: "map"
        }
    }

    /// Equality of content, ignoring where things were written (what `-=` compares).
    public func sameContent(as other: Value) -> Bool {
        switch (self, other) {
        case let (.string(a), .string(b)), let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        case let (.list(a), .list(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.value.sameContent(as: $1.value) }
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.node.value.sameContent(as: $1.node.value) }
        default: return false
        }
    }

    /// A short one-line rendering for messages and `explain`.
    public var summary: String {
        switch self {
        case .string(let text): return text.contains("\n") ? "'" + text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n") + "'" : text
        case .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .list(let items): return "[" + items.map(\.value.summary).joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { "\($0.key): \($0.node.value.summary)" }.joined(separator: ", ") + "}"
        }
    }

    /// The entry of a map value with this key, if any.
    public subscript(key: String) -> ValueNode? {
        guard case .map(let entries) = self else { return nil }
        return entries.last { $0.key == key }?.node
    }
}

/// A value with the position where it was written.
public struct ValueNode: Sendable {
    public var value: Value
    public var location: SourceLocation
    /// Columns between `location` and the first character of a string's content (1 for a quoted scalar),
    /// or nil when the text spans lines and columns inside it cannot be computed.
    public var contentOffset: Int?

    public init(_ value: Value, at location: SourceLocation, contentOffset: Int? = 0) {
        self.value = value
        self.location = location
        self.contentOffset = contentOffset
    }

    /// The position of the character at `index` (in Unicode scalars) of a string value.
    public func location(ofScalarOffset index: Int) -> SourceLocation {
        guard let offset = contentOffset else { return location }
        return location.advanced(by: offset + index)
    }

    public var string: String? {
        switch value {
        case .string(let text), .number(let text): text
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }
}

/// A key of a map value with its position.
public struct MapEntry: Sendable {
    public var key: String
    public var keyLocation: SourceLocation
    public var node: ValueNode

    public init(key: String, at keyLocation: SourceLocation, node: ValueNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.node = node
    }
}

extension Value {
    /// Compact JSON with map keys sorted: a stable text for hashing and comparing values.
    public var canonicalJSON: String {
        var out = ""
        appendJSON(to: &out)
        return out
    }

    private func appendJSON(to out: inout String) {
        switch self {
        case .string(let text):
            out += JSONText.quoted(text)
        case .number(let text): out += text
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        case .list(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.value.appendJSON(to: &out)
            }
            out += "]"
        case .map(let entries):
            out += "{"
            for (index, entry) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out += "," }
                out += JSONText.quoted(entry.key)
                out += ":"
                entry.node.value.appendJSON(to: &out)
            }
            out += "}"
        }
    }
}

extension Value {
    /// Whether some text in it holds `${` (a reference for a later stage).
    public var mentionsReference: Bool {
        switch self {
        case .string(let text): text.contains("${")
        case .list(let items): items.contains { $0.value.mentionsReference }
        case .map(let entries): entries.contains { $0.node.value.mentionsReference }
        default: false
        }
    }
}

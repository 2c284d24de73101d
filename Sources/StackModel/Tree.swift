import Foundation

/// A plain document tree for output: what JSON and YAML printers emit, in a fixed order.
public indirect enum Tree: Sendable, Equatable {
    case string(String)
    /// Emitted verbatim: already canonical number text.
    case number(String)
    case bool(Bool)
    case null
    case list([Tree])
    /// Keys in the order they are emitted.
    case object([(String, Tree)])

    public static func == (a: Tree, b: Tree) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)), let (.number(x), .number(y)): x == y
        case let (.bool(x), .bool(y)): x == y
        case (.null, .null): true
        case let (.list(x), .list(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A profile value as output; map keys sorted so output never depends on authoring order.
    public init(_ value: Value) {
        switch value {
        case .string(let text): self = .string(text)
        case .number(let text): self = .number(text)
        case .bool(let flag): self = .bool(flag)
        case .null: self = .null
        case .list(let items): self = .list(items.map { Tree($0.value) })
        case .map(let entries):
            self = .object(entries.sorted { $0.key < $1.key }.map { ($0.key, Tree($0.node.value)) })
        }
    }

    public static func object(sortedFrom pairs: [(String, Tree)]) -> Tree {
        .object(pairs.sorted { $0.0 < $1.0 })
    }
}

/// JSON with two-space indentation and keys in tree order. Written as bytes: a render of two
/// thousand instances is most of a megabyte, and String appends were a sixth of its time.
/// A long list is written on `workers` threads, each a contiguous run, joined in order.
public enum JSONPrinter {
    public static func print(_ tree: Tree, workers: Int = 1) -> String {
        String(decoding: bytes(tree, workers: workers), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes, for writing out without another copy.
    public static func bytes(_ tree: Tree, workers: Int = 1) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        write(tree, indent: 0, workers: workers, into: &out)
        out.append(0x0A)
        return out
    }

    private static func pad(_ indent: Int, _ out: inout [UInt8]) {
        out.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    private static func write(_ tree: Tree, indent: Int, workers: Int, into out: inout [UInt8]) {
        switch tree {
        case .string(let value): JSONText.append(value, to: &out)
        case .number(let value): out.append(contentsOf: value.utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .list(let items):
            guard !items.isEmpty else { out.append(contentsOf: "[]".utf8); return }
            out.append(contentsOf: "[\n".utf8)
            @Sendable func run(_ range: Range<Int>, into part: inout [UInt8]) {
                for index in range {
                    pad(indent + 1, &part)
                    write(items[index], indent: indent + 1, workers: 1, into: &part)
                    if index + 1 < items.count { part.append(0x2C) }
                    part.append(0x0A)
                }
            }
            if items.count >= 1024 && workers > 1 {
                // Thousands of instances: each core writes a contiguous run, joined in order.
                let runs = Parallel.map(Parallel.ranges(of: items.count, workers: workers, minimum: 64), stackSize: Parallel.largeStack) { range in
                    var part: [UInt8] = []
                    part.reserveCapacity(range.count * 256)
                    run(range, into: &part)
                    return part
                }
                for run in runs { out.append(contentsOf: run) }
            } else {
                run(items.indices, into: &out)
            }
            pad(indent, &out)
            out.append(0x5D)
        case .object(let pairs):
            guard !pairs.isEmpty else { out.append(contentsOf: "{}".utf8); return }
            out.append(contentsOf: "{\n".utf8)
            for (index, (key, value)) in pairs.enumerated() {
                pad(indent + 1, &out)
                JSONText.append(key, to: &out)
                out.append(contentsOf: ": ".utf8)
                write(value, indent: indent + 1, workers: workers, into: &out)
                if index + 1 < pairs.count { out.append(0x2C) }
                out.append(0x0A)
            }
            pad(indent, &out)
            out.append(0x7D)
        }
    }

    public static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}

/// Block-style YAML; strings are plain when that reads back as the same string, double-quoted otherwise.
public enum YAMLPrinter {
    public static func print(_ tree: Tree) -> String {
        var out = ""
        switch tree {
        case .object(let pairs) where !pairs.isEmpty: writePairs(pairs, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty: writeItems(items, indent: 0, into: &out)
        default: out += inline(tree) + "\n"
        }
        return out
    }

    private static func writePairs(_ pairs: [(String, Tree)], indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        for (key, value) in pairs {
            out += pad + scalar(key) + ":"
            switch value {
            case .object(let inner) where !inner.isEmpty:
                out += "\n"
                writePairs(inner, indent: indent + 1, into: &out)
            case .list(let items) where !items.isEmpty:
                out += "\n"
                writeItems(items, indent: indent + 1, into: &out)
            default:
                out += " " + inline(value) + "\n"
            }
        }
    }

    private static func writeItems(_ items: [Tree], indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        for item in items {
            switch item {
            case .object(let pairs) where !pairs.isEmpty:
                // The first key shares the dash's line, the rest align under it.
                var first = ""
                writePairs(pairs, indent: indent + 1, into: &first)
                out += pad + "- " + first.dropFirst(pad.count + 2)
            case .list(let inner) where !inner.isEmpty:
                out += pad + "-\n"
                writeItems(inner, indent: indent + 1, into: &out)
            default:
                out += pad + "- " + inline(item) + "\n"
            }
        }
    }

    private static func inline(_ tree: Tree) -> String {
        switch tree {
        case .string(let text): scalar(text)
        case .number(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        case .list: "[]"
        case .object: "{}"
        }
    }

    static func scalar(_ text: String) -> String {
        isPlainSafe(text) ? text : JSONPrinter.quoted(text)
    }

    private static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last, last != " " else { return false }
        let isWordStart = first.properties.isAlphabetic || ("0"..."9").contains(first) || first == "/" || first == "." || first == "_"
        guard isWordStart else { return false }
        let safe = text.unicodeScalars.allSatisfy { c in
            c.properties.isAlphabetic || ("0"..."9").contains(c) || " _./+=()-,@".unicodeScalars.contains(c)
        }
        guard safe else { return false }
        if case .string = ScalarTyping.plain(text) { return true }
        return false
    }
}

import StackModel

/// Reads JSON with `//` and `/* */` comments and trailing commas, keeping 1-based positions
/// (columns counted in Unicode scalars, as libyaml counts them, so both formats agree).
struct JSONCReader {
    static let maxDepth = 512

    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1

    static func read(_ text: String, file: String) throws(DiagnosticError) -> ValueNode? {
        var reader = JSONCReader(scalars: Array(text.unicodeScalars), file: file)
        try reader.skipTrivia()
        if reader.atEnd { return nil }
        let value = try reader.parseValue(depth: 0)
        try reader.skipTrivia()
        if !reader.atEnd { throw reader.error("unexpected '\(reader.peekDescription)' after the top-level value") }
        return value
    }

    private init(scalars: [Unicode.Scalar], file: String) {
        self.scalars = scalars
        self.file = file
    }

    private var atEnd: Bool { index >= scalars.count }
    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }
    private var peekDescription: String { atEnd ? "end of file" : String(scalars[index]) }

    private func error(_ message: String, at location: SourceLocation? = nil) -> DiagnosticError {
        DiagnosticError(.error("JSONC syntax: \(message)", at: location ?? here))
    }

    private mutating func advance() {
        if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
        index += 1
    }

    private mutating func skipTrivia() throws(DiagnosticError) {
        while !atEnd {
            let c = scalars[index]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{FEFF}" {
                advance()
            } else if c == "/", index + 1 < scalars.count, scalars[index + 1] == "/" {
                while !atEnd && scalars[index] != "\n" { advance() }
            } else if c == "/", index + 1 < scalars.count, scalars[index + 1] == "*" {
                let start = here
                advance(); advance()
                while true {
                    if atEnd { throw error("unterminated '/*' comment", at: start) }
                    if scalars[index] == "*", index + 1 < scalars.count, scalars[index + 1] == "/" {
                        advance(); advance()
                        break
                    }
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(DiagnosticError) -> ValueNode {
        guard depth < Self.maxDepth else { throw error("values nested more than \(Self.maxDepth) deep") }
        guard !atEnd else { throw error("expected a value, got end of file") }
        let start = here
        switch scalars[index] {
        case "{": return try parseObject(depth: depth)
        case "[": return try parseArray(depth: depth)
        case "\"":
            let text = try parseString()
            return ValueNode(.string(text), at: start, contentOffset: 1)
        default:
            return try parseLiteral()
        }
    }

    private mutating func parseObject(depth: Int) throws(DiagnosticError) -> ValueNode {
        let start = here
        advance()
        var entries: [MapEntry] = []
        var seen: [String: SourceLocation] = [:]
        while true {
            try skipTrivia()
            if atEnd { throw error("unterminated object (opened at \(start.line):\(start.column))") }
            if scalars[index] == "}" { advance(); break }
            guard scalars[index] == "\"" else { throw error("expected a quoted key or '}', got '\(peekDescription)'") }
            let keyAt = here
            let key = try parseString()
            if let first = seen[key] {
                throw DiagnosticError(.error("key '\(key)' appears more than once in this map", at: keyAt,
                                             notes: [Note("first written here", at: first)]))
            }
            seen[key] = keyAt
            try skipTrivia()
            guard !atEnd, scalars[index] == ":" else { throw error("expected ':' after key '\(key)', got '\(peekDescription)'") }
            advance()
            try skipTrivia()
            let value = try parseValue(depth: depth + 1)
            entries.append(MapEntry(key: key, at: keyAt, node: value))
            try skipTrivia()
            if atEnd { throw error("unterminated object (opened at \(start.line):\(start.column))") }
            if scalars[index] == "," { advance(); continue }
            if scalars[index] == "}" { advance(); break }
            throw error("expected ',' or '}', got '\(peekDescription)'")
        }
        return ValueNode(.map(entries), at: start)
    }

    private mutating func parseArray(depth: Int) throws(DiagnosticError) -> ValueNode {
        let start = here
        advance()
        var items: [ValueNode] = []
        while true {
            try skipTrivia()
            if atEnd { throw error("unterminated list (opened at \(start.line):\(start.column))") }
            if scalars[index] == "]" { advance(); break }
            items.append(try parseValue(depth: depth + 1))
            try skipTrivia()
            if atEnd { throw error("unterminated list (opened at \(start.line):\(start.column))") }
            if scalars[index] == "," { advance(); continue }
            if scalars[index] == "]" { advance(); break }
            throw error("expected ',' or ']', got '\(peekDescription)'")
        }
        return ValueNode(.list(items), at: start)
    }

    private mutating func parseString() throws(DiagnosticError) -> String {
        let start = here
        advance()
        var text = String.UnicodeScalarView()
        while true {
            guard !atEnd else { throw error("unterminated string", at: start) }
            let c = scalars[index]
            if c == "\"" { advance(); break }
            if c == "\n" { throw error("unterminated string (a newline must be written \\n)", at: start) }
            if c == "\\" {
                advance()
                guard !atEnd else { throw error("unterminated string", at: start) }
                let escape = scalars[index]
                switch escape {
                case "\"": text.append("\"")
                case "\\": text.append("\\")
                case "/": text.append("/")
                case "b": text.append("\u{8}")
                case "f": text.append("\u{C}")
                case "n": text.append("\n")
                case "r": text.append("\r")
                case "t": text.append("\t")
                case "u":
                    let escapeAt = here
                    var code: UInt32 = 0
                    for _ in 0..<4 {
                        advance()
                        guard !atEnd, let digit = UInt32(String(scalars[index]), radix: 16) else {
                            throw error("bad \\u escape", at: escapeAt)
                        }
                        code = code * 16 + digit
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("\\u escape is not a Unicode scalar", at: escapeAt) }
                    text.append(scalar)
                default:
                    throw error("unknown escape '\\\(escape)'")
                }
                advance()
                continue
            }
            text.append(c)
            advance()
        }
        return String(text)
    }

    private mutating func parseLiteral() throws(DiagnosticError) -> ValueNode {
        let start = here
        var word = ""
        while !atEnd {
            let c = scalars[index]
            guard c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "+" || c == "." else { break }
            word.unicodeScalars.append(c)
            advance()
        }
        switch word {
        case "true": return ValueNode(.bool(true), at: start)
        case "false": return ValueNode(.bool(false), at: start)
        case "null": return ValueNode(.null, at: start)
        default:
            if let number = ScalarTyping.canonicalNumber(word), !word.hasPrefix("+") {
                return ValueNode(.number(number), at: start)
            }
            if word.isEmpty { throw error("expected a value, got '\(peekDescription)'", at: start) }
            throw error("expected a value, got '\(word)' (strings must be quoted)", at: start)
        }
    }
}

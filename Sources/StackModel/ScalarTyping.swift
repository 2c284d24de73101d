import Foundation

/// How a bare (unquoted) scalar becomes a typed value: the YAML 1.2 core schema, without YAML 1.1's
/// `yes`/`no`/`on`/`off` booleans (the "Norway problem").
public enum ScalarTyping {
    public static func plain(_ text: String) -> Value {
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "", "~", "null", "Null", "NULL": return .null
        default: break
        }
        if let number = canonicalNumber(text) { return .number(number) }
        return .string(text)
    }

    /// Decimal integers and floats in a canonical text; hex, octal, `.inf` and the like stay strings.
    public static func canonicalNumber(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count < 40 else { return nil }
        var index = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") { index = 1 }
        let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
        var digits = 0, dot = false, exponent = false
        while index < bytes.count {
            let b = bytes[index]
            if isDigit(b) { digits += 1 } else if b == UInt8(ascii: "."), !dot, !exponent { dot = true }
            else if (b == UInt8(ascii: "e") || b == UInt8(ascii: "E")), !exponent, digits > 0 {
                exponent = true
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") || bytes[index + 1] == UInt8(ascii: "+") { index += 1 }
                guard index + 1 < bytes.count else { return nil }
            } else { return nil }
            index += 1
        }
        guard digits > 0 else { return nil }
        if !dot && !exponent {
            // Leading zeros read as octal in some YAML dialects; keep such text as a string.
            let body = text.hasPrefix("-") || text.hasPrefix("+") ? String(text.dropFirst()) : text
            if body.count > 1 && body.hasPrefix("0") { return nil }
            guard let value = Int(text) else { return nil }
            return String(value)
        }
        guard let value = Double(text), value.isFinite else { return nil }
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }
}

/// JSON string quoting shared by every JSON the project writes (renders, hashes, notifier lists).
public enum JSONText {
    /// Whether some byte of `text` needs an escape (0xE2 leads U+2028 and U+2029, escaped too).
    private static func needsEscape(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }
    }

    /// Appends `text` quoted to UTF-8 output, for writers that build bytes.
    public static func append(_ text: String, to out: inout [UInt8]) {
        guard !needsEscape(text) else {
            out.append(contentsOf: quoted(text).utf8)
            return
        }
        out.append(0x22)
        out.append(contentsOf: text.utf8)
        out.append(0x22)
    }

    public static func quoted(_ text: String) -> String {
        // Most strings need no escape: copy them whole.
        if !needsEscape(text) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

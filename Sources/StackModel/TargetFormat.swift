/// The generated formats a profile's values land in, each with its rule for the characters it
/// cannot carry. The compiler refuses such a value at its position (exit 1); the materializer's
/// encoders apply the same rules to what they add (the instance directory), so install never
/// writes a line a value was not meant to start.
public enum TargetFormat: Sendable, Equatable {
    /// A /bin/sh word, single-quoted: everything but NUL, which no argument or variable can hold.
    case shell
    /// A cron.d line: cron reads line by line and turns '%' into a newline, so no line break, no
    /// other control character and no '%'.
    case cronLine
    /// A systemd unit's value: line-based too (a backslash at the end continues a line), so no line
    /// break and no control character; '%', '$', '"' and '\' are escaped by the encoder.
    case systemdUnit
    /// JSON: every character is escaped as needed.
    case json

    /// Why `text` cannot be carried, naming the first character that cannot, or nil.
    public func refusal(_ text: String) -> String? {
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let hex = String(value, radix: 16, uppercase: true)
            let name = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            switch self {
            case .json:
                return nil
            case .shell:
                if value == 0 { return "a NUL (U+0000), which no argument or environment value can hold" }
            case .cronLine:
                if value == 0x0A || value == 0x0D { return "a line break (\(name)), which a cron entry cannot carry: cron reads its file line by line" }
                if value == 0x25 { return "a '%', which a cron entry cannot carry: cron turns '%' into a newline" }
                if (value < 0x20 && value != 0x09) || value == 0x7F { return "a control character (\(name)), which a cron entry cannot carry" }
            case .systemdUnit:
                if value == 0x0A || value == 0x0D { return "a line break (\(name)), which a systemd unit cannot carry: it is read line by line" }
                if value < 0x20 || value == 0x7F { return "a control character (\(name)), which a systemd unit cannot carry" }
            }
        }
        return nil
    }
}

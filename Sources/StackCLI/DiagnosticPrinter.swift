import Foundation
import StackModel

/// Formats diagnostics the way compilers do: `FILE:LINE:COLUMN: error: message`, then one
/// `  note:` line per link of the chain; colour only on a terminal and never with NO_COLOR.
struct DiagnosticPrinter {
    var colour: Bool
    /// Chains longer than this show their ends and elide the middle; JSON output keeps every link.
    static let maxNotes = 40

    static func wantsColour(fileDescriptor: Int32) -> Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(fileDescriptor) == 1
    }

    func format(_ diagnostic: Diagnostic) -> String {
        let label = diagnostic.severity == .error ? paint("error:", "1;31") : paint("warning:", "1;35")
        var out = "\(paint(diagnostic.location.description + ":", "1")) \(label) \(diagnostic.message)\n"
        var notes = diagnostic.notes
        var elided = 0
        if notes.count > Self.maxNotes {
            elided = notes.count - Self.maxNotes
            notes = Array(notes.prefix(Self.maxNotes / 2)) + Array(notes.suffix(Self.maxNotes / 2))
        }
        for (index, note) in notes.enumerated() {
            if elided > 0 && index == Self.maxNotes / 2 {
                out += "  \(paint("note:", "1;36")) … \(elided) more links …\n"
            }
            out += "  \(paint("note:", "1;36")) \(note.location): \(note.message)\n"
        }
        return out
    }

    private func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

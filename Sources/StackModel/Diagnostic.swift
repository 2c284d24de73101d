/// A problem in a profile, at a position, with the chain of links that led there.
public struct Diagnostic: Hashable, Sendable {
    public enum Severity: String, Sendable, Comparable {
        case error, warning

        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
    }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation
    public var notes: [Note]

    public init(_ severity: Severity, _ message: String, at location: SourceLocation, notes: [Note] = []) {
        self.severity = severity
        self.message = message
        self.location = location
        self.notes = notes
    }

    public static func error(_ message: String, at location: SourceLocation, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.error, message, at: location, notes: notes)
    }

    public static func warning(_ message: String, at location: SourceLocation, notes: [Note] = []) -> Diagnostic {
        Diagnostic(.warning, message, at: location, notes: notes)
    }
}

/// Thrown by a stage that cannot go on; carries every diagnostic gathered so far.
public struct DiagnosticError: Error, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public init(_ diagnostic: Diagnostic) { self.diagnostics = [diagnostic] }
}

/// Collects diagnostics across a stage so every problem is reported at once.
public struct DiagnosticBag: Sendable {
    public private(set) var all: [Diagnostic] = []
    private var seen: Set<Diagnostic> = []

    public init() {}

    public mutating func add(_ diagnostic: Diagnostic) {
        // Instances sharing a profile would otherwise repeat the same finding once per instance.
        if seen.insert(diagnostic).inserted { all.append(diagnostic) }
    }

    public mutating func add(contentsOf diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { add(diagnostic) }
    }

    public var hasErrors: Bool { all.contains { $0.severity == .error } }

    /// Errors first, then by position, so output is stable whatever order stages ran in.
    public var sorted: [Diagnostic] {
        all.enumerated().sorted { a, b in
            if a.element.severity != b.element.severity { return a.element.severity < b.element.severity }
            if a.element.location != b.element.location { return a.element.location < b.element.location }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// A diagnostic can be the failure of a `Result` (an option that cannot be typed).
extension Diagnostic: Error {}

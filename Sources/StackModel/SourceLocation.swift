/// A 1-based position in a profile file, as editors and compilers print it.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The file as the user would name it: relative to the working directory when it was given so.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The same line, `offset` columns further right (for positions inside a string value).
    public func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One link of the chain that led to a value or a diagnostic: where, and what happened there.
public struct Note: Hashable, Sendable {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }
}

/// How a file, a section or a value was reached, as a shared linked list so that a
/// 10,000-deep extends chain costs one node per file and not one copy per value.
public final class Origin: Sendable {
    public let note: Note
    public let parent: Origin?

    public init(_ note: Note, parent: Origin?) {
        self.note = note
        self.parent = parent
    }

    /// The links from the outermost (the file the user named) to this one.
    public var chain: [Note] {
        var links: [Note] = []
        var node: Origin? = self
        while let current = node {
            links.append(current.note)
            node = current.parent
        }
        return links.reversed()
    }
}

extension Optional where Wrapped == Origin {
    /// The chain of an optional origin: empty for the root profile.
    public var chain: [Note] { self?.chain ?? [] }
}

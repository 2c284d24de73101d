import ArgumentParser
import StackCompiler
import StackModel

/// `stackc check PROFILE`: every diagnostic at once; exit 1 on any error.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Report every error and warning (unused options, likely typos); exit 1 on any error.")

    @Argument(help: "The profile to check.")
    var profile: String

    @Option(help: "text or json.")
    var format: TextOrJSON = .text

    func run() throws {
        let compilation = compileOnLargeStack(profile)
        if format == .json {
            write(JSONPrinter.print(Self.json(compilation.diagnostics)))
        } else {
            report(compilation.diagnostics, summary: true)
        }
        if compilation.hasErrors { throw Exit.configurationError }
    }

    static func json(_ diagnostics: [Diagnostic]) -> Tree {
        let position = { (location: SourceLocation) -> [(String, Tree)] in
            [("file", .string(location.file)), ("line", .number(String(location.line))), ("column", .number(String(location.column)))]
        }
        return .object([("diagnostics", .list(diagnostics.map { diagnostic in
            .object([("severity", .string(diagnostic.severity.rawValue)), ("message", .string(diagnostic.message))]
                    + position(diagnostic.location)
                    + [("chain", .list(diagnostic.notes.map { .object(position($0.location) + [("message", .string($0.message))]) }))])
        }))])
    }
}

import ArgumentParser
import StackCompiler
import StackModel

/// `stackc explain PROFILE SECTION:OPTION`: a value and every step that made it.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show a value and its history: every layer, operator, macro, substitution and replicate() step.")

    @Argument(help: "The profile to compile.")
    var profile: String

    @Argument(help: "SECTION:OPTION, or INSTANCE:PARAMETER.")
    var target: String

    @Option(help: "text or json.")
    var format: TextOrJSON = .text

    func run() throws {
        let compilation = compileOnLargeStack(profile)
        if report(compilation.diagnostics) { throw Exit.configurationError }
        guard let explanation = Explanation.find(target, in: compilation) else {
            report([], summary: false)
            throw ValidationError("no option '\(target)' in \(profile) (expected SECTION:OPTION or INSTANCE:PARAMETER)")
        }
        write(format == .json ? JSONPrinter.print(explanation.json) : explanation.text)
    }
}

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
        // Explaining a value is how one debugs an error: a profile with errors is explained too,
        // with the errors that concern the value, and exits 1.
        let hasErrors = report(compilation.diagnostics, brief: profile)
        guard var explanation = Explanation.find(target, in: compilation) else {
            if hasErrors { throw Exit.configurationError }
            throw ValidationError("no option '\(target)' in \(profile) (expected SECTION:OPTION or INSTANCE:PARAMETER)")
        }
        explanation.attach(compilation.diagnostics)
        write(format == .json ? JSONPrinter.print(explanation.json) : explanation.text)
        if hasErrors { throw Exit.configurationError }
    }
}

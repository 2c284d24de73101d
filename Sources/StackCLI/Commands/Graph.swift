import ArgumentParser
import StackCompiler
import StackModel

/// `stackc graph PROFILE`: the instance graph as DOT or Mermaid.
struct Graph: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case dot, mermaid }

    static let configuration = CommandConfiguration(commandName: "graph", abstract: "Draw the instance graph as Graphviz DOT or Mermaid.")

    @Argument(help: "The profile to compile.")
    var profile: String

    @Option(help: "dot or mermaid.")
    var format: Format = .dot

    func run() throws {
        let compilation = compileOnLargeStack(profile)
        if report(compilation.diagnostics, brief: profile) { throw Exit.configurationError }
        write(format == .dot ? Renderer.dot(compilation.graph) : Renderer.mermaid(compilation.graph))
        finishSuccessfully()
    }
}

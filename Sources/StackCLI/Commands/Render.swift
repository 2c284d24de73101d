import Foundation
import ArgumentParser
import StackCompiler
import StackModel

/// `stackc render PROFILE`: the resolved configuration and the instance graph.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the resolved sections, instances and edges (YAML, or JSON with --format json).")

    @Argument(help: "The profile to compile (a deployment, a stack or any layered file).")
    var profile: String

    @Option(help: "yaml or json.")
    var format: YAMLOrJSON = .yaml

    @Option(parsing: .upToNextOption, help: "Keep only these sections and instances (and the edges touching them).")
    var only: [String] = []

    func run() throws {
        let compilation = compileOnLargeStack(profile)
        if report(compilation.diagnostics, brief: profile) { throw Exit.configurationError }
        if let unknown = only.first(where: { name in compilation.graph.instance(named: name) == nil && compilation.configuration[name] == nil }) {
            let known = compilation.graph.instances.map(\.name) + compilation.configuration.sectionNames
            FileHandle.standardError.write(Data("error: --only names '\(unknown)', which is no instance or section of \(profile)\(Suggestions.didYouMean(unknown, in: known))\n".utf8))
            throw Exit.configurationError
        }
        let workers = CLI.world.host.cores
        let document = Renderer.document(compilation, only: Set(only), workers: workers)
        if format == .json { write(bytes: JSONPrinter.bytes(document, workers: workers)) } else { write(YAMLPrinter.print(document)) }
        finishSuccessfully()
    }
}

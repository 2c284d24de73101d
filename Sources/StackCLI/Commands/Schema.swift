import ArgumentParser
import StackCompiler
import StackModel

/// `stackc schema`: the JSON Schema of the profile format, for editors.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schema", abstract: "Print the JSON Schema of the profile format (for editor validation).")

    func run() throws {
        write(ProfileSchema.json + "\n")
    }
}

import StackCompiler
import StackModel
import StackTestSupport
import Testing

/// Compiles a tree of profiles written for the test; `main` is the profile the user names.
func compile(_ files: [String: String], main: String = "main.yaml") throws -> (Compilation, TemporaryTree) {
    let tree = try TemporaryTree(files)
    return (Compiler.compile(profile: tree.path(main)), tree)
}

extension Compilation {
    /// Diagnostics as `severity FILE:LINE:COLUMN message`, files relative to the tree.
    func lines(_ tree: TemporaryTree, severity: Diagnostic.Severity? = nil) -> [String] {
        diagnostics.filter { severity == nil || $0.severity == severity }.map {
            "\($0.severity.rawValue) \(tree.relative($0.location.file)):\($0.location.line):\($0.location.column) \($0.message)"
        }
    }

    var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    func value(_ section: String, _ option: String) -> Value? { configuration[section]?[option]?.value }
}

/// Compiles one marked profile and checks that the errors fall exactly on its `⚠️` markers.
func expectErrors(at marked: String, file: String = "main.yaml", extra: [String: String] = [:], containing fragments: [String],
                  sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let text = MarkedText(marked)
    var files = extra
    files[file] = text.text
    let (compilation, tree) = try compile(files, main: file)
    let positions = compilation.errors.filter { tree.relative($0.location.file) == file }.map { "\($0.location.line):\($0.location.column)" }
    #expect(positions.sorted() == text.positions.sorted(), "errors: \(compilation.lines(tree))", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(compilation.errors.contains { $0.message.contains(fragment) }, "no error mentions '\(fragment)': \(compilation.lines(tree))",
                sourceLocation: sourceLocation)
    }
}

extension Value {
    /// A compact text of the value for assertions: `[a, b]`, `{k: v}`.
    var text: String { summary }
}

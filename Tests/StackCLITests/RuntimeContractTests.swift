import StackCompiler
@testable import StackCLI
import StackModel
import StackTestSupport
import Testing

/// The wrappers' argument contract is one type: the CLI's declarations parse exactly what it
/// describes, and the shipped stacks' wrappers call the verbs as it says.
@Suite struct RuntimeContractTests {
    @Test(arguments: RuntimeVerb.allCases)
    func theCLIDeclarationParsesWhatTheContractDescribes(verb: RuntimeVerb) throws {
        var values: [String: String] = [:]
        for (index, flag) in verb.flags.enumerated() { values[flag.name] = flag.valueName == "n" ? String(index + 1) : "value-\(index)" }
        let parsed = try verb.declaration.parse(verb.arguments(values))
        #expect((parsed as any RuntimeVerbArguments).values == values)
        #expect(try verb.parse(verb.arguments(values)).get() == values)
        // Each required flag is required on both sides.
        for flag in verb.flags where flag.required {
            var partial = values
            partial[flag.name] = nil
            #expect(throws: (any Error).self) { _ = try verb.declaration.parse(verb.arguments(partial)) }
            #expect((try? verb.parse(verb.arguments(partial)).get()) == nil)
        }
    }

    @Test func theShippedWrappersCallTheRuntimeVerbsAsTheContractSays() throws {
        let compilation = Compiler.compile(profile: packageRoot + "/stacks/examples/postgres-3.yaml")
        #expect(!compilation.hasErrors)
        var calls = 0
        for instance in compilation.graph.instances {
            for part in instance.recipeParts where part.recipe == "wrapper" {
                let words = part.words(.command)
                guard words.count > 1, words[0] == "stackc", let verb = RuntimeVerb(rawValue: words[1]) else { continue }
                #expect(throws: Never.self) { try verb.parse(Array(words.dropFirst(2))).get() }
                calls += 1
            }
        }
        #expect(calls == 5, "db0's exporter, db1's and db2's importers, two pulls")
    }

    @Test func aWrapperCallingAVerbWithAFlagItDoesNotTakeIsAnErrorAtTheCommand() throws {
        let tree = try TemporaryTree(["main.yaml": """
            stack: {parts: [exporter]}
            exporter:
              recipe: wrapper
              path: bin/exporter
              command: [stackc, export, --instance, db0, --softwar, postgres, --dump, d, --run, r, --notifier, n]
            """])
        let compilation = Compiler.compile(profile: tree.path("main.yaml"))
        let errors = compilation.diagnostics.filter { $0.severity == .error }
        #expect(errors.map { "\($0.location.line):\($0.location.column)" } == ["5:12"])
        #expect(errors.first?.message.contains("takes no argument '--softwar' (did you mean '--software'?)") == true, "\(errors.map(\.message))")
    }
}

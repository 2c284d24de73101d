import StackCompiler
import StackModel
import StackTestSupport
import Testing

/// libyaml's messages ("found character that cannot start any token") become what an author
/// needs to read, at the same position.
@Suite struct YAMLWordsTests {
    func first(_ text: String) throws -> String {
        let (compilation, tree) = try compile(["main.yaml": text])
        return try #require(compilation.lines(tree, severity: .error).first)
    }

    @Test func aTabIndentIsNamed() throws {
        #expect(try first("db:\n\tport: 1\n") == "error main.yaml:2:1 this line is indented with a tab: YAML indents with spaces only")
    }

    @Test func anUnclosedQuoteIsReportedWhereItOpens() throws {
        let line = try first("db:\n  name: \"app\n  port: 1\n")
        #expect(line == "error main.yaml:2:9 a quoted string is never closed: add the closing quote", "\(line)")
    }

    @Test func aKeyIndentedLikeNoOtherKeyIsNamed() throws {
        let line = try first("db:\n    port: 1\n  host: x\n")
        #expect(line.contains("not indented like") || line.contains("a ': ' here"), "\(line)")
        #expect(!line.contains("did not find expected"), "\(line)")
    }

    @Test func deepNestingIsNotLibyamlsWords() throws {
        let line = try first("a: " + String(repeating: "[", count: 20_000) + "\n")
        #expect(!line.contains("yaml_set_max_nest_level"), "\(line)")
        #expect(line.contains("nests lists and maps too deeply"), "\(line)")
    }
}

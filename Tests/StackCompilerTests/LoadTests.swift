import StackCompiler
import StackModel
import StackTestSupport
import Testing

@Suite struct LoadTests {
    @Test func yamlKeepsThePositionOfEveryValue() throws {
        let (compilation, _) = try compile(["main.yaml": """
            db:
              port: 5432
              databases: [app, "reports"]
            """])
        #expect(compilation.errors.isEmpty)
        let port = try #require(compilation.configuration["db"]?["port"])
        #expect((port.node.location.line, port.node.location.column) == (2, 9))
        #expect((port.keyLocation.line, port.keyLocation.column) == (2, 3))
        let databases = try #require(compilation.configuration["db"]?["databases"])
        guard case .list(let items) = databases.value else { Issue.record("databases is not a list"); return }
        #expect(items.map { "\($0.location.line):\($0.location.column)" } == ["3:15", "3:20"])
    }

    @Test func plainScalarsFollowTheCoreSchemaWithoutYesNoBooleans() throws {
        let (compilation, _) = try compile(["main.yaml": """
            s:
              a: 5432
              b: 1.5
              c: true
              d: yes
              e: "5432"
              f: 0755
              g: ~
            """])
        #expect(compilation.value("s", "a")?.kindName == "integer")
        #expect(compilation.value("s", "b")?.kindName == "number")
        #expect(compilation.value("s", "c")?.kindName == "boolean")
        #expect(compilation.value("s", "d")?.kindName == "string")
        #expect(compilation.value("s", "e")?.kindName == "string")
        #expect(compilation.value("s", "f")?.text == "0755", "leading zeros stay text, never octal")
        #expect(compilation.value("s", "g")?.kindName == "null")
    }

    @Test func jsoncAcceptsCommentsAndTrailingCommasWithPositions() throws {
        let (compilation, _) = try compile(["main.jsonc": """
            // a comment
            {
              /* block
                 comment */ "db": {"port": 5432, "tags": ["a", "b",],},
            }
            """], main: "main.jsonc")
        #expect(compilation.errors.isEmpty)
        let port = try #require(compilation.configuration["db"]?["port"])
        #expect((port.node.location.line, port.node.location.column) == (4, 32))
        #expect(compilation.value("db", "tags")?.text == "[a, b]")
    }

    @Test func yamlSyntaxErrorIsPositioned() throws {
        try expectErrors(at: """
            db:
              port: [1, 2
            other⚠️: x
            """, containing: ["a list opened with '[' is not closed: add ']'"])
    }

    @Test func yamlDuplicateKeyIsAnError() throws {
        try expectErrors(at: """
            db:
              ⚠️port: 1
              port: 2
            """, containing: ["key 'port' appears more than once"])
    }

    @Test func jsoncSyntaxErrorsArePositioned() throws {
        try expectErrors(at: #"{"db": {"port": 1,⚠️, }}"#, file: "main.json", containing: ["expected a quoted key"])
        try expectErrors(at: #"{"db": {"port": ⚠️nope}}"#, file: "main.json", containing: ["strings must be quoted"])
        try expectErrors(at: "{\"db\": ⚠️\"open\n}", file: "main.json", containing: ["unterminated string"])
        try expectErrors(at: "{\"db\": {}, ⚠️/* never closed", file: "main.json", containing: ["unterminated '/*'"])
        try expectErrors(at: #"{"db": {"a": 1, ⚠️"a": 2}}"#, file: "main.json", containing: ["key 'a' appears more than once"])
    }

    @Test func topLevelMustBeAMapOfSections() throws {
        try expectErrors(at: "⚠️- a\n- b\n", containing: ["must be a map of sections"])
        try expectErrors(at: "db: ⚠️[1, 2]\n", containing: ["section 'db' must be a map"])
    }

    @Test func unknownFormatAndMissingFileAreErrorsAtTheReference() throws {
        try expectErrors(at: """
            stack:
              extends: [⚠️base.txt, ⚠️absent.yaml]
            """, extra: ["base.txt": "x"], containing: ["unknown profile format", "/absent.yaml'"])
    }

    @Test func anEmptyFileIsAnEmptyProfile() throws {
        let (compilation, _) = try compile(["main.yaml": ""])
        #expect(compilation.diagnostics.isEmpty)
        #expect(compilation.configuration.sections.isEmpty)
    }
}

import StackCompiler
import StackModel
import StackTestSupport
import Testing

/// Recipe options are typed once, by the catalog: a bad value is an error at the value, exit 1,
/// before install ever runs; a good one reaches the part already typed.
@Suite struct RecipeOptionTests {
    @Test func everyOptionThatCannotBeTypedIsAnErrorAtItsValue() throws {
        try expectErrors(at: """
            stack: {parts: [run, tick, data, token]}
            run:
              recipe: wrapper
              path: bin/run
              command: [bin/x]
              environment: {⚠️1BAD: x, GOOD: y}
            tick:
              recipe: cron
              schedule: ⚠️"61 * * * *"
              command: bin/run
              jitter: ⚠️"yes"
              name: ⚠️tick.daily
            data:
              recipe: directory
              path: srv/data
              mode: ⚠️"0999"
            token:
              recipe: secret
              path: etc/token
              bytes: ⚠️8
            """, containing: ["environment variable name '1BAD'", "invalid schedule '61 * * * *'", "must be true or false",
                              "a unit name is letters", "octal mode", "from 16 to 1024"])
    }

    @Test func aPartsOptionsArriveTypedInTheGraph() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              software-types: {app: {profile: app.yaml, role: plain}}
              instances: [{name: a0, software-type: app}]
            """, "app.yaml": """
            stack: {parts: [tick]}
            tick: {recipe: cron, schedule: "*/15 * * * *", command: [bin/run, --fast], jitter: true}
            """])
        #expect(compilation.errors.isEmpty, "\(compilation.lines(tree))")
        let part = try #require(compilation.graph.instance(named: "a0")?.recipeParts.first)
        #expect(part.schedule(.schedule)?.expression == "*/15 * * * *")
        #expect(part.words(.command) == ["bin/run", "--fast"])
        #expect(part.flag(.jitter) == true)
    }

    @Test func aDeploymentParameterThatBreaksAScheduleIsAnErrorInThePartition() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              software-types: {app: {profile: app.yaml, role: plain, parameters: {every: {type: string, required: true}}}}
              instances: [{name: a0, software-type: app, parameters: {every: "61 * * * *"}}]
            """, "app.yaml": """
            stack: {parts: [tick]}
            tick: {recipe: cron, schedule: "${instance:every}", command: bin/run}
            """])
        #expect(compilation.lines(tree, severity: .error).contains { $0.contains("invalid schedule '61 * * * *'") }, "\(compilation.lines(tree))")
    }
}

extension RecipeOptionTests {
    /// The untrusted edge: a deployment parameter that would add a cron line is refused with a position.
    @Test func aDeploymentParameterCannotAddALineToACronEntry() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              software-types: {app: {profile: app.yaml, role: plain, parameters: {task: {type: string, required: true}}}}
              instances: [{name: a0, software-type: app, parameters: {task: "bin/w\\n* * * * * root touch /tmp/x #"}}]
            """, "app.yaml": """
            stack: {parts: [tick]}
            tick: {recipe: cron, schedule: "0 * * * *", command: ["${instance:task}"]}
            """])
        let errors = compilation.lines(tree, severity: .error)
        #expect(errors.count == 1 && errors[0].contains("holds a line break (U+000A), which a cron entry cannot carry"), "\(errors)")
        #expect(compilation.errors.first?.location.line ?? 0 >= 1)
    }
}

import StackCompiler
import StackModel
import StackTestSupport
import Testing

@Suite struct ServiceAddressTests {
    @Test func twoServicesOfOneHostOnTheSameAddressAndPortAreAnErrorNamingBoth() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              extends: [\(packageRoot)/stacks/postgres/stack.yaml]
              instances:
                - replicate(db, 3, postgres-export, postgres-import, leader, backup)
            backup:
              port: 5434
              address: 127.0.0.9
            """])
        let lines = compilation.lines(tree, severity: .error)
        #expect(lines.count == 1, "db1 and db2 share the backup section's address and port: \(lines)")
        #expect(lines.contains { $0.contains("db2's service 'database' binds 127.0.0.9:5434, which db1's service binds too") }, "\(lines)")
        let clash = try #require(compilation.diagnostics.first { $0.message.contains("db2's service") })
        #expect(clash.location.file.hasSuffix("main.yaml") && clash.location.line == 6, "at the deployment's port: \(clash.location)")
        #expect(clash.notes.contains { $0.message == "db1's port is set here" })
    }

    @Test func theShippedExampleGivesEachInstanceItsOwnLoopbackAddress() throws {
        let compilation = Compiler.compileOnLargeStack(profile: packageRoot + "/stacks/examples/postgres-3.yaml", workers: 1)
        #expect(!compilation.diagnostics.contains { $0.severity == .error })
        let addresses = compilation.graph.instances.compactMap { instance in
            instance.recipeParts.first { $0.recipe == "service" }.flatMap { $0.text(.address) }
        }
        #expect(addresses.count == 3 && Set(addresses).count == 3, "\(addresses)")
        #expect(addresses.allSatisfy { $0.hasPrefix("127.") && $0 != "127.0.0.1" })
    }
}

@Suite struct AuthorPositionTests {
    @Test func aBadParameterIsReportedAtTheDeploymentLineThatSetItWithTheTemplateAsANote() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              extends: [\(packageRoot)/stacks/postgres/stack.yaml]
              instances:
                - replicate(db, 2, postgres-export, postgres-import, leader, backup)
            leader:
              port: 5432
              schedule: "61 * * * *"
            """])
        let errors = compilation.errors
        #expect(errors.count == 2, "the cron entry and the timer: \(compilation.lines(tree))")
        for error in errors {
            #expect(tree.relative(error.location.file) == "main.yaml" && error.location.line == 7 && error.location.column == 13, "\(error)")
            #expect(error.notes.first?.message.hasPrefix("substituted into option 'schedule' of section 'exporter-") == true, "\(error.notes)")
            #expect(error.notes.first?.location.file.hasSuffix("stacks/resilient/export.yaml") == true)
        }
    }
}

@Suite struct TopLevelStackKeyTests {
    @Test func aStackKeyWrittenAtTheTopIsAnErrorNotASilentSection() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              extends: [\(packageRoot)/stacks/files/stack.yaml]
            instances:
              - replicate(docs, 2, files-export, files-import, origin, standby)
            origin: {path: /srv/docs}
            standby: {path: /srv/docs-standby}
            """])
        #expect(compilation.lines(tree, severity: .error) == ["error main.yaml:3:1 'instances' is a key of section 'stack', not a section: indent it under 'stack:'"])
    }

    @Test func aMisspeltStackSectionIsAnErrorWithASuggestion() throws {
        let (compilation, tree) = try compile(["main.yaml": "stak:\n  instances: []\n"])
        #expect(compilation.lines(tree, severity: .error) == ["error main.yaml:1:1 unknown section 'stak' (did you mean 'stack'?)"])
    }
}

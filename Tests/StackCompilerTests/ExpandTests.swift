import StackCompiler
import StackModel
import StackTestSupport
import Testing

/// A minimal stack with typed parameters, shared by the expansion tests.
private let stackFiles: [String: String] = [
    "stack/stack.yaml": """
        stack:
          software-types:
            pull-backup: {profile: pbs.yaml, role: pull-backup}
            db-export:
              profile: export.yaml
              role: export
              parameters:
                port: {type: integer, required: true}
                tier: {type: string, default: gold}
            db-import:
              profile: import.yaml
              role: import
              parameters:
                port: {type: integer, required: true}
                tier: {type: string, default: gold}
        """,
    "stack/pbs.yaml": "stack:\n  parts: [queue]\nqueue:\n  recipe: queue\n  path: var/queue\n",
    "stack/export.yaml": "stack:\n  parts: [notifier]\nnotifier:\n  recipe: notifier\n  path: etc/notify\n  receivers: ${instance:notify}\n",
    "stack/import.yaml": "stack:\n  parts: [queue]\nqueue:\n  recipe: queue\n  path: var/queue-${instance:port}\n",
]

private func deployment(_ text: String) throws -> (Compilation, TemporaryTree) {
    var files = stackFiles
    files["main.yaml"] = "stack:\n  extends: [stack/stack.yaml]\n" + text
    return try compile(files)
}

/// The instances and edges of a render, without the sections (which spell the request differently).
private func graphPart(_ compilation: Compilation) -> [Tree] {
    guard case .object(let pairs) = Renderer.document(compilation) else { return [] }
    return pairs.filter { $0.0 != "sections" }.map(\.1)
}

private func edges(_ compilation: Compilation) -> [String] {
    compilation.graph.edges.map { "\($0.from) \($0.kind.rawValue) \($0.to)" }
}

@Suite struct ReplicateTests {
    @Test func replicateExpandsIntoExportImportsAndOnePullBackupEach() throws {
        let (compilation, tree) = try deployment("""
              instances: ["replicate(db, 3, db-export, db-import, leader, backup)"]
            leader: {port: 5432}
            backup: {port: 5433}
            """)
        #expect(compilation.lines(tree).isEmpty, "\(compilation.lines(tree))")
        let graph = compilation.graph
        #expect(graph.instances.map { "\($0.name):\($0.role.rawValue)" } == ["db0:export", "db1:import", "db2:import", "pbs-db-1:pull-backup", "pbs-db-2:pull-backup"])
        #expect(graph.instance(named: "db0")?.parameter("port")?.value.text == "5432")
        #expect(graph.instance(named: "db2")?.parameter("port")?.value.text == "5433")
        #expect(graph.instance(named: "db2")?.parameter("tier")?.history.map(\.action) == [.default])
        #expect(edges(compilation) == [
            "db0 notify pbs-db-1", "db0 notify pbs-db-2", "db1 takeover db0", "db2 takeover db0",
            "pbs-db-1 pull db0", "pbs-db-1 notify db1", "pbs-db-1 push db1",
            "pbs-db-2 pull db0", "pbs-db-2 notify db2", "pbs-db-2 push db2",
        ])
    }

    @Test func callAndMapFormsProduceTheSameGraph() throws {
        let (call, _) = try deployment("  instances: [\"replicate(db, 3, db-export, db-import, leader, backup)\"]\nleader: {port: 1}\nbackup: {port: 2}\n")
        let (map, _) = try deployment("""
              instances:
                - replicate: {name: db, count: 3, export: db-export, import: db-import, leader: leader, backup: backup}
            leader: {port: 1}
            backup: {port: 2}
            """)
        #expect(graphPart(call) == graphPart(map))
        #expect(call.graph.instances.count == 5)
    }

    @Test func partitionsComeFromTheSameExpansion() throws {
        let (compilation, _) = try deployment("  instances: [\"replicate(db, 2, db-export, db-import, leader, backup)\"]\nleader: {port: 1}\nbackup: {port: 2}\n")
        let export = try #require(compilation.graph.instance(named: "db0"))
        #expect(export.parts == ["notifier"])
        #expect(export.partition?["notifier"]?["receivers"]?.value.text == "[pbs-db-1]")
        #expect(compilation.graph.instance(named: "db1")?.partition?["queue"]?["path"]?.value.text == "var/queue-2")
    }

    @Test func countOneIsALoneExport() throws {
        let (compilation, _) = try deployment("  instances: [\"replicate(db, 1, db-export, db-import, leader)\"]\nleader: {port: 1}\n")
        #expect(compilation.errors.isEmpty)
        #expect(compilation.graph.instances.map(\.name) == ["db0"])
        #expect(compilation.graph.edges.isEmpty)
    }

    @Test func badCallsArePositionedAtTheArgument() throws {
        let (compilation, tree) = try deployment("""
              instances:
                - replicate(db, 0, db-export, db-import)
                - replicate(db, three, db-export, db-import)
                - replicate(db, 2, db-exprt, db-import, leader)
                - replicate(db, 2, db-export)
                - replicate(xx, 2, db-import, db-import, leader, nowhere)
                - {replicate: {name: m, count: 2, export: db-export}}
            leader: {port: 1}
            """)
        #expect(compilation.lines(tree, severity: .error) == [
            "error main.yaml:4:21 replicate(): count must be at least 1, got 0",
            "error main.yaml:5:21 replicate(): count must be an integer, got string 'three'",
            "error main.yaml:6:7 instance 'db1' lacks required parameter 'port' (integer)",
            "error main.yaml:6:24 unknown software type 'db-exprt' for instance 'db0' (did you mean 'db-export'?)",
            "error main.yaml:7:7 replicate() takes 4 to 6 arguments (namebase, count, export-type, import-type[, leader-section[, backup-section]]), got 3",
            "error main.yaml:8:7 instance 'xx1' lacks required parameter 'port' (integer)",
            "error main.yaml:8:24 replicate(): software type 'db-import' has role 'import', but 'xx0' needs an export type",
            "error main.yaml:8:54 replicate(): backup section 'nowhere' is not defined",
            "error main.yaml:9:19 'replicate' needs 'import'",
        ])
    }

    @Test func parametersAreCheckedAgainstTheSoftwareType() throws {
        let (compilation, tree) = try deployment("""
              instances:
                - replicate(db, 2, db-export, db-import, leader, backup)
            leader: {port: "5432", prot: 1}
            backup: {tier: silver}
            """)
        #expect(compilation.lines(tree) == [
            "error main.yaml:4:7 instance 'db1' lacks required parameter 'port' (integer)",
            "error main.yaml:5:16 parameter 'port' of instance 'db0' must be an integer, got string '5432'",
            "warning main.yaml:5:24 software type 'db-export' has no parameter 'prot' (did you mean 'port'?)",
        ])
        let missing = try #require(compilation.errors.first)
        #expect(missing.notes.map { tree.relative($0.location.file) } == ["stack/stack.yaml", "main.yaml"], "cites the schema and the choice of type")
    }
}

@Suite struct GraphValidationTests {
    @Test func explicitInstancesWireThroughAPullBackup() throws {
        let (compilation, tree) = try deployment("""
              instances:
                - {name: live, software-type: db-export, parameters: {port: 1}}
                - {name: standby, software-type: db-import, parameters: {port: 2}}
                - {name: copier, software-type: pull-backup, pull-from: live, push-to: standby}
            """)
        #expect(compilation.lines(tree).isEmpty, "\(compilation.lines(tree))")
        #expect(edges(compilation) == ["copier pull live", "copier notify standby", "copier push standby", "live notify copier", "standby takeover live"])
    }

    @Test func everyInvariantIsReportedAtOnce() throws {
        let (compilation, tree) = try deployment("""
              instances:
                - {name: live, software-type: db-export, parameters: {port: 1}}
                - {name: orphan, software-type: db-import, parameters: {port: 2}}
                - {name: twice, software-type: db-import, parameters: {port: 3}}
                - {name: c1, software-type: pull-backup, pull-from: live, push-to: twice}
                - {name: c2, software-type: pull-backup, pull-from: live, push-to: twice}
                - {name: selfish, software-type: pull-backup, pull-from: selfish, push-to: twice}
                - {name: wrong, software-type: pull-backup, pull-from: orphan, push-to: live}
                - {name: live, software-type: db-export, parameters: {port: 9}}
                - {name: ../etc, software-type: db-export, parameters: {port: 9}}
                - {name: "bad name", software-type: db-export, parameters: {port: 9}}
            """)
        #expect(compilation.lines(tree, severity: .error) == [
            "error main.yaml:5:7 import 'orphan' is fed by no pull-backup (declare one with 'push-to: orphan', or use replicate())",
            "error main.yaml:6:7 import 'twice' is fed by 3 pull-backups: 'c1', 'c2', 'selfish'",
            "error main.yaml:9:62 pull-backup 'selfish' pulls from itself",
            "error main.yaml:10:60 pull-backup 'wrong' pulls from 'orphan', which is an import, not an export",
            "error main.yaml:10:77 pull-backup 'wrong' pushes to 'live', which is an export, not an import",
            "error main.yaml:11:7 instance name 'live' is used twice",
            "error main.yaml:12:14 instance name '../etc' would escape its directory (letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters)",
            "error main.yaml:13:14 instance name 'bad name' is not a valid name (letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters)",
        ])
        let twice = try #require(compilation.errors.first { $0.message.contains("'twice' is fed by") })
        #expect(twice.notes.count == 3, "each feeding declaration is cited")
    }
}

@Suite struct UsageTests {
    @Test func optionsNoRecipeReadsAreWarnedWithASuggestion() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            stack:
              parts: [logs, tmp]
              instnces: []
            logs:
              recipe: directory
              path: var/log
              mdoe: "0750"
              note: read by a substitution
            tmp:
              recipe: directroy
            other:
              x: ${logs:note}
            """])
        #expect(compilation.lines(tree) == [
            "error main.yaml:3:3 unknown option 'instnces' in section 'stack' (did you mean 'instances'?)",
            "error main.yaml:10:11 unknown recipe 'directroy' in section 'tmp' (did you mean 'directory'?) (known: wrapper, cron, systemd-timer, directory, file, queue, notifier, secret, service)",
            "warning main.yaml:7:3 option 'mdoe' in section 'logs' is not read by recipe 'directory' (did you mean 'mode'?)",
        ])
    }

    /// zc.buildout looks only at the parts it installs: a macro base carrying a recipe without all
    /// of its options, and a section dropped from `parts` with `-=`, are no errors.
    @Test func onlyInstalledSectionsNeedTheirRecipesOptions() throws {
        let (compilation, tree) = try compile(["base.yaml": """
            stack: {parts: [extra]}
            extra: {recipe: cron, schedule: "0 * * * *", command: bin/x}
            """, "main.yaml": """
            stack:
              extends: [base.yaml]
              "parts -=": [extra]
              "parts +=": [app-logs]
            logs: {recipe: directory}
            app-logs: {"<=": logs, path: var/log/app}
            extra: {schedule: "61 * * * *"}
            """])
        #expect(compilation.errors.isEmpty, "\(compilation.lines(tree))")
        #expect(compilation.value("stack", "parts")?.text == "[app-logs]")
    }

    @Test func partsMustNameSectionsWithARecipe() throws {
        try expectErrors(at: "stack:\n  parts: [⚠️nothing, ⚠️plain]\nplain:\n  x: 1\n", containing: ["part 'nothing' names no section", "part 'plain' has no 'recipe'"])
    }
}

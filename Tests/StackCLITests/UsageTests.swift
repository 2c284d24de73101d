import Foundation
import StackTestSupport
import Testing

/// The CLI contract's exit statuses for usage errors: 1, as the README says, never 64.
@Suite struct UsageTests {
    @Test(arguments: [
        ["render", "--bogus-flag", "stacks/examples/postgres-3.yaml"],
        ["render", "stacks/examples/postgres-3.yaml", "--format", "xml"],
        ["render"],
        ["archive", "prune"],
    ])
    func aUsageErrorExitsOneWithArgumentParsersMessage(arguments: [String]) throws {
        let run = try Run(arguments)
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("Error: "), "\(run.stderr)")
    }

    @Test func helpForAVerbThatDoesNotExistIsAnErrorWithASuggestion() throws {
        for arguments in [["help", "rendr"], ["rendr", "--help"], ["rendr"]] {
            let run = try Run(arguments)
            #expect(run.status == 1, "\(arguments)")
            #expect(run.stdout.isEmpty, "no top-level help in its place")
            #expect(run.stderr == "error: unknown verb 'rendr' (did you mean 'render'?); run 'stackc --help' for the verbs\n")
        }
        let nested = try Run(["help", "archive", "nosuch"])
        #expect(nested.status == 1)
        #expect(nested.stderr.contains("unknown verb 'nosuch' of 'stackc archive'"))
    }

    @Test func helpThatExistsIsASuccessOnStdout() throws {
        for arguments in [["help", "render"], ["render", "--help"], ["archive", "backup", "--help"], ["--help"], ["--version"]] {
            let run = try Run(arguments)
            #expect(run.status == 0, "\(arguments)")
            #expect(!run.stdout.isEmpty && run.stderr.isEmpty, "\(arguments)")
        }
    }

    @Test func aRuntimeFailurePrintsItsCauseAndRemedyAndExitsTwo() throws {
        let tree = try TemporaryTree(["src/a": "a"])
        #expect(try Run(["archive", "init", tree.path("repo")]).status == 0)
        // The repository's snapshot directory cannot be written: the errno is named once, as the cause.
        try FileManager.default.removeItem(atPath: tree.path("repo/snapshots"))
        try "not a directory".write(toFile: tree.path("repo/snapshots"), atomically: true, encoding: .utf8)
        let run = try Run(["archive", "backup", tree.path("repo"), tree.path("src"), "--quiet"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("error: cannot write "), "\(run.stderr)")
        #expect(run.stderr.contains(": Not a directory"), "\(run.stderr)")
    }
}

@Suite struct DamagedArchiveCommandTests {
    @Test func lsListsADamagedSnapshotAndExitsTwoAndRestoreLatestRefusesUntilToldToSkipIt() throws {
        let tree = try TemporaryTree(["src/a": "one\n"])
        let repo = tree.path("repo")
        #expect(try Run(["archive", "init", repo]).status == 0)
        #expect(try Run(["archive", "backup", repo, tree.path("src"), "--source", "db0", "--time", "2026-11-23T01:00:00Z", "--quiet"]).status == 0)
        try "two\n".write(toFile: tree.path("src/a"), atomically: true, encoding: .utf8)
        #expect(try Run(["archive", "backup", repo, tree.path("src"), "--source", "db0", "--time", "2026-11-23T02:00:00Z", "--quiet"]).status == 0)
        let manifests = try FileManager.default.contentsOfDirectory(atPath: repo + "/snapshots").sorted()
        // The newest is the one whose manifest names 02:00.
        let newest = try #require(manifests.first { (try? String(contentsOfFile: repo + "/snapshots/" + $0, encoding: .utf8))?.contains("02:00") == true })
        try "{\"broken\": ".write(toFile: repo + "/snapshots/" + newest, atomically: true, encoding: .utf8)

        let listed = try Run(["archive", "ls", repo])
        #expect(listed.status == 2)
        #expect(listed.stdout.contains("\(newest.prefix(12))  DAMAGED: its manifest does not parse"), "\(listed.stdout)")
        let refused = try Run(["archive", "restore", repo, "latest", tree.path("out"), "--quiet"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("is damaged") && refused.stderr.contains("--skip-damaged"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tree.path("out")))
        let skipped = try Run(["archive", "restore", repo, "latest", tree.path("out"), "--skip-damaged", "--quiet"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.hasPrefix("note: skipping 1 damaged snapshot"))
        #expect(try String(contentsOfFile: tree.path("out/a"), encoding: .utf8) == "one\n", "the older snapshot, and it said so")
        let pruned = try Run(["archive", "prune", repo, "--keep-last", "1"])
        #expect(pruned.status == 2)
        #expect(try Run(["archive", "prune", repo, "--keep-last", "1", "--forget-damaged"]).status == 0)
        #expect(try Run(["archive", "ls", repo]).status == 0)
    }
}

/// Flags mean what they say: each verb takes only the formats it implements, `--only` must name
/// something, and a typo in `stack:` cannot empty a root.
@Suite struct FlagTests {
    @Test func eachVerbRefusesAFormatItDoesNotImplementWithTheList() throws {
        let render = try Run(["render", "stacks/examples/postgres-3.yaml", "--format", "text"])
        #expect(render.status == 1 && render.stderr.contains("'yaml' and 'json'"), "\(render.stderr)")
        let check = try Run(["check", "stacks/examples/postgres-3.yaml", "--format", "yaml"])
        #expect(check.status == 1 && check.stderr.contains("'text' and 'json'"), "\(check.stderr)")
    }

    @Test func onlyNamingNothingIsAnErrorWithASuggestion() throws {
        let run = try Run(["render", "stacks/examples/postgres-3.yaml", "--only", "db9"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("--only names 'db9', which is no instance or section") && run.stderr.contains("did you mean"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func aTypoInStackIsAnErrorAndInstallRemovesNothing() throws {
        let tree = try TemporaryTree(["typo.yaml": """
            stack:
              extends: [\(packageRoot)/stacks/postgres/stack.yaml]
              instnaces: ["replicate(db, 2, postgres-export, postgres-import, leader, backup)"]
            """])
        let root = tree.path("root")
        #expect(try Run(["install", "stacks/examples/postgres-3.yaml", "--root", root]).status == 0)
        let install = try Run(["install", tree.path("typo.yaml"), "--root", root])
        #expect(install.status == 1)
        #expect(install.stderr.contains("unknown option 'instnaces' in section 'stack' (did you mean 'instances'?)"), "\(install.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/db0/bin/exporter"), "nothing was removed")
        // Even a valid profile that asks for no instance does not empty the root unless told.
        try tree.write("empty.yaml", "stack:\n  extends: [\(packageRoot)/stacks/postgres/stack.yaml]\n")
        let empty = try Run(["install", tree.path("empty.yaml"), "--root", root])
        #expect(empty.status == 1 && empty.stderr.contains("--allow-remove-all"), "\(empty.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/db0/bin/exporter"))
        #expect(try Run(["install", tree.path("empty.yaml"), "--root", root, "--allow-remove-all"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/db0"))
    }
}

@Suite struct WarningSummaryTests {
    @Test func renderShowsTheFirstWarningsThenSaysHowManyMoreCheckShowsThemAll() throws {
        var text = "base:\n  recipe: directory\n  path: x\n"
        for index in 0..<12 { text += "  opt\(index): v\n" }
        let tree = try TemporaryTree(["base.yaml": text, "main.yaml": "stack: {extends: [base.yaml]}\n"])
        let render = try Run(["render", tree.path("main.yaml")], environment: ["NO_COLOR": "1"])
        #expect(render.status == 0)
        let lines = render.stderr.split(separator: "\n")
        #expect(lines.filter { $0.contains(": warning: ") }.count == 5, "\(render.stderr)")
        #expect(lines.last == "7 more warnings: run 'stackc check \(tree.path("main.yaml"))'", "\(render.stderr)")
        // The extends chain is the same for all: given once, under the first warning.
        #expect(lines.filter { $0.contains("note: ") }.count == 1, "\(render.stderr)")
        let check = try Run(["check", tree.path("main.yaml")], environment: ["NO_COLOR": "1"])
        #expect(check.stderr.split(separator: "\n").filter { $0.contains(": warning: ") }.count == 12)
        #expect(check.stderr.split(separator: "\n").filter { $0.contains("note: ") }.count == 12, "check prints every chain")
    }
}

@Suite struct ExplainWithErrorsTests {
    @Test func aValueWithAnErrorIsExplainedWithTheErrorAndExitsOne() throws {
        let tree = try TemporaryTree(["main.yaml": "tick:\n  recipe: cron\n  schedule: \"61 * * * *\"\n  command: [bin/x]\nstack:\n  parts: [tick]\n"])
        let run = try Run(["explain", tree.path("main.yaml"), "tick:schedule"], environment: ["NO_COLOR": "1"])
        #expect(run.status == 1)
        #expect(run.stdout.hasPrefix("tick:schedule = 61 * * * *\n  set       61 * * * *  \(tree.path("main.yaml")):3:13\n"), "\(run.stdout)")
        #expect(run.stdout.contains("  error     \(tree.path("main.yaml")):3:13: invalid schedule '61 * * * *': minute field '61'"), "\(run.stdout)")
        let json = try Run(["explain", tree.path("main.yaml"), "tick:schedule", "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((document["errors"] as? [[String: Any]])?.first?["line"] as? Int == 3)
    }
}

@Suite struct PlanPositionTests {
    @Test func aChangedParameterIsCitedAtTheDeploymentLineThatSetsIt() throws {
        let deployment = { (schedule: String) in """
            stack:
              extends: [\(packageRoot)/stacks/files/stack.yaml]
              instances:
                - replicate(docs, 2, files-export, files-import, origin, standby)
            origin: {path: /srv/docs, schedule: "\(schedule)"}
            standby: {path: /srv/docs-standby}
            """ }
        let tree = try TemporaryTree(["deploy.yaml": deployment("0 * * * *")])
        #expect(try Run(["install", tree.path("deploy.yaml"), "--root", tree.path("root")]).status == 0)
        try tree.write("deploy.yaml", deployment("*/30 * * * *"))
        let plan = try Run(["plan", tree.path("deploy.yaml"), "--root", tree.path("root"), "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any], "\(plan.stdout) \(plan.stderr)")
        let changes = document["changes"] as? [[String: Any]] ?? []
        let options = changes.flatMap { ($0["options"] as? [[String: Any]]) ?? [] }.filter { $0["option"] as? String == "schedule" }
        #expect(!options.isEmpty, "\(plan.stdout)")
        for option in options {
            let location = option["location"] as? [String: Any]
            #expect(location?["file"] as? String == tree.path("deploy.yaml") && location?["line"] as? Int == 5, "\(option)")
        }
    }
}

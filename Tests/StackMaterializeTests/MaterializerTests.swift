import Foundation
import StackCompiler
import StackModel
@testable import StackMaterialize
import StackSystem
import StackTestSupport
import Testing

@Suite struct MaterializerTests {
    @Test(arguments: ["postgres-3.yaml", "files-2.jsonc"])
    func shippedExamplesInstallAsRecorded(example: String) throws {
        let root = try TemporaryTree([:])
        let plan = try install(try graph(packageRoot + "/stacks/examples/" + example), root: root.path("root"))
        #expect(plan.changes.allSatisfy { $0.action == .create })
        if let problem = Golden.mismatch(listing(root.path("root")), golden: "install/\(example).tree") {
            Issue.record(Comment(rawValue: problem))
        }
    }

    @Test func theThreeWayExampleMakesFivePartitionsWithTheirWrappers() throws {
        let root = try TemporaryTree([:])
        try install(try graph(packageRoot + "/stacks/examples/postgres-3.yaml"), root: root.path("r"))
        let instances = try FileManager.default.contentsOfDirectory(atPath: root.path("r")).filter { !$0.hasPrefix(".") }.sorted()
        #expect(instances == ["db0", "db1", "db2", "pbs-db-1", "pbs-db-2"])
        for (instance, file) in [("db0", "bin/exporter"), ("db0", "bin/postgres-exporter"), ("db0", "etc/cron.d/db0-export"),
                                 ("db1", "bin/importer"), ("db1", "bin/postgres-importer"), ("db1", "var/queue"),
                                 ("pbs-db-1", "bin/pull"), ("pbs-db-1", "srv/archive"), ("pbs-db-1", "var/queue")] {
            #expect(FileManager.default.fileExists(atPath: root.path("r/\(instance)/\(file)")), "\(instance)/\(file)")
        }
        let exporter = try String(contentsOfFile: root.path("r/db0/bin/exporter"), encoding: .utf8)
        #expect(exporter.contains("exec \(fakeStackc) export --instance db0"), "wrappers call the installing stackc by its absolute path")
        let notify = try String(contentsOfFile: root.path("r/db0/etc/notify"), encoding: .utf8)
        #expect(notify.contains("\"pbs-db-1\"") && notify.contains(root.path("r/pbs-db-2/var/queue")))
    }

    @Test func aSecondInstallChangesNothingAndKeepsEveryMtime() throws {
        let root = try TemporaryTree([:])
        let graph = try graph(packageRoot + "/stacks/examples/postgres-3.yaml")
        try install(graph, root: root.path("r"))
        let before = modificationTimes(root.path("r"))
        let contents = listing(root.path("r"))
        Thread.sleep(forTimeInterval: 0.02)
        let second = try install(graph, root: root.path("r"))
        #expect(!second.hasChanges)
        #expect(second.unchanged == 51)
        #expect(sameTimes(before, modificationTimes(root.path("r"))), "no file was rewritten")
        #expect(listing(root.path("r")) == contents)
    }

    @Test func everyGeneratedScriptPassesShellcheck() throws {
        let root = try TemporaryTree([:])
        try install(try graph(packageRoot + "/stacks/examples/postgres-3.yaml"), root: root.path("r/pg"))
        try install(try graph(packageRoot + "/stacks/examples/files-2.jsonc"), root: root.path("r/files"))
        let scripts = (FileManager.default.enumerator(atPath: root.path("r"))?.allObjects as? [String] ?? []).filter {
            $0.contains("/bin/") || ($0.contains("/etc/service/") && !$0.hasSuffix(".json"))
        }
        #expect(scripts.count == 24, "the wrappers, the software's scripts and the services")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/shellcheck")
        process.arguments = ["--shell=sh", "--severity=style"] + scripts.map { root.path("r/" + $0) }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let findings = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(findings)")
    }

    @Test func aSecretIsPrivateAndKeptAcrossReinstalls() throws {
        let root = try TemporaryTree([:])
        try install(try graph(packageRoot + "/stacks/examples/postgres-3.yaml"), root: root.path("r"))
        let token = root.path("r/pbs-db-1/etc/secrets/notify-token")
        var info = stat()
        lstat(token, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        lstat(root.path("r/pbs-db-1/etc/secrets"), &info)
        #expect(info.st_mode & 0o777 == 0o700)
        let first = try String(contentsOfFile: token, encoding: .utf8)
        #expect(first.count == 65)
        // A reinstall of the part (its state forgotten) keeps the token peers already hold.
        let statePath = root.path("r/pbs-db-1/.installed.json")
        var state = try JSONDecoder().decode(InstalledState.self, from: Data(contentsOf: URL(fileURLWithPath: statePath)))
        for index in state.parts.indices where state.parts[index].name == "token" { state.parts[index].hash = "stale" }
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: statePath))
        let plan = try install(try graph(packageRoot + "/stacks/examples/postgres-3.yaml"), root: root.path("r"))
        #expect(plan.changes.map { "\($0.instance)/\($0.part ?? "")" } == ["pbs-db-1/token"])
        #expect(try String(contentsOfFile: token, encoding: .utf8) == first)
    }
}

/// A small stack whose parts the tests edit, to watch exactly what an install touches.
private func editableStack(parts: String, logMode: String = "0750", extra: String = "") -> [String: String] {
    [
        "stack.yaml": "stack:\n  software-types:\n    app: {profile: app.yaml, role: plain, parameters: {greeting: {type: string, default: hello}}}\n",
        "app.yaml": """
            stack:
              parts: \(parts)
            logs:
              recipe: directory
              path: var/log
              mode: "\(logMode)"
            data:
              recipe: directory
              path: srv/data
              holds-data: true
            run:
              recipe: wrapper
              path: bin/run
              command: [echo, "${instance:greeting}"]
            \(extra)
            """,
        "deploy.yaml": "stack:\n  extends: [stack.yaml]\n  instances:\n    - {name: one, software-type: app}\n    - {name: two, software-type: app}\n",
    ]
}

@Suite struct ReinstallTests {
    @Test func oneChangedOptionReinstallsExactlyThatPart() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run]"))
        try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        let before = modificationTimes(tree.path("r"))
        try tree.write("deploy.yaml", "stack:\n  extends: [stack.yaml]\n  instances:\n    - {name: one, software-type: app, parameters: {greeting: bonjour}}\n    - {name: two, software-type: app}\n")
        Thread.sleep(forTimeInterval: 0.02)
        let plan = try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        #expect(plan.changes.map { "\($0.instance)/\($0.part ?? "") \($0.action.rawValue)" } == ["one/run update"])
        let change = try #require(plan.changes.first)
        #expect(change.options.map(\.option) == ["command"])
        #expect(change.options.first?.old?.contains("hello") == true && change.options.first?.new?.contains("bonjour") == true)
        #expect(change.options.first?.location?.file.hasSuffix("app.yaml") == true, "cites where the option is written")
        let after = modificationTimes(tree.path("r"))
        let touched = after.keys.filter { key in
            guard let a = after[key], let b = before[key] else { return true }
            return a.tv_sec != b.tv_sec || a.tv_nsec != b.tv_nsec
        }.filter { !$0.hasSuffix(".installed.json") }
        #expect(touched.sorted() == ["one/bin/run"])
        #expect(try String(contentsOfFile: tree.path("r/one/bin/run"), encoding: .utf8).contains("exec echo bonjour"))
    }

    @Test func aRemovedPartTakesItsFilesAndNothingElse() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run]"))
        try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        try "user file".write(toFile: tree.path("r/one/var/log/app.log"), atomically: true, encoding: .utf8)
        try tree.write("app.yaml", editableStack(parts: "[logs, data]")["app.yaml"] ?? "")
        let before = listing(tree.path("r"), contents: false)
        let plan = try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        #expect(plan.changes.map { "\($0.instance)/\($0.part ?? "") \($0.action.rawValue)" } == ["one/run remove", "two/run remove"])
        let after = listing(tree.path("r"), contents: false)
        let gone = Set(before.split(separator: "\n")).subtracting(after.split(separator: "\n"))
        #expect(gone.sorted() == ["d 755 one/bin", "d 755 two/bin", "f 755 one/bin/run", "f 755 two/bin/run"])
        #expect(FileManager.default.fileExists(atPath: tree.path("r/one/var/log/app.log")), "a file stackc did not create stays")
    }

    @Test func removingDataNeedsAllowDataLoss() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run]"))
        try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        try "precious".write(toFile: tree.path("r/two/srv/data/dump"), atomically: true, encoding: .utf8)
        try tree.write("deploy.yaml", "stack:\n  extends: [stack.yaml]\n  instances:\n    - {name: one, software-type: app}\n")
        let materializer = try materializer(root: tree.path("r"))
        let plan = try materializer.plan(try graph(tree.path("deploy.yaml")), allowDataLoss: false)
        let refused = try #require(plan.refused.first)
        #expect(refused.instance == "two" && refused.part == nil)
        #expect(refused.refusal?.contains("srv/data holds 1 file (8 B)") == true)
        #expect(throws: MaterializeError.self) { try materializer.apply(plan, allowDataLoss: false) }
        #expect(FileManager.default.fileExists(atPath: tree.path("r/two/srv/data/dump")), "nothing was removed")
        try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"), allowDataLoss: true)
        #expect(!FileManager.default.fileExists(atPath: tree.path("r/two")))
        #expect(FileManager.default.fileExists(atPath: tree.path("r/one/bin/run")))
    }

    @Test func anEmptyDataDirectoryIsRemovedWithoutAsking() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run]"))
        try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"))
        try tree.write("deploy.yaml", "stack:\n  extends: [stack.yaml]\n  instances: []\n")
        // Emptying a root is refused unless asked for, data or not: a mistyped profile asks for nothing.
        let refused = try materializer(root: tree.path("r")).plan(try graph(tree.path("deploy.yaml")), allowDataLoss: false)
        #expect(refused.refused.first?.refusal?.contains("--allow-remove-all") == true)
        let plan = try install(try graph(tree.path("deploy.yaml")), root: tree.path("r"), allowRemoveAll: true)
        #expect(plan.refused.isEmpty)
        #expect((try FileManager.default.contentsOfDirectory(atPath: tree.path("r"))) == [".stackc-installed.json"])
    }

    @Test func aSymlinkPlantedInAnInstanceIsRefused() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run]"))
        try FileManager.default.createDirectory(atPath: tree.path("r/one"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tree.path("outside"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: tree.path("r/one/bin"), withDestinationPath: tree.path("outside"))
        #expect(throws: MaterializeError.self) { try install(try graph(tree.path("deploy.yaml")), root: tree.path("r")) }
        #expect((try FileManager.default.contentsOfDirectory(atPath: tree.path("outside"))).isEmpty, "nothing written through the link")
    }

    @Test func pathsThatEscapeAreRefusedWhenChecked() throws {
        let tree = try TemporaryTree(editableStack(parts: "[logs, data, run, evil, abs]", extra: """
            evil:
              recipe: directory
              path: ../../etc
            abs:
              recipe: wrapper
              path: /usr/bin/evil
              command: [true]
            """))
        let compilation = Compiler.compile(profile: tree.path("deploy.yaml"))
        let errors = compilation.diagnostics.filter { $0.severity == .error }.map { "\(tree.relative($0.location.file)):\($0.location.line):\($0.location.column) \($0.message)" }
        #expect(errors == [
            "app.yaml:17:9 'path' of section 'evil' is '../../etc', which would escape the instance directory (use a relative path without '..')",
            "app.yaml:20:9 'path' of section 'abs' is '/usr/bin/evil', which would escape the instance directory (use a relative path without '..')",
        ])
    }
}

extension MaterializerTests {
    @Test func aDataDirectoryWhoseModeDriftedIsReportedByPlanAndRepairedByInstall() throws {
        let root = try TemporaryTree([:])
        let graph = try graph(packageRoot + "/stacks/examples/postgres-3.yaml")
        try install(graph, root: root.path("r"))
        let dump = root.path("r/db1/srv/backup/postgres")
        try "rows".write(toFile: dump + "/app.dump", atomically: true, encoding: .utf8)
        #expect(chmod(dump, 0o755) == 0)
        let plan = try materializer(root: root.path("r")).plan(graph, allowDataLoss: false)
        let change = try #require(plan.changes.first { $0.instance == "db1" })
        #expect(change.reason == "the mode of srv/backup/postgres drifted from 700 to 755")
        try install(graph, root: root.path("r"))
        #expect(LocalFileSystem().info(dump)?.mode == 0o700)
        #expect(FileManager.default.fileExists(atPath: dump + "/app.dump"), "the data is kept")
        #expect(try materializer(root: root.path("r")).plan(graph, allowDataLoss: false).changes.isEmpty)
    }
}

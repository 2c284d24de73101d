import Foundation
import StackTestSupport
import Testing

/// Runs the built `stackc` as a user would, from the package root.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String

    static let binary: String = {
        let beside = Bundle.main.bundleURL.appendingPathComponent("stackc").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return packageRoot + "/.build/debug/stackc"
    }()

    init(_ arguments: [String], environment: [String: String] = [:], in directory: String = packageRoot) throws {
        try self.init([], executable: Self.binary, arguments: arguments, in: directory, environment: environment)
    }
}

func expectGolden(_ actual: String, _ golden: String, sourceLocation: SourceLocation = #_sourceLocation) {
    if let problem = Golden.mismatch(actual, golden: golden) { Issue.record(Comment(rawValue: problem), sourceLocation: sourceLocation) }
}

@Suite struct RenderCommandTests {
    @Test(arguments: ["postgres-3.yaml", "files-2.jsonc"])
    func shippedExamplesRenderAsRecorded(example: String) throws {
        for format in ["yaml", "json"] {
            let run = try Run(["render", "stacks/examples/\(example)", "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.isEmpty, "no warnings on shipped examples: \(run.stderr)")
            expectGolden(run.stdout, "render/\(example).\(format)")
        }
    }

    @Test func renderIsByteIdenticalAcrossRunsAndDirectories() throws {
        let first = try Run(["render", "stacks/examples/postgres-3.yaml", "--format", "json"])
        let second = try Run(["render", packageRoot + "/stacks/examples/postgres-3.yaml", "--format", "json"], in: "/")
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
    }

    @Test func theDeploymentHasOneExportTwoImportsAndTwoPullBackups() throws {
        let run = try Run(["render", "stacks/examples/postgres-3.yaml", "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let instances = try #require(document["instances"] as? [[String: Any]])
        let roles = instances.compactMap { $0["role"] as? String }
        #expect(roles.filter { $0 == "export" }.count == 1)
        #expect(roles.filter { $0 == "import" }.count == 2)
        #expect(roles.filter { $0 == "pull-backup" }.count == 2)
        let edges = try #require(document["edges"] as? [[String: String]])
        #expect(edges.count == 10)
        #expect(edges.contains { $0 == ["from": "pbs-db-2", "to": "db2", "kind": "push"] })
    }

    @Test func onlyKeepsTheNamedInstancesAndTheirEdges() throws {
        let run = try Run(["render", "stacks/examples/postgres-3.yaml", "--format", "json", "--only", "db1", "leader"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((document["instances"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["db1"])
        #expect((document["sections"] as? [String: Any])?.keys.sorted() == ["leader"])
        #expect((document["edges"] as? [[String: String]])?.allSatisfy { $0["from"] == "db1" || $0["to"] == "db1" } == true)
    }
}

@Suite struct ExplainCommandTests {
    @Test func explainShowsAValueOverriddenAcrossThreeLayers() throws {
        let text = try Run(["explain", "stacks/examples/postgres-3.yaml", "db1:port"])
        #expect(text.status == 0, "\(text.stderr)")
        expectGolden(text.stdout, "explain/db1-port.txt")
        let json = try Run(["explain", "stacks/examples/postgres-3.yaml", "db1:port", "--format", "json"])
        expectGolden(json.stdout, "explain/db1-port.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let history = try #require(document["history"] as? [[String: Any]])
        let files = Set(history.filter { $0["action"] as? String == "set" }.compactMap { $0["file"] as? String })
        #expect(files == ["stacks/postgres/defaults.yaml", "stacks/examples/site.yaml", "stacks/examples/postgres-3.yaml"], "three layers")
        #expect(history.map { $0["action"] as? String } == ["set", "macro", "set", "set", "set", "replicate"])
        #expect(history.allSatisfy { ($0["line"] as? Int ?? 0) >= 1 && ($0["column"] as? Int ?? 0) >= 1 })
    }

    @Test func explainOfAnUnknownOptionIsAUserError() throws {
        let run = try Run(["explain", "stacks/examples/postgres-3.yaml", "db1:nothing"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("no option 'db1:nothing'"))
    }
}

@Suite struct CheckCommandTests {
    @Test func shippedProfilesCheckClean() throws {
        for profile in ["stacks/examples/postgres-3.yaml", "stacks/examples/files-2.jsonc", "stacks/postgres/stack.yaml",
                        "stacks/files/stack.yaml", "stacks/resilient/stack.yaml"] {
            let run = try Run(["check", profile])
            #expect(run.status == 0, "\(profile): \(run.stderr)")
            #expect(run.stderr == "0 errors, 0 warnings\n", "\(profile): \(run.stderr)")
        }
    }

    @Test func aBrokenDeploymentReportsEveryErrorWithItsChainAndExitsOne() throws {
        let run = try Run(["check", "Tests/Fixtures/broken/deploy.yaml"], environment: ["NO_COLOR": "1"])
        #expect(run.status == 1)
        #expect(!run.stderr.contains("\u{1B}["), "no colour without a terminal")
        expectGolden(run.stderr, "broken/check.txt")
        let json = try Run(["check", "Tests/Fixtures/broken/deploy.yaml", "--format", "json"])
        #expect(json.status == 1)
        expectGolden(json.stdout, "broken/check.json")
    }

    @Test func renderOfABrokenProfileFailsWithoutOutput() throws {
        let run = try Run(["render", "Tests/Fixtures/broken/deploy.yaml"])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains(": error: "))
    }

    @Test func aMissingProfileIsAPositionedError() throws {
        let run = try Run(["check", "no/such.yaml"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("no/such.yaml:1:1: error: no such profile 'no/such.yaml'"))
    }
}

@Suite struct GraphAndSchemaCommandTests {
    @Test func graphDrawsDotAndMermaid() throws {
        for format in ["dot", "mermaid"] {
            let run = try Run(["graph", "stacks/examples/postgres-3.yaml", "--format", format])
            #expect(run.status == 0)
            expectGolden(run.stdout, "graph/postgres-3.\(format)")
        }
    }

    @Test func schemaIsJSONAndValidatesEveryShippedProfile() throws {
        let run = try Run(["schema"])
        #expect(run.status == 0)
        let schema = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        let tree = try TemporaryTree(["schema.json": run.stdout])
        let script = """
            import json, re, sys, glob, jsonschema, yaml
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            bad = 0
            for path in sorted(glob.glob(sys.argv[2] + '/stacks/**/*.*', recursive=True)):
                text = open(path).read()
                if path.endswith('.jsonc'):
                    text = re.sub(r'//[^\\n]*|/\\*.*?\\*/', '', text, flags=re.S)
                    text = re.sub(r',(\\s*[}\\]])', r'\\1', text)
                doc = yaml.safe_load(text) or {}
                for error in validator.iter_errors(doc):
                    bad += 1
                    print(path, error.message)
            bad += len(list(validator.iter_errors({'stack': {'instances': [42]}}))) == 0
            sys.exit(1 if bad else 0)
            """
        try tree.write("check.py", script)
        var ran = false
        for python in ["/usr/bin/python3", "python3"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, "-c", "import jsonschema, yaml"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { continue }
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            check.arguments = [python, tree.path("check.py"), tree.path("schema.json"), packageRoot]
            try check.run()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0, "shipped profiles validate against the schema, and a wrong one does not")
            ran = true
            break
        }
        #expect(ran, "needs python3 with jsonschema and yaml (CI installs python3-jsonschema and python3-yaml)")
    }
}

@Suite struct MaterializeCommandTests {
    @Test func planThenInstallThenNothingToDo() throws {
        let tree = try TemporaryTree([:])
        let root = tree.path("demo")
        let plan = try Run(["plan", "stacks/examples/postgres-3.yaml", "--root", root, "--detailed-exitcode"])
        #expect(plan.status == 2, "changes pending: \(plan.stderr)")
        expectGolden(plan.stdout, "install/postgres-3.plan.txt")
        #expect(!FileManager.default.fileExists(atPath: root), "plan touches nothing")
        let install = try Run(["install", "stacks/examples/postgres-3.yaml", "--root", root])
        #expect(install.status == 0, "\(install.stderr)")
        let again = try Run(["install", "stacks/examples/postgres-3.yaml", "--root", root])
        #expect(again.stdout == "no change (51 parts up to date)\n")
        let quiet = try Run(["plan", "stacks/examples/postgres-3.yaml", "--root", root, "--detailed-exitcode", "--format", "json"])
        #expect(quiet.status == 0)
        #expect(quiet.stdout.contains("\"changes\": []"))
        let exporter = try String(contentsOfFile: root + "/db0/bin/exporter", encoding: .utf8)
        #expect(exporter.contains("exec \(Run.binary.replacingOccurrences(of: "/./", with: "/")) export") || exporter.contains("/stackc export"))
    }

    @Test func anInstallKilledAtRandomPointsConvergesWhenRunAgain() throws {
        let tree = try TemporaryTree([:])
        let reference = tree.path("reference")
        let start = Date()
        #expect(try Run(["install", "stacks/examples/postgres-3.yaml", "--root", reference]).status == 0)
        let full = Date().timeIntervalSince(start)
        let expected = listing(reference).replacingOccurrences(of: reference, with: "<root>")
        var killedMidway = 0
        for iteration in 0..<24 {
            let root = tree.path("killed-\(iteration)")
            let delay = Double.random(in: 0...full)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Run.binary)
            process.arguments = ["install", "stacks/examples/postgres-3.yaml", "--root", root]
            process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal && FileManager.default.fileExists(atPath: root) { killedMidway += 1 }
            let rerun = try Run(["install", "stacks/examples/postgres-3.yaml", "--root", root])
            #expect(rerun.status == 0, "iteration \(iteration), killed after \(delay) s: \(rerun.stderr)")
            #expect(listing(root).replacingOccurrences(of: root, with: "<root>") == expected, "iteration \(iteration), killed after \(delay) s")
            let plan = try Run(["plan", "stacks/examples/postgres-3.yaml", "--root", root, "--detailed-exitcode"])
            #expect(plan.status == 0, "iteration \(iteration): \(plan.stdout)")
        }
        #expect(killedMidway >= 5, "enough kills landed while installing (\(killedMidway) of 24)")
    }

    @Test func removingAPullBackupWithSnapshotsIsRefusedWithoutAllowDataLoss() throws {
        let tree = try TemporaryTree(["two.yaml": "stack:\n  extends: [\(packageRoot)/stacks/examples/postgres-3.yaml]\n  instances: [\"replicate(db, 2, postgres-export, postgres-import, leader, backup)\"]\n"])
        let root = tree.path("r")
        #expect(try Run(["install", "stacks/examples/postgres-3.yaml", "--root", root]).status == 0)
        try "snapshot".write(toFile: root + "/pbs-db-2/srv/archive/s1", atomically: true, encoding: .utf8)
        let refused = try Run(["install", tree.path("two.yaml"), "--root", root])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("pbs-db-2  remove  instance   refused: srv/archive holds 1 file (8 B); pass --allow-data-loss"))
        #expect(FileManager.default.fileExists(atPath: root + "/db2/bin/importer"), "nothing changed")
        let allowed = try Run(["install", tree.path("two.yaml"), "--root", root, "--allow-data-loss"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/pbs-db-2") && !FileManager.default.fileExists(atPath: root + "/db2"))
        let uninstall = try Run(["uninstall", "--root", root])
        #expect(uninstall.status == 0)
        #expect((try FileManager.default.contentsOfDirectory(atPath: root)) == [".stackc-installed.json"])
    }
}

@Suite struct ArchiveCommandTests {
    /// Random bytes from /dev/urandom (incompressible, so writes take real time).
    func noise(_ count: Int) -> Data {
        FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: count) ?? Data(count: count)
    }

    @Test func backupAndPruneKilledAtRandomPointsLeaveAVerifiableRepository() throws {
        let tree = try TemporaryTree([:])
        let repo = tree.path("repo")
        let source = tree.path("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        #expect(try Run(["archive", "init", repo, "--chunk-size", "262144"]).status == 0)
        try noise(24 << 20).write(to: URL(fileURLWithPath: source + "/dump"))
        let start = Date()
        #expect(try Run(["archive", "backup", repo, source, "--source", "db0", "--quiet"]).status == 0)
        let full = Date().timeIntervalSince(start)
        var interrupted = 0
        for iteration in 0..<24 {
            // New data each time, so every backup writes chunks when it is killed: a whole new dump,
            // or every other time a stretch rewritten in place (the backup then follows the
            // parent's chunks around it).
            if iteration % 2 == 0 {
                try noise(24 << 20).write(to: URL(fileURLWithPath: source + "/dump"))
            } else {
                let handle = try #require(FileHandle(forWritingAtPath: source + "/dump"))
                try handle.seek(toOffset: UInt64.random(in: 0...(20 << 20)))
                try handle.write(contentsOf: noise(2 << 20))
                try handle.close()
            }
            let prune = iteration % 4 == 3
            let arguments = prune ? ["archive", "prune", repo, "--keep-last", "2"] : ["archive", "backup", repo, source, "--source", "db0", "--quiet"]
            let before = try Run(["archive", "ls", repo, "--format", "json"]).stdout
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Run.binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // A stretch changed in place takes a fraction of a whole new dump's time.
            let delay = Double.random(in: 0...(prune ? 0.05 : iteration % 2 == 0 ? full : full / 4))
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { interrupted += 1 }
            let verify = try Run(["archive", "verify", repo, "--quiet"])
            #expect(verify.status == 0, "iteration \(iteration) (\(arguments[1]) killed after \(delay) s): \(verify.stderr)")
            let listed = try Run(["archive", "ls", repo, "--format", "json"]).stdout
            let after = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: [[String: Any]]])
            let previous = try #require(try JSONSerialization.jsonObject(with: Data(before.utf8)) as? [String: [[String: Any]]])
            let count = (after["snapshots"] ?? []).count, was = (previous["snapshots"] ?? []).count
            #expect(prune ? count <= was : count == was || count == was + 1, "iteration \(iteration): \(was) → \(count) snapshots")
            // The next run clears the dead process's lock and completes.
            let rerun = try Run(arguments)
            #expect(rerun.status == 0, "iteration \(iteration): \(rerun.stderr)")
        }
        #expect(interrupted >= 12, "most runs were killed mid-way (\(interrupted) of 24)")
        #expect(try Run(["archive", "backup", repo, source, "--source", "db0", "--quiet"]).status == 0)
        let latest = try Run(["archive", "restore", repo, "latest", tree.path("restored"), "--quiet"])
        #expect(latest.status == 0, "\(latest.stderr)")
        #expect(FileManager.default.contents(atPath: tree.path("restored/dump")) == FileManager.default.contents(atPath: source + "/dump"))
    }

    @Test func aHeldLockFailsAtOnceOrIsWaitedForWithRetryLock() throws {
        let tree = try TemporaryTree(["src/a": "a"])
        let repo = tree.path("repo")
        #expect(try Run(["archive", "init", repo]).status == 0)
        // Another process's backup holds the repository: its lock file, flocked for as long as it runs.
        let lockPath = repo + "/locks/write"
        try "{\"pid\": 1, \"host\": \"\(ProcessInfo.processInfo.hostName)\", \"time\": \"t\", \"operation\": \"backup\"}"
            .write(toFile: lockPath, atomically: true, encoding: .utf8)
        let fd = open(lockPath, O_RDONLY)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let refused = try Run(["archive", "backup", repo, tree.path("src"), "--source", "s", "--quiet"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("the repository is locked by process 1 on \(ProcessInfo.processInfo.hostName) (backup, since t); wait for it to finish"))
        // That backup ends half a second later.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) {
            unlink(lockPath)
            close(fd)
        }
        let waited = try Run(["archive", "backup", repo, tree.path("src"), "--source", "s", "--quiet", "--retry-lock", "30"])
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("(backup, since t); waiting up to 30 s for it"))
        #expect(waited.stdout.hasPrefix("snapshot "))
    }

    /// A full disk, for real: a 3 MB tmpfs (mounting needs root, as CI has).
    @Test(.enabled(if: getuid() == 0)) func aFullDiskFailsTheBackupCleanlyAndAPruneMakesRoom() throws {
        let tree = try TemporaryTree([:])
        let small = tree.path("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=3m", "tmpfs", small]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0)
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [small]
            try? umount.run()
            umount.waitUntilExit()
        }
        let repo = small + "/repo"
        #expect(try Run(["archive", "init", repo]).status == 0)
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        try noise(8 << 20).write(to: URL(fileURLWithPath: tree.path("src/dump")))
        let full = try Run(["archive", "backup", repo, tree.path("src"), "--source", "db0", "--quiet"])
        #expect(full.status == 2)
        #expect(full.stderr.contains("No space left on device; free space where the repository is (a prune reclaims what no snapshot uses)"), "\(full.stderr)")
        let left = FileManager.default.enumerator(atPath: repo)?.allObjects.compactMap { $0 as? String } ?? []
        #expect(!left.contains { $0.contains(".tmp-") || $0.hasSuffix("locks/write") }, "no temporary file, no lock: \(left.filter { $0.contains(".tmp-") })")
        #expect(try Run(["archive", "verify", repo, "--quiet"]).status == 0)
        #expect(try Run(["archive", "ls", repo]).stdout.split(separator: "\n").count == 1, "no snapshot, only the header")
        // The chunks the failed backup wrote are reclaimed, and a dump that fits is backed up.
        let prune = try Run(["archive", "prune", repo, "--keep-last", "1"])
        #expect(prune.status == 0 && prune.stdout.contains("0 snapshots removed") && !prune.stdout.contains(" 0 chunks"), "\(prune.stdout)")
        try noise(1 << 20).write(to: URL(fileURLWithPath: tree.path("src/dump")))
        #expect(try Run(["archive", "backup", repo, tree.path("src"), "--source", "db0", "--quiet"]).status == 0)
        #expect(try Run(["archive", "verify", repo, "--quiet"]).status == 0)
    }

    @Test func theExportsManifestAndTimeAreRecordedAndListed() throws {
        let tree = try TemporaryTree(["dump/db.sql": "INSERT INTO t VALUES (1);\n",
                                      "manifest.json": #"{"export": "db0", "sequence": 41, "complete": true, "files": [{"name": "srv/db.sql", "size": 26}]}"#,
                                      "list.json": "[1, 2]"])
        let repo = tree.path("repo")
        #expect(try Run(["archive", "init", repo]).status == 0)
        let backup = try Run(["archive", "backup", repo, tree.path("dump"), "--source", "db0",
                              "--time", "2026-11-23T02:00:00Z", "--metadata-file", tree.path("manifest.json")])
        #expect(backup.status == 0, "\(backup.stderr)")
        let listed = try Run(["archive", "ls", repo, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: [[String: Any]]])
        let snapshot = try #require(object["snapshots"]?.first)
        #expect(snapshot["time"] as? String == "2026-11-23T02:00:00.000Z", "times keep the manifest's milliseconds")
        #expect(snapshot["source"] as? String == "db0")
        #expect(snapshot["host"] as? String == ProcessInfo.processInfo.hostName)
        #expect(snapshot["metadata"] as? [String: String] == ["export": "db0", "sequence": "41", "complete": "true",
                                                              "files": #"[{"name":"srv/db.sql","size":26}]"#])
        let badTime = try Run(["archive", "backup", repo, tree.path("dump"), "--time", "yesterday"])
        #expect(badTime.status == 1 && badTime.stderr.contains("--time 'yesterday' is not ISO 8601"))
        let badMetadata = try Run(["archive", "backup", repo, tree.path("dump"), "--metadata-file", tree.path("list.json")])
        #expect(badMetadata.status == 1 && badMetadata.stderr.contains("is not a JSON object"))
        #expect(try Run(["archive", "ls", repo]).stdout.split(separator: "\n").count == 2, "the refused backups wrote no snapshot")
    }

    @Test func verifyNamesDamageAndExitsTwo() throws {
        let tree = try TemporaryTree(["src/a.dump": String(repeating: "INSERT INTO t VALUES (1);\n", count: 20_000)])
        let repo = tree.path("repo")
        #expect(try Run(["archive", "init", repo]).status == 0)
        let backup = try Run(["archive", "backup", repo, tree.path("src"), "--source", "db0"])
        #expect(backup.status == 0 && backup.stdout.hasPrefix("snapshot "))
        let chunks = FileManager.default.enumerator(atPath: repo + "/chunks")?.allObjects.compactMap { $0 as? String }.filter { $0.count > 60 } ?? []
        // The dump's chunk, not the snapshot's tree chunk that the manifest names.
        let manifest = try #require(try FileManager.default.contentsOfDirectory(atPath: repo + "/snapshots").first)
        let treeChunks = try String(contentsOfFile: repo + "/snapshots/" + manifest, encoding: .utf8)
        let victim = repo + "/chunks/" + (chunks.first { !treeChunks.contains($0.suffix(64)) } ?? "")
        var data = try Data(contentsOf: URL(fileURLWithPath: victim))
        data[data.count - 3] ^= 1
        try data.write(to: URL(fileURLWithPath: victim))
        let verify = try Run(["archive", "verify", repo])
        #expect(verify.status == 2)
        #expect(verify.stderr.contains("corrupt: chunk") && verify.stderr.contains("breaks snapshot") && verify.stderr.contains("a.dump"))
        let restore = try Run(["archive", "restore", repo, "latest", tree.path("out")])
        #expect(restore.status == 2)
        #expect(restore.stderr.contains("cannot restore 'a.dump'"))
        #expect(!FileManager.default.fileExists(atPath: tree.path("out")))
        let empty = try Run(["archive", "prune", repo])
        #expect(empty.status == 1 && empty.stderr.contains("empty policy"))
    }
}

import Foundation
import StackTestSupport
import Testing

/// A deployment under a temporary root, driven as an operator drives it: `stackc up`, the
/// wrappers run in their instance directories, `psql` against each instance's own cluster.
final class Deployment: @unchecked Sendable {
    let tree: TemporaryTree
    let root: String
    let profile: String
    private var up: Process?
    private var services: [Process] = []

    /// `count` instances of replicate() over the shipped postgres (or files) stack, on free ports.
    init(_ stack: String, count: Int) throws {
        tree = try TemporaryTree([:])
        // PostgreSQL runs as the postgres user when the tests run as root: it must reach the root.
        chmod(tree.root, 0o755)
        root = tree.path("stack")
        let port = Self.freePort()
        let body: String
        switch stack {
        case "postgres":
            body = """
                stack:
                  extends: [\(packageRoot)/stacks/postgres/stack.yaml]
                  instances:
                    - replicate(db, \(count), postgres-export, postgres-import, leader, backup)
                leader: {port: \(port), databases: [postgres, app]}
                backup: {port: \(port + 1), databases: [postgres, app]}
                """
        default:
            try FileManager.default.createDirectory(atPath: tree.path("origin"), withIntermediateDirectories: true)
            body = """
                stack:
                  extends: [\(packageRoot)/stacks/files/stack.yaml]
                  instances:
                    - replicate(docs, \(count), files-export, files-import, origin, standby)
                origin: {path: \(tree.path("origin"))}
                standby: {path: \(tree.path("standby"))}
                """
        }
        profile = tree.path("deploy.yaml")
        try tree.write("deploy.yaml", body)
    }

    deinit { stop() }

    static func freePort() -> Int {
        // Loopback addresses differ per instance name only: parallel tests differ by port.
        Int.random(in: 20000...29000) * 2
    }

    func instance(_ name: String) -> String { root + "/" + name }

    /// Runs a wrapper the way an operator does: from its instance directory.
    @discardableResult
    func wrapper(_ instance: String, _ wrapper: String) throws -> Run {
        try Run([], executable: self.instance(instance) + "/" + wrapper, in: self.instance(instance))
    }

    /// `stackc up` in the background; returns once every service is ready.
    func startUp() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Run.binary)
        process.arguments = ["up", profile, "--root", root]
        process.currentDirectoryURL = URL(fileURLWithPath: tree.root)
        _ = FileManager.default.createFile(atPath: tree.path("up.log"), contents: nil)
        let log = FileHandle(forWritingAtPath: tree.path("up.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        up = process
        try waitFor("the services to be ready", seconds: 120) {
            let status = try self.status()
            return status.instances.allSatisfy { $0.services.allSatisfy { $0.state == "running" } } && !status.instances.isEmpty
        }
    }

    /// Starts each installed service by hand (a test that kills workers wants no `up` starting them).
    func startServices() throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let script = instance(name) + "/etc/service/postgresql"
            guard FileManager.default.fileExists(atPath: script) else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: script)
            process.currentDirectoryURL = URL(fileURLWithPath: instance(name))
            let log = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = log
            process.standardError = log
            try process.run()
            services.append(process)
            let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: script + ".json"))) as! [String: Any]
            try waitFor("\(name)'s server", seconds: 60) {
                try Run([], executable: "/usr/bin/pg_isready", arguments: ["-q", "-h", definition["address"] as! String, "-p", "\(definition["port"] as! Int)"]).status == 0
            }
            _ = try? Run([], executable: instance(name) + "/bin/postgres-setup", arguments: ["postgres", "app"], in: instance(name),
                         environment: ["PGHOST": instance(name) + "/var/run/postgres", "PGPORT": "\(definition["port"] as! Int)", "PGUSER": "postgres"])
        }
    }

    /// SIGKILL to `up`: what it started stays behind.
    func killUp() {
        guard let up else { return }
        kill(up.processIdentifier, SIGKILL)
        up.waitUntilExit()
        self.up = nil
    }

    /// SIGTERM to `up` (its exit status), and to services started by hand.
    @discardableResult
    func stop() -> Int32? {
        var status: Int32?
        if let up, up.isRunning {
            up.terminate()
            up.waitUntilExit()
            status = up.terminationStatus
        }
        up = nil
        for service in services where service.isRunning {
            kill(service.processIdentifier, SIGINT)
            service.waitUntilExit()
        }
        services = []
        return status
    }

    struct Status: Decodable {
        struct Service: Decodable { var name: String; var state: String; var dsn: String? }
        struct Sequence: Decodable { var sequence: Int }
        struct Job: Decodable { var name: String; var failing: Bool; var lastError: String? }
        struct Instance: Decodable {
            var name: String
            var role: String
            var services: [Service]
            var jobs: [Job]
            var exported: Sequence?
            var imported: Sequence?
        }
        var instances: [Instance]
        var healthy: Bool
        func named(_ name: String) -> Instance? { instances.first { $0.name == name } }
    }

    func status() throws -> Status {
        let run = try Run(["status", "--root", root, "--format", "json"])
        return try JSONDecoder().decode(Status.self, from: Data(run.stdout.utf8))
    }

    func imported(_ name: String) throws -> Int { try status().named(name)?.imported?.sequence ?? 0 }

    func waitFor(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    /// psql against an instance's own cluster, over its socket: the rows, tab-separated.
    @discardableResult
    func sql(_ instance: String, _ statement: String, database: String = "app") throws -> String {
        let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: self.instance(instance) + "/etc/service/postgresql.json"))) as! [String: Any]
        let run = try Run([], executable: "/usr/bin/psql", arguments: ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", statement],
                          environment: ["PGHOST": self.instance(instance) + "/var/run/postgres", "PGPORT": "\(definition["port"] as! Int)", "PGUSER": "postgres"])
        guard run.status == 0 else { throw ErrorText("psql on \(instance): \(run.stderr)") }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct ErrorText: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Run {
    /// Runs any program (a wrapper, psql) with the given working directory.
    init(_ ignored: [String], executable: String, arguments: [String] = [], in directory: String = packageRoot, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        self.init(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }

    init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

let havePostgres = FileManager.default.fileExists(atPath: "/usr/lib/postgresql/15/bin/postgres")

/// The resilient stack against real PostgreSQL: each instance its own cluster, started by `up`.
@Suite(.serialized, .enabled(if: havePostgres)) struct PostgresStackTests {
    @Test func rowsWrittenOnTheExportReachBothStandbysAndSoDoesAChange() throws {
        let stack = try Deployment("postgres", count: 3)
        defer { stack.stop() }
        try stack.startUp()
        try stack.sql("db0", "create table accounts(id int primary key, owner text, balance int); insert into accounts select g, 'owner ' || g, g * 10 from generate_series(1, 500) g")
        let first = try stack.wrapper("db0", "bin/exporter")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("db0 export: sequence 1"), "\(first.stdout)")
        // up's queue watchers carry the dump on: pull, archive, push, import, for each standby.
        try stack.waitFor("both imports to hold sequence 1", seconds: 120) { try stack.imported("db1") == 1 && stack.imported("db2") == 1 }
        for standby in ["db1", "db2"] {
            #expect(try stack.sql(standby, "select count(*), sum(balance) from accounts") == "500|1252500")
        }
        try stack.sql("db0", "update accounts set balance = 0 where id <= 100; delete from accounts where id > 450")
        #expect(try stack.wrapper("db0", "bin/exporter").status == 0)
        try stack.waitFor("both imports to hold sequence 2", seconds: 120) { try stack.imported("db1") == 2 && stack.imported("db2") == 2 }
        for standby in ["db1", "db2"] {
            #expect(try stack.sql(standby, "select count(*), sum(balance) from accounts") == "450|964250")
        }
        let status = try stack.status()
        #expect(status.healthy)
        #expect(status.named("db0")?.exported?.sequence == 2 && status.named("db0")?.role == "export")
        #expect(status.named("db1")?.services.first?.dsn?.hasPrefix("host=\(stack.root)/db1/var/run/postgres port=") == true)
        let metrics = try Run(["status", "--root", stack.root, "--prometheus"])
        #expect(metrics.status == 0 && metrics.stdout.contains("stackc_import_sequence{instance=\"db2\"} 2"), "\(metrics.stdout)")
        // Stopped by SIGTERM: exit 0, and no process of the stack survives.
        #expect(stack.stop() == 0)
        let left = try Run([], executable: "/usr/bin/pgrep", arguments: ["-f", stack.root])
        #expect(left.stdout.isEmpty, "left running: \(left.stdout)")
    }

    @Test func anUpKilledWithSIGKILLLeavesNothingTheNextUpDoesNotStop() throws {
        let stack = try Deployment("postgres", count: 2)
        defer { stack.stop() }
        try stack.startUp()
        let before = try Run([], executable: "/usr/bin/pgrep", arguments: ["-f", stack.root + "/db0/srv/postgres"]).stdout
        #expect(!before.isEmpty)
        stack.killUp()
        // The servers outlive it …
        #expect(try Run([], executable: "/usr/bin/pgrep", arguments: ["-f", stack.root + "/db0/srv/postgres"]).stdout == before)
        // … until the next up, which stops them first, then starts its own.
        try stack.startUp()
        #expect(try String(contentsOfFile: stack.tree.path("up.log"), encoding: .utf8).contains("left running by an 'up' that was killed"))
        #expect(stack.stop() == 0)
        #expect(try Run([], executable: "/usr/bin/pgrep", arguments: ["-f", stack.root]).stdout.isEmpty)
    }

    @Test func aPortThatIsTakenFailsNamingTheInstanceThePortAndWhereItWasSet() throws {
        let stack = try Deployment("postgres", count: 2)
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stack.instance("db0") + "/etc/service/postgresql.json"))) as! [String: Any]
        let (address, port) = (definition["address"] as! String, definition["port"] as! Int)
        let holder = try Process.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                     arguments: ["-c", "import socket,time; s=socket.socket(); s.bind(('\(address)', \(port))); s.listen(); time.sleep(60)"])
        defer { holder.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        let up = try Run(["up", stack.profile, "--root", stack.root, "--once"])
        #expect(up.status == 2)
        #expect(up.stderr.contains("db0's postgresql cannot listen on \(address):\(port): the port is taken (set at \(stack.profile):5:"), "\(up.stderr)")
        #expect(try Run([], executable: "/usr/bin/pgrep", arguments: ["-f", stack.root]).stdout.isEmpty, "nothing left running")
    }

    @Test func aFailingBackupKeepsEveryStandbysDataAndStatusSaysSo() throws {
        let stack = try Deployment("postgres", count: 2)
        defer { stack.stop() }
        try stack.startUp()
        try stack.sql("db0", "create table t(id int); insert into t select generate_series(1, 42)")
        #expect(try stack.wrapper("db0", "bin/exporter").status == 0)
        try stack.waitFor("sequence 1 on db1", seconds: 120) { try stack.imported("db1") == 1 }
        // The export's database disappears: pg_dump fails.
        try stack.sql("db0", "drop database app", database: "postgres")
        let failed = try stack.wrapper("db0", "bin/exporter")
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("the backup command bin/postgres-exporter of db0 failed") && failed.stderr.contains("database \"app\" does not exist"), "\(failed.stderr)")
        #expect(failed.stderr.contains("the previous dump 1 is untouched and no receiver was notified"), "\(failed.stderr)")
        let manifest = try String(contentsOfFile: stack.instance("db0") + "/srv/backup/postgres/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"sequence\" : 1"), "the previous dump is in place")
        #expect(try stack.sql("db1", "select count(*) from t") == "42", "the standby keeps its data, queryable")
        let status = try Run(["status", "--root", stack.root])
        #expect(status.status == 2)
        #expect(status.stdout.contains("problem: db0: export failing since"), "\(status.stdout)")
    }

    @Test func aRestoreThatFailsHalfwayLeavesThePreviousDataInPlace() throws {
        let stack = try Deployment("postgres", count: 2)
        defer { stack.stop() }
        try stack.startUp()
        try stack.sql("db0", "create table kept(id int); insert into kept select generate_series(1, 7)")
        #expect(try stack.wrapper("db0", "bin/exporter").status == 0)
        try stack.waitFor("sequence 1 on db1", seconds: 120) { try stack.imported("db1") == 1 }
        // A row the table's check refuses once the function behind it changed: COPY fails on restore.
        try stack.sql("db0", """
            create function ok(t text) returns boolean language sql immutable as $$ select true $$;
            create table guarded(v text check (ok(v))); insert into guarded values ('poison');
            create or replace function ok(t text) returns boolean language sql immutable as $$ select t <> 'poison' $$;
            insert into kept select generate_series(8, 20)
            """)
        #expect(try stack.wrapper("db0", "bin/exporter").status == 0)
        try stack.waitFor("db1's import of sequence 2 to fail", seconds: 120) {
            try stack.status().named("db1")?.jobs.first { $0.name == "import" }?.failing == true
        }
        #expect(try stack.sql("db1", "select count(*) from kept") == "7", "the previous data, intact and queryable")
        // up retries the import with backoff; between attempts no half-restored database is left.
        try stack.waitFor("no half-restored database between attempts", seconds: 60) {
            try stack.sql("db1", "select count(*) from pg_database where datname like '%stackc_new'", database: "postgres") == "0"
        }
        #expect(try stack.imported("db1") == 1)
        #expect(try Run(["status", "--root", stack.root]).status == 2)
    }

    /// Workers killed with SIGKILL at random points, at least twenty times: each restart completes, and
    /// the standby's history holds every sequence exactly once.
    @Test func workersKilledAtRandomPointsCompleteWithExactlyOneImportPerSequence() throws {
        let stack = try Deployment("postgres", count: 2)
        defer { stack.stop() }
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        try stack.startServices()
        try stack.sql("db0", "create table t(id int, v text)")
        var random = SeededGenerator(state: UInt64(ProcessInfo.processInfo.environment["STACKC_KILL_SEED"] ?? "") ?? 2026)
        var kills = 0
        // Each kill falls somewhere in the time the same worker's last complete run took.
        var lasted: [String: Double] = ["bin/pull": 0.3, "bin/importer": 0.6]
        let sequences = 15
        for sequence in 1...sequences {
            try stack.sql("db0", "insert into t select g, md5(g::text) from generate_series(\(sequence * 100), \(sequence * 100 + 99)) g")
            #expect(try stack.wrapper("db0", "bin/exporter").status == 0)
            for (instance, wrapper) in [("pbs-db-1", "bin/pull"), ("db1", "bin/importer")] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: stack.instance(instance) + "/" + wrapper)
                process.currentDirectoryURL = URL(fileURLWithPath: stack.instance(instance))
                process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
                process.standardError = FileHandle(forWritingAtPath: "/dev/null")
                try process.run()
                Thread.sleep(forTimeInterval: Double.random(in: 0..<(0.8 * lasted[wrapper]!), using: &random))
                if process.isRunning {
                    // stackc itself (the wrapper execs it): what it started may run on, and the
                    // next run waits for that under the software command's lock.
                    kill(process.processIdentifier, SIGKILL)
                    kills += 1
                }
                process.waitUntilExit()
                let began = Date()
                let again = try stack.wrapper(instance, wrapper)
                lasted[wrapper] = max(0.05, Date().timeIntervalSince(began))
                #expect(again.status == 0, "\(instance) after a kill: \(again.stderr)")
            }
            #expect(try stack.imported("db1") == sequence)
            #expect(try stack.sql("db1", "select count(*) from t") == "\(sequence * 100)")
        }
        let history = try String(contentsOfFile: stack.instance("db1") + "/var/log/imports.jsonl", encoding: .utf8)
            .split(separator: "\n").compactMap { line in (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["sequence"] as? Int }
        #expect(history == Array(1...sequences), "each sequence imported once, in order: \(history)")
        #expect(try Run(["archive", "verify", stack.instance("pbs-db-1") + "/srv/archive", "--quiet"]).status == 0)
        let snapshots = try Run(["archive", "ls", stack.instance("pbs-db-1") + "/srv/archive", "--format", "json"])
        let listed = (try JSONSerialization.jsonObject(with: Data(snapshots.stdout.utf8)) as? [String: Any])?["snapshots"] as? [[String: Any]] ?? []
        let archived = listed.compactMap { ($0["metadata"] as? [String: String])?["sequence"] }.compactMap(Int.init).sorted()
        #expect(archived == Array(1...sequences), "one snapshot per sequence, none half-written: \(archived)")
        #expect(kills >= 20, "at least twenty kill points: \(kills) of \(2 * sequences) runs killed")
    }
}

/// The same flow for a directory tree, without PostgreSQL, driven by hand.
@Suite struct FilesStackTests {
    @Test func aTreeFlowsToTheStandbyKeepingItsModeAndAChangeFollows() throws {
        let stack = try Deployment("files", count: 2)
        try "hello\n".write(toFile: stack.tree.path("origin/a.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: stack.tree.path("origin/sub"), withIntermediateDirectories: true)
        try "nested\n".write(toFile: stack.tree.path("origin/sub/b.txt"), atomically: true, encoding: .utf8)
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        #expect(try stack.wrapper("docs0", "bin/exporter").status == 0)
        #expect(try stack.wrapper("pbs-docs-1", "bin/pull").status == 0)
        let imported = try stack.wrapper("docs1", "bin/importer")
        #expect(imported.status == 0 && imported.stdout.contains("1 applied"), "\(imported.stdout) \(imported.stderr)")
        #expect(try String(contentsOfFile: stack.tree.path("standby/sub/b.txt"), encoding: .utf8) == "nested\n")
        #expect(!FileManager.default.fileExists(atPath: stack.tree.path("standby/manifest.json")), "the manifest is not part of the tree")
        let dumpMode = try FileManager.default.attributesOfItem(atPath: stack.instance("docs0") + "/srv/backup/files")[.posixPermissions] as? Int
        #expect(dumpMode == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: stack.instance("pbs-docs-1") + "/srv/archive")[.posixPermissions] as? Int == 0o700)
        try "changed\n".write(toFile: stack.tree.path("origin/a.txt"), atomically: true, encoding: .utf8)
        #expect(try stack.wrapper("docs0", "bin/exporter").status == 0)
        #expect(try stack.wrapper("pbs-docs-1", "bin/pull").status == 0)
        #expect(try stack.wrapper("docs1", "bin/importer").status == 0)
        #expect(try String(contentsOfFile: stack.tree.path("standby/a.txt"), encoding: .utf8) == "changed\n")
        // A re-delivered notification: no second snapshot, no second import.
        #expect(try stack.wrapper("pbs-docs-1", "bin/pull").stdout.contains("0 applied"))
        #expect(try stack.wrapper("docs1", "bin/importer").stdout.contains("0 applied"))
        let plan = try Run(["plan", stack.profile, "--root", stack.root, "--detailed-exitcode"])
        #expect(plan.status == 0, "the runtime left nothing for install to put back: \(plan.stdout)")
    }

    @Test func aByteFlippedInTheDumpBetweenExportAndPullIsRefused() throws {
        let stack = try Deployment("files", count: 2)
        try String(repeating: "data ", count: 1000).write(toFile: stack.tree.path("origin/data.txt"), atomically: true, encoding: .utf8)
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        #expect(try stack.wrapper("docs0", "bin/exporter").status == 0)
        let dumped = stack.instance("docs0") + "/srv/backup/files/data.txt"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dumped))
        bytes[100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: dumped))
        let pull = try stack.wrapper("pbs-docs-1", "bin/pull")
        #expect(pull.status == 2)
        #expect(pull.stderr.contains("does not match its manifest: data.txt's SHA-256 is"), "\(pull.stderr)")
        let listed = try Run(["archive", "ls", stack.instance("pbs-docs-1") + "/srv/archive"])
        #expect(!listed.stdout.contains("docs0"), "no snapshot of the damaged dump: \(listed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: stack.instance("docs1") + "/srv/backup/files/manifest.json"), "nothing pushed")
        #expect(try Run(["status", "--root", stack.root]).status == 2)
        // The next export replaces the damaged dump, and the retried pull takes it.
        #expect(try stack.wrapper("docs0", "bin/exporter").status == 0)
        #expect(try stack.wrapper("pbs-docs-1", "bin/pull").status == 0)
    }

    @Test func aSecondExporterWhileOneRunsExitsAtOnceNamingTheHolder() throws {
        let stack = try Deployment("files", count: 2)
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        try FileManager.default.createDirectory(atPath: stack.instance("docs0") + "/var/run", withIntermediateDirectories: true)
        // The first export holds the flock; flock(1) stands in for it, and says who it is.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [stack.instance("docs0") + "/var/run/export.lock", "sh", "-c", "echo 'process 4242 on elsewhere' > \"$0\"; sleep 30", stack.instance("docs0") + "/var/run/export.lock"]
        try holder.run()
        defer { holder.terminate() }
        Thread.sleep(forTimeInterval: 0.3)
        let second = try stack.wrapper("docs0", "bin/exporter")
        #expect(second.status == 2)
        #expect(second.stderr.contains("an export of docs0 is already running (process 4242 on elsewhere)"), "\(second.stderr)")
    }

    /// A pull-backup whose archive is on a 2 MB file system, for real (a tmpfs: root only).
    @Test(.enabled(if: getuid() == 0)) func aPullOnAFullDiskFailsLeavingTheArchiveConsistent() throws {
        let stack = try Deployment("files", count: 2)
        #expect(try Run(["install", stack.profile, "--root", stack.root]).status == 0)
        let archive = stack.instance("pbs-docs-1") + "/srv/archive"
        let mount = try Run([], executable: "/bin/mount", arguments: ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", archive])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? Run([], executable: "/bin/umount", arguments: [archive]) }
        let noise = FileHandle(forReadingAtPath: "/dev/urandom")!.readData(ofLength: 6 << 20)
        try noise.write(to: URL(fileURLWithPath: stack.tree.path("origin/big.bin")))
        #expect(try stack.wrapper("docs0", "bin/exporter").status == 0)
        let pull = try stack.wrapper("pbs-docs-1", "bin/pull")
        #expect(pull.status == 2)
        #expect(pull.stderr.contains("No space left on device"), "\(pull.stderr)")
        #expect(try Run(["archive", "verify", archive, "--quiet"]).status == 0, "the archive verifies")
        #expect(!(try Run(["archive", "ls", archive]).stdout.contains("docs0")), "no half snapshot listed")
        let status = try Run(["status", "--root", stack.root])
        #expect(status.status == 2 && status.stdout.contains("pull failing"), "\(status.stdout)")
    }
}

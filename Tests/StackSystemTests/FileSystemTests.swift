import Foundation
import StackModel
import StackSystem
import StackTestSupport
import Testing

/// The in-memory file system answers as the real one does, so logic tested on it holds on disk.
@Suite struct FileSystemTests {
    /// The same script of calls, on one file system under `root`; what each call answered.
    func script(_ fs: any FileSystem, root: String) -> [String] {
        var log: [String] = []
        func step(_ label: String, _ body: () throws(SystemError) -> Void) {
            do { try body(); log.append("\(label): ok") } catch { log.append("\(label): \(error.operation) \(error.errno.rawValue)") }
        }
        step("mkdir a") { () throws(SystemError) in try fs.createDirectory(root + "/a", mode: 0o700) }
        step("mkdir a again") { () throws(SystemError) in try fs.createDirectory(root + "/a", mode: 0o700) }
        step("mkdir x/y") { () throws(SystemError) in try fs.createDirectory(root + "/x/y", mode: 0o755) }
        step("write a/f") { () throws(SystemError) in try fs.write(Data("one".utf8), to: root + "/a/f", mode: 0o640, durability: .synced) }
        step("replace a/f") { () throws(SystemError) in try fs.write(Data("two".utf8), to: root + "/a/f", mode: 0o600, durability: .whole) }
        step("write into missing") { () throws(SystemError) in try fs.write(Data(), to: root + "/nope/f", mode: 0o644, durability: .writeBack) }
        step("rmdir non-empty a") { () throws(SystemError) in try fs.removeDirectory(root + "/a") }
        step("rename a/f a/g") { () throws(SystemError) in try fs.rename(root + "/a/f", to: root + "/a/g") }
        step("unlink a/f") { () throws(SystemError) in try fs.removeFile(root + "/a/f") }
        log.append("read a/g: " + ((try? String(decoding: fs.read(root + "/a/g"), as: UTF8.self)) ?? "-"))
        log.append("info a/g: \(fs.info(root + "/a/g").map { "\($0.kind) \(String($0.mode, radix: 8)) \($0.size)" } ?? "-")")
        log.append("info a: \(fs.info(root + "/a").map { "\($0.kind) \(String($0.mode, radix: 8))" } ?? "-")")
        log.append("list a: \(((try? fs.list(root + "/a")) ?? []).sorted())")
        step("removeTree a") { () throws(SystemError) in try fs.removeTree(root + "/a") }
        log.append("exists a: \(fs.exists(root + "/a"))")
        return log
    }

    @Test func theInMemoryFileSystemAnswersAsTheRealOne() throws {
        let tree = try TemporaryTree([:])
        let memory = InMemoryFileSystem()
        try memory.createDirectories("/work", mode: 0o755)
        let real = script(LocalFileSystem(), root: tree.root)
        #expect(real == script(memory, root: "/work"))
        #expect(real.contains("read a/g: two") && real.contains("info a/g: file 600 3"))
        #expect(try LocalFileSystem().list(tree.root).filter { $0.hasPrefix(temporaryFilePrefix) }.isEmpty, "no temporary file is left")
    }

    @Test func aFullDiskFailsTheWriteWithItsErrnoAndLeavesTheOldFile() throws {
        let memory = InMemoryFileSystem()
        try memory.createDirectories("/r", mode: 0o755)
        try memory.write(Data("old".utf8), to: "/r/f", mode: 0o644, durability: .synced)
        memory.failWrites = .noSpace
        #expect { try memory.write(Data("new".utf8), to: "/r/f", mode: 0o644, durability: .synced) } throws: { error in
            (error as? SystemError)?.errno == .noSpace && (error as? SystemError)?.remedy != nil
        }
        #expect(try memory.read("/r/f") == Data("old".utf8))
    }

    @Test(arguments: [false, true])
    func confinementRefusesEscapesAndLinksOnEitherFileSystem(inMemory: Bool) throws {
        let tree = try TemporaryTree(["root/inst/bin/x": ""])
        let fs: any FileSystem
        let root: String
        if inMemory {
            let memory = InMemoryFileSystem()
            try memory.createDirectories("/r/inst/bin", mode: 0o755)
            memory.link("/r/inst/etc", to: "/etc")
            (fs, root) = (memory, "/r")
        } else {
            try FileManager.default.createSymbolicLink(atPath: tree.path("root/inst/etc"), withDestinationPath: "/etc")
            (fs, root) = (LocalFileSystem(), tree.path("root"))
        }
        let confined = Confined(root: root, fileSystem: fs)
        #expect(try confined.resolve("inst/bin/x") == root + "/inst/bin/x")
        #expect(throws: Confined.Escape.self) { try confined.resolve("inst/../../etc/passwd") }
        #expect(throws: Confined.Escape.self) { try confined.resolve("/etc/passwd") }
        #expect { try confined.resolve("inst/etc/cron.d/x") } throws: { ($0 as? Confined.Escape)?.isLink == true }
    }
}

@Suite struct ProcessRunnerTests {
    let runner = SubprocessRunner(clock: SystemClock())

    @Test func argumentsReachTheProgramAsTheyAreWithNoShellInBetween() async throws {
        let words = ["$(touch /tmp/stackc-injected)", "a b", "'quoted'", "new\nline", ""]
        let outcome = try await runner.run(ProcessRequest("/usr/bin/printf", ["%s\\0"] + words, environment: ["STACKC_X": "1"]))
        #expect(outcome.succeeded)
        #expect(outcome.output.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) } == words)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/stackc-injected"))
    }

    @Test func theEnvironmentGivenIsTheEnvironmentSeen() async throws {
        let outcome = try await runner.run(ProcessRequest("/usr/bin/env", [], environment: ["ONLY": "this"], inheritEnvironment: false))
        #expect(String(decoding: outcome.output, as: UTF8.self) == "ONLY=this\n")
    }

    @Test func aFailureKeepsTheTailOfStderrAndItsStatus() async throws {
        let script = "for i in $(seq 1 5000); do echo \"line $i\" >&2; done; exit 3"
        let outcome = try await runner.run(ProcessRequest("/bin/sh", ["-c", script], outputLimit: 1024))
        #expect(outcome.termination == .exited(3) && !outcome.succeeded)
        #expect(outcome.errorOutput.count <= 1024)
        #expect(outcome.errorTail(lines: 1) == "line 5000")
    }

    @Test func aTimeoutStopsTheProcessWithSigtermThenSigkill() async throws {
        let stubborn = try await runner.run(ProcessRequest("/bin/sh", ["-c", "trap '' TERM; sleep 300"], timeout: .milliseconds(200),
                                                           gracePeriod: .milliseconds(200)))
        #expect(stubborn.timedOut && stubborn.termination == .signalled(SIGKILL))
        let polite = try await runner.run(ProcessRequest("/bin/sleep", ["300"], timeout: .milliseconds(200)))
        #expect(polite.timedOut && polite.termination == .signalled(SIGTERM))
    }

    @Test func aProgramThatDoesNotExistIsASpawnFailure() async {
        await #expect(throws: ProcessFailure.self) { _ = try await runner.run(ProcessRequest("/nonexistent/program")) }
    }
}

@Suite struct ManualClockTests {
    @Test func aDayOfFiveMinuteTicksRunsInMilliseconds() async throws {
        let clock = ManualClock()
        let ticks = Counter()
        let ticker = Task {
            for _ in 0..<288 {
                try await clock.sleep(for: .seconds(300))
                ticks.increment()
            }
        }
        // Each tick: wait until the ticker sleeps, then move time to its deadline.
        for _ in 0..<288 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(300))
        }
        try await ticker.value
        #expect(clock.date == ManualClock.epoch.addingTimeInterval(86_400))
    }
}

extension FileSystemTests {
    /// A '/' followed by a combining mark is one Character to Swift but a separator to the kernel:
    /// confinement splits paths as the kernel does.
    @Test func aSeparatorHiddenInACharacterStillSeparates() throws {
        let sneaky = "../\u{301}etc"
        #expect(Path.components(sneaky) == ["..", "\u{301}etc"])
        let confined = Confined(root: "/r", fileSystem: InMemoryFileSystem())
        #expect(throws: Confined.Escape.self) { try confined.resolve("a/" + sneaky) }
    }
}

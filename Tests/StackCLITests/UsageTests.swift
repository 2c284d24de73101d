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

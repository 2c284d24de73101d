import ArgumentParser
import CLinux
import Foundation
import Logging
import StackCompiler
import StackModel
import StackSystem

/// `stackc`: compile, preview and explain resilient stack profiles, materialize them, and keep
/// their archives.
public struct StackCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stackc",
        abstract: "Compile resilient stack profiles into an instance graph, and explain every value.",
        version: "0.1.0",
        subcommands: [Render.self, Explain.self, Check.self, Graph.self, Schema.self, PlanCommand.self, InstallCommand.self, UninstallCommand.self,
                      ArchiveCommand.self, ExportCommand.self, ImportCommand.self, PullCommand.self, UpCommand.self, StatusCommand.self, QueueCommand.self]
    )

    public init() {}

    /// The entry point: builds the real world, parses the arguments, runs the verb and ends the
    /// process with the exit status its outcome maps to (`Exit.status`). With `STACKC_TIMING` set,
    /// the time from here to exit is printed on stderr.
    public static func start() {
        if ProcessInfo.processInfo.environment["STACKC_TIMING"] != nil {
            timingStart = DispatchTime.now().uptimeNanoseconds
            atexit {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - timingStart) / 1e6
                FileHandle.standardError.write(Data("stackc: \(String(format: "%.3f", elapsed)) ms\n".utf8))
            }
        }
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label) }
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            try Usage.checkVerbs(arguments, root: StackCommand.self)
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(ExitStatus.success.rawValue)
        } catch {
            Glibc.exit(Exit.status(for: error))
        }
    }
}

/// When `start()` began, for STACKC_TIMING; written once before any other thread exists.
nonisolated(unsafe) private var timingStart: UInt64 = 0

/// The real world the verbs run in, built once, on first use, by the CLI and nobody else.
enum CLI {
    static let logger = Logger(label: "stackc")
    static let world = SystemWorld.real(logger: logger, showProgress: isatty(2) == 1)
}

/// The formats of the verbs that print text or JSON: each verb accepts only what it implements,
/// and argument-parser refuses the rest with the list (exit 1).
enum TextOrJSON: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `render`'s formats.
enum YAMLOrJSON: String, ExpressibleByArgument, CaseIterable {
    case yaml, json
}

/// Compiles for a verb on a thread with a very large stack, with the heap set for a short-lived
/// compile: it grows in large steps and is never trimmed, so building a graph of thousands of
/// instances is not a stream of brk/mprotect calls.
func compileOnLargeStack(_ path: String) -> Compilation {
    stackc_generous_malloc()
    return Compiler.compileOnLargeStack(profile: path, workers: CLI.world.host.cores)
}

/// Prints diagnostics to stderr; returns whether any was an error.
/// `check` prints everything; the other verbs (`brief`) print every error but only the first few
/// warnings, then how many more there are, and give a chain of notes once when several
/// diagnostics in a row share it.
@discardableResult
func report(_ diagnostics: [Diagnostic], summary: Bool = false, brief profile: String? = nil) -> Bool {
    let printer = DiagnosticPrinter(colour: DiagnosticPrinter.wantsColour(fileDescriptor: 2))
    let errors = diagnostics.filter { $0.severity == .error }.count
    let warnings = diagnostics.count - errors
    var text = ""
    if let profile {
        let shownWarnings = 5
        var warningsShown = 0
        var previousNotes: [Note]? = nil
        for diagnostic in diagnostics {
            if diagnostic.severity == .warning {
                guard warningsShown < shownWarnings else { continue }
                warningsShown += 1
            }
            var shown = diagnostic
            if !diagnostic.notes.isEmpty && diagnostic.notes == previousNotes { shown.notes = [] }
            previousNotes = diagnostic.notes
            text += printer.format(shown)
        }
        if warnings > shownWarnings {
            text += "\(warnings - shownWarnings) more warning\(warnings - shownWarnings == 1 ? "" : "s"): run 'stackc check \(profile)'\n"
        }
    } else {
        text = diagnostics.map(printer.format).joined()
    }
    if summary {
        text += "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")\n"
    }
    FileHandle.standardError.write(Data(text.utf8))
    return errors > 0
}

func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

func write(bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    bytes.withUnsafeBytes { FileHandle.standardOutput.write(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0.baseAddress!), count: $0.count, deallocator: .none)) }
}

/// Ends a successful read verb without tearing down the compiled graph: the process is about to
/// end, and freeing a large graph object by object is a measurable share of a render (as with
/// clang's -disable-free). Output is already written: FileHandle writes are unbuffered.
func finishSuccessfully() -> Never {
    exit(ExitStatus.success.rawValue)
}

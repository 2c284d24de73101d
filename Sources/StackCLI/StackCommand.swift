import ArgumentParser
import CSystem
import Foundation
import StackCompiler
import StackModel

/// `stackc`: compile, preview and explain resilient stack profiles.
public struct StackCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stackc",
        abstract: "Compile resilient stack profiles into an instance graph, and explain every value.",
        version: "0.1.0",
        subcommands: [Render.self, Explain.self, Check.self, Graph.self, Schema.self, PlanCommand.self, InstallCommand.self, UninstallCommand.self,
                      ArchiveCommand.self]
    )

    public init() {}

    /// The entry point. With `STACKC_TIMING` set in the environment, the time from here to exit is
    /// printed on stderr (process start-up excluded, as a profiler would show it).
    public static func start() {
        if ProcessInfo.processInfo.environment["STACKC_TIMING"] != nil {
            timingStart = DispatchTime.now().uptimeNanoseconds
            atexit {
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - timingStart) / 1e6
                FileHandle.standardError.write(Data("stackc: \(String(format: "%.3f", elapsed)) ms\n".utf8))
            }
        }
        main()
    }
}

/// When `start()` began, for STACKC_TIMING; written once before any other thread exists.
nonisolated(unsafe) private var timingStart: UInt64 = 0

/// Output formats shared by the read verbs.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, yaml, json
}

/// Exit codes of the CLI contract: 0 ok, 1 user or configuration error, 2 runtime failure.
enum Exit {
    static let configurationError = ExitCode(1)
    static let runtimeFailure = ExitCode(2)
}

/// Compiles on a thread with a large stack: deep substitution chains recurse, and a profile,
/// however deep, must produce a diagnostic and never a stack overflow.
func compileOnLargeStack(_ path: String) -> Compilation {
    stackc_generous_malloc()
    final class Box: @unchecked Sendable { var result: Compilation? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.result = Compiler.compile(profile: path)
        done.signal()
    }
    thread.stackSize = 1 << 30
    thread.start()
    done.wait()
    guard let result = box.result else { fatalError("compiler thread ended without a result") }
    return result
}

/// Prints diagnostics to stderr; returns whether any was an error.
@discardableResult
func report(_ diagnostics: [Diagnostic], summary: Bool = false) -> Bool {
    let printer = DiagnosticPrinter(colour: DiagnosticPrinter.wantsColour(fileDescriptor: 2))
    var text = diagnostics.map(printer.format).joined()
    let errors = diagnostics.filter { $0.severity == .error }.count
    let warnings = diagnostics.count - errors
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
    exit(0)
}

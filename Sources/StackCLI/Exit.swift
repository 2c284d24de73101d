import ArgumentParser
import Foundation
import StackModel
import StackSystem

/// The one place outcomes become exit statuses: 0 ok, 1 a usage or configuration error, 2 a
/// runtime failure (DESIGN §3). Verbs throw; `start()` asks here what the process ends with.
enum Exit {
    /// A configuration problem already reported (diagnostics printed): exit 1.
    static let configurationError = ExitCode(ExitStatus.configuration.rawValue)
    /// A failure already reported: exit 2.
    static let runtimeFailure = ExitCode(ExitStatus.failure.rawValue)

    /// Prints what `error` says (if it was not printed yet) and returns the exit status it means.
    static func status(for error: any Error) -> Int32 {
        switch error {
        case let code as ExitCode:
            return code.rawValue
        case let failure as any StackFailure:
            printFailure(failure)
            return failure.exitStatus.rawValue
        default:
            // argument-parser's: a help or version request is a success on stdout; anything else
            // is a usage error, which the CLI contract numbers 1 (not sysexits' 64).
            let message = StackCommand.fullMessage(for: error)
            if StackCommand.exitCode(for: error) == .success {
                if !message.isEmpty { write(message + "\n") }
                return ExitStatus.success.rawValue
            }
            FileHandle.standardError.write(Data((message.isEmpty ? "error: \(error)" : message).utf8 + Data("\n".utf8)))
            return ExitStatus.configuration.rawValue
        }
    }

    /// `error: message: cause…; remedy` on stderr.
    static func printFailure(_ failure: any StackFailure) {
        FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
    }
}

/// A usage error the parser cannot see: a verb that does not exist, named before `--help` or
/// after `help`. argument-parser answers both with the top-level help and exit 0.
struct UnknownVerb: StackFailure {
    var name: String
    var path: [String]
    var known: [String]

    var code: String { "usage" }
    var message: String {
        "unknown verb '\(name)'" + (path.isEmpty ? "" : " of 'stackc \(path.joined(separator: " "))'")
            + Suggestions.didYouMean(name, in: known)
    }
    var remedy: String? { "run 'stackc \(path.isEmpty ? "" : path.joined(separator: " ") + " ")--help' for the verbs" }
    var cause: (any Error & Sendable)? { nil }
    var exitStatus: ExitStatus { .configuration }
}

enum Usage {
    /// Follows the leading words of `arguments` down the verb tree (after a `help`, all of them):
    /// each must name a verb while the current one has sub-verbs.
    static func checkVerbs(_ arguments: [String], root: any ParsableCommand.Type) throws(UnknownVerb) {
        var words = arguments
        var isHelp = false
        if words.first == "help" {
            isHelp = true
            words.removeFirst()
        }
        var command = root
        var path: [String] = []
        for word in words {
            if word.hasPrefix("-") {
                if isHelp { continue }
                break
            }
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else {
                if isHelp { throw UnknownVerb(name: word, path: path, known: []) }
                return
            }
            let names = subcommands.compactMap { $0.configuration.commandName }
            guard let next = subcommands.first(where: { $0.configuration.commandName == word }) else {
                throw UnknownVerb(name: word, path: path, known: names)
            }
            command = next
            path.append(word)
        }
    }
}

import ArgumentParser
import Foundation
import StackCompiler
import StackModel
import StackMaterialize
import StackSystem

/// Options shared by plan, install and uninstall.
struct MaterializeOptions: ParsableArguments {
    @Option(help: "The directory holding one directory per instance.")
    var root: String

    @Flag(help: "Allow removing instances or parts whose data directories are not empty.")
    var allowDataLoss = false

    @Flag(help: "Allow a profile that asks for no instance to remove every instance of the root.")
    var allowRemoveAll = false

    @Option(help: "The templates folder (default: $STACKC_TEMPLATES, or the one shipped with stackc).")
    var templates: String?

    /// The templates: `--templates`, `$STACKC_TEMPLATES`, then those shipped with this binary.
    func materializer() throws(MaterializeError) -> Materializer {
        let world = CLI.world
        guard let directory = templates ?? ProcessInfo.processInfo.environment["STACKC_TEMPLATES"]
            ?? Templates.locate(executable: world.host.executable, fileSystem: world.fileSystem) else {
            throw MaterializeError(.template, "cannot find stackc's templates folder", remedy: "pass --templates DIR or set STACKC_TEMPLATES")
        }
        return Materializer(root: root, stackc: world.host.executable, templates: try Templates(directory: directory, fileSystem: world.fileSystem),
                            user: world.host.user, fileSystem: world.fileSystem)
    }
}

/// Compiles for a materializing verb: diagnostics printed, errors exit 1.
func compiledGraph(_ profile: String) throws -> InstanceGraph {
    let compilation = compileOnLargeStack(profile)
    if report(compilation.diagnostics, brief: profile) { throw Exit.configurationError }
    return compilation.graph
}

enum PlanPrinter {
    static func text(_ plan: Plan) -> String {
        let width = max(8, (plan.changes.map(\.instance.count).max() ?? 0))
        var out = ""
        for change in plan.changes {
            var line = change.instance.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            line += change.action.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0) + "  "
            line += change.part.map { "part \($0)" + (change.recipe.map { " (\($0))" } ?? "") } ?? "instance"
            if let refusal = change.refusal { line += "   refused: " + refusal }
            out += line + "\n"
            let indent = String(repeating: " ", count: width + 4)
            for option in change.options {
                out += indent + "option \(option.option): \(option.old ?? "(unset)") → \(option.new ?? "(unset)")"
                    + (option.location.map { "   (\($0))" } ?? "") + "\n"
            }
            if let reason = change.reason { out += indent + "because " + reason + "\n" }
            for file in change.files {
                out += indent + (file.action == .create ? "+ " : file.action == .remove ? "- " : "~ ") + file.path + "\n"
            }
        }
        let count = { (action: Change.Action) in plan.changes.filter { $0.action == action && $0.refusal == nil }.count }
        out += "\(count(.create)) to create, \(count(.update)) to update, \(count(.remove)) to remove"
        if !plan.refused.isEmpty { out += ", \(plan.refused.count) removal\(plan.refused.count == 1 ? "" : "s") refused" }
        out += " (\(plan.unchanged) part\(plan.unchanged == 1 ? "" : "s") unchanged)\n"
        return out
    }

    static func json(_ plan: Plan) -> Tree {
        let location = { (where_: SourceLocation?) -> Tree in
            where_.map { .object([("file", .string($0.file)), ("line", .number(String($0.line))), ("column", .number(String($0.column)))]) } ?? .null
        }
        return .object([
            ("changes", .list(plan.changes.map { change in
                .object([
                    ("instance", .string(change.instance)), ("part", change.part.map(Tree.string) ?? .null),
                    ("recipe", change.recipe.map(Tree.string) ?? .null), ("action", .string(change.action.rawValue)),
                    ("refused", change.refusal.map(Tree.string) ?? .null), ("reason", change.reason.map(Tree.string) ?? .null),
                    ("options", .list(change.options.map { option in
                        .object([("option", .string(option.option)), ("old", option.old.map(Tree.string) ?? .null),
                                 ("new", option.new.map(Tree.string) ?? .null), ("location", location(option.location))])
                    })),
                    ("files", .list(change.files.map { .object([("path", .string($0.path)), ("action", .string($0.action.rawValue))]) })),
                ])
            })),
            ("unchanged", .number(String(plan.unchanged))),
        ])
    }
}

/// `stackc plan PROFILE --root DIR`: what install would create, update and remove.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what install would create, update and remove, per instance, part and file.")

    @Argument(help: "The deployment profile.")
    var profile: String

    @OptionGroup var options: MaterializeOptions

    @Option(help: "text or json.")
    var format: TextOrJSON = .text

    @Flag(help: "Exit 0 when nothing would change and 2 when something would.")
    var detailedExitcode = false

    func run() throws {
        let graph = try compiledGraph(profile)
        let plan = try options.materializer().plan(graph, allowDataLoss: options.allowDataLoss, allowRemoveAll: options.allowRemoveAll)
        write(format == .json ? JSONPrinter.print(PlanPrinter.json(plan)) : PlanPrinter.text(plan))
        if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }
}

/// `stackc install PROFILE --root DIR`: materialize the graph.
struct InstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Materialize every instance under --root; unchanged parts are not touched, dropped ones removed.")

    @Argument(help: "The deployment profile.")
    var profile: String

    @OptionGroup var options: MaterializeOptions

    func run() throws {
        let plan = try Self.install(profile, options)
        write(plan.hasChanges ? PlanPrinter.text(plan) : "no change (\(plan.unchanged) parts up to date)\n")
    }

    /// Compiles and applies; refuses, changing nothing, what `plan` marks refused.
    @discardableResult
    static func install(_ profile: String, _ options: MaterializeOptions, graph compiled: InstanceGraph? = nil) throws -> Plan {
        let graph = try compiled ?? compiledGraph(profile)
        let materializer = try options.materializer()
        let plan = try materializer.plan(graph, allowDataLoss: options.allowDataLoss, allowRemoveAll: options.allowRemoveAll)
        if !plan.refused.isEmpty {
            FileHandle.standardError.write(Data(PlanPrinter.text(Plan.refusedOnly(plan)).utf8))
            let everything = plan.refused.contains { $0.refusal?.contains("--allow-remove-all") == true }
            throw MaterializeError(.dataLoss, "nothing was changed: \(plan.refused.count) removal\(plan.refused.count == 1 ? "" : "s") refused",
                                   remedy: everything ? "check the profile's 'instances'; pass --allow-remove-all if removing everything is meant"
                                       : "pass --allow-data-loss to remove them")
        }
        try materializer.apply(plan, allowDataLoss: options.allowDataLoss)
        return plan
    }
}

/// `stackc uninstall --root DIR`: remove everything install created.
struct UninstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove every instance install created under --root (data directories only with --allow-data-loss).")

    @OptionGroup var options: MaterializeOptions

    func run() throws {
        let materializer = try options.materializer()
        let plan = try materializer.plan(InstanceGraph(instances: [], edges: [], softwareTypes: []), allowDataLoss: options.allowDataLoss,
                                         allowRemoveAll: true)
        if !plan.refused.isEmpty {
            FileHandle.standardError.write(Data(PlanPrinter.text(Plan.refusedOnly(plan)).utf8))
            throw MaterializeError(.dataLoss, "nothing was removed: data would be lost", remedy: "pass --allow-data-loss")
        }
        try materializer.apply(plan, allowDataLoss: options.allowDataLoss)
        write(PlanPrinter.text(plan))
    }
}

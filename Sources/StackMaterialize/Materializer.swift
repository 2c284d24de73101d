import Crypto
import Foundation
import StackModel
import StackSystem

/// What `plan` found for one instance or part.
public struct Change: Sendable {
    public enum Action: String, Sendable { case create, update, remove }

    public struct FileChange: Sendable {
        public var path: String
        public var action: Action
    }

    public struct OptionChange: Sendable {
        public var option: String
        /// Canonical JSON; nil when the option is new or gone.
        public var old: String?
        public var new: String?
        /// Where the new value was last set.
        public var location: SourceLocation?
    }

    public var instance: String
    /// nil for a whole instance being removed.
    public var part: String?
    public var recipe: String?
    public var action: Action
    public var files: [FileChange]
    public var options: [OptionChange]
    /// Set when applying this change would lose data without --allow-data-loss.
    public var refusal: String?
    /// Why a part updates although no option changed (a template or the stackc binary moved).
    public var reason: String?
}

/// Everything `install` would do, in the order it would do it.
public struct Plan: Sendable {
    public var changes: [Change]
    public var unchanged: Int
    /// Desired state, carried to `apply`.
    var targets: [InstanceTarget]
    var removedInstances: [String]

    public var refused: [Change] { changes.filter { $0.refusal != nil } }

    /// The same plan keeping only its refused changes (what to show when install stops).
    public static func refusedOnly(_ plan: Plan) -> Plan {
        Plan(changes: plan.refused, unchanged: plan.unchanged, targets: [], removedInstances: [])
    }
    public var hasChanges: Bool { !changes.isEmpty }
}

/// One instance's desired parts, with outputs computed for those that change.
struct InstanceTarget: Sendable {
    var name: String
    var parts: [PartTarget]
}

struct PartTarget: Sendable {
    var part: Part
    var hash: String
    var options: [String: String]
    /// nil when unchanged (nothing to render).
    var outputs: [Output]?
}

/// Materializes an InstanceGraph under a root: one directory per instance, buildout-style.
public struct Materializer: Sendable {
    public let root: String
    public let stackc: String
    public let templates: Templates
    public let user: String
    let filesystem: Confined

    /// `stackc` is the binary the wrappers call and `user` the one cron entries run as (both the
    /// host's, from the CLI); every file goes through `fileSystem`, confined to `root`.
    public init(root: String, stackc: String, templates: Templates, user: String, fileSystem: any FileSystem) {
        filesystem = Confined(root: root, fileSystem: fileSystem)
        self.root = filesystem.root
        self.stackc = stackc
        self.templates = templates
        self.user = user
    }

    // MARK: - Plan

    /// `allowRemoveAll`: a profile that asks for no instance may empty a root that holds some
    /// (`uninstall` does; an `install` of a mistyped profile must not).
    public func plan(_ graph: InstanceGraph, allowDataLoss: Bool, allowRemoveAll: Bool = false) throws(MaterializeError) -> Plan {
        let queues = queueDirectories(graph)
        var changes: [Change] = []
        var unchanged = 0
        var targets: [InstanceTarget] = []
        let desired = Set(graph.instances.map(\.name))
        let rootState = loadRootState()
        let removed = Set(rootState.instances).subtracting(desired).sorted()

        for name in removed {
            let state = try InstalledState.load(statePath(name), from: filesystem.fileSystem)
            let lost = state.map { dataAtRisk(in: $0.parts, instance: name) } ?? []
            changes.append(Change(instance: name, part: nil, recipe: nil, action: .remove,
                                  files: (state?.parts ?? []).flatMap { $0.files.map { Change.FileChange(path: $0.path, action: .remove) } },
                                  options: [], refusal: desired.isEmpty && !allowRemoveAll
                                      ? "the profile asks for no instance, so every instance of the root would be removed; pass --allow-remove-all"
                                      : refusal(lost, allowDataLoss), reason: nil))
        }

        for instance in graph.instances {
            let context = PartitionContext(instance: instance.name, directory: root + "/" + instance.name, stackc: stackc,
                                           templates: templates, queues: queues, user: user)
            let state = try InstalledState.load(statePath(instance.name), from: filesystem.fileSystem)
            let old = Dictionary((state?.parts ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var target = InstanceTarget(name: instance.name, parts: [])
            let parts = try self.parts(of: instance)
            let wanted = Set(parts.map(\.name))
            for gone in (state?.parts ?? []).reversed() where !wanted.contains(gone.name) {
                changes.append(Change(instance: instance.name, part: gone.name, recipe: gone.recipe, action: .remove,
                                      files: gone.files.map { .init(path: $0.path, action: .remove) }, options: [],
                                      refusal: refusal(dataAtRisk(in: [gone], instance: instance.name), allowDataLoss), reason: nil))
            }
            for part in parts {
                guard let recipe = Recipes.all[part.recipe] else {
                    throw MaterializeError(.invalidOption, "part '\(part.name)' of instance '\(instance.name)' uses unknown recipe '\(part.recipe)'")
                }
                let options = Dictionary(uniqueKeysWithValues: part.options.map { ($0.name, $0.value.canonicalJSON) })
                let hash = fingerprint(part, options: options, context: context)
                // A directory whose mode drifted (a tool reset a 0700 data directory to 0755) is
                // reinstalled, which sets the mode again; its contents are not touched.
                let drifted = (old[part.name]?.files ?? []).filter { file in
                    file.kind == .directory && filesystem.mode(root + "/" + instance.name + "/" + file.path).map { $0 != file.mode } == true
                }
                if let previous = old[part.name], previous.complete, previous.hash == hash, drifted.isEmpty {
                    unchanged += 1
                    target.parts.append(PartTarget(part: part, hash: hash, options: options, outputs: nil))
                    continue
                }
                let outputs = try recipe.outputs(part, context)
                let newPaths = Set(outputs.map(\.path))
                let oldPaths = Set(old[part.name]?.files.map(\.path) ?? [])
                var files = outputs.map { Change.FileChange(path: $0.path, action: oldPaths.contains($0.path) ? .update : .create) }
                var lost: [String] = []
                if let previous = old[part.name] {
                    let stale = previous.files.filter { !newPaths.contains($0.path) }
                    files += stale.map { .init(path: $0.path, action: .remove) }
                    lost = dataAtRisk(in: [InstalledPart(name: previous.name, recipe: previous.recipe, hash: "", complete: true,
                                                         options: [:], files: stale)], instance: instance.name)
                }
                changes.append(Change(instance: instance.name, part: part.name, recipe: part.recipe,
                                      action: old[part.name] == nil ? .create : .update, files: files,
                                      options: old[part.name].map { optionChanges(from: $0, to: part, options: options) } ?? [],
                                      refusal: refusal(lost, allowDataLoss),
                                      reason: drifted.first.map { file in
                                          let now = filesystem.mode(root + "/" + instance.name + "/" + file.path) ?? 0
                                          return "the mode of \(file.path) drifted from \(String(file.mode, radix: 8)) to \(String(now, radix: 8))"
                                      } ?? old[part.name].map { reason(previous: $0, options: options) } ?? nil))
                target.parts.append(PartTarget(part: part, hash: hash, options: options, outputs: outputs))
            }
            targets.append(target)
        }
        return Plan(changes: changes, unchanged: unchanged, targets: targets, removedInstances: removed)
    }

    /// The parts an instance installs: `stack.parts` of its partition, in order, typed by the compiler.
    func parts(of instance: Instance) throws(MaterializeError) -> [Part] {
        guard instance.partition != nil else {
            throw MaterializeError(.invalidOption, "instance '\(instance.name)' has no compiled profile")
        }
        return instance.recipeParts
    }

    /// The absolute queue directory of every instance with a `queue` part.
    func queueDirectories(_ graph: InstanceGraph) -> [String: String] {
        var queues: [String: String] = [:]
        for instance in graph.instances {
            guard let parts = try? parts(of: instance),
                  let queue = parts.first(where: { $0.recipe == QueueRecipe.name }), let path = queue.text(.path) else { continue }
            queues[instance.name] = root + "/" + instance.name + "/" + path
        }
        return queues
    }

    private func fingerprint(_ part: Part, options: [String: String], context: PartitionContext) -> String {
        var hasher = SHA256()
        let fields = ["recipe=" + part.recipe, "templates=" + templates.digest, "stackc=" + stackc, "root=" + root, "user=" + user]
            + options.keys.sorted().map { "option \($0)=" + (options[$0] ?? "") }
            + (part.recipe == NotifierRecipe.name ? part.words(.receivers).map { "queue=" + (context.queues[$0] ?? "") } : [])
        for field in fields { hasher.update(data: Data((field + "\n").utf8)) }
        return hasher.finalize().withUnsafeBytes { Hex.string($0) }
    }

    private func optionChanges(from previous: InstalledPart, to part: Part, options: [String: String]) -> [Change.OptionChange] {
        Set(previous.options.keys).union(options.keys).sorted().compactMap { name in
            guard previous.options[name] != options[name] else { return nil }
            let option = part.options.first { $0.name == name }
            return Change.OptionChange(option: name, old: previous.options[name], new: options[name],
                                       location: option?.authorLocation)
        }
    }

    private func reason(previous: InstalledPart, options: [String: String]) -> String? {
        if !previous.complete { return "an earlier install of this part did not finish" }
        if previous.options == options { return "its template, the stackc binary or the peers it names changed" }
        return nil
    }

    /// Directories holding data among these parts' files, with what is in them.
    private func dataAtRisk(in parts: [InstalledPart], instance: String) -> [String] {
        parts.flatMap(\.files).compactMap { file in
            guard file.kind == .directory, file.contents == .data else { return nil }
            let usage = filesystem.usage(of: root + "/" + instance + "/" + file.path)
            guard usage.files > 0 else { return nil }
            return "\(file.path) holds \(usage.files) file\(usage.files == 1 ? "" : "s") (\(ByteCount.format(usage.bytes)))"
        }
    }

    private func refusal(_ lost: [String], _ allowDataLoss: Bool) -> String? {
        guard !lost.isEmpty, !allowDataLoss else { return nil }
        return lost.joined(separator: "; ") + "; pass --allow-data-loss"
    }

    // MARK: - Apply

    /// Applies a plan: removals first, then each instance's parts in order, saving the state after
    /// every part so a run killed at any point converges when run again.
    public func apply(_ plan: Plan, allowDataLoss: Bool) throws(MaterializeError) {
        if let refused = plan.refused.first {
            throw MaterializeError(.dataLoss, "refusing to remove data of '\(refused.instance)'" + (refused.part.map { ", part '\($0)'" } ?? ""),
                               remedy: refused.refusal)
        }
        if !filesystem.exists(root) {
            do { try filesystem.fileSystem.createDirectories(root, mode: 0o755) } catch {
                throw .fileSystem("cannot create the root", error)
            }
        }
        // A run killed mid-write left its temporary file beside the target; this run rewrites the target.
        filesystem.sweepTemporaries(in: root)
        var rootState = loadRootState()
        let added = plan.targets.map(\.name).filter { !rootState.instances.contains($0) }
        if !added.isEmpty {
            // Recorded before anything is written, so a killed run still knows these instances are ours.
            rootState.instances = (rootState.instances + added).sorted()
            try saveRootState(rootState)
        }
        for name in plan.removedInstances {
            try removeInstance(name, allowDataLoss: allowDataLoss)
            rootState.instances.removeAll { $0 == name }
            try saveRootState(rootState)
        }
        for target in plan.targets {
            try apply(target, allowDataLoss: allowDataLoss)
        }
    }

    private func apply(_ target: InstanceTarget, allowDataLoss: Bool) throws(MaterializeError) {
        let directory = try filesystem.within(target.name)
        try io { () throws(SystemError) in try filesystem.makeDirectory(directory, mode: filesystem.mode(directory) ?? 0o755) }
        filesystem.sweepTemporaries(in: directory)
        let path = statePath(target.name)
        var state = try InstalledState.load(path, from: filesystem.fileSystem) ?? InstalledState(instance: target.name, parts: [])
        let wanted = Set(target.parts.map(\.part.name))
        for gone in state.parts.reversed() where !wanted.contains(gone.name) {
            try recipe(gone.recipe).uninstall(gone.files, in: filesystem, instance: target.name, allowDataLoss: allowDataLoss)
            state.parts.removeAll { $0.name == gone.name }
            try state.save(to: path, in: filesystem)
        }
        var ordered: [InstalledPart] = []
        for partTarget in target.parts {
            let previous = state.parts.first { $0.name == partTarget.part.name }
            guard let outputs = partTarget.outputs else {
                if let previous { ordered.append(previous) }
                continue
            }
            let recipe = try recipe(partTarget.part.recipe)
            for parent in Set(outputs.map { (Path.parent($0.path)) }) where !parent.isEmpty {
                filesystem.sweepTemporaries(in: directory + "/" + parent)
            }
            // Intent first: the part, incomplete, with every file it had or will have.
            let planned = outputs.map { InstalledFile(path: $0.path, kind: .file, mode: 0) }
            var record = InstalledPart(name: partTarget.part.name, recipe: partTarget.part.recipe, hash: partTarget.hash, complete: false,
                                       options: partTarget.options, files: (previous?.files ?? []) + planned.filter { p in previous?.files.contains { $0.path == p.path } != true })
            replace(&state, with: record)
            try state.save(to: path, in: filesystem)
            let installed = try recipe.install(outputs, in: filesystem, instance: target.name)
            if let previous {
                let kept = Set(installed.map(\.path))
                let stale = previous.files.filter { !kept.contains($0.path) }
                try self.recipe(previous.recipe).uninstall(stale, in: filesystem, instance: target.name, allowDataLoss: allowDataLoss)
            }
            record.files = installed
            record.complete = true
            replace(&state, with: record)
            try state.save(to: path, in: filesystem)
            ordered.append(record)
        }
        if state.parts.map(\.name) != ordered.map(\.name) {
            state.parts = ordered
            try state.save(to: path, in: filesystem)
        }
    }

    private func replace(_ state: inout InstalledState, with part: InstalledPart) {
        if let index = state.parts.firstIndex(where: { $0.name == part.name }) { state.parts[index] = part } else { state.parts.append(part) }
    }

    private func removeInstance(_ name: String, allowDataLoss: Bool) throws(MaterializeError) {
        let path = statePath(name)
        guard var state = try InstalledState.load(path, from: filesystem.fileSystem) else {
            filesystem.pruneEmptyDirectories(from: root + "/" + name, upTo: root)
            return
        }
        for part in state.parts.reversed() {
            try recipe(part.recipe).uninstall(part.files, in: filesystem, instance: name, allowDataLoss: allowDataLoss)
            state.parts.removeAll { $0.name == part.name }
            try state.save(to: path, in: filesystem)
        }
        try io { () throws(SystemError) in try filesystem.removeFile(path) }
        filesystem.pruneEmptyDirectories(from: root + "/" + name, upTo: root)
    }

    private func recipe(_ name: String) throws(MaterializeError) -> any Recipe {
        guard let recipe = Recipes.all[name] else { throw MaterializeError(.state, "the installed state names unknown recipe '\(name)'") }
        return recipe
    }

    private func statePath(_ instance: String) -> String { root + "/" + instance + "/" + InstalledState.fileName }

    private func saveRootState(_ state: RootState) throws(MaterializeError) {
        let data = try encoded(state)
        try io { () throws(SystemError) in try filesystem.write(data, to: root + "/" + RootState.fileName, mode: 0o644) }
    }

    private func loadRootState() -> RootState {
        let files = filesystem.fileSystem
        guard let data = try? files.readIfPresent(root + "/" + RootState.fileName),
              let state = try? ContractCoding.decode(RootState.self, from: data) else {
            // No record: whatever instance directories hold a state file are ours.
            let names = ((try? files.list(root)) ?? []).filter { files.exists(root + "/" + $0 + "/" + InstalledState.fileName) }
            return RootState(instances: names.sorted())
        }
        return state
    }
}

import Foundation
import StackModel
import StackSystem

/// Where a pull reads an export's dump. Local now (a sibling instance directory of the same
/// root); ssh and HTTP transports implement the same two calls.
public protocol DumpSource: Sendable {
    /// The sequence of the complete dump the export holds now (nil: none yet).
    func currentManifest() -> ExportManifest?
    /// Copies the export's current dump into `staging` (which it creates) and returns its manifest.
    func fetch(into staging: String) throws(RuntimeError) -> ExportManifest
}

/// Where a pull pushes a snapshot: the import's dump directory.
public protocol DumpTarget: Sendable {
    func currentSequence(software: String) -> Int?
    /// Puts the verified dump at `staging` in place of the import's, in one step.
    func push(from staging: String, manifest: ExportManifest) throws(RuntimeError)
}

/// A peer instance in the same root.
public struct LocalPeer: DumpSource, DumpTarget {
    public var context: JobContext
    public var instance: String

    public init(context: JobContext, instance: String) {
        self.context = context
        self.instance = instance
    }

    var layout: InstanceLayout { InstanceLayout(directory: context.layout.root + "/" + instance) }

    /// The export's dump directory: the one software directory in its `srv/backup/`.
    func dumpDirectory() throws(RuntimeError) -> DumpDirectory {
        let backup = layout.directory + "/srv/backup"
        let names = ((try? context.fileSystem.list(backup)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        guard let name = names.first, names.count == 1 else {
            throw RuntimeError(.layout, names.isEmpty ? "\(instance) has no dump directory in \(backup)" : "\(instance) has several dump directories in \(backup)",
                               remedy: "is \(instance) installed in \(context.layout.root)?")
        }
        return DumpDirectory(path: backup + "/" + name, fileSystem: context.fileSystem)
    }

    public func currentManifest() -> ExportManifest? {
        try? dumpDirectory().readManifest()
    }

    public func fetch(into staging: String) throws(RuntimeError) -> ExportManifest {
        let dump = try dumpDirectory()
        // The export swaps its dump under this lock: the copy is of one dump, never of two.
        let lock = try context.lockWaiting(layout.dumpLock)
        defer { lock.unlock() }
        let manifest = try dump.readManifest()
        try dump.link(to: staging)
        return manifest
    }

    public func currentSequence(software: String) -> Int? {
        (try? DumpDirectory(path: layout.dump(of: software), fileSystem: context.fileSystem).readManifest())?.sequence
    }

    public func push(from staging: String, manifest: ExportManifest) throws(RuntimeError) {
        guard context.fileSystem.isDirectory(layout.directory + "/srv/backup") else {
            throw RuntimeError(.layout, "\(instance) has no srv/backup directory in \(context.layout.root)", remedy: "is \(instance) installed there?")
        }
        let target = DumpDirectory(path: layout.dump(of: manifest.software), fileSystem: context.fileSystem)
        // What a killed push left (this pull-backup is the only one pushing here, under its worker lock).
        target.sweepStaging()
        let incoming = target.stagingPath("push")
        try DumpDirectory(path: staging, fileSystem: context.fileSystem).link(to: incoming)
        do {
            // The import links the dump it restores under this lock, so it never reads half of two.
            let lock = try context.lockWaiting(layout.dumpLock)
            defer { lock.unlock() }
            try target.replace(with: incoming)
        } catch {
            try? context.fileSystem.removeTree(incoming)
            throw error
        }
    }
}

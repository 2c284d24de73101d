import Foundation
import StackModel
import StackSystem

/// `stackc export`: the software's backup command into a fresh staging directory, the manifest,
/// one atomic swap into `srv/backup/<software>/`, then an entry in every receiver's queue.
/// Success means every receiver holds the entry.
public struct ExportJob: Sendable {
    public var context: JobContext
    public var software: String
    /// The dump directory and the backup command, as the wrapper passed them.
    public var dump: String
    public var command: String
    public var notifier: String
    public var epoch: Int

    public init(context: JobContext, software: String, dump: String, command: String, notifier: String, epoch: Int = 0) {
        self.context = context
        self.software = software
        self.dump = dump
        self.command = command
        self.notifier = notifier
        self.epoch = epoch
    }

    public struct Outcome: Sendable {
        public var manifest: ExportManifest
        public var bytes: Int64
        public var notified: [String]
        public var seconds: Double
    }

    public func run() throws(RuntimeError) -> Outcome {
        let context = self.context
        try context.prepare()
        let lock = try context.lockOrRefuse(context.layout.run + "/export.lock", what: "an export")
        defer { lock.unlock() }
        let started = context.now
        var record = context.load(ExportRecord.self, "export", default: ExportRecord())
        do {
            let outcome = try export(started: started, record: record)
            record.job.succeeded(at: context.now)
            record.sequence = outcome.manifest.sequence
            record.transaction = outcome.manifest.transaction
            record.dataTime = outcome.manifest.dataTime
            record.finished = outcome.manifest.finished
            record.bytes = outcome.bytes
            record.seconds = context.now.timeIntervalSince(started)
            try context.save(record, "export")
            let notified = try notify(outcome.manifest)
            context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "export", outcome: .applied,
                                            transaction: outcome.manifest.transaction, sequence: outcome.manifest.sequence,
                                            bytes: outcome.bytes, seconds: record.seconds,
                                            message: "notified " + (notified.isEmpty ? "no receiver" : notified.joined(separator: ", "))))
            return Outcome(manifest: outcome.manifest, bytes: outcome.bytes, notified: notified, seconds: record.seconds)
        } catch {
            record.job.failed(at: context.now, error.description)
            try? context.save(record, "export")
            context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "export", outcome: .failed, message: error.description))
            throw error
        }
    }

    private func export(started: Date, record: ExportRecord) throws(RuntimeError) -> (manifest: ExportManifest, bytes: Int64) {
        let layout = context.layout
        let fileSystem = context.fileSystem
        guard let dumpPath = layout.resolve(dump), let program = layout.resolve(command) else {
            throw RuntimeError(.layout, "--dump and --run must be paths inside the instance \(layout.directory)")
        }
        let target = DumpDirectory(path: dumpPath, fileSystem: fileSystem)
        target.sweepStaging()
        let previous = (try? target.readManifest())?.sequence ?? 0
        let sequence = max(previous, record.sequence) + 1
        let transaction = UUID().uuidString.lowercased()
        let staging = target.stagingPath("export")
        let factsPath = layout.scratch + "/export-facts.tsv"
        try? fileSystem.removeFile(factsPath)
        do { try fileSystem.createDirectories(Path.parent(staging), mode: 0o700); try fileSystem.createDirectory(staging, mode: 0o700) } catch {
            throw .io("cannot create the staging directory \(staging)", error)
        }
        var keep = false
        defer { if !keep { try? fileSystem.removeTree(staging); try? fileSystem.removeFile(factsPath) } }
        context.log.record(RuntimeEvent(time: started, instance: context.instance, step: "export", outcome: .started, transaction: transaction, sequence: sequence))

        let outcome: ProcessOutcome
        do {
            outcome = try context.run(context.underSoftwareLock(program, environment: ["STACKC_WORK": staging, "STACKC_FACTS": factsPath]))
        } catch {
            throw RuntimeError(.commandFailed, "the backup command \(command) could not be started", cause: error)
        }
        guard outcome.succeeded else {
            let tail = outcome.errorTail()
            context.world.logger.error("\(command) of \(context.instance) failed (\(outcome.termination)):\n\(tail)")
            throw RuntimeError(.commandFailed, "the backup command \(command) of \(context.instance) failed with \(outcome.termination)"
                               + (tail.isEmpty ? "" : ": " + (tail.split(separator: "\n").last.map(String.init) ?? "")),
                               remedy: "the previous dump \(previous == 0 ? "(none)" : String(previous)) is untouched and no receiver was notified; see \(layout.events)")
        }
        let facts = try fileSystem.exists(factsPath) ? FactsFile.parse(readFacts(factsPath)) : FactsFile.Parsed(dataTime: nil, facts: [])
        let staged = DumpDirectory(path: staging, fileSystem: fileSystem)
        let files = try staged.describe(cores: context.world.host.cores)
        let manifest = ExportManifest(instance: context.instance, software: software, sequence: sequence, epoch: epoch, started: started,
                                      finished: context.now, dataTime: facts.dataTime, files: files, facts: facts.facts, transaction: transaction)
        do {
            try fileSystem.write(try ContractCoding.pretty(manifest), to: staged.manifestPath, mode: 0o600, durability: .synced)
        } catch let error as SystemError {
            throw .io("cannot write the manifest \(staged.manifestPath)", error)
        } catch {
            throw RuntimeError(.io, "cannot encode the manifest", cause: ErrorText("\(error)"))
        }
        // A pull reading the old dump holds this lock while it links the files it copies.
        let swap = try context.lockWaiting(layout.dumpLock)
        defer { swap.unlock() }
        try target.replace(with: staging)
        keep = true
        try? fileSystem.removeFile(factsPath)
        return (manifest, files.reduce(0) { $0 + $1.size })
    }

    private func readFacts(_ path: String) throws(RuntimeError) -> Data {
        do { return try context.fileSystem.read(path) } catch { throw .io("cannot read the facts \(path)", error) }
    }

    /// One entry per receiver, each durable before the next; the first that cannot be written
    /// fails the export (the dump stays in place: the next export notifies everyone again).
    private func notify(_ manifest: ExportManifest) throws(RuntimeError) -> [String] {
        try Notify(context: context, notifier: notifier).send(kind: .dump, sequence: manifest.sequence, epoch: manifest.epoch,
                                                              transaction: manifest.transaction ?? "", snapshot: nil)
    }
}

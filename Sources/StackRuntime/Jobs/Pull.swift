import Foundation
import StackArchive
import StackModel
import StackSystem

/// `stackc pull`: for each notification (or, on a scheduled run with none, for a dump newer than
/// the last one pulled), copy the export's dump, verify every file against its manifest, store
/// it as a snapshot, apply retention, push it to the import and notify the import. Idempotent per
/// sequence: the archive is asked whether it holds the sequence, the import whether it has it.
public struct PullJob: Sendable {
    public var context: JobContext
    public var from: any DumpSource
    public var to: any DumpTarget
    public var archive: String
    public var queue: String
    public var notifier: String
    public var retention: RetentionPolicy
    public var retry: RetryPolicy

    public init(context: JobContext, from: any DumpSource, to: any DumpTarget, archive: String, queue: String, notifier: String,
                retention: RetentionPolicy, retry: RetryPolicy = .standard) {
        self.context = context
        self.from = from
        self.to = to
        self.archive = archive
        self.queue = queue
        self.notifier = notifier
        self.retention = retention
        self.retry = retry
    }

    public func run(random: inout some RandomNumberGenerator) throws(RuntimeError) -> QueueWorker.Report {
        try context.prepare()
        guard let queuePath = context.layout.resolve(queue) else { throw RuntimeError(.layout, "--queue must be a path inside the instance") }
        let worker = QueueWorker(context: context, queuePath: queuePath, retry: retry, step: "pull")
        return try worker.drain(random: &random, whenIdle: { () throws(RuntimeError) -> EntryResult in
            let record = context.load(PullRecord.self, "pull", default: PullRecord())
            guard let manifest = from.currentManifest(), manifest.sequence > record.notifiedSequence else {
                return .skipped("no new dump")
            }
            return try pull(sequence: manifest.sequence, transaction: manifest.transaction ?? "", epoch: manifest.epoch)
        }) { (entry: QueueEntry) throws(RuntimeError) -> EntryResult in
            try pull(sequence: entry.sequence, transaction: entry.transaction, epoch: entry.epoch)
        }
    }

    func pull(sequence: Int, transaction: String, epoch: Int) throws(RuntimeError) -> EntryResult {
        var record = context.load(PullRecord.self, "pull", default: PullRecord())
        if sequence <= record.notifiedSequence {
            return .skipped("sequence \(sequence) was already archived, pushed and notified (the last is \(record.notifiedSequence))")
        }
        do {
            let result = try pull(sequence: sequence, record: &record)
            record.job.succeeded(at: context.now)
            try context.save(record, "pull")
            return result
        } catch {
            record.job.failed(at: context.now, error.description)
            try? context.save(record, "pull")
            throw error
        }
    }

    private func pull(sequence: Int, record: inout PullRecord) throws(RuntimeError) -> EntryResult {
        let fileSystem = context.fileSystem
        let started = context.now
        let staging = context.layout.scratch + "/pull-" + UUID().uuidString.lowercased().prefix(8)
        sweepScratch()
        let manifest = try from.fetch(into: staging)
        defer { try? fileSystem.removeTree(staging) }
        if manifest.sequence < sequence {
            throw RuntimeError(.stale, "the export holds sequence \(manifest.sequence), older than the \(sequence) notified",
                               remedy: "the notified dump has not arrived; it is tried again")
        }
        if manifest.sequence <= record.notifiedSequence {
            return .skipped("the export's dump \(manifest.sequence) was already archived, pushed and notified")
        }
        guard let archivePath = context.layout.resolve(archive) else { throw RuntimeError(.layout, "--archive must be a path inside the instance") }
        let repository = try openArchive(archivePath)
        let transaction = manifest.transaction ?? ""
        var snapshotID: String
        var stored: Int64 = 0
        let failure = { (error: ArchiveError) in
            RuntimeError(.io, "cannot store dump \(manifest.sequence) of \(manifest.instance) in the archive \(archivePath)", cause: error)
        }
        let existing: SnapshotRecord?
        do { existing = try repository.catalog().records.first { $0.snapshot.source == manifest.instance && $0.snapshot.metadata["sequence"] == String(manifest.sequence) } } catch {
            throw failure(error)
        }
        if let existing {
            snapshotID = existing.id
        } else {
            // A dump whose bytes are not its manifest's is refused before anything is stored.
            try DumpDirectory(path: staging, fileSystem: fileSystem).verify(against: manifest, cores: context.world.host.cores)
            let metadata = ["sequence": String(manifest.sequence), "transaction": transaction, "epoch": String(manifest.epoch),
                            "instance": manifest.instance, "software": manifest.software,
                            "manifest": String(decoding: (try? ContractCoding.compact(manifest)) ?? Data(), as: UTF8.self)]
            do {
                let result = try repository.backup(staging, options: BackupOptions(source: manifest.instance, time: manifest.dataTime ?? manifest.finished,
                                                                                 metadata: metadata))
                snapshotID = result.record.id
                stored = result.storedBytes
                record.bytes = result.readBytes
                if !retention.isEmpty { _ = try repository.prune(retention, dryRun: false) }
            } catch {
                throw failure(error)
            }
        }
        record.archivedSequence = manifest.sequence
        record.snapshot = snapshotID
        record.transaction = transaction
        record.storedBytes = stored
        try context.save(record, "pull")
        context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "archive", outcome: .applied, transaction: transaction,
                                        source: manifest.instance, sequence: manifest.sequence, snapshot: snapshotID, bytes: stored))
        if (to.currentSequence(software: manifest.software) ?? 0) < manifest.sequence {
            try to.push(from: staging, manifest: manifest)
        }
        record.pushedSequence = manifest.sequence
        try context.save(record, "pull")
        context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "push", outcome: .applied, transaction: transaction,
                                        source: manifest.instance, sequence: manifest.sequence, snapshot: snapshotID))
        let notified = try Notify(context: context, notifier: notifier).send(kind: .snapshot, sequence: manifest.sequence, epoch: manifest.epoch,
                                                                             transaction: transaction, snapshot: snapshotID)
        record.notifiedSequence = manifest.sequence
        record.seconds = context.now.timeIntervalSince(started)
        return .applied("snapshot \(snapshotID.prefix(12)) of sequence \(manifest.sequence), pushed to and notified: \(notified.joined(separator: ", "))")
    }

    private func openArchive(_ path: String) throws(RuntimeError) -> Repository {
        let archiveContext = ArchiveContext(world: context.world)
        do {
            if context.fileSystem.exists(path + "/config.json") { return try Repository.open(path, context: archiveContext) }
            // The directory install made keeps its mode (0700): initializing must not widen it.
            let mode = context.fileSystem.info(path)?.mode
            let repository = try Repository.initialize(at: path, context: archiveContext)
            if let mode { try? context.fileSystem.setMode(mode, of: path) }
            return repository
        } catch {
            throw RuntimeError(.io, "cannot open the archive \(path)", cause: error)
        }
    }

    /// Staging copies a killed pull left behind.
    private func sweepScratch() {
        for name in (try? context.fileSystem.list(context.layout.scratch)) ?? [] where name.hasPrefix("pull-") {
            try? context.fileSystem.removeTree(context.layout.scratch + "/" + name)
        }
    }
}

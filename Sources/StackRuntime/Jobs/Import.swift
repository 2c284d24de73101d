import Foundation
import StackModel
import StackSystem

/// `stackc import`: for each notification (or, run by hand, for a pushed dump newer than the
/// standby holds), verify the dump against its manifest, run the software's restore command on
/// a linked copy, check the restored data against the manifest's facts, and record what the
/// standby now holds: sequence, snapshot, the data's point in time, lag (RPO) and restore time (RTO).
public struct ImportJob: Sendable {
    public var context: JobContext
    public var software: String
    public var dump: String
    public var command: String
    public var queue: String
    public var retry: RetryPolicy

    public init(context: JobContext, software: String, dump: String, command: String, queue: String, retry: RetryPolicy = .standard) {
        self.context = context
        self.software = software
        self.dump = dump
        self.command = command
        self.queue = queue
        self.retry = retry
    }

    public func run(random: inout some RandomNumberGenerator) throws(RuntimeError) -> QueueWorker.Report {
        try context.prepare()
        guard let queuePath = context.layout.resolve(queue) else { throw RuntimeError(.layout, "--queue must be a path inside the instance") }
        let worker = QueueWorker(context: context, queuePath: queuePath, retry: retry, step: "import")
        return try worker.drain(random: &random, whenIdle: { () throws(RuntimeError) -> EntryResult in
            try importDump(entry: nil)
        }) { (entry: QueueEntry) throws(RuntimeError) -> EntryResult in
            try importDump(entry: entry)
        }
    }

    func importDump(entry: QueueEntry?) throws(RuntimeError) -> EntryResult {
        let layout = context.layout
        let fileSystem = context.fileSystem
        guard let dumpPath = layout.resolve(dump), let program = layout.resolve(command) else {
            throw RuntimeError(.layout, "--dump and --run must be paths inside the instance \(layout.directory)")
        }
        var record = context.load(ImportRecord.self, "import", default: ImportRecord())
        let pushed = DumpDirectory(path: dumpPath, fileSystem: fileSystem)
        guard fileSystem.exists(pushed.manifestPath) else {
            if entry == nil { return .skipped("nothing pushed yet") }
            throw RuntimeError(.layout, "\(dumpPath) holds no pushed dump, though sequence \(entry!.sequence) was notified")
        }
        if entry == nil, let pending = try? pushed.readManifest(), pending.sequence <= record.sequence {
            return .skipped("nothing new pushed (the standby holds sequence \(record.sequence))")
        }
        for name in (try? fileSystem.list(layout.scratch)) ?? [] where name.hasPrefix("import-") {
            try? fileSystem.removeTree(layout.scratch + "/" + name)
        }
        let work = layout.scratch + "/import-" + UUID().uuidString.lowercased().prefix(8)
        do {
            // A push swaps the directory under this lock: the copy is of one dump.
            let lock = try context.lockWaiting(layout.dumpLock)
            defer { lock.unlock() }
            try pushed.link(to: work)
        }
        defer { try? fileSystem.removeTree(work) }
        let copy = DumpDirectory(path: work, fileSystem: fileSystem)
        let manifest = try copy.readManifest()
        if manifest.sequence <= record.sequence {
            return .skipped("sequence \(manifest.sequence) of \(manifest.instance) is not newer than the imported \(record.sequence); not imported again")
        }
        if let entry, manifest.sequence > entry.sequence {
            return .skipped("the pushed dump is already sequence \(manifest.sequence); its own notification imports it")
        }
        if let entry, manifest.sequence < entry.sequence {
            throw RuntimeError(.stale, "the pushed dump is sequence \(manifest.sequence), older than the \(entry.sequence) notified", remedy: "it is tried again")
        }
        do {
            try restore(copy, manifest: manifest, program: program, snapshot: entry?.snapshot, record: &record)
            return .applied("sequence \(manifest.sequence) restored and verified in \(String(format: "%.1f", record.restoreSeconds ?? 0)) s, lag \(String(format: "%.1f", record.lagSeconds ?? 0)) s")
        } catch {
            record.job.failed(at: context.now, error.description)
            try? context.save(record, "import")
            throw error
        }
    }

    private func restore(_ copy: DumpDirectory, manifest: ExportManifest, program: String, snapshot: String?, record: inout ImportRecord) throws(RuntimeError) {
        let layout = context.layout
        let fileSystem = context.fileSystem
        try copy.verify(against: manifest, cores: context.world.host.cores)
        let expected = layout.scratch + "/import-expected.tsv"
        let actual = layout.scratch + "/import-facts.tsv"
        do {
            try fileSystem.write(FactsFile.rows(manifest.facts), to: expected, mode: 0o600, durability: .whole)
            try? fileSystem.removeFile(actual)
        } catch { throw .io("cannot write \(expected)", error) }
        let started = context.now
        context.log.record(RuntimeEvent(time: context.now, instance: context.instance, step: "restore", outcome: .started,
                                        transaction: manifest.transaction, source: manifest.instance, sequence: manifest.sequence, snapshot: snapshot))
        let outcome: ProcessOutcome
        do {
            outcome = try context.run(context.underSoftwareLock(program, environment: ["STACKC_WORK": copy.path, "STACKC_EXPECTED_FACTS": expected,
                                                                                     "STACKC_FACTS": actual]))
        } catch {
            throw RuntimeError(.commandFailed, "the restore command \(command) could not be started", cause: error)
        }
        let seconds = context.now.timeIntervalSince(started)
        guard outcome.succeeded else {
            let tail = outcome.errorTail()
            context.world.logger.error("\(command) of \(context.instance) failed (\(outcome.termination)):\n\(tail)")
            throw RuntimeError(.commandFailed, "the restore command \(command) of \(context.instance) failed with \(outcome.termination) on sequence \(manifest.sequence)"
                               + (tail.isEmpty ? "" : ": " + (tail.split(separator: "\n").last.map(String.init) ?? "")),
                               remedy: "the standby keeps sequence \(record.sequence == 0 ? "none" : String(record.sequence)); see \(layout.events)")
        }
        if !manifest.facts.isEmpty {
            let restored: FactsFile.Parsed
            do { restored = try FactsFile.parse(try fileSystem.read(actual)) } catch let error as SystemError {
                throw RuntimeError(.factsMismatch, "the restore command wrote no facts to check sequence \(manifest.sequence) against", cause: error)
            } catch let error as RuntimeError { throw error } catch { throw RuntimeError(.io, "\(error)") }
            let differences = Self.differences(expected: manifest.facts, actual: restored.facts)
            guard differences.isEmpty else {
                throw RuntimeError(.factsMismatch, "the restored data of sequence \(manifest.sequence) does not match its manifest: " + differences.prefix(5).joined(separator: "; "),
                                   remedy: "the import is failed and the standby not promotable until a restore verifies")
            }
        }
        let now = context.now
        record.job.succeeded(at: now)
        record.sequence = manifest.sequence
        record.snapshot = snapshot
        record.transaction = manifest.transaction
        record.dataTime = manifest.dataTime ?? manifest.finished
        record.imported = now
        record.lagSeconds = now.timeIntervalSince(record.dataTime ?? now)
        record.restoreSeconds = seconds
        record.bytes = manifest.files.reduce(0) { $0 + $1.size }
        try context.save(record, "import")
        let line = ImportHistoryLine(sequence: manifest.sequence, transaction: manifest.transaction, snapshot: snapshot, imported: now, restoreSeconds: seconds)
        if let data = try? ContractCoding.line(line) { try? fileSystem.append(data, to: layout.importHistory) }
        context.log.record(RuntimeEvent(time: now, instance: context.instance, step: "restore", outcome: .applied, transaction: manifest.transaction,
                                        source: manifest.instance, sequence: manifest.sequence, snapshot: snapshot, bytes: record.bytes, seconds: seconds))
    }

    static func differences(expected: [ExportManifest.DatabaseFacts], actual: [ExportManifest.DatabaseFacts]) -> [String] {
        let found = Dictionary(actual.map { ($0.database, $0.rowCounts) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        for database in expected {
            let restored = found[database.database] ?? [:]
            for (table, count) in database.rowCounts.sorted(by: { $0.key < $1.key }) {
                let got = restored[table]
                if got != count { problems.append("\(database.database).\(table) has \(got.map(String.init) ?? "no") rows, the dump \(count)") }
            }
        }
        return problems
    }
}

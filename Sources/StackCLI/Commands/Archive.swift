import ArgumentParser
import Foundation
import CLinux
import StackArchive
import StackModel
import StackSystem

/// `stackc archive …`: the pull-backup's historical archive, usable on its own.
struct ArchiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Incremental, deduplicated, zstd-compressed snapshots of a directory (docs/ARCHIVE.md).",
        subcommands: [Init.self, Backup.self, List.self, Verify.self, Restore.self, Prune.self, Diff.self])

    /// Runs an archive operation (its failure maps to its exit status in `Exit`). With
    /// `waitingForLock` seconds, a lock another process holds is tried again until then (every
    /// operation takes its lock before it changes anything, so it is simply run again).
    static func run<T>(waitingForLock seconds: Double = 0, _ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        let clock = CLI.world.clock
        let deadline = clock.date.addingTimeInterval(seconds)
        var pause = 0.1
        var waiting = false
        while true {
            do {
                return try body()
            } catch where error.kind == .locked && clock.date < deadline {
                if !waiting { CLI.logger.notice("\(error.message); waiting up to \(Int(seconds.rounded(.up))) s for it") }
                waiting = true
                clock.sleepBlocking(for: .milliseconds(Int64(1000 * min(pause, deadline.timeIntervalSince(clock.date)))))
                pause = min(pause * 2, 2)
            }
        }
    }

    /// The archive's world: the CLI's, with progress only where asked for and on a terminal.
    static func context(quiet: Bool = false) -> ArchiveContext {
        var context = ArchiveContext(world: CLI.world)
        if quiet { context.progress = NoProgress() }
        return context
    }

    /// `--retry-lock`, for every verb that locks the repository.
    struct LockWaiting: ParsableArguments {
        @Option(help: ArgumentHelp("Wait up to this long for a lock another process holds, trying again meanwhile (default: fail at once).", valueName: "seconds"))
        var retryLock: Double?
    }


    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an empty repository.")
        @Argument(help: "The repository directory (absent or empty).") var repository: String
        @Option(help: ArgumentHelp("Average chunk size (a power of two is used; default 128 KiB).", valueName: "bytes")) var chunkSize = 128 << 10
        @Option(help: "zstd compression level, 1–19.") var level = 3

        func run() throws {
            let repository = try ArchiveCommand.run { () throws(ArchiveError) in
                try Repository.initialize(at: self.repository, chunkSize: chunkSize, level: level, context: ArchiveCommand.context())
            }
            write("initialized \(self.repository) (chunks \(repository.config.chunker.minimum >> 10)–\(repository.config.chunker.maximum >> 10) KiB, average \(repository.config.chunker.average >> 10) KiB; zstd level \(repository.config.compressionLevel))\n")
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "backup", abstract: "Store a directory as a new snapshot.")
        @Argument(help: "The repository.") var repository: String
        @Argument(help: "The directory to back up.") var directory: String
        @Option(help: "The source the snapshot copies (retention applies per source; default: the directory's path).") var source: String?
        @Option(help: "The time the data was taken, ISO 8601 (default: now).") var time: String?
        @Option(help: "A JSON object of strings recorded in the manifest (e.g. the export's manifest).") var metadataFile: String?
        @Flag(help: "Do not read each new chunk back before referencing it.") var noReadback = false
        @OptionGroup var lock: LockWaiting
        @Flag(help: "No progress on stderr.") var quiet = false

        func run() throws {
            // Chunk-sized buffers are mapped and unmapped, not kept in per-thread malloc arenas
            // whose high-water mark would grow with the amount of data: memory stays flat.
            stackc_bound_malloc()
            let result = try ArchiveCommand.run(waitingForLock: lock.retryLock ?? 0) { () throws(ArchiveError) in
                let repository = try Repository.open(self.repository, context: ArchiveCommand.context(quiet: quiet))
                var date: Date?
                if let time {
                    guard let parsed = ISO8601DateFormatter().date(from: time) else { throw ArchiveError(.usage, "--time '\(time)' is not ISO 8601 (2026-11-23T10:00:00Z)") }
                    date = parsed
                }
                var metadata: [String: String] = [:]
                if let metadataFile {
                    guard let data = FileManager.default.contents(atPath: metadataFile),
                          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                        throw ArchiveError(.usage, "--metadata-file '\(metadataFile)' is not a JSON object")
                    }
                    // Strings as they are; anything else (numbers, the export's list of files) as compact JSON.
                    for (key, value) in object {
                        metadata[key] = value as? String
                            ?? (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) }
                            ?? "\(value)"
                    }
                }
                let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
                return try repository.backup(directory, options: BackupOptions(source: source ?? absolute, time: date, metadata: metadata, readback: !noReadback))
            }
            let snapshot = result.record.snapshot
            write("snapshot \(result.record.shortID) of \(snapshot.source): \(counted(snapshot.fileCount, "file")), \(ByteCount.format(snapshot.totalSize)); "
                  + "\(counted(result.newChunks, "new chunk")) (\(ByteCount.format(result.storedBytes)) stored), \(result.reusedChunks) reused, "
                  + "\(counted(result.unchangedFiles, "file")) unchanged\n")
            finishSuccessfully()
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List snapshots, oldest first (by the time in their manifest).")
        @Argument(help: "The repository.") var repository: String
        @Option(help: "Only this source.") var source: String?
        @Option(help: "text or json.") var format: TextOrJSON = .text

        /// Readable snapshots grouped by source (each oldest first), then the damaged ones, which
        /// are listed — never hidden — and make the listing exit 2, as verify does.
        func run() throws {
            let catalog = try ArchiveCommand.run { () throws(ArchiveError) in try Repository.open(repository, context: ArchiveCommand.context()).catalog() }
            let records = catalog.records.filter { source == nil || $0.snapshot.source == source }
            if format == .json {
                write(JSONPrinter.print(.object([
                    ("snapshots", .list(records.map { record in
                        .object([("id", .string(record.id)), ("time", .string(Timestamp.format(record.snapshot.time))),
                                 ("source", .string(record.snapshot.source)), ("files", .number(String(record.snapshot.fileCount))),
                                 ("size", .number(String(record.snapshot.totalSize))), ("parent", record.snapshot.parent.map(Tree.string) ?? .null),
                                 ("host", .string(record.snapshot.hostname)),
                                 ("metadata", .object(record.snapshot.metadata.sorted { $0.key < $1.key }.map { ($0.key, Tree.string($0.value)) }))])
                    })),
                    ("damaged", .list(catalog.damaged.map { .object([("id", .string($0.id)), ("reason", .string($0.reason))]) })),
                ])))
            } else {
                var out = "id            time                   files        size  source\n"
                let grouped = records.enumerated().sorted { ($0.element.snapshot.source, $0.offset) < ($1.element.snapshot.source, $1.offset) }.map(\.element)
                for record in grouped {
                    let time = ISO8601DateFormatter().string(from: record.snapshot.time)
                    out += "\(record.shortID)  \(time)  \(String(record.snapshot.fileCount).leftPadded(7))  \(ByteCount.format(record.snapshot.totalSize).leftPadded(10))  \(record.snapshot.source)\n"
                }
                for damaged in catalog.damaged { out += "\(damaged.shortID)  DAMAGED: \(damaged.reason)\n" }
                write(out)
            }
            guard catalog.damaged.isEmpty else {
                FileHandle.standardError.write(Data("error: \(counted(catalog.damaged.count, "damaged snapshot")) in \(repository); run 'stackc archive verify'\n".utf8))
                throw Exit.runtimeFailure
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Read every chunk and check every snapshot; exit 2 on any damage.")
        @Argument(help: "The repository.") var repository: String
        @Flag(help: "No progress on stderr.") var quiet = false
        @OptionGroup var lock: LockWaiting

        func run() throws {
            let report = try ArchiveCommand.run(waitingForLock: lock.retryLock ?? 0) { () throws(ArchiveError) in
                try Repository.open(repository, context: ArchiveCommand.context(quiet: quiet)).verify()
            }
            var out = ""
            for problem in report.problems {
                out += "\(problem.kind): \(problem.detail)\n"
                for (snapshot, path) in problem.breaks { out += "  breaks snapshot \(snapshot): \(path)\n" }
            }
            out += "\(counted(report.chunksChecked, "chunk")) (\(ByteCount.format(report.bytesChecked))) and \(counted(report.snapshotsChecked, "snapshot")) checked: "
                + (report.isHealthy ? "no damage\n" : "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")\n")
            if report.isHealthy { write(out) } else {
                FileHandle.standardError.write(Data(out.utf8))
                throw Exit.runtimeFailure
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore", abstract: "Restore a snapshot, or the paths matching patterns, into a directory.")
        @Argument(help: "The repository.") var repository: String
        @Argument(help: "A snapshot id (or unique prefix), or 'latest'.") var snapshot: String
        @Argument(help: "The directory to restore into (absent or empty, unless --force).") var target: String
        @Option(name: .customLong("include"), help: "Restore only paths matching this pattern (repeatable; '*' crosses '/').") var patterns: [String] = []
        @Option(help: "With 'latest': the latest of this source (required when the repository holds several).") var source: String?
        @Flag(help: "With 'latest': when a manifest is damaged, take the newest readable snapshot instead of refusing.") var skipDamaged = false
        @Flag(help: "Replace a non-empty target (atomically, once everything is restored).") var force = false
        @OptionGroup var lock: LockWaiting
        @Flag(help: "No progress on stderr.") var quiet = false

        func run() throws {
            let (record, restored) = try ArchiveCommand.run(waitingForLock: lock.retryLock ?? 0) { () throws(ArchiveError) in
                let repository = try Repository.open(self.repository, context: ArchiveCommand.context(quiet: quiet))
                let record = try repository.snapshot(snapshot, source: source, skipDamaged: skipDamaged)
                return (record, try repository.restore(record, to: target, patterns: patterns, force: force))
            }
            write("restored snapshot \(record.shortID): \(counted(restored.files, "file")), \(ByteCount.format(restored.bytes)) into \(target)\n")
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove snapshots a retention policy does not keep, and reclaim their chunks.")
        @Argument(help: "The repository.") var repository: String
        @Option(help: ArgumentHelp("Keep the N newest snapshots of each source.", valueName: "n")) var keepLast = 0
        @Option(help: ArgumentHelp("Keep the newest snapshot of each of the last N hours.", valueName: "n")) var keepHourly = 0
        @Option(help: ArgumentHelp("… of each of the last N days.", valueName: "n")) var keepDaily = 0
        @Option(help: ArgumentHelp("… of each of the last N ISO weeks.", valueName: "n")) var keepWeekly = 0
        @Option(help: ArgumentHelp("… of each of the last N months.", valueName: "n")) var keepMonthly = 0
        @Option(help: ArgumentHelp("Drop the oldest snapshots until the kept ones use at most this many stored bytes.", valueName: "bytes")) var maxSize: Int64?
        @Option(help: ArgumentHelp("The time zone of calendar buckets.", valueName: "zone")) var timeZone = "UTC"
        @Option(help: ArgumentHelp("Remove this snapshot (an id, unique prefix or 'latest'; repeatable), even the newest; with no --keep-* or --max-size, only these go.", valueName: "snapshot"))
        var forget: [String] = []
        @Flag(help: "Remove damaged snapshots (and what only they used) instead of refusing to prune.") var forgetDamaged = false
        @Flag(help: "Show what would be removed; change nothing.") var dryRun = false
        @OptionGroup var lock: LockWaiting

        func run() throws {
            let result = try ArchiveCommand.run(waitingForLock: lock.retryLock ?? 0) { () throws(ArchiveError) in
                guard let zone = TimeZone(identifier: timeZone) else { throw ArchiveError(.usage, "unknown time zone '\(timeZone)'") }
                var policy = RetentionPolicy(last: keepLast, hourly: keepHourly, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly, maxSize: maxSize)
                policy.timeZone = zone
                policy.forget = forget
                policy.forgetDamaged = forgetDamaged
                return try Repository.open(repository, context: ArchiveCommand.context()).prune(policy, dryRun: dryRun)
            }
            var out = ""
            for (record, reasons) in result.kept { out += "keep    \(record.shortID)  \(ISO8601DateFormatter().string(from: record.snapshot.time))  \(record.snapshot.source)  (\(reasons.joined(separator: ", ")))\n" }
            for damaged in result.removedDamaged { out += "\(dryRun ? "would remove" : "remove") \(damaged.shortID)  (damaged: \(damaged.reason))\n" }
            for record in result.removed { out += "\(dryRun ? "would remove" : "remove") \(record.shortID)  \(ISO8601DateFormatter().string(from: record.snapshot.time))  \(record.snapshot.source)\n" }
            let removedCount = result.removed.count + result.removedDamaged.count
            out += "\(removedCount) snapshot\(removedCount == 1 ? "" : "s") \(dryRun ? "would be " : "")removed, "
                + "\(counted(result.reclaimedChunks, "chunk")) (\(ByteCount.format(result.reclaimedBytes))) \(dryRun ? "reclaimable" : "reclaimed")\n"
            write(out)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "Paths added (+), removed (-) and modified (M) between two snapshots.")
        @Argument(help: "The repository.") var repository: String
        @Argument(help: "The older snapshot.") var from: String
        @Argument(help: "The newer snapshot.") var to: String
        @OptionGroup var lock: LockWaiting

        func run() throws {
            let changes = try ArchiveCommand.run(waitingForLock: lock.retryLock ?? 0) { () throws(ArchiveError) in
                let repository = try Repository.open(self.repository, context: ArchiveCommand.context())
                return try repository.diff(try repository.snapshot(from), try repository.snapshot(to))
            }
            write(changes.map { "\($0.change) \($0.path)\n" }.joined())
        }
    }
}

/// "1 file", "2 files".
func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

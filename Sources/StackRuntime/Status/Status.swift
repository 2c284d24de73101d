import Foundation
import StackModel
import StackSystem

/// What `stackc status` reports: per instance, its role, services, jobs, queue and the data it
/// holds. The JSON keys are a public contract (README, "status"): added to, never renamed.
public struct StackStatus: Codable, Sendable {
    public struct Service: Codable, Sendable {
        public var name: String
        /// running or stopped (as the running `up` knows it).
        public var state: String
        public var address: String?
        public var port: Int?
        /// A connection string a local client uses as is (postgres: a libpq DSN).
        public var dsn: String?
        public var pid: Int32?
    }

    public struct Job: Codable, Sendable {
        public var name: String
        public var lastSuccess: Date?
        public var lastFailure: Date?
        public var lastError: String?
        public var failing: Bool
    }

    public struct SetAside: Codable, Sendable {
        public var id: String
        public var source: String
        public var sequence: Int
        public var attempts: Int
        public var lastError: String?
    }

    public struct Queue: Codable, Sendable {
        public var depth: Int
        public var inProgress: Int
        public var setAside: [SetAside]
        public var corrupt: [String]
    }

    public struct Exported: Codable, Sendable {
        public var sequence: Int
        public var transaction: String?
        public var dataTime: Date?
        public var finished: Date?
        public var bytes: Int64
    }

    public struct Archived: Codable, Sendable {
        public var sequence: Int
        public var snapshot: String?
        public var pushedSequence: Int
        public var storedBytes: Int64
    }

    public struct Imported: Codable, Sendable {
        public var sequence: Int
        public var snapshot: String?
        public var transaction: String?
        public var dataTime: Date?
        public var imported: Date?
        /// Now minus the data's point in time: the RPO if the export were lost now.
        public var lagSeconds: Double?
        public var restoreSeconds: Double?
    }

    public struct Instance: Codable, Sendable {
        public var name: String
        public var role: String
        public var services: [Service]
        public var jobs: [Job]
        public var queue: Queue?
        public var exported: Exported?
        public var archived: Archived?
        public var imported: Imported?
        public var problems: [String]
    }

    public var root: String
    public var time: Date
    public var instances: [Instance]
    /// Every problem of every instance: status exits non-zero when there is one.
    public var problems: [String]
    public var healthy: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey { case root, time, instances, problems, healthy }

    public init(root: String, time: Date, instances: [Instance], problems: [String]) {
        self.root = root
        self.time = time
        self.instances = instances
        self.problems = problems
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        root = try container.decode(String.self, forKey: .root)
        time = try container.decode(Date.self, forKey: .time)
        instances = try container.decode([Instance].self, forKey: .instances)
        problems = try container.decode([String].self, forKey: .problems)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(root, forKey: .root)
        try container.encode(time, forKey: .time)
        try container.encode(instances, forKey: .instances)
        try container.encode(problems, forKey: .problems)
        try container.encode(healthy, forKey: .healthy)
    }
}

/// Reads a root's instances as the jobs and `up` left them.
public struct StatusReader: Sendable {
    public var fileSystem: any FileSystem
    public var root: String
    public var now: Date

    public init(fileSystem: any FileSystem, root: String, now: Date) {
        self.fileSystem = fileSystem
        self.root = root
        self.now = now
    }

    public func read() throws(RuntimeError) -> StackStatus {
        let listing: RootState
        do {
            listing = try ContractCoding.decode(RootState.self, from: try fileSystem.read(root + "/" + RootState.fileName))
        } catch {
            throw RuntimeError(.layout, "\(root) holds no installed stack (no \(RootState.fileName))", remedy: "run 'stackc install' or 'stackc up' first")
        }
        let up = (try? fileSystem.read(root + "/.stackc-up.json")).flatMap { try? ContractCoding.decode(UpRecord.self, from: $0) }
        let upRunning = up.map { processStartTime($0.pid) != nil } ?? false
        var instances: [StackStatus.Instance] = []
        for name in listing.instances.sorted() {
            instances.append(instance(name, up: upRunning ? up : nil))
        }
        return StackStatus(root: root, time: now, instances: instances, problems: instances.flatMap { instance in instance.problems.map { "\(instance.name): \($0)" } })
    }

    private func instance(_ name: String, up: UpRecord?) -> StackStatus.Instance {
        let layout = InstanceLayout(directory: root + "/" + name)
        let records = InstanceRecords(fileSystem: fileSystem, root: root)
        let role = fileSystem.exists(layout.directory + "/bin/exporter") ? "export"
            : fileSystem.exists(layout.directory + "/bin/importer") ? "import"
            : fileSystem.exists(layout.directory + "/bin/pull") ? "pull-backup" : "plain"
        var problems: [String] = []
        var services: [StackStatus.Service] = []
        for file in ((try? fileSystem.list(layout.services)) ?? []).sorted() where file.hasSuffix(".json") {
            guard let data = try? fileSystem.read(layout.services + "/" + file),
                  let definition = try? ContractCoding.decode(ServiceDefinition.self, from: data) else { continue }
            let process = up?.processes.first { $0.instance == name && $0.name == definition.name && processStartTime($0.pid) == $0.startTime }
            services.append(.init(name: definition.name, state: process == nil ? "stopped" : "running", address: definition.address,
                                  port: definition.port, dsn: definition.connection, pid: process?.pid))
            if up != nil && process == nil { problems.append("service \(definition.name) is not running") }
        }
        var jobs: [StackStatus.Job] = []
        func job(_ outcome: JobOutcome?, _ job: String) {
            guard let outcome else { return }
            jobs.append(.init(name: job, lastSuccess: outcome.lastSuccess, lastFailure: outcome.lastFailure, lastError: outcome.lastError, failing: outcome.failing))
            if outcome.failing { problems.append("\(job) failing since \(outcome.lastFailure.map(Timestamp.format) ?? "?"): \(outcome.lastError ?? "")") }
        }
        var exported: StackStatus.Exported?
        var archived: StackStatus.Archived?
        var imported: StackStatus.Imported?
        if let record = records.load(ExportRecord.self, name, "export") {
            job(record.job, "export")
            exported = .init(sequence: record.sequence, transaction: record.transaction, dataTime: record.dataTime, finished: record.finished, bytes: record.bytes)
        }
        if let record = records.load(PullRecord.self, name, "pull") {
            job(record.job, "pull")
            archived = .init(sequence: record.archivedSequence, snapshot: record.snapshot, pushedSequence: record.pushedSequence, storedBytes: record.storedBytes)
        }
        if let record = records.load(ImportRecord.self, name, "import") {
            job(record.job, "import")
            imported = .init(sequence: record.sequence, snapshot: record.snapshot, transaction: record.transaction, dataTime: record.dataTime,
                             imported: record.imported, lagSeconds: record.dataTime.map { now.timeIntervalSince($0) }, restoreSeconds: record.restoreSeconds)
        }
        if role == "export" && exported == nil { exported = .init(sequence: 0, transaction: nil, dataTime: nil, finished: nil, bytes: 0) }
        if role == "import" && imported == nil { imported = .init(sequence: 0, snapshot: nil, transaction: nil, dataTime: nil, imported: nil, lagSeconds: nil, restoreSeconds: nil) }
        var queue: StackStatus.Queue?
        let queuePath = layout.directory + "/var/queue"
        if fileSystem.isDirectory(queuePath) {
            let spool = Spool(directory: queuePath, fileSystem: fileSystem, clock: SystemClock(), holder: "status")
            let aside = spool.setAside.map { StackStatus.SetAside(id: $0.entry.id, source: $0.entry.source, sequence: $0.entry.sequence,
                                                                  attempts: $0.entry.attempts, lastError: $0.entry.lastError) }
            queue = .init(depth: spool.waiting.count, inProgress: spool.inProgress.count, setAside: aside, corrupt: spool.corrupted)
            for entry in aside { problems.append("queue entry \(entry.id) set aside after \(entry.attempts) attempts: \(entry.lastError ?? "")") }
            if !spool.corrupted.isEmpty { problems.append("\(spool.corrupted.count) corrupt queue file(s) in \(queuePath)/corrupt") }
        }
        return .init(name: name, role: role, services: services, jobs: jobs, queue: queue, exported: exported, archived: archived,
                     imported: imported, problems: problems)
    }
}

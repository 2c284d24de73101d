import Foundation
import StackModel
import StackSystem

/// One full cycle of `up --once`: every export once, then every import applied or failed.
public struct CycleReport: Sendable {
    public struct Step: Sendable {
        public var instance: String
        public var step: String
        public var detail: String
        public var bytes: Int64?
        public var seconds: Double?
        public var failed: Bool
    }

    public var steps: [Step] = []
    /// Each export's sequence after its run.
    public var exported: [String: Int] = [:]
    /// Each import's sequence at the end.
    public var imported: [String: Int] = [:]
    public var lag: [String: Double] = [:]
    public var restore: [String: Double] = [:]
    public var failures: [String] = []

    /// Every import holds its export's latest dump.
    public var complete: Bool { failures.isEmpty && !imported.isEmpty && imported.allSatisfy { $0.value > 0 } }
}

/// The records the jobs keep, read from outside them (status, the cycle).
public struct InstanceRecords: Sendable {
    public var fileSystem: any FileSystem
    public var root: String

    public init(fileSystem: any FileSystem, root: String) {
        self.fileSystem = fileSystem
        self.root = root
    }

    public func load<Record: Decodable>(_ type: Record.Type, _ instance: String, _ job: String) -> Record? {
        let layout = InstanceLayout(directory: root + "/" + instance)
        guard let data = try? fileSystem.read(layout.record(job)) else { return nil }
        return try? ContractCoding.decode(type, from: data)
    }
}

extension UpSession {
    /// Runs every export once (through the overlap guard its schedule uses), then waits until
    /// each import holds that sequence or a step on its way failed; `step` gets each line as it
    /// happens.
    public func runCycle(pushes: [String: String], timeout: Double = 3600, step: @escaping @Sendable (CycleReport.Step) -> Void) async -> CycleReport {
        var report = CycleReport()
        let records = InstanceRecords(fileSystem: world.fileSystem, root: plan.root)
        let began = world.clock.date
        for (export, command) in plan.exports.sorted(by: { $0.key < $1.key }) {
            let key = plan.scheduled.first { $0.instance == export && $0.command == command }?.name ?? export + "-export"
            let status = await runJob(key, instance: export, command: command)
            let record = records.load(ExportRecord.self, export, "export")
            if status == 0, let record {
                report.exported[export] = record.sequence
                let line = CycleReport.Step(instance: export, step: "export", detail: "sequence \(record.sequence)", bytes: record.bytes, seconds: record.seconds, failed: false)
                report.steps.append(line)
                step(line)
            } else {
                let message = record?.job.lastError ?? "bin/exporter exited with status \(status.map(String.init) ?? "none (skipped)")"
                let line = CycleReport.Step(instance: export, step: "export", detail: message, bytes: nil, seconds: nil, failed: true)
                report.steps.append(line)
                report.failures.append("\(export): \(message)")
                step(line)
            }
        }
        var waiting = Set(plan.imports.keys.filter { report.exported[plan.imports[$0]!] != nil })
        for name in plan.imports.keys where !waiting.contains(name) { report.imported[name] = 0 }
        var pullsReported: Set<String> = []
        while !waiting.isEmpty {
            for (pullBackup, export) in plan.pullBackups.sorted(by: { $0.key < $1.key }) where !pullsReported.contains(pullBackup) {
                guard let target = report.exported[export], let record = records.load(PullRecord.self, pullBackup, "pull") else { continue }
                if record.notifiedSequence >= target {
                    pullsReported.insert(pullBackup)
                    let line = CycleReport.Step(instance: pullBackup, step: "pull",
                                                detail: "snapshot \(record.snapshot?.prefix(12) ?? "?") (\(ByteCount.format(record.storedBytes)) new of \(ByteCount.format(record.bytes)))",
                                                bytes: record.bytes, seconds: record.seconds, failed: false)
                    report.steps.append(line)
                    step(line)
                } else if let failure = record.job.lastFailure, failure > began, record.job.failing {
                    pullsReported.insert(pullBackup)
                    let message = record.job.lastError ?? "failed"
                    let line = CycleReport.Step(instance: pullBackup, step: "pull", detail: message, bytes: nil, seconds: nil, failed: true)
                    report.steps.append(line)
                    step(line)
                    if let standby = pushes[pullBackup], waiting.remove(standby) != nil {
                        report.failures.append("\(pullBackup): \(message)")
                        report.imported[standby] = records.load(ImportRecord.self, standby, "import")?.sequence ?? 0
                    }
                }
            }
            for standby in waiting.sorted() {
                guard let target = report.exported[plan.imports[standby]!] else { continue }
                let record = records.load(ImportRecord.self, standby, "import")
                if let record, record.sequence >= target {
                    waiting.remove(standby)
                    report.imported[standby] = record.sequence
                    report.lag[standby] = record.lagSeconds
                    report.restore[standby] = record.restoreSeconds
                    let line = CycleReport.Step(instance: standby, step: "import",
                                                detail: "sequence \(record.sequence) restored and verified, lag \(String(format: "%.1f", record.lagSeconds ?? 0)) s",
                                                bytes: record.bytes, seconds: record.restoreSeconds, failed: false)
                    report.steps.append(line)
                    step(line)
                } else if let record, let failure = record.job.lastFailure, failure > began, record.job.failing {
                    waiting.remove(standby)
                    report.imported[standby] = record.sequence
                    let message = record.job.lastError ?? "failed"
                    report.failures.append("\(standby): \(message)")
                    let line = CycleReport.Step(instance: standby, step: "import", detail: message, bytes: nil, seconds: nil, failed: true)
                    report.steps.append(line)
                    step(line)
                }
            }
            if waiting.isEmpty { break }
            if world.clock.date.timeIntervalSince(began) > timeout {
                for standby in waiting.sorted() {
                    report.failures.append("\(standby): sequence \(report.exported[plan.imports[standby]!] ?? 0) did not arrive within \(Int(timeout)) s")
                    report.imported[standby] = records.load(ImportRecord.self, standby, "import")?.sequence ?? 0
                }
                break
            }
            try? await Self.sleep(world.clock, seconds: 0.1)
        }
        return report
    }
}

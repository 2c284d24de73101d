import ArgumentParser
import Foundation
import StackModel
import StackRuntime
import StackSystem

/// `stackc status --root DIR`: every instance's role, services, jobs, queue and data; exit 2 when
/// something is failing, so it serves as a health check.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each instance's services, last successes and failures, queue, sequences, lag and RTO; exit 2 when something fails.")

    @Option(help: "The directory holding one directory per instance.")
    var root: String

    @Option(help: "text or json.")
    var format: TextOrJSON = .text

    @Flag(help: "Print Prometheus text exposition (for node_exporter's textfile collector) instead.")
    var prometheus = false

    func run() throws {
        let status = try StatusReader(fileSystem: CLI.world.fileSystem, root: UpCommand.absolute(root), now: CLI.world.clock.date).read()
        if prometheus {
            write(StatusMetrics.exposition(status))
        } else if format == .json {
            write(String(decoding: try ContractCoding.pretty(status), as: UTF8.self))
        } else {
            write(Self.text(status, now: CLI.world.clock.date))
        }
        if !status.healthy { throw Exit.runtimeFailure }
    }

    static func ago(_ date: Date?, now: Date) -> String {
        guard let date else { return "—" }
        let seconds = max(0, now.timeIntervalSince(date))
        let clock = Timestamp.format(date).dropFirst(11).prefix(8)
        return "\(clock) (\(duration(seconds)) ago)"
    }

    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: String(format: "%.0f s", seconds)
        case ..<3600: "\(Int(seconds / 60)) min"
        default: "\(Int(seconds / 3600)) h \(Int(seconds.truncatingRemainder(dividingBy: 3600) / 60)) min"
        }
    }

    static func text(_ status: StackStatus, now: Date) -> String {
        var rows = [["instance", "role", "service", "last success", "last failure", "queue", "sequence", "lag", "rto"]]
        for instance in status.instances {
            let success = instance.jobs.compactMap(\.lastSuccess).max()
            let failing = instance.jobs.first { $0.failing }
            let service = instance.services.map { "\($0.name) \($0.state)" }.joined(separator: ", ")
            let queue = instance.queue.map { "\($0.depth)" + ($0.setAside.isEmpty ? "" : " (\($0.setAside.count) set aside)") } ?? "—"
            let sequence = instance.exported.map { "exported \($0.sequence)" } ?? instance.imported.map { "imported \($0.sequence)" }
                ?? instance.archived.map { "archived \($0.sequence)" } ?? "—"
            rows.append([instance.name, instance.role, service.isEmpty ? "—" : service, ago(success, now: now),
                         failing.map { ago($0.lastFailure, now: now) + " " + ($0.lastError ?? "").prefix(80) } ?? "—", queue, sequence,
                         instance.imported?.lagSeconds.map(duration) ?? "—", instance.imported?.restoreSeconds.map { String(format: "%.1f s", $0) } ?? "—"])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
        for instance in status.instances {
            for service in instance.services where service.dsn != nil { text += "\(instance.name) \(service.name): \(service.dsn!)\n" }
        }
        if !status.problems.isEmpty {
            text += status.problems.map { "problem: " + $0 }.joined(separator: "\n") + "\n"
        }
        return text
    }
}

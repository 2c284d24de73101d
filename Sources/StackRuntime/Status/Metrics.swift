import Foundation
import StackModel

/// The status as Prometheus text exposition, for node_exporter's textfile collector: every metric
/// prefixed `stackc_`, documented in the README, sorted, with the lineage labels (source,
/// sequence, snapshot) that say which dump a figure is about.
public enum StatusMetrics {
    struct Family {
        var name: String
        var help: String
        var type: String
        var samples: [(labels: [(String, String)], value: Double)] = []
    }

    public static func exposition(_ status: StackStatus) -> String {
        var families: [String: Family] = [:]
        func add(_ name: String, _ help: String, _ type: String = "gauge", _ labels: [(String, String)], _ value: Double?) {
            guard let value else { return }
            families[name, default: Family(name: name, help: help, type: type)].samples.append((labels, value))
        }
        let seconds = { (date: Date?) in date.map { $0.timeIntervalSince1970 } }
        for instance in status.instances {
            let base = [("instance", instance.name)]
            add("stackc_instance_info", "An installed instance and its role.", "gauge", base + [("role", instance.role)], 1)
            add("stackc_instance_problems", "Problems status reports for the instance (0: healthy).", "gauge", base, Double(instance.problems.count))
            for service in instance.services {
                add("stackc_service_up", "Whether the service runs under stackc up (1) or not (0).", "gauge", base + [("service", service.name)],
                    service.state == "running" ? 1 : 0)
            }
            for job in instance.jobs {
                let labels = base + [("job", job.name)]
                add("stackc_job_last_success_timestamp_seconds", "When the job last succeeded (Unix time).", "gauge", labels, seconds(job.lastSuccess))
                add("stackc_job_last_failure_timestamp_seconds", "When the job last failed (Unix time).", "gauge", labels, seconds(job.lastFailure))
                add("stackc_job_failing", "Whether the job's last attempt failed.", "gauge", labels, job.failing ? 1 : 0)
            }
            if let queue = instance.queue {
                add("stackc_queue_depth", "Entries waiting in the instance's queue.", "gauge", base, Double(queue.depth))
                add("stackc_queue_set_aside", "Entries set aside after repeated failures.", "gauge", base, Double(queue.setAside.count))
            }
            if let exported = instance.exported {
                add("stackc_export_sequence", "The sequence of the export's last complete dump.", "gauge", base, Double(exported.sequence))
                add("stackc_export_bytes", "The size of the export's last dump.", "gauge", base, Double(exported.bytes))
                add("stackc_export_data_timestamp_seconds", "The data's point in time of the last dump (Unix time).", "gauge", base, seconds(exported.dataTime))
            }
            if let archived = instance.archived {
                let labels = base + [("snapshot", String((archived.snapshot ?? "").prefix(12)))]
                add("stackc_archive_sequence", "The last sequence the pull-backup archived.", "gauge", labels, Double(archived.sequence))
                add("stackc_push_sequence", "The last sequence the pull-backup pushed to its import.", "gauge", base, Double(archived.pushedSequence))
            }
            if let imported = instance.imported {
                let labels = base + [("snapshot", String((imported.snapshot ?? "").prefix(12))), ("sequence", String(imported.sequence))]
                add("stackc_import_sequence", "The last sequence the import restored and verified.", "gauge", base, Double(imported.sequence))
                add("stackc_import_lag_seconds", "Now minus the imported data's point in time: the data lost if the export were lost now.", "gauge", labels, imported.lagSeconds)
                add("stackc_import_restore_seconds", "How long the last restore took (RTO).", "gauge", labels, imported.restoreSeconds)
                add("stackc_import_data_timestamp_seconds", "The imported data's point in time (Unix time).", "gauge", labels, seconds(imported.dataTime))
            }
        }
        add("stackc_status_healthy", "1 when status reports no problem.", "gauge", [], status.healthy ? 1 : 0)
        var text = ""
        for family in families.values.sorted(by: { $0.name < $1.name }) {
            text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for sample in family.samples.sorted(by: { label($0.labels) < label($1.labels) }) {
                text += family.name + label(sample.labels) + " " + number(sample.value) + "\n"
            }
        }
        return text
    }

    static func label(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}

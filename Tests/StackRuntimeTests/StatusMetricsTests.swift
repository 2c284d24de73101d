import Foundation
import StackModel
import StackRuntime
import Testing

@Suite struct StatusMetricsTests {
    @Test func theExpositionIsValidPrometheusTextWithLineageLabels() throws {
        // The JSON contract, read back: the keys status --format json writes.
        let json = """
            {"root": "/srv/stack", "time": "2026-12-01T00:00:00.000Z", "healthy": false, "problems": ["db1: import failing"],
             "instances": [
              {"name": "db0", "role": "export", "problems": [],
               "services": [{"name": "postgresql", "state": "running", "address": "127.1.2.3", "port": 5432, "dsn": "host=/x", "pid": 7}],
               "jobs": [{"name": "export", "lastSuccess": "2026-12-01T00:00:00.000Z", "failing": false}],
               "exported": {"sequence": 12, "transaction": "t", "dataTime": "2026-12-01T00:00:00.000Z", "bytes": 1024}},
              {"name": "db1", "role": "import", "problems": ["import failing"], "services": [],
               "jobs": [{"name": "import", "lastSuccess": "2026-12-01T00:00:00.000Z", "lastFailure": "2026-12-01T00:00:00.000Z",
                         "lastError": "say \\"no\\"\\nplease", "failing": true}],
               "queue": {"depth": 2, "inProgress": 0, "setAside": [], "corrupt": []},
               "imported": {"sequence": 11, "snapshot": "04207a558f6f1234", "transaction": "t", "dataTime": "2026-11-30T23:58:30.000Z",
                            "imported": "2026-12-01T00:00:00.000Z", "lagSeconds": 90.5, "restoreSeconds": 3.25}}]}
            """
        let status = try ContractCoding.decode(StackStatus.self, from: Data(json.utf8))
        let text = StatusMetrics.exposition(status)
        #expect(text.contains("stackc_import_lag_seconds{instance=\"db1\",snapshot=\"04207a558f6f\",sequence=\"11\"} 90.500"))
        #expect(text.contains("stackc_export_sequence{instance=\"db0\"} 12"))
        #expect(text.contains("stackc_status_healthy 0"))
        #expect(text.contains("stackc_job_failing{instance=\"db1\",job=\"import\"} 1"))
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool (Debian's prometheus) is installed by .ci/run")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics: \(said)")
    }
}

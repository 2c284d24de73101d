import Foundation
import StackModel
import Testing

/// What install writes and the runtime reads are Codable types, written one way.
@Suite struct ContractTests {
    @Test func theNotifierFileIsOneSortedLineThatDecodesBack() throws {
        let receivers = NotifierReceivers(instance: "db0", receivers: [.init(instance: "pbs-db-1", queue: "/r/pbs-db-1/var/queue"),
                                                                       .init(instance: "pbs-db-2", queue: "/r/pbs \"2\"/var/queue")])
        let data = try ContractCoding.line(receivers)
        #expect(String(decoding: data, as: UTF8.self) == """
            {"instance": "db0", "receivers": [{"instance": "pbs-db-1", "queue": "/r/pbs-db-1/var/queue"}, {"instance": "pbs-db-2", "queue": "/r/pbs \\"2\\"/var/queue"}]}

            """)
        #expect(try ContractCoding.decode(NotifierReceivers.self, from: data) == receivers)
    }

    @Test func aManifestAndAQueueEntryRoundTripWithMillisecondTimes() throws {
        let started = Date(timeIntervalSince1970: 1_796_083_200.125)
        let manifest = ExportManifest(instance: "db0", software: "postgres", sequence: 7, started: started, finished: started.addingTimeInterval(4.5),
                                      dataTime: started.addingTimeInterval(0.25),
                                      files: [.init(path: "app.dump", size: 10, sha256: String(repeating: "a", count: 64)),
                                              .init(path: "a.dump", size: 1, sha256: String(repeating: "b", count: 64))],
                                      facts: [.init(database: "app", rowCounts: ["orders": 12])])
        #expect(manifest.files.map(\.path) == ["a.dump", "app.dump"], "files sorted, whatever order the export listed them in")
        #expect(try ContractCoding.decode(ExportManifest.self, from: try ContractCoding.pretty(manifest)) == manifest)
        let entry = QueueEntry(id: "0000000007-db0", kind: .dump, source: "db0", sequence: 7, transaction: "tx-1", enqueued: started)
        let line = try ContractCoding.line(entry)
        #expect(String(decoding: line, as: UTF8.self).contains("\"enqueued\": \"2026-12-01T00:00:00.125Z\""))
        #expect(try ContractCoding.decode(QueueEntry.self, from: line) == entry)
    }

    @Test func aValueJSONCannotCarryIsAnEncodingFailureNotAnEmptyFile() {
        struct Reading: Codable { var value: Double }
        #expect(throws: ContractCoding.EncodingFailure.self) { _ = try ContractCoding.line(Reading(value: .nan)) }
    }
}

extension ContractTests {
    /// The JSON contracts carry any string: random ones from all of Unicode decode back to themselves.
    @Test func randomStringsRoundTripThroughTheJSONContracts() throws {
        var rng = SeededGenerator(state: 15)
        for _ in 0..<500 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<(1 + Int(rng.next() % 16)) {
                var value = UInt32(rng.next() % (rng.next() % 2 == 0 ? 0x80 : 0x110000))
                while Unicode.Scalar(value) == nil { value = UInt32(rng.next() % 0x110000) }
                scalars.append(Unicode.Scalar(value)!)
            }
            let text = String(scalars)
            let receivers = NotifierReceivers(instance: text, receivers: [.init(instance: text, queue: "/q/" + text)])
            let line = try ContractCoding.line(receivers)
            #expect(line.filter { $0 == 0x0A }.count == 1, "one line, whatever the string")
            #expect(try ContractCoding.decode(NotifierReceivers.self, from: line) == receivers)
        }
    }
}

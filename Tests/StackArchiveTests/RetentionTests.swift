import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct RetentionTests {
    /// Snapshots of one source at the given hours after a fixed instant (no clock is read).
    func records(_ hours: [Double], source: String = "db0") -> [SnapshotRecord] {
        let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z, a Thursday
        return hours.enumerated().map { index, hour in
            SnapshotRecord(id: String(format: "%064x", index + 1), snapshot: Snapshot(
                source: source, time: base.addingTimeInterval(hour * 3600), hostname: "h", metadata: [:], tree: [], parent: nil, fileCount: 0, totalSize: 0))
        }
    }

    func kept(_ policy: RetentionPolicy, _ hours: [Double]) -> [Int] {
        let all = records(hours)
        let keep = policy.keep(all)
        return all.enumerated().filter { keep[$0.element.id] != nil }.map(\.offset)
    }

    @Test func policiesKeepWhatResticForgetWould() {
        let everyFiveHours = (0..<40).map { Double($0) * 5 }   // 200 hours, about 8 days
        let cases: [(RetentionPolicy, [Int])] = [
            (RetentionPolicy(last: 3), [37, 38, 39]),
            (RetentionPolicy(hourly: 2), [38, 39]),
            (RetentionPolicy(daily: 3), [33, 38, 39]),        // newest of 2026-01-09, -08, -07
            (RetentionPolicy(weekly: 2), [19, 39]),           // newest of ISO week 2 and of week 1 (Sunday Jan 4, 23:00)
            (RetentionPolicy(monthly: 5), [39]),              // one month present
            (RetentionPolicy(last: 1, daily: 2), [38, 39]),
        ]
        for (policy, expected) in cases {
            #expect(kept(policy, everyFiveHours) == expected, "\(policy)")
        }
    }

    @Test func calendarBucketsUseTheConfiguredTimeZone() {
        // 22:00 and 23:00 UTC on Jan 1 are already Jan 2 in Tokyo.
        var utc = RetentionPolicy(daily: 1)
        #expect(kept(utc, [12, 22, 23]) == [2])
        utc.timeZone = TimeZone(identifier: "Asia/Tokyo")!
        #expect(kept(utc, [12, 14, 16]) == [2])
        #expect(kept(RetentionPolicy(daily: 2), [12, 22]) == [1], "both on Jan 1 in UTC")
    }

    @Test func orderComesFromManifestTimeNotIds() {
        // Ids run opposite to time: the newest snapshot has the smallest id.
        let all = records([10, 20, 30]).enumerated().map { index, record in
            SnapshotRecord(id: String(format: "%064x", 100 - index), snapshot: record.snapshot)
        }
        let keep = RetentionPolicy(last: 1).keep(all)
        #expect(Array(keep.keys) == [all[2].id])
    }

    enum Harm: String, CaseIterable { case flipped, truncated, missing }

    /// Three hourly snapshots of a dump that changes whole each time; returns them oldest first.
    func threeSnapshots(in tree: TemporaryTree) throws -> (Repository, [BackupResult]) {
        var rng = Seeded(state: 4)
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        var results: [BackupResult] = []
        for hour in 0..<3 {
            try randomBytes(300_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dump")))
            results.append(try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: Double(hour) * 3600))))
        }
        return (repository, results)
    }

    @Test(arguments: Harm.allCases)
    func theNewestSnapshotThatVerifiesSurvivesAPolicyThatKeepsOnlyADamagedOne(harm: Harm) throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        let chunk = try #require(results[2].tree.first { $0.path == "dump" }?.chunks?.first)
        let path = tree.path("repo/" + Repository.chunkKey(chunk))
        switch harm {
        case .flipped: try CorruptionTests().damage(path, .flip)
        case .truncated: try CorruptionTests().damage(path, .truncate)
        case .missing: try FileManager.default.removeItem(atPath: path)
        }
        let result = try repository.prune(RetentionPolicy(last: 1), dryRun: false)
        #expect(Set(result.kept.map(\.0.id)) == [results[1].record.id, results[2].record.id])
        #expect(result.kept.first { $0.0.id == results[1].record.id }?.1 == ["newest verified"])
        #expect(result.removed.map(\.id) == [results[0].record.id])
        _ = try repository.restore(results[1].record, to: tree.path("out"))
    }

    @Test func aNamedSnapshotIsForgottenEvenTheNewestAndItsOwnChunksReclaimed() throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        let ids = results.map(\.record.id)
        func policy(last: Int = 0, forget: [String]) -> RetentionPolicy {
            var policy = RetentionPolicy(last: last)
            policy.forget = forget
            return policy
        }
        // Only the named one goes: by unique prefix, with the chunks no other snapshot uses.
        let middle = try repository.prune(policy(forget: [String(ids[1].prefix(8))]), dryRun: false)
        #expect(middle.removed.map(\.id) == [ids[1]])
        #expect(Set(middle.kept.map(\.0.id)) == [ids[0], ids[2]])
        #expect(middle.reclaimedChunks == results[1].newChunks + results[1].record.snapshot.tree.count, "its dump's chunks and its tree's")
        // The newest, named, goes even though --keep-last 1 would keep it; the one before it is
        // then the newest that verifies, and stays.
        let newest = try repository.prune(policy(last: 1, forget: ["latest"]), dryRun: false)
        #expect(newest.removed.map(\.id) == [ids[2]])
        #expect(newest.kept.map(\.0.id) == [ids[0]] && newest.kept.first?.1 == ["newest verified"])
        #expect(try repository.verify().isHealthy)
        // A name that matches nothing stops the prune before anything goes.
        #expect { try repository.prune(policy(forget: ["ffffffffffff"]), dryRun: false) } throws: { ($0 as? ArchiveError)?.kind == .notFound }
        #expect(try repository.snapshots().map(\.id) == [ids[0]])
    }

    @Test func aManifestThatCannotBeReadStopsPruneBeforeAnythingIsDeleted() throws {
        let tree = try TemporaryTree([:])
        let (repository, results) = try threeSnapshots(in: tree)
        try CorruptionTests().damage(tree.path("repo/" + Repository.snapshotKey(results[0].record.id)), .truncate)
        let chunks = try FileManager.default.subpathsOfDirectory(atPath: tree.path("repo/chunks")).count
        #expect { try repository.prune(RetentionPolicy(last: 1), dryRun: false) } throws: { error in
            let error = error as? ArchiveError
            return error?.kind == .corrupt && error?.message.contains("nothing was pruned") == true
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: tree.path("repo/chunks")).count == chunks)
        #expect(try repository.snapshots().count == 2, "the two readable manifests are still there")
    }

    @Test func anEmptyPolicyIsRefusedAndTheNewestIsAlwaysKept() throws {
        var rng = Seeded(state: 1)
        let tree = try TemporaryTree([:])
        let repository = try Repository.initialize(at: tree.path("repo"), chunkSize: 64 << 10)
        try FileManager.default.createDirectory(atPath: tree.path("src"), withIntermediateDirectories: true)
        for hour in 0..<4 {
            try randomBytes(200_000, &rng).write(to: URL(fileURLWithPath: tree.path("src/dump")))
            _ = try repository.backup(tree.path("src"), options: BackupOptions(source: "db0", time: Date(timeIntervalSince1970: Double(hour) * 3600)))
        }
        #expect { try repository.prune(RetentionPolicy(), dryRun: false) } throws: { ($0 as? ArchiveError)?.kind == .usage }
        let dry = try repository.prune(RetentionPolicy(maxSize: 1), dryRun: true)
        #expect(dry.kept.count == 1 && dry.removed.count == 3)
        #expect(try repository.snapshots().count == 4, "a dry run changes nothing")
        let result = try repository.prune(RetentionPolicy(maxSize: 1), dryRun: false)
        #expect(result.reclaimedChunks > 0)
        let left = try repository.snapshots()
        #expect(left.count == 1 && left.first?.snapshot.time == Date(timeIntervalSince1970: 3 * 3600))
        #expect(try repository.verify().isHealthy)
        _ = try repository.restore(try repository.snapshot("latest"), to: tree.path("out"))
        #expect(FileManager.default.contents(atPath: tree.path("out/dump")) == FileManager.default.contents(atPath: tree.path("src/dump")))
    }
}

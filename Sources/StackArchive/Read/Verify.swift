import Crypto
import Foundation
import StackSystem

/// What `verify` found: each damaged or missing chunk with the snapshots and files it breaks.
public struct VerifyReport: Sendable {
    public struct Problem: Sendable {
        public var chunk: String?
        /// "corrupt", "missing", or "unreadable manifest".
        public var kind: String
        public var detail: String
        /// (snapshot short id, file path) pairs this problem breaks.
        public var breaks: [(snapshot: String, path: String)]
    }

    public var chunksChecked: Int
    public var snapshotsChecked: Int
    public var bytesChecked: Int64
    public var problems: [Problem]

    public var isHealthy: Bool { problems.isEmpty }
}

extension Repository {
    /// Reads every chunk and checks its hash, then every snapshot's references.
    /// Checks the snapshots published when it starts: a backup running meanwhile (which verify
    /// does not wait for) adds snapshots it does not see, and chunks it does not need.
    /// Stops with a `cancelled` failure once the context's flag is raised.
    public func verify() throws(ArchiveError) -> VerifyReport {
        try verify(betweenListings: {})
    }

    /// `betweenListings` runs after the snapshots are listed and before the chunks are (tests run
    /// a backup there).
    func verify(betweenListings: () throws(ArchiveError) -> Void) throws(ArchiveError) -> VerifyReport {
        let held = try readLock(for: .verify)
        defer { held?.release() }
        // Snapshots first: every chunk a listed manifest names was in place before that manifest,
        // so it is in the chunk listing that follows. Listed the other way round, a backup
        // finishing in between would make its new chunks look missing.
        let manifests = try storage.list("snapshots/").filter { $0.key.hasSuffix(".json") }
        try betweenListings()
        let chunks = try storage.list("chunks/")
        let progress = context.progress.start("verify", total: chunks.reduce(0) { $0 + $1.size })
        // Only objects named as chunks are chunks (a `.tmp-*` leftover is not).
        let named = chunks.compactMap { key, size -> (name: String, size: Int64)? in
            let name = String(key.split(separator: "/").last ?? "")
            return name.count == 64 && name.allSatisfy(\.isHexDigit) && key == Repository.chunkKey(name) ? (name, size) : nil
        }
        final class Findings: @unchecked Sendable {
            let lock = NSLock()
            var damaged: [String: String] = [:]
        }
        let findings = Findings()
        readChunks(named.map(\.name)) { index, result in
            if case .failure(let error) = result {
                findings.lock.lock()
                findings.damaged[named[index].name] = error.message
                findings.lock.unlock()
            }
            progress.add(named[index].size)
            return true
        }
        progress.finish()
        try context.checkCancellation("verify")
        let damaged = findings.damaged
        let present = Set(named.map(\.name))
        let checkedBytes = named.reduce(0) { $0 + $1.size }

        var problems: [VerifyReport.Problem] = []
        var breaks: [String: [(String, String)]] = [:]
        var snapshotCount = 0
        for (key, _) in manifests {
            let id = String(key.dropFirst("snapshots/".count).dropLast(5))
            guard let data = try? storage.get(key), let snapshot = try? Coding.decode(Snapshot.self, from: data) else {
                problems.append(.init(chunk: nil, kind: "unreadable manifest", detail: "snapshot \(id.prefix(12)): its manifest does not parse", breaks: []))
                continue
            }
            snapshotCount += 1
            if Repository.hex(SHA256.hash(data: data)) != id {
                problems.append(.init(chunk: nil, kind: "corrupt manifest", detail: "snapshot \(id.prefix(12)): its manifest does not match its id", breaks: []))
            }
            // A damaged tree chunk breaks the whole snapshot; its files cannot even be listed.
            let brokenTree = snapshot.tree.filter { !present.contains($0) || damaged[$0] != nil }
            for hash in Set(brokenTree) { breaks[hash, default: []].append((String(id.prefix(12)), "(the snapshot's tree)")) }
            guard brokenTree.isEmpty else { continue }
            let entries: [TreeEntry]
            do throws(ArchiveError) { entries = try tree(of: SnapshotRecord(id: id, snapshot: snapshot)) } catch {
                problems.append(.init(chunk: nil, kind: "corrupt tree", detail: error.message, breaks: []))
                continue
            }
            for entry in entries {
                for hash in Set(entry.chunkReferences) where !present.contains(hash) || damaged[hash] != nil {
                    breaks[hash, default: []].append((String(id.prefix(12)), entry.path))
                }
            }
        }
        for (hash, broken) in breaks.sorted(by: { $0.key < $1.key }) {
            let kind = present.contains(hash) ? "corrupt" : "missing"
            problems.append(.init(chunk: hash, kind: kind, detail: damaged[hash] ?? "chunk \(hash.prefix(12)) is missing",
                                  breaks: broken.sorted { ($0.0, $0.1) < ($1.0, $1.1) }))
        }
        // A damaged chunk no snapshot uses is still reported: the next backup would reuse it.
        for (hash, detail) in damaged.sorted(by: { $0.key < $1.key }) where breaks[hash] == nil {
            problems.append(.init(chunk: hash, kind: "corrupt", detail: detail, breaks: []))
        }
        for problem in configProblems() { problems.append(.init(chunk: nil, kind: "damaged config", detail: problem, breaks: [])) }
        return VerifyReport(chunksChecked: present.count, snapshotsChecked: snapshotCount, bytesChecked: checkedBytes, problems: problems)
    }
}

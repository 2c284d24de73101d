import Foundation
import StackCompiler
import StackModel
import StackTestSupport
import Testing

typealias SplitMix64 = SeededGenerator

/// Mutated copies of the shipped stacks: whatever the damage, the compiler reports positioned
/// diagnostics and never crashes.
@Suite struct MutationTests {
    static let shipped: [String: String] = {
        var files: [String: String] = [:]
        let root = packageRoot + "/stacks"
        for path in (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
        where path.hasSuffix(".yaml") || path.hasSuffix(".jsonc") {
            files[path] = try? String(contentsOfFile: root + "/" + path, encoding: .utf8)
        }
        return files
    }()

    enum Mutation: CaseIterable { case cut, duplicate, swap, randomBytes, dropCharacter }

    static func mutate(_ text: String, _ mutation: Mutation, using rng: inout SplitMix64) -> Data {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return Data(text.utf8) }
        let i = Int.random(in: 0..<lines.count, using: &rng)
        let j = Int.random(in: 0..<lines.count, using: &rng)
        switch mutation {
        case .cut:
            lines.removeSubrange(min(i, j)...max(i, j))
        case .duplicate:
            lines.insert(lines[i], at: j)
        case .swap:
            lines.swapAt(i, j)
        case .dropCharacter:
            if !lines[i].isEmpty {
                var scalars = Array(lines[i].unicodeScalars)
                scalars.remove(at: Int.random(in: 0..<scalars.count, using: &rng))
                lines[i] = String(String.UnicodeScalarView(scalars))
            }
        case .randomBytes:
            var data = Data(lines.joined(separator: "\n").utf8)
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let position = Int.random(in: 0...data.count, using: &rng)
                data.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            }
            return data
        }
        return Data(lines.joined(separator: "\n").utf8)
    }

    @Test(arguments: 0..<4)
    func mutatedProfilesGivePositionedDiagnostics(batch: Int) throws {
        let tree = try TemporaryTree(Self.shipped)
        let targets = Self.shipped.keys.sorted()
        var rng = SplitMix64(state: UInt64(batch) &* 7919)
        for iteration in 0..<100 {
            let target = targets[Int.random(in: 0..<targets.count, using: &rng)]
            let mutation = Mutation.allCases[Int.random(in: 0..<Mutation.allCases.count, using: &rng)]
            let original = Self.shipped[target] ?? ""
            try Self.mutate(original, mutation, using: &rng).write(to: URL(fileURLWithPath: tree.path(target)))
            for example in ["examples/postgres-3.yaml", "examples/files-2.jsonc"] {
                let compilation = Compiler.compile(profile: tree.path(example))
                for diagnostic in compilation.diagnostics {
                    let where_ = diagnostic.location
                    #expect(where_.line >= 1 && where_.column >= 1 && !where_.file.isEmpty,
                            "batch \(batch) iteration \(iteration): \(mutation) of \(target) gave an unpositioned \(diagnostic)")
                    #expect(FileManager.default.fileExists(atPath: where_.file),
                            "batch \(batch) iteration \(iteration): \(diagnostic.message) points at a file that does not exist: \(where_.file)")
                }
                _ = Renderer.document(compilation)
            }
            try original.write(toFile: tree.path(target), atomically: true, encoding: .utf8)
        }
    }

    /// A byte that is not UTF-8, put at a random character boundary of a shipped file: reported at
    /// that line and column, not at 1:1.
    @Test func anInvalidByteIsReportedAtItsOwnLineAndColumn() throws {
        var rng = SplitMix64(state: 0x5554_4638)
        for iteration in 0..<40 {
            let target = Self.shipped.keys.sorted()[Int.random(in: 0..<Self.shipped.count, using: &rng)]
            let scalars = Array((Self.shipped[target] ?? "").unicodeScalars)
            let at = Int.random(in: 0...scalars.count, using: &rng)
            let before = String(String.UnicodeScalarView(scalars[..<at]))
            let line = before.unicodeScalars.filter { $0 == "\n" }.count + 1
            let column = before.unicodeScalars.reversed().prefix { $0 != "\n" }.count + 1
            let byte = [UInt8(0xFF), 0xC0, 0x80, 0xFE][iteration % 4]
            let data = Data(before.utf8) + [byte] + Data(String(String.UnicodeScalarView(scalars[at...])).utf8)
            let tree = try TemporaryTree([:])
            try data.write(to: URL(fileURLWithPath: tree.path("bad.yaml")))
            let compilation = Compiler.compile(profile: tree.path("bad.yaml"))
            let diagnostic = try #require(compilation.diagnostics.first { $0.message.hasPrefix("profile is not valid UTF-8") }, "\(target) at \(at)")
            #expect(diagnostic.location.line == line && diagnostic.location.column == column,
                    "\(target): inserted at \(line):\(column), reported at \(diagnostic.location.line):\(diagnostic.location.column)")
            #expect(diagnostic.message.contains(String(format: "byte 0x%02X at byte offset %d", byte, before.utf8.count)), "\(diagnostic.message)")
        }
    }
}

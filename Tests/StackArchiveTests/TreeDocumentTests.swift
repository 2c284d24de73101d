import Crypto
import Foundation
import Logging
@testable import StackArchive
import StackModel
import StackSystem
import StackTestSupport
import Testing

@Suite struct TreeDocumentTests {
    let awkward = ["plain", "with \"quotes\" and \\ backslash", "tab\tnew\nline\u{1}", "ünïcødé/日本語", "line\u{2028}sep", "emoji 🐘", "a/b/c"]

    func entries() -> [TreeEntry] {
        awkward.enumerated().map { index, path in
            var entry = TreeEntry(path: path, kind: index % 3 == 0 ? .file : index % 3 == 1 ? .directory : .symlink, mode: 0o640 + index,
                      size: Int64(index) << 33, mtime: -Int64(index) * 1_000_000_007, target: index % 3 == 2 ? path + " →" : nil,
                      chunks: index % 3 == 0 ? [String(repeating: "ab", count: 32), String(repeating: "cd", count: 32)] : nil,
                      lengths: index % 3 == 0 ? [262_144, Int64(index) << 33] : nil,
                      bundle: index == 3 ? BundleSlice(chunk: String(repeating: "ef", count: 32), offset: 12_345) : nil)
            if index % 3 == 0 {
                // Inode numbers may use all 64 bits.
                entry.ctime = -Int64(index) * 999
                entry.inode = UInt64.max - UInt64(index)
            }
            return entry
        }
    }

    @Test func everyEntryComesBackExactly() throws {
        #expect(try TreeDocument.decode(TreeDocument.encode(entries())) == entries())
        #expect(try TreeDocument.decode(TreeDocument.encode([])) == [])
    }

    @Test func aLongTreeEncodedInPartsReadsBackWhole() throws {
        // Long enough to be encoded in parts on a machine with two or more cores.
        let many = (0..<12_000).map { index in
            TreeEntry(path: "small/\(index)", kind: .file, mode: 0o644, size: Int64(index), mtime: Int64(index) * -7, target: nil,
                      chunks: nil, bundle: BundleSlice(chunk: String(repeating: "0a", count: 32), offset: Int64(index) * 9))
        }
        let document = TreeDocument.encode(many)
        #expect(try TreeDocument.decode(document) == many)
        #expect(String(decoding: document, as: UTF8.self).split(separator: "\n").count == many.count + 2)
    }

    @Test func foundationsEncodingOfTheSameTreeReadsTheSame() throws {
        // Another writer's escapes (\/, \u00e9 …) and unknown keys must read the same.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var json = String(decoding: try encoder.encode(entries()), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"kind\"", with: "\"future\":[1,{\"x\":null},true,-2.5e3],\"kind\"")
        #expect(try TreeDocument.decode(Data(json.utf8)) == entries())
    }

    @Test func aDamagedDocumentIsAnErrorNotACrash() {
        let document = TreeDocument.encode(entries())
        var rng = Seeded(state: 5)
        for _ in 0..<200 {
            var bytes = [UInt8](document)
            let cut = Int(rng.next() % UInt64(bytes.count))
            if rng.next() % 2 == 0 { bytes = Array(bytes[..<cut]) } else { bytes[cut] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? TreeDocument.decode(Data(bytes))
        }
        #expect(throws: TreeDocument.Malformed.self) { try TreeDocument.decode(Data("[{\"path\":\"x\"}]".utf8)) }
        #expect(throws: TreeDocument.Malformed.self, "an empty tree with bytes after it") { try TreeDocument.decode(Data("[]\n]".utf8)) }
    }
}

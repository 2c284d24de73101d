import Foundation

/// Every path under `root` with its type and mode, and the content of small files with the root
/// path replaced by `<root>` and secrets by their length: a tree that can be pinned by a golden file.
public func listing(_ root: String, contents: Bool = true) -> String {
    let paths = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
    var out = ""
    for path in paths {
        let full = root + "/" + path
        var info = stat()
        lstat(full, &info)
        let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "d" : (info.st_mode & S_IFMT) == S_IFLNK ? "l" : "f"
        out += "\(kind) \(String(info.st_mode & 0o7777, radix: 8)) \(path)\n"
        guard contents, kind == "f", !path.hasSuffix(".installed.json"), !path.hasSuffix(".stackc-installed.json"),
              let data = FileManager.default.contents(atPath: full), data.count < 4096 else { continue }
        let text = String(decoding: data, as: UTF8.self)
        if path.contains("secrets/") {
            out += "    <secret: \(text.count) characters>\n"
            continue
        }
        for line in text.replacingOccurrences(of: root, with: "<root>").split(separator: "\n", omittingEmptySubsequences: false) {
            out += "    | \(line)\n"
        }
    }
    return out
}

/// Modification times of every regular file, to prove an install touched nothing.
public func modificationTimes(_ root: String) -> [String: timespec] {
    var times: [String: timespec] = [:]
    for path in FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [] {
        var info = stat()
        lstat(root + "/" + path, &info)
        // Directories change mtime whenever a file in them is renamed into place; files are what count.
        if (info.st_mode & S_IFMT) == S_IFREG { times[path] = info.st_mtim }
    }
    return times
}

public func sameTimes(_ a: [String: timespec], _ b: [String: timespec]) -> Bool {
    a.count == b.count && a.allSatisfy { key, value in b[key].map { $0.tv_sec == value.tv_sec && $0.tv_nsec == value.tv_nsec } ?? false }
}

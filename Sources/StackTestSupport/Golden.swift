import Foundation
import StackModel

/// Golden files under Tests/Fixtures: compared byte for byte, recorded (never hand-edited) when
/// missing or when STACKC_RECORD=1, in which case the check fails so a recording is never a pass.
public enum Golden {
    public static var fixtures: String { packageRoot + "/Tests/Fixtures" }

    /// nil when `actual` matches the golden file; otherwise what to tell the developer.
    public static func mismatch(_ actual: String, golden relativePath: String) -> String? {
        let path = fixtures + "/" + relativePath
        let recording = ProcessInfo.processInfo.environment["STACKC_RECORD"] == "1"
        if recording || !FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.createDirectory(atPath: Path.parent(path), withIntermediateDirectories: true)
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return "recorded \(relativePath); re-run the tests to compare against it"
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else { return "cannot read \(path)" }
        if expected == actual { return nil }
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        let want = first < a.count ? String(a[first]) : "<end>"
        let got = first < b.count ? String(b[first]) : "<end>"
        return "\(relativePath) differs at line \(first + 1):\n  golden: \(want)\n  actual: \(got)\n(STACKC_RECORD=1 swift test re-records it)"
    }
}

import Crypto
import Foundation
import Mustache

/// The templates under the top-level `templates/` folder, rendered with swift-mustache.
/// Values are inserted with triple braces (no HTML escaping); the recipes quote them for their
/// target (shell, JSON) before rendering.
public struct Templates: Sendable {
    public let directory: String
    private let templates: [String: MustacheTemplate]
    /// SHA-256 over every template, so a changed template reinstalls the parts rendered from it.
    public let digest: String

    public init(directory: String) throws(RuntimeError) {
        self.directory = directory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".mustache") }.sorted()
        guard !names.isEmpty else {
            throw RuntimeError(.template, "no templates in '\(directory)'",
                               remedy: "pass --templates DIR or set STACKC_TEMPLATES to stackc's templates/ folder")
        }
        var templates: [String: MustacheTemplate] = [:]
        var hasher = SHA256()
        for name in names {
            guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) else {
                throw RuntimeError(.template, "cannot read template", path: directory + "/" + name)
            }
            do {
                templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
            } catch {
                throw RuntimeError(.template, "template does not parse: \(error)", path: directory + "/" + name)
            }
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data(text.utf8))
        }
        self.templates = templates
        digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    public func render(_ name: String, _ context: [String: Any]) throws(RuntimeError) -> String {
        guard let template = templates[name] else {
            throw RuntimeError(.template, "no template '\(name)'", path: directory, remedy: "known: \(templates.keys.sorted().joined(separator: ", "))")
        }
        return template.render(context)
    }

    /// The shipped templates: `$STACKC_TEMPLATES`, `<prefix>/share/stackc/templates` beside an
    /// installed binary, or the `templates/` folder of the source tree the binary was built in.
    public static func locate(executable: String) -> String? {
        if let explicit = ProcessInfo.processInfo.environment["STACKC_TEMPLATES"] { return explicit }
        var directory = (executable as NSString).deletingLastPathComponent
        let shared = (directory as NSString).deletingLastPathComponent + "/share/stackc/templates"
        if FileManager.default.fileExists(atPath: shared + "/wrapper.sh.mustache") { return shared }
        while directory.count > 1 {
            let candidate = directory + "/templates"
            if FileManager.default.fileExists(atPath: candidate + "/wrapper.sh.mustache") { return candidate }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return nil
    }
}

import Crypto
import Foundation
import StackModel
import Mustache
import StackSystem

/// The templates under the top-level `templates/` folder, rendered with swift-mustache.
/// Values are inserted with triple braces (no HTML escaping); the recipes quote them for their
/// target (shell, JSON) before rendering.
public struct Templates: Sendable {
    public let directory: String
    private let templates: [String: MustacheTemplate]
    /// SHA-256 over every template, so a changed template reinstalls the parts rendered from it.
    public let digest: String

    public init(directory: String, fileSystem: any FileSystem) throws(MaterializeError) {
        self.directory = directory
        let names = ((try? fileSystem.list(directory)) ?? []).filter { $0.hasSuffix(".mustache") }.sorted()
        guard !names.isEmpty else {
            throw MaterializeError(.template, "no templates in '\(directory)'",
                               remedy: "pass --templates DIR or set STACKC_TEMPLATES to stackc's templates/ folder")
        }
        var templates: [String: MustacheTemplate] = [:]
        var hasher = SHA256()
        for name in names {
            guard let data = try? fileSystem.read(directory + "/" + name), let text = String(data: data, encoding: .utf8) else {
                throw MaterializeError(.template, "cannot read template", path: directory + "/" + name)
            }
            do {
                templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: text)
            } catch {
                throw MaterializeError(.template, "template does not parse: \(error)", path: directory + "/" + name)
            }
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data(text.utf8))
        }
        self.templates = templates
        digest = hasher.finalize().withUnsafeBytes { Hex.string($0) }
    }

    public func render(_ name: String, _ context: [String: Any]) throws(MaterializeError) -> String {
        guard let template = templates[name] else {
            throw MaterializeError(.template, "no template '\(name)'", path: directory, remedy: "known: \(templates.keys.sorted().joined(separator: ", "))")
        }
        return template.render(context)
    }

    /// The shipped templates of a stackc binary: `<prefix>/share/stackc/templates` beside an
    /// installed binary, or the `templates/` folder of the source tree the binary was built in.
    /// (`$STACKC_TEMPLATES`, which comes first, is the CLI's to read.)
    public static func locate(executable: String, fileSystem: any FileSystem) -> String? {
        var directory = Path.parent(executable)
        let shared = Path.parent(directory) + "/share/stackc/templates"
        if fileSystem.exists(shared + "/wrapper.sh.mustache") { return shared }
        while directory.count > 1 {
            let candidate = directory + "/templates"
            if fileSystem.exists(candidate + "/wrapper.sh.mustache") { return candidate }
            directory = Path.parent(directory)
        }
        return nil
    }
}

/// The options each recipe reads, so the compiler can flag what nothing reads.
///
/// The materializer implements these recipes; this catalog is the contract both sides share.
public enum RecipeCatalog {
    public struct Recipe: Sendable {
        public var name: String
        public var required: [String]
        public var optional: [String]

        public var options: [String] { required + optional }

        public init(name: String, required: [String], optional: [String]) {
            self.name = name
            self.required = required
            self.optional = optional
        }
    }

    /// Options every section with a recipe may carry.
    public static let commonOptions = ["recipe", "<=", "description"]

    public static let recipes: [Recipe] = [
        Recipe(name: "wrapper", required: ["path", "command"],
               optional: ["arguments", "environment", "working-directory"]),
        Recipe(name: "cron", required: ["schedule", "command"], optional: ["name", "jitter", "path", "user"]),
        Recipe(name: "systemd-timer", required: ["schedule", "command"], optional: ["name", "jitter", "path"]),
        Recipe(name: "directory", required: ["path"], optional: ["mode", "holds-data"]),
        Recipe(name: "file", required: ["path", "template"], optional: ["mode", "variables"]),
        Recipe(name: "queue", required: ["path"], optional: []),
        Recipe(name: "notifier", required: ["path", "receivers"], optional: []),
        Recipe(name: "secret", required: ["path"], optional: ["bytes"]),
    ]

    public static func recipe(named name: String) -> Recipe? { recipes.first { $0.name == name } }

    /// Options holding a path inside the instance directory: relative, never '..'.
    public static let pathOptions = ["path", "working-directory"]

    /// Options the `stack` section understands.
    public static let stackOptions = ["extends", "include", "parts", "instances", "software-types", "name", "description"]
}

import StackCompiler
import StackModel
import StackTestSupport
import Testing

/// Instance partitions come from a template prepared once per instance profile when the profile
/// allows it, and from the general substituter otherwise. Both must give the same partitions —
/// values, histories, positions, origins — and the same diagnostics.
@Suite struct PartitionTemplateTests {
    /// Everything a compilation's partitions hold, and its diagnostics, as text.
    func dump(_ compilation: Compilation) -> String {
        let chain = { (origin: Origin?) in origin.chain.map { "\($0.message)@\($0.location)" }.joined(separator: " < ") }
        var out = ""
        for instance in compilation.graph.instances {
            out += "instance \(instance.name) parts \(instance.parts)\n"
            guard let partition = instance.partition else { out += "  no partition\n"; continue }
            for section in partition.sections {
                out += "  [\(section.name)] \(section.location) \(chain(section.origin))\n"
                for option in section.options {
                    out += "    \(option.name) = \(option.value.canonicalJSON) at \(option.node.location)+\(option.node.contentOffset.map(String.init) ?? "-")"
                        + " key \(option.keyLocation) unresolved \(option.isUnresolved)\n"
                    for step in option.history {
                        out += "      \(step.action) \(step.value?.canonicalJSON ?? "-") \(step.location) \(step.detail ?? "-") \(chain(step.origin))\n"
                    }
                }
            }
        }
        for diagnostic in compilation.diagnostics {
            out += "\(diagnostic.severity) \(diagnostic.location) \(diagnostic.message) \(diagnostic.notes.map { "\($0.message)@\($0.location)" })\n"
        }
        return out
    }

    func both(_ path: String) -> (templated: Compilation, general: Compilation) {
        var fast = Compiler()
        var slow = Compiler()
        slow.usesPartitionTemplates = false
        return (fast.compile(profile: path), slow.compile(profile: path))
    }

    @Test(arguments: ["stacks/examples/postgres-3.yaml", "stacks/examples/site.yaml", "stacks/examples/files-2.jsonc"])
    func shippedDeploymentsGetTheSamePartitionsEitherWay(example: String) {
        let (templated, general) = both(packageRoot + "/" + example)
        #expect(templated.templatedPartitions == templated.graph.instances.count, "every shipped instance profile takes the template")
        #expect(general.templatedPartitions == 0)
        #expect(dump(templated) == dump(general))
    }

    /// Profiles at the edges of what a template takes: references between options, whole-value
    /// lists, interpolated lists, escapes, a lone `$`, a map holding a reference, a parameter that
    /// shadows a fact, a parameter carrying a reference for this stage, and broken references.
    @Test func unusualProfilesGetTheSamePartitionsAndDiagnosticsEitherWay() throws {
        let files: [String: String] = [
            "stack.yaml": """
                stack:
                  software-types:
                    pull-backup: {profile: pbs.yaml, role: pull-backup}
                    app-export: {profile: plain.yaml, role: export, parameters: {port: integer, notify: string, label: string}}
                    app-import: {profile: odd.yaml, role: import, parameters: {port: integer, label: string}}
                """,
            "pbs.yaml": """
                pbs:
                  from: ${instance:pull-from}
                  line: pulls ${instance:pull-from} into ${:dir}
                  dir: /srv/${instance:name}
                  nested: ${pbs:line} (${pbs:dir})
                """,
            "plain.yaml": """
                app:
                  dsn: ${instance:name}:${instance:port}
                  who: ${instance:notify}
                  label: ${instance:label}
                  cost: 5$ a month
                """,
            "odd.yaml": """
                app:
                  escaped: $${instance:name}
                  map: {a: '${instance:name}'}
                  missing: ${instance:nothing}
                  loop: ${app:loop2}
                  loop2: ${app:loop}
                """,
            "main.yaml": """
                stack:
                  extends: [stack.yaml]
                  instances:
                    - replicate(app, 3, app-export, app-import, leader, backup)
                leader:
                  port: 5000
                  notify: shadowed
                  label: $${instance:name}
                backup:
                  port: 6000
                  label: plain
                """,
        ]
        let tree = try TemporaryTree(files)
        let (templated, general) = both(tree.path("main.yaml"))
        #expect(dump(templated) == dump(general))
        // The pull-backups and the export take the template; the odd import profile cannot.
        #expect(templated.templatedPartitions > 0 && templated.templatedPartitions < templated.graph.instances.count)
        #expect(!templated.errors.isEmpty, "the broken references are reported")
    }

    @Test func aThousandInstancesGetTheSamePartitionsEitherWay() throws {
        var files = ["stack.yaml": """
            stack:
              software-types:
                e: {profile: instance.yaml, role: export, parameters: {port: integer, host: string}}
                i: {profile: instance.yaml, role: import, parameters: {port: integer, host: string}}
                pull-backup: {profile: pbs.yaml, role: pull-backup}
            """]
        files["instance.yaml"] = "config:\n  dsn: ${instance:host}:${instance:port}/${instance:name}\n  role-name: ${instance:role}-${instance:software-type}\n"
        files["pbs.yaml"] = "config:\n  from: ${instance:pull-from}\n  to: ${instance:push-to}\n"
        files["main.yaml"] = "stack:\n  extends: [stack.yaml]\n  instances:\n    - replicate(db, 500, e, i, leader, backup)\nleader: {host: h, port: 1}\nbackup: {host: b, port: 2}\n"
        let tree = try TemporaryTree(files)
        let (templated, general) = both(tree.path("main.yaml"))
        #expect(templated.templatedPartitions == 999)
        #expect(dump(templated) == dump(general))
    }
}

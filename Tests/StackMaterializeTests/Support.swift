import Foundation
import StackCompiler
import StackModel
import StackMaterialize
import StackSystem
import StackTestSupport
import Testing

/// The stackc path baked into wrappers in tests, so golden trees do not depend on the build folder.
let fakeStackc = "/opt/stackc/bin/stackc"

func graph(_ profile: String, file: StaticString = #filePath) throws -> InstanceGraph {
    let compilation = Compiler.compile(profile: profile)
    let errors = compilation.diagnostics.filter { $0.severity == .error }
    try #require(errors.isEmpty, "\(errors.map { "\($0.location): \($0.message)" })")
    return compilation.graph
}

func materializer(root: String) throws -> Materializer {
    Materializer(root: root, stackc: fakeStackc, templates: try Templates(directory: packageRoot + "/templates", fileSystem: LocalFileSystem()),
                 user: "stackc", fileSystem: LocalFileSystem())
}

/// install = plan + apply, as the CLI does.
@discardableResult
func install(_ graph: InstanceGraph, root: String, allowDataLoss: Bool = false, allowRemoveAll: Bool = false) throws -> Plan {
    let materializer = try materializer(root: root)
    let plan = try materializer.plan(graph, allowDataLoss: allowDataLoss, allowRemoveAll: allowRemoveAll)
    try materializer.apply(plan, allowDataLoss: allowDataLoss)
    return plan
}


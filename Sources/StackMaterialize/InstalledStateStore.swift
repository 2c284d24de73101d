import Foundation
import StackModel
import StackSystem

extension InstalledState {
    static func load(_ path: String, from fileSystem: any FileSystem) throws(MaterializeError) -> InstalledState? {
        guard let data = try? fileSystem.readIfPresent(path) else { return nil }
        do { return try ContractCoding.decode(InstalledState.self, from: data) } catch {
            throw MaterializeError(.state, "cannot read the installed state: \(error)", path: path,
                                   remedy: "restore the file, or remove the instance directory and install again")
        }
    }

    func save(to path: String, in filesystem: Confined) throws(MaterializeError) {
        let data = try encoded(self)
        try io { () throws(SystemError) in try filesystem.write(data, to: path, mode: 0o644) }
    }
}

/// A contract as pretty JSON; a value that cannot be encoded is a bug, never an empty file
/// written in its place.
func encoded<T: Encodable>(_ value: T, line: Bool = false) throws(MaterializeError) -> Data {
    do { return line ? try ContractCoding.line(value) : try ContractCoding.pretty(value) } catch {
        let report = BugReport(error.description)
        throw MaterializeError(.bug, report.message, remedy: report.remedy)
    }
}

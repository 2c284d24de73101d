import Foundation
import StackCompiler
import StackModel
import StackMaterialize
import StackSystem
import StackTestSupport
import Testing

/// A value stays in its slot: random strings from all of Unicode and the control characters, put
/// into the string options of every recipe that writes a line-based or shell file, are either
/// refused by the compiler at their position, or come back out of the generated file exactly.
@Suite struct InjectionPropertyTests {
    enum Slot: CaseIterable {
        case wrapperWord, wrapperEnvironment, cronWord, cronUser, systemdWord, directoryPath
    }

    /// 1–12 scalars: printable ASCII, the shell's and cron's and systemd's specials (also followed
    /// by a combining mark), every control character, and any other scalar of Unicode.
    static func randomText(_ rng: inout SeededGenerator) -> String {
        let specials = Array("$`'\"\\%;#&|<>(){}*?~! \t\n\r=:")
        var scalars = String.UnicodeScalarView()
        for _ in 0..<(1 + Int(rng.next() % 12)) {
            switch rng.next() % 6 {
            case 5:
                // A special followed by a combining mark: one Character to Swift, two things to a shell.
                scalars.append(specials[Int(rng.next() % UInt64(specials.count))].unicodeScalars.first!)
                scalars.append(Unicode.Scalar(0x300 + UInt32(rng.next() % 0x70))!)
            case 0: scalars.append(Unicode.Scalar(UInt8(0x21 + rng.next() % 94)))
            case 1: scalars.append(specials[Int(rng.next() % UInt64(specials.count))].unicodeScalars.first!)
            case 2: scalars.append(Unicode.Scalar(UInt8(rng.next() % 0x20)))
            case 3: scalars.append(Unicode.Scalar(UInt8(0x7F + rng.next() % 0x21)))
            default:
                var value = UInt32(rng.next() % 0x10FFFF)
                while Unicode.Scalar(value) == nil { value = UInt32(rng.next() % 0x10FFFF) }
                scalars.append(Unicode.Scalar(value)!)
            }
        }
        return String(scalars)
    }

    /// A YAML double-quoted scalar that reads back as `text`: YAML folds its own line breaks (NEL,
    /// LS, PS besides CR and LF) and refuses unprintable characters raw, so those are escaped.
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if scalar == "\"" { out += "\\\"" } else if scalar == "\\" { out += "\\\\" }
            else if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || value == 0xFEFF
                        || (0xFFFE...0xFFFF).contains(value) || (0xD800...0xDFFF).contains(value) {
                let hex = String(value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else { out.unicodeScalars.append(scalar) }
        }
        return out + "\""
    }

    static func profile(_ slot: Slot, _ value: String) -> String {
        let v = yamlQuoted(value)
        let parts: String
        switch slot {
        case .wrapperWord: parts = "w: {recipe: wrapper, path: bin/w, command: [/usr/bin/printf, \"%s\\\\0\", \(v)]}"
        case .wrapperEnvironment: parts = "w: {recipe: wrapper, path: bin/w, command: [/bin/sh, -c, 'printf \"%s\" \"$STACKC_V\"'], environment: {STACKC_V: \(v)}}"
        case .cronWord: parts = "w: {recipe: cron, schedule: \"0 * * * *\", command: [bin/w, \(v)]}"
        case .cronUser: parts = "w: {recipe: cron, schedule: \"0 * * * *\", command: [bin/w], user: \(v)}"
        case .systemdWord: parts = "w: {recipe: systemd-timer, schedule: \"0 * * * *\", command: [bin/w, \(v)]}\nx: {recipe: wrapper, path: bin/w, command: [/bin/true]}"
        case .directoryPath: parts = "w: {recipe: directory, path: \(v)}"
        }
        return "stack: {parts: [w\(slot == .systemdWord ? ", x" : "")]}\n" + parts + "\n"
    }

    /// Shell words of `text`, as /bin/sh reads them (globbing off): what cron would run.
    static func shellWords(_ text: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "set -f; eval \"set -- $1\"; printf '%s\\0' \"$@\"", "sh", text]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// ExecStart's words as systemd reads them: split on spaces outside double quotes, `\\` and `\"`
    /// unescaped inside them, then `%%` and `$$` unescaped.
    static func systemdWords(_ value: String) -> [String] {
        // Scalars, not characters: a quote followed by a combining mark is still a quote to systemd.
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var quoted = false, escaped = false, started = false
        for scalar in value.unicodeScalars {
            if escaped { current.append(scalar); escaped = false; continue }
            if quoted && scalar == "\\" { escaped = true; continue }
            if scalar == "\"" { quoted.toggle(); started = true; continue }
            if scalar == " " && !quoted {
                if started || !current.isEmpty { words.append(String(current)) }
                current = String.UnicodeScalarView()
                started = false
                continue
            }
            current.append(scalar)
        }
        if started || !current.isEmpty { words.append(String(current)) }
        return words.map { word in
            var out = String.UnicodeScalarView()
            var previous: Unicode.Scalar?
            for scalar in word.unicodeScalars {
                if (scalar == "%" || scalar == "$"), previous == scalar {
                    previous = nil
                    continue
                }
                out.append(scalar)
                previous = scalar
            }
            return String(out)
        }
    }

    func run(_ program: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    @Test func everyValueIsRefusedAtItsPositionOrComesBackExactly() throws {
        var rng = SeededGenerator(state: UInt64(ProcessInfo.processInfo.environment["STACKC_PROPERTY_SEED"] ?? "") ?? 2026)
        let trials = Int(ProcessInfo.processInfo.environment["STACKC_PROPERTY_TRIALS"] ?? "") ?? 240
        var refused = 0, exact = 0, verified = 0
        for trial in 0..<trials {
            let slot = Slot.allCases[trial % Slot.allCases.count]
            let value = Self.randomText(&rng)
            let tree = try TemporaryTree(["main.yaml": """
                stack:
                  software-types: {app: {profile: app.yaml, role: plain}}
                  instances: [{name: a0, software-type: app}]
                """, "app.yaml": Self.profile(slot, value)])
            let compilation = Compiler.compile(profile: tree.path("main.yaml"))
            let errors = compilation.diagnostics.filter { $0.severity == .error }
            let label = "trial \(trial) \(slot) \(value.unicodeScalars.map { String($0.value, radix: 16) })"
            if !errors.isEmpty {
                #expect(errors.allSatisfy { tree.relative($0.location.file) == "app.yaml" && $0.location.line >= 1 }, "\(label): \(errors.map(\.message))")
                refused += 1
                continue
            }
            let root = tree.path("root")
            let materializer = Materializer(root: root, stackc: "/opt/stackc/bin/stackc",
                                            templates: try Templates(directory: packageRoot + "/templates", fileSystem: LocalFileSystem()),
                                            user: "stackc", fileSystem: LocalFileSystem())
            do {
                try materializer.apply(try materializer.plan(compilation.graph, allowDataLoss: false), allowDataLoss: false)
            } catch {
                // Install may refuse only what the compiler cannot see; a profile's value is not that.
                Issue.record("\(label): install failed: \(error)")
                continue
            }
            let instance = root + "/a0"
            switch slot {
            case .wrapperWord:
                #expect(try run(instance + "/bin/w") == Data(value.utf8) + Data([0]), "\(label)")
            case .wrapperEnvironment:
                let seen = try run(instance + "/bin/w")
                #expect(seen == Data(value.utf8), "\(label): \(Array(seen)) against \(Array(value.utf8))")
            case .cronWord, .cronUser:
                let text = try String(contentsOfFile: instance + "/etc/cron.d/w", encoding: .utf8)
                let entries = text.utf8.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.hasPrefix("#") && !$0.hasPrefix("SHELL=") && !$0.hasPrefix("PATH=") }
                #expect(entries.count == 1, "\(label): \(entries)")
                // cron splits bytes, not grapheme clusters (a space then a combining mark is two things to it).
                let fields = entries[0].utf8.split(separator: 0x20, maxSplits: 6, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                try #require(fields.count == 7 && fields[0..<5].joined(separator: " ") == "0 * * * *", "\(label): \(fields)")
                #expect(!entries[0].contains("%"), "\(label): cron would turn '%' into a newline")
                #expect(fields[5] == (slot == .cronUser ? value : "stackc"), "\(label)")
                #expect(try Self.shellWords(fields[6]) == [instance + "/bin/w"] + (slot == .cronWord ? [value] : []), "\(label)")
            case .systemdWord:
                let text = try String(contentsOfFile: instance + "/etc/systemd/w.service", encoding: .utf8)
                let lines = text.utf8.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.hasPrefix("#") && !$0.hasPrefix("[") }
                #expect(lines.map { $0.split(separator: "=", maxSplits: 1)[0] } == ["Description", "Type", "ExecStart"], "\(label): \(lines)")
                #expect(!text.split(separator: "\n").contains { $0.hasSuffix("\\") }, "\(label): no line continues")
                let exec = String(lines.last?.dropFirst("ExecStart=".count) ?? "")
                #expect(Self.systemdWords(exec) == [instance + "/bin/w", value], "\(label): \(exec)")
                if verified < 5, FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") {
                    let analyze = Process()
                    analyze.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
                    analyze.arguments = ["verify", "--man=no", instance + "/etc/systemd/w.service"]
                    let complaints = Pipe()
                    analyze.standardError = complaints
                    try analyze.run()
                    let said = String(decoding: complaints.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    analyze.waitUntilExit()
                    #expect(analyze.terminationStatus == 0, "\(label): systemd-analyze verify: \(said)")
                    verified += 1
                }
            case .directoryPath:
                let normalized = value.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
                #expect(LocalFileSystem().info(instance + "/" + normalized)?.kind == .directory, "\(label): \(listing(instance, contents: false))")
            }
            exact += 1
        }
        #expect(refused > 0 && exact > trials / 5, "refused \(refused), came back exactly \(exact)")
    }

    @Test func theTwoReportedInjectionsAreRefusedWithTheirPositions() throws {
        let tree = try TemporaryTree(["main.yaml": """
            stack: {parts: [w, tick, timer]}
            w: {recipe: wrapper, path: bin/w, command: [bin/x]}
            tick:
              recipe: cron
              schedule: "0 * * * *"
              command: "bin/w\\n* * * * * root touch /tmp/x #"
            timer:
              recipe: systemd-timer
              schedule: "0 * * * *"
              command: "bin/w\\nExecStartPre=/bin/touch /tmp/x\\nX="
            """])
        let errors = Compiler.compile(profile: tree.path("main.yaml")).diagnostics.filter { $0.severity == .error }
        #expect(errors.map { "\($0.location.line):\($0.location.column)" } == ["6:12", "10:12"])
        #expect(errors.allSatisfy { $0.message.contains("holds a line break (U+000A)") })
    }
}

import StackCompiler
import StackModel
import StackTestSupport
import Testing

@Suite struct SubstitutionBoundsTests {
    /// Each value the previous one written twice, forty levels deep: 10 · 2^40 bytes unbounded.
    @Test func aValueThatWouldDoublePastTheLimitIsOneErrorAtTheOptionThatCrossesIt() throws {
        var text = "e0:\n  v: \"0123456789\"\n"
        for level in 1..<40 { text += "e\(level):\n  v: '${e\(level - 1):v}${e\(level - 1):v}'\n" }
        let (compilation, tree) = try compile(["main.yaml": text])
        let errors = compilation.lines(tree, severity: .error)
        #expect(errors.count == 1, "\(errors)")
        // 10 · 2^17 bytes is the first value over 1 MiB: e17, on line 2 · 17 + 2.
        #expect(errors.first?.hasPrefix("error main.yaml:36:6 substitution makes option 'v' of section 'e17' longer than 1 MiB, the limit of one value") == true,
                "\(errors)")
    }

    @Test func manyValuesUnderTheLimitEachCanStillNotExceedTheTotal() throws {
        // 100 sections, each a value of 800 KiB (under the per-value limit): 80 MB in all.
        var text = "base:\n  v: \"" + String(repeating: "x", count: 100 << 10) + "\"\n"
        text += "wide:\n  v: '" + String(repeating: "${base:v}", count: 8) + "'\n"
        for index in 0..<100 { text += "s\(index):\n  v: ${wide:v}-\(index)\n" }
        let (compilation, tree) = try compile(["main.yaml": text])
        let errors = compilation.lines(tree, severity: .error)
        #expect(errors.count == 1, "\(errors.map { String($0.prefix(200)) })")
        #expect(errors.first?.contains("longer than 64 MiB in all, the limit of one profile") == true, "\(errors.map { String($0.prefix(200)) })")
    }
}

@Suite struct EveryBadReferenceTests {
    @Test func everyBadReferenceInAMapOrAListIsReportedOnce() throws {
        var text = "db:\n  env:\n"
        for index in 0..<50 { text += "    K\(index): ${nosuch:o\(index)}\n" }
        text += "  list: [\"${db:a}\", ok, \"${db:b}\", \"${db:c}\"]\n"
        let (compilation, tree) = try compile(["main.yaml": text])
        let errors = compilation.lines(tree, severity: .error)
        #expect(errors.filter { $0.contains("unknown section 'nosuch'") }.count == 50, "\(errors.count) errors")
        #expect(errors.filter { $0.contains("section 'db' has no option") }.count == 3, "\(errors)")
        #expect(Set(errors).count == errors.count, "each once")
    }
}

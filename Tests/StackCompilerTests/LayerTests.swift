import StackCompiler
import StackModel
import StackTestSupport
import Testing

@Suite struct ExtendsTests {
    @Test func laterLayersWinLeftToRightRelativeToTheNamingFile() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [lib/a.yaml, lib/b.yaml]\ndb:\n  c: main\n",
            "lib/a.yaml": "stack:\n  extends: [base/root.yaml]\ndb:\n  a: a\n  b: a\n  c: a\n",
            "lib/b.yaml": "db:\n  b: b\n  c: b\n",
            "lib/base/root.yaml": "db:\n  r: root\n  a: root\n",
        ])
        #expect(compilation.lines(tree).isEmpty, "\(compilation.lines(tree))")
        #expect(compilation.value("db", "r")?.text == "root")
        #expect(compilation.value("db", "a")?.text == "a")
        #expect(compilation.value("db", "b")?.text == "b")
        #expect(compilation.value("db", "c")?.text == "main")
        #expect(compilation.configuration["stack"]?["extends"] == nil, "extends shapes layering; it is not an option")
    }

    @Test func aDiamondBaseIsAppliedOnce() throws {
        let (compilation, _) = try compile([
            "main.yaml": "stack:\n  extends: [left.yaml, right.yaml]\n",
            "left.yaml": "stack:\n  extends: [base.yaml]\ns:\n  items +=: [left]\n",
            "right.yaml": "stack:\n  extends: [base.yaml]\ns:\n  items +=: [right]\n",
            "base.yaml": "s:\n  items +=: [base]\n",
        ])
        #expect(compilation.value("s", "items")?.text == "[base, left, right]")
    }

    @Test func aCycleIsAnErrorListingTheWholeChain() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [a.yaml]\n",
            "a.yaml": "stack:\n  extends: [b.yaml]\n",
            "b.yaml": "stack:\n  extends: [a.yaml]\n",
        ])
        let error = try #require(compilation.errors.first)
        #expect(compilation.errors.count == 1)
        #expect(tree.relative(error.location.file) == "b.yaml" && error.location.line == 2 && error.location.column == 13)
        #expect(error.message.hasPrefix("extends cycle: "))
        #expect(error.message.hasSuffix("a.yaml → " + tree.path("b.yaml") + " → " + tree.path("a.yaml")))
        #expect(error.notes.count == 2)
    }

    @Test func aTenThousandDeepChainCompilesWithoutOverflow() throws {
        var files: [String: String] = [:]
        let depth = 10_000
        for index in 0..<depth {
            let next = index + 1 < depth ? "stack:\n  extends: [f\(index + 1).yaml]\n" : ""
            files["f\(index).yaml"] = next + "s:\n  items +=: [\(index)]\n"
        }
        files["f\(depth - 1).yaml"] = "stack:\n  extends: [⚠️f0.yaml]\n".replacingOccurrences(of: "⚠️", with: "") + "s:\n  v: 1\n"
        let (compilation, tree) = try compile(files, main: "f0.yaml")
        let error = try #require(compilation.errors.first, "the closing link makes a cycle")
        #expect(error.message.hasPrefix("extends cycle"))
        #expect(tree.relative(error.location.file) == "f\(depth - 1).yaml")
        #expect(error.notes.count == depth)
    }

    @Test func aDeepChainWithoutACycleLayersEveryFile() throws {
        var files: [String: String] = [:]
        let depth = 2_000
        for index in 0..<depth {
            let next = index + 1 < depth ? "stack:\n  extends: [f\(index + 1).yaml]\n" : ""
            files["f\(index).yaml"] = next + "s:\n  items +=: [\(index)]\n"
        }
        let (compilation, _) = try compile(files, main: "f0.yaml")
        #expect(compilation.errors.isEmpty)
        guard case .list(let items)? = compilation.value("s", "items") else { Issue.record("no list"); return }
        #expect(items.count == depth)
        #expect(items.first?.string == String(depth - 1), "the deepest base applies first")
    }
}

@Suite struct IncludeTests {
    @Test func includeMergesInPlaceAtTopAndInSections() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "include: [parts/top.yaml]\ndb:\n  include: parts/options.yaml\n  port: 1\n",
            "parts/top.yaml": "cache:\n  size: 10\n",
            "parts/options.yaml": "port: 0\nhost: localhost\n",
        ])
        #expect(compilation.lines(tree).isEmpty)
        #expect(compilation.value("cache", "size")?.text == "10")
        #expect(compilation.value("db", "port")?.text == "1", "the including section's own later value wins")
        #expect(compilation.value("db", "host")?.text == "localhost")
        let history = try #require(compilation.configuration["db"]?["host"]?.history.first)
        #expect(tree.relative(history.location.file) == "parts/options.yaml")
        #expect(history.via.map(\.message) == ["included from here"])
    }

    @Test func anIncludeCycleIsReported() throws {
        try expectErrors(at: "include: [⚠️main.yaml]\n", containing: ["include cycle"])
        try expectErrors(at: "include: [a.yaml]\n", extra: ["a.yaml": "include: [main.yaml]\n"], containing: [])
    }
}

@Suite struct OperatorTests {
    @Test func appendAndRemoveWorkOnListItemsNotLines() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ns:\n  parts +=: [c]\n  parts -=: [a]\n  fresh +=: [x]\n",
            "base.yaml": "s:\n  parts: [a, b, a]\n",
        ])
        #expect(compilation.lines(tree).isEmpty)
        #expect(compilation.value("s", "parts")?.text == "[b, c]", "every equal item goes")
        #expect(compilation.value("s", "fresh")?.text == "[x]", "+= on nothing is =")
    }

    @Test func removingAnAbsentItemWarnsAtTheItem() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ns:\n  parts -=: [a, zz]\n",
            "base.yaml": "s:\n  parts: [a]\n",
        ])
        #expect(compilation.lines(tree, severity: .warning) == ["warning main.yaml:4:17 '-=' removes 'zz', which the inherited list does not hold"])
    }

    @Test func scalarsAppendAndRemoveWholeLines() throws {
        let (compilation, _) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ns:\n  text +=: three\n  text -=: one\n",
            "base.yaml": "s:\n  text: one\n  text +=: two\n",
        ])
        #expect(compilation.value("s", "text")?.text == "'two\\nthree'")
    }

    @Test func mapsMergeKeyByKey() throws {
        let (compilation, _) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ns:\n  env: {B: 2, list +=: [y]}\n  drop -=: [gone]\n",
            "base.yaml": "s:\n  env: {A: 1, B: 1, list: [x]}\n  drop: {gone: 1, kept: 2}\n",
        ])
        #expect(compilation.value("s", "env")?.text == "{A: 1, B: 2, list: [x, y]}")
        #expect(compilation.value("s", "drop")?.text == "{kept: 2}")
    }

    @Test func appendingAMapToAListIsAnError() throws {
        try expectErrors(at: "s:\n  a: [1]\n  b: 2\nt:\n  x: 1\n", containing: [])
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ns:\n  a +=: {k: v}\n",
            "base.yaml": "s:\n  a: [1]\n",
        ])
        #expect(compilation.lines(tree, severity: .error) == ["error main.yaml:4:9 '+=' cannot append a map to a list"])
    }
}

@Suite struct SubstitutionTests {
    @Test func referencesResolveLazilyAcrossSectionsAndLayers() throws {
        let (compilation, tree) = try compile([
            "main.yaml": "stack:\n  extends: [base.yaml]\ndb:\n  port: 5433\nurl:\n  dsn: postgres://${db:host}:${db:port}/${:name}\n  name: app\n",
            "base.yaml": "db:\n  host: localhost\n  port: 5432\n",
        ])
        #expect(compilation.lines(tree).isEmpty)
        #expect(compilation.value("url", "dsn")?.text == "postgres://localhost:5433/app", "the final layer's value is used")
    }

    @Test func aWholeReferenceKeepsTheType() throws {
        let (compilation, _) = try compile(["main.yaml": "a:\n  list: [x, y]\n  n: 3\nb:\n  list: ${a:list}\n  n: ${a:n}\n  text: \"items ${a:list}\"\n"])
        #expect(compilation.value("b", "list")?.text == "[x, y]")
        #expect(compilation.value("b", "n")?.kindName == "integer")
        #expect(compilation.value("b", "text")?.text == "items x y", "a list in text joins with spaces")
    }

    @Test func escapedReferencesLoseOneDollarPerStage() throws {
        let (compilation, _) = try compile(["main.yaml": "a:\n  next: $${instance:port}\n  later: $$${x:y}\n  cost: 5$ and $$ alone\n"])
        #expect(compilation.errors.isEmpty)
        #expect(compilation.value("a", "next")?.text == "${instance:port}")
        #expect(compilation.value("a", "later")?.text == "$${x:y}")
        #expect(compilation.value("a", "cost")?.text == "5$ and $$ alone")
    }

    @Test func unknownReferencesAreErrorsAtTheReference() throws {
        try expectErrors(at: """
            db:
              port: 1
            a:
              x: at ⚠️${dbb:port}
              y: "⚠️${db:prot}"
              z: ⚠️${db:port
              w: ⚠️${bad}
            """, containing: ["unknown section 'dbb'", "(did you mean 'db'?)", "no option 'prot'", "(did you mean 'port'?)", "unterminated '${'", "malformed reference"])
    }

    @Test func aCycleNamesEveryLink() throws {
        let (compilation, _) = try compile(["main.yaml": "a:\n  x: ${b:y}\nb:\n  y: ${c:z}\nc:\n  z: ${a:x}\n"])
        let error = try #require(compilation.errors.first)
        #expect(compilation.errors.count == 1)
        #expect(error.message == "substitution cycle: ${a:x} → ${b:y} → ${c:z} → ${a:x}")
        #expect(error.notes.count == 2)
        #expect((error.location.line, error.location.column) == (6, 6))
    }

    @Test func aMapCannotBeInsertedIntoText() throws {
        try expectErrors(at: "a:\n  m: {k: v}\n  t: x ⚠️${:m}\n", containing: ["is a map and cannot be inserted"])
    }

    @Test func aLongReferenceChainResolves() throws {
        var text = "s:\n  v0: end\n"
        for index in 1...500 { text += "  v\(index): ${:v\(index - 1)}\n" }
        let (compilation, _) = try compile(["main.yaml": text])
        #expect(compilation.errors.isEmpty)
        #expect(compilation.value("s", "v500")?.text == "end")
    }
}

@Suite struct MacroTests {
    @Test func basesApplyLeftToRightThenOwnOptionsAndSubstituteInTheUsingSection() throws {
        let (compilation, tree) = try compile(["main.yaml": """
            base1:
              a: one
              b: one
              greeting: hello ${:who}
              who: base
            base2:
              <=: base1
              b: two
            user:
              <=: [base2, extra]
              who: user
            extra:
              c: three
            """])
        #expect(compilation.lines(tree).isEmpty)
        #expect(compilation.value("user", "a")?.text == "one")
        #expect(compilation.value("user", "b")?.text == "two")
        #expect(compilation.value("user", "c")?.text == "three")
        #expect(compilation.value("user", "greeting")?.text == "hello user")
        #expect(compilation.value("base1", "greeting")?.text == "hello base")
        #expect(compilation.configuration["user"]?["<="] == nil)
        let actions = compilation.configuration["user"]?["b"]?.history.map(\.action.rawValue)
        #expect(actions == ["set", "macro", "set", "macro"], "base1 sets b, base2 copies it and sets its own, user copies base2's")
    }

    @Test func macroLoopsAndUnknownBasesAreErrors() throws {
        try expectErrors(at: "a:\n  <=: b\nb:\n  <=: ⚠️a\n", containing: ["macro loop: 'a' <= 'b' <= 'a'"])
        try expectErrors(at: "a:\n  <=: [⚠️bb]\nb:\n  x: 1\n", containing: ["'<=' names section 'bb', which no layer defines (did you mean 'b'?)"])
    }
}

import StackModel
import Testing

@Suite struct ModelTests {
    private let here = SourceLocation(file: "a.yaml", line: 3, column: 5)

    @Test func anOriginChainReadsFromTheNamedProfileInward() {
        let outer = Origin(Note("'b.yaml' extended from 'a.yaml'", at: here), parent: nil)
        let inner = Origin(Note("included from here", at: SourceLocation(file: "b.yaml", line: 1, column: 1)), parent: outer)
        #expect(inner.chain.map(\.message) == ["'b.yaml' extended from 'a.yaml'", "included from here"])
    }

    @Test func historyAppendsWithoutCopyingAndListsOldestFirst() {
        var base = History([HistoryStep(.set, value: .number("1"), at: here, origin: nil)])
        var copy = base
        copy.append(HistoryStep(.replicate, value: nil, at: here, origin: nil))
        base.append(HistoryStep(.set, value: .number("2"), at: here, origin: nil))
        #expect(copy.map(\.action) == [.set, .replicate])
        #expect(base.map(\.action) == [.set, .set])
        #expect((base + copy).count == 4)
        #expect(copy.last?.action == .replicate && copy.first?.action == .set)
    }

    @Test func diagnosticsSortErrorsFirstThenByPositionAndDropExactRepeats() {
        var bag = DiagnosticBag()
        bag.add(.warning("w", at: SourceLocation(file: "a.yaml", line: 1, column: 1)))
        bag.add(.error("late", at: SourceLocation(file: "b.yaml", line: 9, column: 1)))
        bag.add(.error("early", at: SourceLocation(file: "a.yaml", line: 2, column: 1)))
        bag.add(.error("early", at: SourceLocation(file: "a.yaml", line: 2, column: 1)))
        #expect(bag.sorted.map(\.message) == ["early", "late", "w"])
        #expect(bag.hasErrors)
    }

    @Test func parameterKindsAcceptTheirValues() {
        #expect(ParameterSpec.Kind.integer.accepts(.number("5432")))
        #expect(!ParameterSpec.Kind.integer.accepts(.number("1.5")))
        #expect(ParameterSpec.Kind.number.accepts(.number("1.5")))
        #expect(!ParameterSpec.Kind.integer.accepts(.string("5432")))
        #expect(ParameterSpec.Kind.boolean.accepts(.bool(false)))
    }

    @Test func contentEqualityIgnoresPositions() {
        let a = ValueNode(.string("x"), at: here)
        let b = ValueNode(.string("x"), at: SourceLocation(file: "z.yaml", line: 9, column: 9))
        #expect(Value.list([a]).sameContent(as: .list([b])))
        #expect(!Value.string("x").sameContent(as: .number("1")))
    }
}

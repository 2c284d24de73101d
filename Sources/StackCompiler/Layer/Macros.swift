import StackModel

/// Expands `<=`: a section first copies the options of its bases (left to right, later wins),
/// then its own options override. Values are copied unsubstituted, so `${:option}` evaluates
/// in the section that uses the macro.
struct MacroExpander {
    private var configuration: LayeredConfiguration
    private var expanded: [String: SectionState] = [:]
    private var visiting: [String] = []

    static func expand(_ configuration: LayeredConfiguration, diagnostics: inout DiagnosticBag) -> LayeredConfiguration {
        var expander = MacroExpander(configuration: configuration)
        var result = LayeredConfiguration()
        for section in configuration.sections {
            result[section.name] = expander.expand(section.name, diagnostics: &diagnostics)
        }
        return result
    }

    private init(configuration: LayeredConfiguration) { self.configuration = configuration }

    private mutating func expand(_ name: String, diagnostics: inout DiagnosticBag) -> SectionState? {
        if let done = expanded[name] { return done }
        guard var section = configuration[name] else { return nil }
        guard let macro = section.macro else {
            expanded[name] = section
            return section
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        var bases: [ValueNode] = []
        switch macro.value {
        case .string: bases = [macro]
        case .list(let items): bases = items
        default:
            diagnostics.add(.error("'<=' takes a section name or a list of them, got a \(macro.value.kindName)",
                                   at: macro.location, notes: section.macroOrigin.chain))
        }
        var merged = SectionState(name: name, location: section.location, origin: section.origin)
        for base in bases {
            guard case .string(let baseName) = base.value else {
                diagnostics.add(.error("'<=' takes section names, got a \(base.value.kindName)", at: base.location, notes: section.macroOrigin.chain))
                continue
            }
            if let start = visiting.firstIndex(of: baseName) {
                let loop = visiting[start...] + [baseName]
                diagnostics.add(.error("macro loop: " + loop.map { "'\($0)'" }.joined(separator: " <= "),
                                       at: base.location, notes: section.macroOrigin.chain))
                continue
            }
            guard configuration[baseName] != nil, let source = expand(baseName, diagnostics: &diagnostics) else {
                diagnostics.add(.error("'<=' names section '\(baseName)', which no layer defines" + Suggestions.didYouMean(baseName, in: configuration.sections.map(\.name)),
                                       at: base.location, notes: section.macroOrigin.chain))
                continue
            }
            for option in source.options {
                var copy = option
                copy.history.append(HistoryStep(.macro, value: nil, at: base.location, origin: section.macroOrigin,
                                                detail: "copied from section '\(baseName)' by '<='"))
                merged[option.name] = copy
            }
        }
        for option in section.options {
            var own = option
            if let inherited = merged[option.name] { own.history = inherited.history + own.history }
            merged[option.name] = own
        }
        section.options = merged.options
        section.index = merged.index
        section.macro = nil
        expanded[name] = section
        return section
    }
}

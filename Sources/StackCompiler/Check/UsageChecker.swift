import StackModel

/// Findings about options nothing reads, unknown recipes and parts lists that name nothing.
enum UsageChecker {
    static func checkStack(_ configuration: ResolvedConfiguration, diagnostics: inout DiagnosticBag) {
        // A stack key written at the top (`instances:` not indented under `stack:`), or a
        // misspelt `stack:` itself, is read as a section nothing uses: the same silent "no
        // instances" as a typo inside `stack`.
        for section in configuration.sections where section.name != "stack" {
            if ["instances", "extends", "software-types"].contains(section.name) {
                diagnostics.add(.error("'\(section.name)' is a key of section 'stack', not a section: indent it under 'stack:'", at: section.location,
                                       notes: section.origin.chain))
            } else if configuration["stack"] == nil, Suggestions.editDistance(section.name, "stack", limit: 1) <= 1 || section.name == "stacks" {
                diagnostics.add(.error("unknown section '\(section.name)' (did you mean 'stack'?)", at: section.location, notes: section.origin.chain))
            }
        }
        guard let stack = configuration["stack"] else { return }
        // A typo here (`instnaces:`) would silently mean "no instances", and install would then
        // remove every instance of a root: an error, not a warning.
        for option in stack.options where !RecipeCatalog.stackOptions.contains(option.name) {
            diagnostics.add(.error("unknown option '\(option.name)' in section 'stack'" + Suggestions.didYouMean(option.name, in: RecipeCatalog.stackOptions),
                                   at: option.keyLocation, notes: option.history.last?.via ?? []))
        }
    }

    /// In every installed section: the recipe exists, its required options are set and typed; in
    /// every section with a recipe, every option is read by the recipe or a substitution. Only what is installed — the sections `stack.parts` names — must have its recipe's
    /// required options and typed values, as zc.buildout looks only at the parts it installs: a
    /// macro base carrying a recipe, or a section dropped from `parts` with `-=`, is not checked.
    /// Options no recipe reads are warned about everywhere.
    static func checkRecipes(_ configuration: ResolvedConfiguration, referenced: Set<OptionKey>, checkRuntimeCalls: Bool = true,
                             diagnostics: inout DiagnosticBag) {
        let installed: Set<String> = if case .list(let items)? = configuration["stack"]?["parts"]?.value { Set(items.compactMap(\.string)) } else { [] }
        for section in configuration.sections {
            guard let recipeOption = section["recipe"] else { continue }
            guard installed.contains(section.name) else {
                if let name = recipeOption.node.string, let recipe = RecipeCatalog.recipe(named: name) {
                    warnUnread(section, recipe: recipe, referenced: referenced, diagnostics: &diagnostics)
                }
                continue
            }
            guard let name = recipeOption.node.string, let recipe = RecipeCatalog.recipe(named: name) else {
                let known = RecipeCatalog.recipes.map(\.name)
                diagnostics.add(.error("unknown recipe '\(recipeOption.value.summary)' in section '\(section.name)'" + Suggestions.didYouMean(recipeOption.value.summary, in: known)
                                       + " (known: \(known.joined(separator: ", ")))",
                                       at: recipeOption.node.location, notes: recipeOption.history.last?.via ?? []))
                continue
            }
            warnUnread(section, recipe: recipe, referenced: referenced, diagnostics: &diagnostics)
            checkTypes(section, recipe: recipe, checkRuntimeCalls: checkRuntimeCalls, diagnostics: &diagnostics)
            for required in recipe.required where section[required] == nil {
                diagnostics.add(.error("section '\(section.name)' lacks option '\(required)', which recipe '\(name)' requires",
                                       at: section.location, notes: section.origin.chain))
            }
        }
    }

    /// Options of a section with a recipe that neither the recipe nor a substitution reads.
    private static func warnUnread(_ section: ResolvedSection, recipe: RecipeCatalog.Recipe, referenced: Set<OptionKey>, diagnostics: inout DiagnosticBag) {
        let readable = recipe.options + RecipeCatalog.commonOptions
        for option in section.options where !readable.contains(option.name) && !referenced.contains(OptionKey(section: section.name, option: option.name)) {
            diagnostics.add(.warning("option '\(option.name)' in section '\(section.name)' is not read by recipe '\(recipe.name)'" + Suggestions.didYouMean(option.name, in: readable),
                                     at: option.keyLocation, notes: option.history.last?.via ?? []))
        }
    }

    /// Every option the recipe reads has the type the catalog gives it. A value still holding a
    /// reference (`${…}`, resolved in each instance's partition) is checked there instead.
    private static func checkTypes(_ section: ResolvedSection, recipe: RecipeCatalog.Recipe, checkRuntimeCalls: Bool, diagnostics: inout DiagnosticBag) {
        for spec in recipe.specs {
            guard let option = section[spec.name], !option.isUnresolved, !option.value.mentionsReference else { continue }
            switch RecipeCatalog.decode(option, as: spec.kind, section: section.name, format: recipe.format) {
            case .failure(let diagnostic): diagnostics.add(diagnostic)
            case .success(let value):
                if checkRuntimeCalls, spec.option == .command, case .words(let words) = value { checkRuntimeCall(words, option, section: section.name, diagnostics: &diagnostics) }
            }
        }
    }

    /// A command that calls a runtime verb (`stackc export …`) passes what the verb's contract
    /// takes; the wrapper would otherwise fail only when cron first runs it.
    private static func checkRuntimeCall(_ words: [String], _ option: ResolvedOption, section: String, diagnostics: inout DiagnosticBag) {
        guard words.count >= 2, words[0] == "stackc", let verb = RuntimeVerb(rawValue: words[1]) else { return }
        if case .failure(let mismatch) = verb.parse(Array(words.dropFirst(2))) {
            diagnostics.add(.error("the command of section '\(section)' does not fit the runtime contract: \(mismatch)",
                                   at: option.node.location, notes: option.history.last?.via ?? []))
        }
    }

    /// `stack.parts` names sections that exist and have a recipe.
    static func checkParts(_ configuration: ResolvedConfiguration, diagnostics: inout DiagnosticBag) {
        guard let parts = configuration["stack"]?["parts"] else { return }
        guard case .list(let items) = parts.value else {
            diagnostics.add(.error("'parts' must be a list of section names, got a \(parts.value.kindName)", at: parts.node.location))
            return
        }
        for item in items {
            guard let name = item.string else {
                diagnostics.add(.error("'parts' lists section names, got a \(item.value.kindName)", at: item.location))
                continue
            }
            guard let section = configuration[name] else {
                diagnostics.add(.error("part '\(name)' names no section" + Suggestions.didYouMean(name, in: configuration.sectionNames),
                                       at: item.location, notes: parts.history.last?.via ?? []))
                continue
            }
            if section["recipe"] == nil {
                diagnostics.add(.error("part '\(name)' has no 'recipe'", at: item.location,
                                       notes: [Note("section '\(name)' is defined here", at: section.location)]))
            }
        }
    }
}

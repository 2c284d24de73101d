/// A part of an instance: a section of its profile with a recipe, its resolved options (for the
/// installed state's fingerprint and `plan`'s old → new), and those options typed by the recipe
/// catalog, which is what recipes read.
public struct Part: Sendable {
    public var name: String
    public var recipe: String
    public var options: [ResolvedOption]
    /// Every option the recipe reads that the section sets, typed.
    public var values: [RecipeCatalog.Option: OptionValue]

    public init(name: String, recipe: String, options: [ResolvedOption], values: [RecipeCatalog.Option: OptionValue]) {
        self.name = name
        self.recipe = recipe
        self.options = options
        self.values = values
    }

    /// A text, path or unit name.
    public func text(_ option: RecipeCatalog.Option) -> String? {
        if case .text(let text)? = values[option] { return text }
        return nil
    }

    /// A command's words or a list of names; empty when unset.
    public func words(_ option: RecipeCatalog.Option) -> [String] {
        if case .words(let words)? = values[option] { return words }
        return []
    }

    public func flag(_ option: RecipeCatalog.Option) -> Bool? {
        if case .flag(let flag)? = values[option] { return flag }
        return nil
    }

    public func mode(_ option: RecipeCatalog.Option) -> Int? {
        if case .mode(let mode)? = values[option] { return mode }
        return nil
    }

    public func schedule(_ option: RecipeCatalog.Option) -> CronSchedule? {
        if case .schedule(let schedule)? = values[option] { return schedule }
        return nil
    }

    /// A map's pairs, sorted by name; empty when unset.
    public func pairs(_ option: RecipeCatalog.Option) -> [OptionValue.Pair] {
        if case .map(let pairs)? = values[option] { return pairs }
        return []
    }

    public func count(_ option: RecipeCatalog.Option) -> Int? {
        if case .count(let count)? = values[option] { return count }
        return nil
    }
}

extension RecipeCatalog {
    /// The parts a partition installs (`stack.parts`, in order), their options typed; every
    /// option that cannot be typed is a diagnostic at the value. Sections `parts` names without a
    /// recipe are reported by the usage checks and left out here.
    public static func parts(of partition: ResolvedConfiguration, diagnostics: inout DiagnosticBag) -> [Part] {
        guard case .list(let items)? = partition["stack"]?["parts"]?.value else { return [] }
        var parts: [Part] = []
        for item in items {
            guard let name = item.string, let section = partition[name], let recipeName = section["recipe"]?.node.string,
                  let recipe = recipe(named: recipeName) else { continue }
            var values: [Option: OptionValue] = [:]
            for spec in recipe.specs {
                guard let option = section[spec.name], !option.isUnresolved else { continue }
                switch decode(option, as: spec.kind, section: name, format: recipe.format) {
                case .success(let value): values[spec.option] = value
                case .failure(let diagnostic): diagnostics.add(diagnostic)
                }
            }
            parts.append(Part(name: name, recipe: recipeName, options: section.options.filter { $0.name != "recipe" }, values: values))
        }
        return parts
    }
}

/// Maps environment variables to keys: `CONFAB_<PATH>` for every key, plus `PORT` and the
/// short aliases `CONFAB_PORT` and `CONFAB_HOST`.
enum EnvironmentSource {
    /// Names the config file when no path is given explicitly.
    static let configFileVariable = "CONFAB_CONFIG"
    /// `confab chat`'s token: set in a shell where `confab serve` runs too, it is not an error.
    static let clientVariables: Set<String> = ["CONFAB_TOKEN"]

    /// Variables read besides `CONFAB_<PATH>`, weakest first, so a later one wins:
    /// `PORT` (set by platforms such as Heroku) < `CONFAB_PORT` < `CONFAB_SERVER_PORT`.
    static let aliases: [(name: String, path: String)] = [
        ("PORT", "server.port"),
        ("CONFAB_PORT", "server.port"),
        ("CONFAB_HOST", "server.host"),
    ]

    /// (variable, key, value) in the order they apply; throws for unknown `CONFAB_*` names.
    static func entries(_ environment: [String: String])
        throws(ConfigError) -> [(name: String, key: ConfigKey, value: RawValue)] {
        let keysByName = Dictionary(uniqueKeysWithValues: ConfigKey.all.map { ($0.environmentName, $0) })
        let aliasNames = Set(aliases.map(\.name))
        // Sorted so that the first unknown variable reported is the same on every run.
        for name in environment.keys.sorted() where name.hasPrefix("CONFAB_") {
            if keysByName[name] == nil, !aliasNames.contains(name), name != configFileVariable, !clientVariables.contains(name) {
                let known = keysByName.keys.sorted() + aliasNames.sorted() + [configFileVariable]
                throw ConfigError(kind: .unknownKey, source: .environment(name), keyPath: nil,
                                  expected: "a known variable", found: quoted(name),
                                  suggestion: closest(to: name, among: known))
            }
        }
        var out: [(name: String, key: ConfigKey, value: RawValue)] = []
        let named = aliases.map { ($0.name, $0.path) } + ConfigKey.all.map { ($0.environmentName, $0.path) }
        for (name, path) in named {
            guard let text = environment[name], let key = ConfigKey.named(path) else { continue }
            out.append((name, key, rawValue(text, for: key)))
        }
        return out
    }

    /// Comma-separated text for list keys ("lobby, random" → two rooms; "" → none).
    static func rawValue(_ text: String, for key: ConfigKey) -> RawValue {
        guard key.splitsEnvironment(text) else { return .scalar(text) }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { trimmed(String($0)) }
        return .list(items == [""] ? [] : items)
    }
}

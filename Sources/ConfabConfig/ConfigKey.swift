/// One configuration key: its path, type, constraint, doc line and environment variable.
///
/// ``ConfigKey/all`` is the only list of keys; the YAML loader, the environment mapping,
/// ``ConfabConfig/reference``, `config/confab.yaml` and `docs/CONFIG.md` all follow it.
public struct ConfigKey: Sendable {
    /// Dotted YAML path, e.g. `chat.rate.perSecond`.
    public let path: String
    /// Type name: integer, number, boolean, string, list of strings, ...
    public let type: String
    /// Allowed range or values, e.g. `0..10000` or `trace|debug|...`; empty if any value goes.
    public let allowed: String
    /// One line saying what the key does.
    public let doc: String
    /// The phrase after "expected" in error messages.
    let expected: String
    let splitsEnvironment: @Sendable (String) -> Bool
    /// Never quoted in messages (`auth.jwt.secret`).
    let isSecret: Bool
    let apply: @Sendable (inout ConfabConfig, RawValue) throws(ValueProblem) -> Void
    let read: @Sendable (ConfabConfig) -> String

    init<Value>(_ path: String,
                _ field: WritableKeyPath<ConfabConfig, Value> & Sendable,
                _ kind: ValueKind<Value>,
                _ doc: String) {
        self.path = path
        self.type = kind.typeName
        self.allowed = kind.allowed
        self.doc = doc
        self.expected = kind.expected
        self.splitsEnvironment = kind.splitsEnvironment
        self.isSecret = kind.isSecret
        self.apply = { (config, raw) throws(ValueProblem) in config[keyPath: field] = try kind.parse(raw) }
        self.read = { config in kind.render(config[keyPath: field]) }
    }

    /// The environment variable for this key: `CONFAB_` + the path in upper snake case,
    /// so `chat.rate.perSecond` is `CONFAB_CHAT_RATE_PER_SECOND`.
    public var environmentName: String { "CONFAB_" + upperSnakeCase(path) }

    /// The default value as written in YAML.
    public var defaultValue: String { read(ConfabConfig()) }

    /// This key's value in `config`, as written in YAML.
    public func value(in config: ConfabConfig) -> String { read(config) }
}

/// `chat.rate.perSecond` → `CHAT_RATE_PER_SECOND`; an acronym stays one word (`PerIP` → `PER_IP`).
func upperSnakeCase(_ path: String) -> String {
    var out = ""
    let characters = Array(path)
    for (index, character) in characters.enumerated() {
        if character == "." { out += "_"; continue }
        if character.isUppercase, index > 0 {
            let previous = characters[index - 1]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if previous.isLowercase || previous.isNumber
                || (previous.isUppercase && next?.isLowercase == true) {
                out += "_"
            }
        }
        out += character.uppercased()
    }
    return out
}

/// A value as read from YAML or the environment, before it is checked against its key's kind.
enum RawValue: Sendable, Equatable {
    case scalar(String)
    case list([String])
    case null
    /// A YAML mapping or alias where a value was expected; only ever an error.
    case other(String)

    /// How the value is quoted in "found …" of an error message.
    var found: String {
        switch self {
        case .scalar(let text): return quoted(text)
        case .list(let items): return "[" + items.map(quoted).joined(separator: ", ") + "]"
        case .null: return "null"
        case .other(let what): return what
        }
    }
}

/// Double-quotes text for messages, escaping what would make the quotes ambiguous.
func quoted(_ text: String) -> String {
    var out = "\""
    for character in text {
        switch character {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.append(character)
        }
    }
    return out + "\""
}

/// Why a raw value does not fit its key; the loader adds where it came from.
struct ValueProblem: Error, Equatable {
    var kind: ConfigError.Kind
    var expected: String
    var found: String
}

/// Text without leading and trailing whitespace (Foundation-free).
func trimmed(_ text: String) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}

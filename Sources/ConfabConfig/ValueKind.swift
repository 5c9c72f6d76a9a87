import ConfabCodec

/// How one key's value is typed, checked, described and printed.
/// Every constraint is written here once, so errors, `--help` and docs use the same words.
struct ValueKind<Value: Sendable>: Sendable {
    /// Short type name for the key table: "integer", "list of strings", ...
    var typeName: String
    /// Allowed values or range for the key table, empty when anything of the type goes.
    var allowed: String
    /// The phrase after "expected" in error messages.
    var expected: String
    /// Whether an environment value is split on commas into a list.
    var splitsEnvironment: @Sendable (String) -> Bool = { _ in false }
    /// The value is a secret: no error message or origin record quotes it.
    var isSecret = false
    var parse: @Sendable (RawValue) throws(ValueProblem) -> Value
    /// The value as it would be written in YAML (and shown as a default).
    var render: @Sendable (Value) -> String

    func problem(_ kind: ConfigError.Kind, _ raw: RawValue) -> ValueProblem {
        ValueProblem(kind: kind, expected: expected, found: raw.found)
    }
}

// MARK: - Scalars

extension ValueKind where Value == Int {
    /// An integer in `min...max`; `max == nil` means no upper bound.
    static func integer(min: Int, max: Int? = nil) -> ValueKind {
        let range = max.map { "from \(min) to \($0)" } ?? ">= \(min)"
        let expected = "an integer \(range)"
        return ValueKind(
            typeName: "integer",
            allowed: max.map { "\(min)..\($0)" } ?? ">= \(min)",
            expected: expected,
            parse: { (raw) throws(ValueProblem) -> Int in
                guard case .scalar(let text) = raw, let value = Int(text) else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                guard value >= min, value <= (max ?? Int.max) else {
                    throw ValueProblem(kind: .outOfRange, expected: expected, found: raw.found)
                }
                return value
            },
            render: { String($0) })
    }
}

extension ValueKind where Value == Double {
    /// A finite number strictly greater than `above`, at most `max`.
    static func number(above: Double, max: Double) -> ValueKind {
        let expected = "a number > \(formatNumber(above)) and <= \(formatNumber(max))"
        return ValueKind(
            typeName: "number",
            allowed: "> \(formatNumber(above)), <= \(formatNumber(max))",
            expected: expected,
            parse: { (raw) throws(ValueProblem) -> Double in
                guard case .scalar(let text) = raw, let value = Double(text), value.isFinite else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                guard value > above, value <= max else {
                    throw ValueProblem(kind: .outOfRange, expected: expected, found: raw.found)
                }
                return value
            },
            render: formatNumber)
    }
}

/// Whole numbers without a trailing ".0", so defaults read as they are written.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}

extension ValueKind where Value == Bool {
    static var boolean: ValueKind {
        let expected = "true or false"
        return ValueKind(
            typeName: "boolean", allowed: "true, false", expected: expected,
            parse: { (raw) throws(ValueProblem) -> Bool in
                guard case .scalar(let text) = raw else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                switch text.lowercased() {
                case "true": return true
                case "false": return false
                default: throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
            },
            render: { String($0) })
    }
}

extension ValueKind where Value == String {
    /// A string that satisfies `rule`, described by `expected` ("a host name or IP address").
    static func string(_ expected: String, allowed: String = "",
                       _ rule: @escaping @Sendable (String) -> Bool) -> ValueKind {
        ValueKind(
            typeName: "string", allowed: allowed, expected: expected,
            parse: { (raw) throws(ValueProblem) -> String in
                guard case .scalar(let text) = raw else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                guard rule(text) else {
                    throw ValueProblem(kind: .notAllowed, expected: expected, found: raw.found)
                }
                return text
            },
            render: yamlScalar)
    }

    /// An HTTP path for an endpoint: starts with "/", no spaces, query or fragment,
    /// and not one of the routes the server already serves.
    static var endpointPath: ValueKind {
        string("a path starting with \"/\" (not /, /healthz, /metrics or /static/...)",
               allowed: "path starting with /", isEndpointPath)
    }
}

/// `text` as YAML reads it back: plain when it can be, double-quoted when a plain scalar
/// would be read as something else (`confab:` as a mapping, `true` as a boolean, ...).
func yamlScalar(_ text: String) -> String {
    let plain = !text.isEmpty && !text.hasSuffix(":") && !text.contains(": ") && !text.contains(" #")
        && !"-?:,[]{}#&*!|>'\"%@`".contains(text.first ?? " ")
        && text.first?.isWhitespace == false && text.last?.isWhitespace == false
        && !["null", "~", "true", "false", "yes", "no", "on", "off"].contains(text.lowercased())
        && Double(text) == nil
    return plain ? text : quoted(text)
}

/// Routes the server answers itself; an endpoint there would shadow them.
let reservedPaths: Set<String> = ["/", "/healthz", "/metrics", "/static"]

func isEndpointPath(_ text: String) -> Bool {
    guard text.hasPrefix("/"), text.count <= 256 else { return false }
    guard !text.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) else { return false }
    return !reservedPaths.contains(text) && !text.hasPrefix("/static/")
}

extension ValueKind where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enum's raw values, e.g. a log level.
    static var choice: ValueKind {
        let names = Value.allCases.map(\.rawValue)
        let expected = "one of " + names.joined(separator: ", ")
        return ValueKind(
            typeName: "string", allowed: names.joined(separator: ", "), expected: expected,
            parse: { (raw) throws(ValueProblem) -> Value in
                guard case .scalar(let text) = raw else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                guard let value = Value(rawValue: text.lowercased()) else {
                    throw ValueProblem(kind: .notAllowed, expected: expected, found: raw.found)
                }
                return value
            },
            render: { $0.rawValue })
    }
}

extension ValueKind where Value == RedisEndpoint {
    /// A `redis://` URL; the message says what is wrong with a bad one, and never shows
    /// its password.
    static var redisURL: ValueKind {
        let expected = "a URL redis://[:password@]host:port[/db]"
        return ValueKind(
            typeName: "string", allowed: "redis://[:password@]host:port[/db]", expected: expected,
            parse: { (raw) throws(ValueProblem) -> RedisEndpoint in
                guard case .scalar(let text) = raw else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                do throws(RedisEndpoint.InvalidURL) { return try RedisEndpoint.parse(text) } catch {
                    throw ValueProblem(kind: .notAllowed, expected: "\(expected) (\(error.reason))",
                                       found: quoted(RedisEndpoint.redacted(text)))
                }
            },
            render: \.description)
    }
}

extension ValueKind {
    /// `kind`'s value, or null for off. In the environment an empty value or "null" is off.
    static func optional<Wrapped>(_ kind: ValueKind<Wrapped>) -> ValueKind where Value == Wrapped? {
        ValueKind(
            typeName: kind.typeName + " or null", allowed: "null or " + kind.allowed,
            expected: "null or " + kind.expected,
            parse: { (raw) throws(ValueProblem) -> Wrapped? in
                switch raw {
                case .null, .scalar(""), .scalar("null"): return nil
                default:
                    do throws(ValueProblem) { return try kind.parse(raw) } catch {
                        throw ValueProblem(kind: error.kind, expected: "null or " + error.expected, found: error.found)
                    }
                }
            },
            render: { $0.map(kind.render) ?? "null" })
    }
}

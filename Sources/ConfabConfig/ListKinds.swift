/// List-valued kinds. In YAML they are sequences; in the environment, comma-separated text.
extension ValueKind where Value == [String] {
    /// A list whose items each satisfy `rule`, with at least `minCount` items and no
    /// duplicates ignoring case (names are case-insensitive identities).
    static func list(of item: String, allowed: String, minCount: Int,
                     _ rule: @escaping @Sendable (String) -> Bool) -> ValueKind {
        let expected = minCount > 0
            ? "a list of at least \(minCount) distinct \(item)"
            : "a list of distinct \(item)"
        return ValueKind(
            typeName: "list of strings", allowed: allowed, expected: expected,
            splitsEnvironment: { _ in true },
            parse: { (raw) throws(ValueProblem) -> [String] in
                guard case .list(let items) = raw else {
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
                let distinct = Set(items.map { $0.lowercased() })
                guard items.count >= minCount, items.allSatisfy(rule),
                      distinct.count == items.count else {
                    throw ValueProblem(kind: .notAllowed, expected: expected, found: raw.found)
                }
                return items
            },
            render: { "[" + $0.joined(separator: ", ") + "]" })
    }

    /// Room names as the chat layer accepts them: 1–32 ASCII letters, digits, "-" or "_".
    static var roomNames: ValueKind {
        list(of: "room names (1-32 letters, digits, - or _)", allowed: "each 1-32 letters, digits, - or _",
             minCount: 1, isRoomName)
    }

    /// User names nobody may take, compared case-insensitively by the chat layer.
    static var userNames: ValueKind {
        list(of: "names (1-24 characters)", allowed: "each 1-24 characters", minCount: 0) { name in
            let trimmed = trimmed(name)
            return !trimmed.isEmpty && trimmed.count <= 24
        }
    }
}

func isRoomName(_ text: String) -> Bool {
    (1...32).contains(text.count)
        && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic
            || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
}

extension ValueKind where Value == AllowedOrigins {
    /// "any", "same-origin", or a list of origins such as "https://chat.example.com".
    static var origins: ValueKind {
        let expected = "\"any\", \"same-origin\" or a list of origins like \"https://chat.example.com\""
        return ValueKind(
            typeName: "string or list",
            allowed: "any, same-origin or list of origins",
            expected: expected,
            splitsEnvironment: { text in text != "any" && text != "same-origin" },
            parse: { (raw) throws(ValueProblem) -> AllowedOrigins in
                switch raw {
                case .scalar("any"): return .any
                case .scalar("same-origin"): return .sameOrigin
                case .scalar(let origin) where isOrigin(origin):  // one origin needs no brackets
                    return .list([origin.lowercased()])
                case .list(let items) where !items.isEmpty && items.allSatisfy(isOrigin):
                    return .list(items.map { $0.lowercased() })
                case .scalar, .list:
                    throw ValueProblem(kind: .notAllowed, expected: expected, found: raw.found)
                case .null, .other:
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
            },
            render: { origins in
                switch origins {
                case .any: return "any"
                case .sameOrigin: return "same-origin"
                case .list(let items): return "[" + items.joined(separator: ", ") + "]"
                }
            })
    }
}

/// A browser origin: scheme "http" or "https", "://", a host and optional port, nothing after.
func isOrigin(_ text: String) -> Bool {
    let lower = text.lowercased()
    for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
        let rest = lower.dropFirst(scheme.count)
        return !rest.isEmpty && !rest.contains { "/?#@ ".contains($0) }
    }
    return false
}

extension ValueKind where Value == [IPNetwork] {
    /// Addresses or CIDR networks, IPv4 or IPv6: `[127.0.0.1, 10.0.0.0/8, "fd00::/8"]`.
    static var networks: ValueKind {
        let expected = "a list of IP addresses or CIDR networks like 10.0.0.0/8 or fd00::/8"
        return ValueKind(
            typeName: "list of strings", allowed: "IP addresses or CIDRs", expected: expected,
            splitsEnvironment: { _ in true },
            parse: { (raw) throws(ValueProblem) -> [IPNetwork] in
                switch raw {
                case .list(let items):
                    var networks: [IPNetwork] = []
                    for item in items {
                        guard let network = IPNetwork(trimmed(item)) else {
                            throw ValueProblem(kind: .notAllowed, expected: expected, found: quoted(item))
                        }
                        networks.append(network)
                    }
                    return networks
                case .scalar(let item):  // one address needs no brackets
                    guard let network = IPNetwork(trimmed(item)) else {
                        throw ValueProblem(kind: .notAllowed, expected: expected, found: raw.found)
                    }
                    return [network]
                case .null, .other:
                    throw ValueProblem(kind: .wrongType, expected: expected, found: raw.found)
                }
            },
            render: { "[" + $0.map(\.description).joined(separator: ", ") + "]" })
    }
}

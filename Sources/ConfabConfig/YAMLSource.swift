import Yams

/// One key's value as found in a YAML document, with its 1-based line.
struct YAMLEntry: Sendable, Equatable {
    var path: String
    var value: RawValue
    var line: Int?
}

/// Reads a YAML document into key entries, checking its shape against the key table:
/// sections must be mappings, every key must be known, values must be scalars or lists.
/// Uses Yams' node API rather than Codable so each error can name its line.
enum YAMLSource {
    static func entries(yaml: String, source: ConfigSource) throws(ConfigError) -> [YAMLEntry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw syntaxError(error, source: source)
        } catch {
            throw ConfigError(kind: .syntax, source: source, keyPath: nil,
                              expected: "valid YAML", found: "\(error)")
        }
        guard let root, !isNull(root) else { return [] }  // an empty file means all defaults
        var entries: [YAMLEntry] = []
        try walk(root, prefix: "", source: source, into: &entries)
        return entries
    }

    private static func walk(_ node: Node, prefix: String, source: ConfigSource,
                             into entries: inout [YAMLEntry]) throws(ConfigError) {
        guard case .mapping(let mapping) = node else {
            throw ConfigError(kind: .wrongType, source: source, line: node.mark?.line,
                              keyPath: prefix.isEmpty ? nil : prefix,
                              expected: prefix.isEmpty ? "a mapping of sections" : "a mapping of keys",
                              found: rawValue(node).found)
        }
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigError(kind: .wrongType, source: source, line: line,
                                  keyPath: prefix.isEmpty ? nil : prefix,
                                  expected: "a key name", found: rawValue(keyNode).found)
            }
            let path = prefix.isEmpty ? scalar.string : prefix + "." + scalar.string
            if ConfigKey.sections.contains(path) {
                if isNull(value) { continue }  // `web:` with nothing under it keeps the defaults
                try walk(value, prefix: path, source: source, into: &entries)
            } else if ConfigKey.named(path) != nil {
                entries.append(YAMLEntry(path: path, value: rawValue(value), line: line))
            } else {
                let known = ConfigKey.all.map(\.path) + ConfigKey.sections.sorted()
                throw ConfigError(kind: .unknownKey, source: source, line: line, keyPath: path,
                                  expected: "a known key", found: quoted(path),
                                  suggestion: suggestion(for: path, among: known))
            }
        }
    }

    /// A typo in the last part ("chat.histroySize") or a key put in the wrong section
    /// ("historySize" at the top) both point at the intended key.
    static func suggestion(for path: String, among known: [String]) -> String? {
        if let near = closest(to: path, among: known) { return near }
        let last = path.split(separator: ".").last.map(String.init) ?? path
        let matches = known.filter { $0.split(separator: ".").last.map(String.init) == last }
        return matches.count == 1 ? matches[0] : nil
    }

    /// YAML null: `~`, `null` or nothing, unquoted.
    private static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any
        else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private static func rawValue(_ node: Node) -> RawValue {
        switch node {
        case .scalar(let scalar):
            return isNull(node) ? .null : .scalar(scalar.string)
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item, !isNull(item) else {
                    return .other("a list of other than plain values")
                }
                items.append(scalar.string)
            }
            return .list(items)
        case .mapping:
            return .other("a mapping")
        case .alias:
            return .other("an alias")
        }
    }

    private static func syntaxError(_ error: YamlError, source: ConfigSource) -> ConfigError {
        let line: Int?
        let problem: String
        switch error {
        case let .scanner(context, text, mark, _), let .parser(context, text, mark, _),
             let .composer(context, text, mark, _):
            line = mark.line
            problem = [context?.text, text].compactMap { $0 }.joined(separator: ": ")
        case let .reader(text, _, _, _):
            line = nil
            problem = text
        case let .duplicatedKeysInMapping(duplicates, context):
            line = context.mark.line > 0 ? context.mark.line : nil
            let names = Array(Set(duplicates)).sorted().joined(separator: ", ")
            problem = "duplicate key \(names)"
        default:
            line = nil
            problem = "\(error)"
        }
        return ConfigError(kind: .syntax, source: source, line: line, keyPath: nil,
                           expected: "valid YAML", found: problem)
    }
}

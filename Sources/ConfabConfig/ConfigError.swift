/// Where a configuration value came from, for error messages.
public enum ConfigSource: Sendable, Equatable {
    /// A YAML file, by the path it was given as.
    case file(String)
    /// An environment variable, by name.
    case environment(String)
    /// A command-line flag, e.g. `--port`.
    case flag(String)
}

/// Why the configuration cannot be used. Its description is one line that names the place
/// (file and line, variable or flag), the key, what was expected and what was found:
///
///     config/confab.yaml:12: chat.historySize: expected an integer from 0 to 10000, found "abc"
///     environment CONFAB_CHAT_RATE_BURST: expected an integer >= 1, found "0"
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A key (or `CONFAB_*` variable) that Confab does not know; see `suggestion`.
        case unknownKey
        /// A value of the wrong type, e.g. text for an integer or a list for a string.
        case wrongType
        /// A number outside its range.
        case outOfRange
        /// A value that is not one of those allowed (log level, path rule, room name...).
        case notAllowed
        /// The YAML file does not parse (or repeats a key).
        case syntax
        /// An explicitly named config file does not exist.
        case fileNotFound
        /// The config file exists but cannot be read as UTF-8 text.
        case unreadable
        /// Two keys disagree, e.g. idleTimeoutSeconds <= pingIntervalSeconds.
        case crossKey
    }

    public var kind: Kind
    public var source: ConfigSource
    /// 1-based line in the file, when the source is a file and the line is known.
    public var line: Int?
    /// Dotted key path; nil for file-level errors and unknown environment variables.
    public var keyPath: String?
    public var expected: String
    public var found: String
    /// The closest known key (or variable) for an unknown one, when it is close enough.
    public var suggestion: String?

    public init(kind: Kind, source: ConfigSource, line: Int? = nil, keyPath: String?,
                expected: String, found: String, suggestion: String? = nil) {
        self.kind = kind
        self.source = source
        self.line = line
        self.keyPath = keyPath
        self.expected = expected
        self.found = found
        self.suggestion = suggestion
    }

    public var description: String {
        var location: String
        var showsKey = true
        switch source {
        case .file(let path):
            location = path + (line.map { ":\($0)" } ?? "")
        case .environment(let name):
            location = "environment \(name)"
            showsKey = false  // the variable already names the key
        case .flag(let flag):
            location = "flag \(flag)"
            showsKey = false
        }
        if showsKey, let keyPath { location += ": \(keyPath)" }
        switch kind {
        case .unknownKey:
            let what = if case .environment = source { "unknown variable" } else { "unknown key" }
            return "\(location): \(what)" + (suggestion.map { ", did you mean \($0)?" } ?? "")
        case .syntax:
            return "\(location): YAML syntax error: \(found)"
        case .fileNotFound:
            return "\(location): file not found"
        case .unreadable:
            return "\(location): cannot read file: \(found)"
        case .wrongType, .outOfRange, .notAllowed, .crossKey:
            return "\(location): expected \(expected), found \(found)"
        }
    }
}

import Foundation

/// Builds a ``ConfabConfig`` from its layers: defaults < file < environment < flags.
public enum ConfigLoader {
    /// The environment variable that names the config file when `file` is nil.
    public static let configFileVariable = EnvironmentSource.configFileVariable

    /// Loads and validates the configuration.
    ///
    /// - Parameters:
    ///   - file: the YAML file (`--config`); when nil, `CONFAB_CONFIG` from `environment` is
    ///     used, and with neither there is no file. A named file that is missing is an error;
    ///     an empty one means all defaults.
    ///   - environment: usually `ProcessInfo.processInfo.environment`.
    ///   - overrides: command-line flags, the highest layer.
    public static func load(file: String?, environment: [String: String],
                            overrides: ConfigOverrides = ConfigOverrides()) throws(ConfigError) -> ConfabConfig {
        let path = file ?? environment[configFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let yaml = try path.map { (path) throws(ConfigError) in (path, try read(path)) }
        return try load(yaml: yaml, environment: environment, overrides: overrides)
    }

    /// Loads from YAML text already read; `yaml` is (name for messages, contents).
    static func load(yaml: (name: String, text: String)?, environment: [String: String] = [:],
                     overrides: ConfigOverrides = ConfigOverrides()) throws(ConfigError) -> ConfabConfig {
        var config = ConfabConfig()
        // Who set each key last, so a cross-key error points at the value to change.
        var origins: [String: (source: ConfigSource, line: Int?, found: String)] = [:]

        func set(_ key: ConfigKey, _ value: RawValue, _ source: ConfigSource, _ line: Int?) throws(ConfigError) {
            do throws(ValueProblem) {
                try key.apply(&config, value)
            } catch {
                throw ConfigError(kind: error.kind, source: source, line: line, keyPath: key.path,
                                  expected: error.expected, found: error.found)
            }
            origins[key.path] = (source, line, key.isSecret ? "(secret)" : value.found)
        }

        if let yaml {
            let source = ConfigSource.file(yaml.name)
            for entry in try YAMLSource.entries(yaml: yaml.text, source: source) {
                guard let key = ConfigKey.named(entry.path) else { continue }
                try set(key, entry.value, source, entry.line)
            }
        }
        for entry in try EnvironmentSource.entries(environment) {
            try set(entry.key, entry.value, .environment(entry.name), nil)
        }
        for entry in overrides.entries {
            guard let key = ConfigKey.named(entry.path) else { continue }
            try set(key, .scalar(entry.value), .flag(entry.flag), nil)
        }
        try CrossKeyRules.check(config) { path in origins[path] }
        try AuthRules.check(&config) { path in origins[path] }
        return config
    }

    /// The file's text; distinguishes a missing file from one that cannot be read.
    private static func read(_ path: String) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(kind: .fileNotFound, source: .file(path), keyPath: nil,
                              expected: "an existing file", found: "no such file")
        }
        if isDirectory.boolValue {
            throw ConfigError(kind: .unreadable, source: .file(path), keyPath: nil,
                              expected: "a file", found: "it is a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(kind: .unreadable, source: .file(path), keyPath: nil,
                              expected: "a readable file", found: "permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(kind: .unreadable, source: .file(path), keyPath: nil,
                              expected: "UTF-8 text", found: "not UTF-8 text")
        }
        return text
    }
}

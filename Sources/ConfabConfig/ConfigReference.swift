// Text renderings of the key table: `confab serve --help`, the default YAML file and the
// docs table. Tests compare config/confab.yaml and docs/CONFIG.md with these.

extension ConfabConfig {
    /// Every key with its type, default, environment variable and meaning, for
    /// `confab serve --help`. Lines stay within 78 columns, so the help reads the same in
    /// an 80-column terminal (the argument parser re-wraps longer ones).
    public static var reference: String {
        var lines = [
            "CONFIGURATION KEYS (defaults < --config file < environment < flags):",
            "The file is --config, else $CONFAB_CONFIG, else none. Each key also reads",
            "its CONFAB_* variable (below). PORT, CONFAB_PORT and CONFAB_HOST are",
            "aliases that the CONFAB_SERVER_* names override. Lists in the environment",
            "are comma-separated. Unknown CONFAB_* variables are errors.",
            "",
        ]
        for key in ConfigKey.all {
            let constraint = key.allowed.isEmpty ? "" : ", \(key.allowed)"
            lines.append("  \(key.path) = \(key.defaultValue)")
            lines.append("      \(key.doc)")
            let detail = "      \(key.type)\(constraint); env \(key.environmentName)"
            if detail.count <= 78 {
                lines.append(detail)
            } else {
                lines.append("      \(key.type)\(constraint)")
                lines.append("      env \(key.environmentName)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `config/confab.yaml` as shipped: every key with its default and its doc line.
    static var defaultYAML: String {
        var lines = [
            "# Confab configuration: every key with its default value. See docs/CONFIG.md.",
            "# Precedence: defaults < this file < environment (PORT, CONFAB_*) < flags.",
        ]
        var openSections: [String] = []
        for key in ConfigKey.all {
            let parts = key.path.split(separator: ".").map(String.init)
            let sections = Array(parts.dropLast())
            let shared = zip(openSections, sections).prefix { $0 == $1 }.count
            if shared == 0 { lines.append("") }
            for depth in shared..<sections.count {
                lines.append(String(repeating: "  ", count: depth) + sections[depth] + ":")
            }
            openSections = sections
            let indent = String(repeating: "  ", count: sections.count)
            lines.append(indent + "# " + key.doc)
            lines.append(indent + (parts.last ?? key.path) + ": " + key.defaultValue)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The key table of `docs/CONFIG.md`, in Markdown.
    static var markdownTable: String {
        var lines = [
            "| Key | Type | Default | Environment | Meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in ConfigKey.all {
            let type = key.allowed.isEmpty ? key.type : "\(key.type), \(key.allowed)"
            let cells = ["`\(key.path)`", type, "`\(key.defaultValue)`", "`\(key.environmentName)`", key.doc]
            lines.append("| " + cells.map { $0.replacingPipes() }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}

private extension String {
    func replacingPipes() -> String {
        split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}

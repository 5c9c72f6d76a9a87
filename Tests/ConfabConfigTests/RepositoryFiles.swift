import Foundation

/// Files of this repository, found from this source file so tests run from any directory.
enum RepositoryFiles {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // ConfabConfigTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static var defaultConfig: URL { root.appendingPathComponent("config/confab.yaml") }
    static var configDoc: URL { root.appendingPathComponent("docs/CONFIG.md") }

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// `RECORD_CONFIG_DOCS=1 swift test --filter ConfabConfigTests` rewrites the generated files
    /// from the key table instead of only comparing them.
    static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_CONFIG_DOCS"] == "1" }
}

/// A temporary YAML file, removed by the caller.
func temporaryFile(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("confab-config-\(UUID().uuidString).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

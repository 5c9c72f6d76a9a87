import Foundation
import Testing
@testable import ConfabConfig

@Suite struct DefaultsTests {
    @Test func defaultsAreTheDocumentedValues() {
        let config = ConfabConfig()
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.server.wsPath == "/ws")
        #expect(config.server.name == "Confab")
        #expect(config.server.maxConnections == 10_000)
        #expect(config.server.maxConnectionsPerIP == 1_000)
        #expect(config.server.allowedOrigins == .any)
        #expect(config.server.shutdownTimeoutSeconds == 5)
        #expect(config.server.reusePort == false)
        #expect(config.web.root == "web")
        #expect(config.chat.historySize == 50)
        #expect(config.chat.maxMessageBytes == 4_096)
        #expect(config.chat.rooms == ["lobby"])
        #expect(config.chat.reservedNames == ["system", "server", "admin"])
        #expect(config.chat.requireName == false)
        #expect(config.chat.maxRooms == 1_000)
        #expect(config.chat.maxRoomsPerUser == 20)
        #expect(config.chat.roomCapacity == 10_000)
        #expect(config.chat.resumeGraceSeconds == 30)
        #expect(config.chat.rate.perSecond == 5)
        #expect(config.chat.rate.burst == 20)
        #expect(config.chat.rate.disconnectAfter == 20)
        #expect(config.websocket.maxMessageBytes == 65_536)
        #expect(config.websocket.maxFrameBytes == 65_536)
        #expect(config.websocket.maxFragments == 1_024)
        #expect(config.websocket.pingIntervalSeconds == 30)
        #expect(config.websocket.idleTimeoutSeconds == 75)
        #expect(config.websocket.maxOutboundBytes == 1_048_576)
        #expect(config.websocket.closeTimeoutSeconds == 5)
        #expect(config.http.maxHeaderBytes == 8_192)
        #expect(config.http.handshakeTimeoutSeconds == 10)
        #expect(config.log.level == .info)
        #expect(config.log.format == .text)
        #expect(config.diagnostics.echoPath == nil)
        #expect(config.compat.pixidePath == nil)
        #expect(config.cluster.redis == nil)
        #expect(config.cluster.keyPrefix == "confab:")
        #expect(config.cluster.nodeId == nil)
        #expect(config.cluster.nodeTimeoutSeconds == 10)
    }

    @Test func noFileAndNoEnvironmentGiveTheDefaults() throws {
        #expect(try ConfigLoader.load(file: nil, environment: [:], overrides: ConfigOverrides()) == ConfabConfig())
    }

    @Test func shippedConfigFileEqualsTheDefaults() throws {
        let path = RepositoryFiles.defaultConfig.path
        #expect(try ConfigLoader.load(file: path, environment: [:], overrides: ConfigOverrides()) == ConfabConfig())
    }

    @Test func shippedConfigFileListsEveryKey() throws {
        let text = try RepositoryFiles.text(RepositoryFiles.defaultConfig)
        let entries = try YAMLSource.entries(yaml: text, source: .file("config/confab.yaml"))
        #expect(entries.map(\.path) == ConfigKey.all.map(\.path))
    }

    @Test func shippedConfigFileIsGeneratedFromTheTable() throws {
        if RepositoryFiles.recording {
            try ConfabConfig.defaultYAML.write(to: RepositoryFiles.defaultConfig, atomically: true, encoding: .utf8)
        }
        #expect(try RepositoryFiles.text(RepositoryFiles.defaultConfig) == ConfabConfig.defaultYAML)
    }

    @Test func docsHoldTheKeyTable() throws {
        let begin = "<!-- keys:begin -->\n", end = "\n<!-- keys:end -->"
        var doc = try RepositoryFiles.text(RepositoryFiles.configDoc)
        if RepositoryFiles.recording,
           let start = doc.range(of: begin),
           let stop = doc.range(of: end, range: start.upperBound..<doc.endIndex) {
            doc.replaceSubrange(start.upperBound..<stop.lowerBound, with: ConfabConfig.markdownTable)
            try doc.write(to: RepositoryFiles.configDoc, atomically: true, encoding: .utf8)
        }
        #expect(doc.contains(begin + ConfabConfig.markdownTable + end))
        for key in ConfigKey.all {
            #expect(doc.contains("`\(key.path)`"), "docs/CONFIG.md lacks \(key.path)")
            #expect(doc.contains(key.environmentName), "docs/CONFIG.md lacks \(key.environmentName)")
        }
    }

    @Test func referenceListsEveryKeyInShortLines() {
        let reference = ConfabConfig.reference
        for key in ConfigKey.all {
            #expect(reference.contains("  \(key.path) = \(key.defaultValue)\n"))
            #expect(reference.contains(key.environmentName))
        }
        for line in reference.split(separator: "\n") {
            #expect(line.count <= 78, "too long: \(line)")
        }
    }

    @Test func keyPathsAreUniqueAndEnvironmentNamesDerived() {
        #expect(Set(ConfigKey.all.map(\.path)).count == ConfigKey.all.count)
        #expect(ConfigKey.named("chat.rate.perSecond")?.environmentName == "CONFAB_CHAT_RATE_PER_SECOND")
        #expect(ConfigKey.named("server.port")?.environmentName == "CONFAB_SERVER_PORT")
        #expect(ConfigKey.named("server.maxConnectionsPerIP")?.environmentName == "CONFAB_SERVER_MAX_CONNECTIONS_PER_IP")
        #expect(ConfigKey.named("server.wsPath")?.environmentName == "CONFAB_SERVER_WS_PATH")
        #expect(ConfigKey.named("log.level")?.environmentName == "CONFAB_LOG_LEVEL")
        #expect(ConfigKey.named("chat.rate.perSecond")?.defaultValue == "5")
    }
}

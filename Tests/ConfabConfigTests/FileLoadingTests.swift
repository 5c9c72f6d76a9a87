import Foundation
import Testing
@testable import ConfabConfig

/// Loads YAML text as if from a file named `test.yaml`.
func load(_ yaml: String, environment: [String: String] = [:],
          overrides: ConfigOverrides = ConfigOverrides()) throws(ConfigError) -> ConfabConfig {
    try ConfigLoader.load(yaml: ("test.yaml", yaml), environment: environment, overrides: overrides)
}

@Suite struct FileLoadingTests {
    @Test func fullFileSetsEveryKey() throws {
        let config = try load("""
            server:
              host: 0.0.0.0
              port: 9000
              wsPath: /chat
              name: Team chat
              maxConnections: 500
              maxConnectionsPerIP: 50
              allowedOrigins: [https://chat.example.com, "http://LOCALHOST:8080"]
              shutdownTimeoutSeconds: 2
            web:
              root: /srv/confab/web
            chat:
              historySize: 100
              maxMessageBytes: 2000
              rooms: [lobby, random, dev-ops_2]
              reservedNames: [root]
              requireName: true
              maxRooms: 10
              maxRoomsPerUser: 3
              roomCapacity: 40
              resumeGraceSeconds: 0
              rate:
                perSecond: 0.5
                burst: 2
                disconnectAfter: 3
            websocket:
              maxMessageBytes: 16777216
              maxFrameBytes: 16777216
              maxFragments: 65536
              pingIntervalSeconds: 10
              idleTimeoutSeconds: 25
              maxOutboundBytes: 65536
              closeTimeoutSeconds: 1
            http:
              maxHeaderBytes: 4096
              handshakeTimeoutSeconds: 3
            log:
              level: debug
              format: json
            diagnostics:
              echoPath: /echo
            compat:
              pixidePath: /pixide
            """)
        var expected = ConfabConfig()
        expected.server.host = "0.0.0.0"
        expected.server.port = 9000
        expected.server.wsPath = "/chat"
        expected.server.name = "Team chat"
        expected.server.maxConnections = 500
        expected.server.maxConnectionsPerIP = 50
        expected.server.allowedOrigins = .list(["https://chat.example.com", "http://localhost:8080"])
        expected.server.shutdownTimeoutSeconds = 2
        expected.web.root = "/srv/confab/web"
        expected.chat.historySize = 100
        expected.chat.maxMessageBytes = 2000
        expected.chat.rooms = ["lobby", "random", "dev-ops_2"]
        expected.chat.reservedNames = ["root"]
        expected.chat.requireName = true
        expected.chat.maxRooms = 10
        expected.chat.maxRoomsPerUser = 3
        expected.chat.roomCapacity = 40
        expected.chat.resumeGraceSeconds = 0
        expected.chat.rate.perSecond = 0.5
        expected.chat.rate.burst = 2
        expected.chat.rate.disconnectAfter = 3
        expected.websocket.maxMessageBytes = 16_777_216
        expected.websocket.maxFrameBytes = 16_777_216
        expected.websocket.maxFragments = 65_536
        expected.websocket.pingIntervalSeconds = 10
        expected.websocket.idleTimeoutSeconds = 25
        expected.websocket.maxOutboundBytes = 65_536
        expected.websocket.closeTimeoutSeconds = 1
        expected.http.maxHeaderBytes = 4096
        expected.http.handshakeTimeoutSeconds = 3
        expected.log.level = .debug
        expected.log.format = .json
        expected.diagnostics.echoPath = "/echo"
        expected.compat.pixidePath = "/pixide"
        #expect(config == expected)
    }

    @Test func partialFileKeepsOtherDefaults() throws {
        let config = try load("chat:\n  historySize: 10\n")
        var expected = ConfabConfig()
        expected.chat.historySize = 10
        #expect(config == expected)
    }

    @Test(arguments: ["", "\n", "# only a comment\n", "---\n", "~\n", "web:\n"])
    func emptyDocumentsAndSectionsMeanDefaults(yaml: String) throws {
        #expect(try load(yaml) == ConfabConfig())
    }

    @Test func emptyFileOnDiskMeansDefaults() throws {
        let path = try temporaryFile("")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ConfigLoader.load(file: path, environment: [:], overrides: ConfigOverrides()) == ConfabConfig())
    }

    @Test func allowedOriginsAcceptsItsKeywords() throws {
        #expect(try load("server:\n  allowedOrigins: same-origin\n").server.allowedOrigins == .sameOrigin)
        #expect(try load("server:\n  allowedOrigins: any\n").server.allowedOrigins == .any)
        #expect(try load("server:\n  allowedOrigins: https://Chat.example.com\n").server.allowedOrigins
            == .list(["https://chat.example.com"]))
    }

    @Test func echoPathNullIsOff() throws {
        #expect(try load("diagnostics:\n  echoPath: null\n").diagnostics.echoPath == nil)
        #expect(try load("diagnostics:\n  echoPath: ~\n").diagnostics.echoPath == nil)
    }

    @Test func pixidePathEmptyOrNullIsOff() throws {
        #expect(try load("compat:\n  pixidePath: \"\"\n").compat.pixidePath == nil)
        #expect(try load("compat:\n  pixidePath: null\n").compat.pixidePath == nil)
        #expect(try load("compat:\n  pixidePath:\n").compat.pixidePath == nil)
        #expect(try load("compat:\n  pixidePath: /pixide\n").compat.pixidePath == "/pixide")
    }

    @Test func portZeroMeansEphemeral() throws {
        #expect(try load("server:\n  port: 0\n").server.port == 0)
    }

    @Test func reservedNamesMayBeEmpty() throws {
        #expect(try load("chat:\n  reservedNames: []\n").chat.reservedNames == [])
    }
}

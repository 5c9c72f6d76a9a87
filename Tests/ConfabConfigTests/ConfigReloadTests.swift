import Testing
@testable import ConfabConfig

/// SIGHUP: which keys a reload puts in force and which wait for a restart.
@Suite struct ConfigReloadTests {
    @Test func nothingChangedNothingToDo() {
        let plan = ConfigReload(running: ConfabConfig(), loaded: ConfabConfig())
        #expect(plan.applied.isEmpty && plan.needsRestart.isEmpty)
        #expect(plan.next == ConfabConfig())
    }

    @Test func liveKeysTakeTheirNewValues() throws {
        let loaded = try load("""
            log: {level: debug, format: json}
            server:
              maxConnections: 50
              maxConnectionsPerIP: 5
              allowedOrigins: [https://chat.example.com]
              trustedProxies: [127.0.0.1]
              forwardedHeader: forwarded
              shutdownTimeoutSeconds: 9
              drainDelaySeconds: 4
            chat:
              rate: {perSecond: 2, burst: 4, disconnectAfter: 6}
            websocket: {maxFrameBytes: 1024, pingIntervalSeconds: 5, idleTimeoutSeconds: 12, closeTimeoutSeconds: 2}
            http: {maxHeaderBytes: 4096, handshakeTimeoutSeconds: 3}
            """)
        let plan = ConfigReload(running: ConfabConfig(), loaded: loaded)
        #expect(plan.next == loaded)
        #expect(plan.needsRestart.isEmpty)
        #expect(plan.applied == [
            "server.maxConnections", "server.maxConnectionsPerIP", "server.allowedOrigins", "server.trustedProxies",
            "server.forwardedHeader", "server.shutdownTimeoutSeconds", "server.drainDelaySeconds",
            "chat.rate.perSecond", "chat.rate.burst", "chat.rate.disconnectAfter",
            "websocket.maxFrameBytes", "websocket.pingIntervalSeconds", "websocket.idleTimeoutSeconds",
            "websocket.closeTimeoutSeconds", "http.maxHeaderBytes", "http.handshakeTimeoutSeconds",
            "log.level", "log.format",
        ])
    }

    @Test func theRestKeepsItsRunningValueAndIsNamed() throws {
        let loaded = try load("""
            server: {host: 0.0.0.0, port: 9000, wsPath: /live, maxConnectionsPerIP: 3}
            web: {root: elsewhere}
            chat: {historySize: 5, rooms: [main, dev]}
            line: {enabled: true}
            """)
        let plan = ConfigReload(running: ConfabConfig(), loaded: loaded)
        #expect(plan.applied == ["server.maxConnectionsPerIP"])
        #expect(plan.needsRestart == ["server.host", "server.port", "server.wsPath", "web.root", "chat.historySize",
                                      "chat.rooms", "line.enabled"])
        var expected = ConfabConfig()
        expected.server.maxConnectionsPerIP = 3
        #expect(plan.next == expected)
    }

    /// The account tokens' keys are live (`ConfabServer.reloadAuth`); a secret, printed masked,
    /// is still named when it changes.
    @Test func authKeysAreLiveAndASecretChangeIsNamed() throws {
        let secret = "a-secret-of-at-least-thirty-two-bytes-0001"
        let running = try load("auth:\n  mode: optional\n  jwt:\n    secret: \(secret)\n")
        let loaded = try load("auth:\n  mode: required\n  jwt:\n    secret: \(secret.dropLast())2\n  leewaySeconds: 5\n  allowRename: true\n")
        let plan = ConfigReload(running: running, loaded: loaded)
        #expect(plan.applied == ["auth.mode", "auth.leewaySeconds", "auth.jwt.secret"])
        #expect(plan.needsRestart == ["auth.allowRename"])
        #expect(plan.next.auth.jwt == loaded.auth.jwt && !plan.next.auth.allowRename)
    }
}

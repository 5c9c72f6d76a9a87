import Foundation
import Testing
@testable import ConfabConfig

/// The error thrown by loading, or nil when loading succeeds.
func loadError(_ yaml: String?, environment: [String: String] = [:],
               overrides: ConfigOverrides = ConfigOverrides()) -> ConfigError? {
    do {
        _ = try ConfigLoader.load(yaml: yaml.map { ("config/confab.yaml", $0) },
                                  environment: environment, overrides: overrides)
        return nil
    } catch {
        return error
    }
}

@Suite struct FileErrorTests {
    @Test func wrongTypeNamesFileLineAndKey() throws {
        let error = try #require(loadError("""
            server:
              port: 8080
            chat:
              historySize: abc
            """))
        #expect(error.kind == .wrongType)
        #expect(error.line == 4)
        #expect(error.keyPath == "chat.historySize")
        #expect(error.description
            == #"config/confab.yaml:4: chat.historySize: expected an integer from 0 to 10000, found "abc""#)
    }

    @Test func outOfRange() throws {
        let error = try #require(loadError("chat:\n  historySize: 10001\n"))
        #expect(error.kind == .outOfRange)
        #expect(error.description
            == #"config/confab.yaml:2: chat.historySize: expected an integer from 0 to 10000, found "10001""#)
    }

    @Test func openRangeReadsAsAtLeast() throws {
        let error = try #require(loadError("chat:\n  rate:\n    burst: 0\n"))
        #expect(error.description
            == #"config/confab.yaml:3: chat.rate.burst: expected an integer >= 1, found "0""#)
    }

    @Test func fractionalIntegerIsWrongType() throws {
        let error = try #require(loadError("server:\n  port: 80.5\n"))
        #expect(error.kind == .wrongType)
    }

    @Test func rateMustBePositive() throws {
        let error = try #require(loadError("chat:\n  rate:\n    perSecond: 0\n"))
        #expect(error.kind == .outOfRange)
        #expect(error.description
            == #"config/confab.yaml:3: chat.rate.perSecond: expected a number > 0 and <= 1000000, found "0""#)
    }

    @Test func notOneOfTheAllowedValues() throws {
        let error = try #require(loadError("log:\n  level: loud\n"))
        #expect(error.kind == .notAllowed)
        #expect(error.description == """
            config/confab.yaml:2: log.level: expected one of trace, debug, info, notice, warning, \
            error, critical, found "loud"
            """)
    }

    @Test func booleanMustBeTrueOrFalse() throws {
        let error = try #require(loadError("chat:\n  requireName: maybe\n"))
        #expect(error.description == #"config/confab.yaml:2: chat.requireName: expected true or false, found "maybe""#)
    }

    @Test func unknownKeySuggestsTheClosest() throws {
        let error = try #require(loadError("chat:\n  historySize: 5\n  histroySize: 10\n"))
        #expect(error.kind == .unknownKey)
        #expect(error.line == 3)
        #expect(error.suggestion == "chat.historySize")
        #expect(error.description
            == "config/confab.yaml:3: chat.histroySize: unknown key, did you mean chat.historySize?")
    }

    @Test func keyInTheWrongSectionSuggestsItsHome() throws {
        let error = try #require(loadError("server:\n  historySize: 5\n"))
        #expect(error.description
            == "config/confab.yaml:2: server.historySize: unknown key, did you mean chat.historySize?")
    }

    @Test func unknownKeyFarFromAnyHasNoSuggestion() throws {
        let error = try #require(loadError("\n\nfrobnicate: 1\n"))
        #expect(error.description == "config/confab.yaml:3: frobnicate: unknown key")
    }

    @Test func unknownSectionSuggestsTheClosest() throws {
        let error = try #require(loadError("websockets:\n  maxFrameBytes: 10\n"))
        #expect(error.description == "config/confab.yaml:1: websockets: unknown key, did you mean websocket?")
    }

    @Test func sectionMustBeAMapping() throws {
        let error = try #require(loadError("chat: 5\n"))
        #expect(error.kind == .wrongType)
        #expect(error.description == #"config/confab.yaml:1: chat: expected a mapping of keys, found "5""#)
    }

    @Test func listWhereAScalarBelongs() throws {
        let error = try #require(loadError("server:\n  host: [a, b]\n"))
        #expect(error.description
            == #"config/confab.yaml:2: server.host: expected a host name or IP address, found ["a", "b"]"#)
    }

    @Test func invalidRoomName() throws {
        let error = try #require(loadError("chat:\n  rooms: [lobby, \"bad room\"]\n"))
        #expect(error.kind == .notAllowed)
        #expect(error.description == """
            config/confab.yaml:2: chat.rooms: expected a list of at least 1 distinct room names \
            (1-32 letters, digits, - or _), found ["lobby", "bad room"]
            """)
    }

    @Test(arguments: ["[]", "[Lobby, lobby]", "[\(String(repeating: "a", count: 33))]", "lobby"])
    func roomListsThatAreRefused(rooms: String) {
        #expect(loadError("chat:\n  rooms: \(rooms)\n")?.keyPath == "chat.rooms")
    }

    @Test(arguments: ["ws", "/", "/healthz", "/static/x", "/a b", "/ws?x=1"])
    func wsPathMustBeAFreePath(path: String) throws {
        let error = try #require(loadError("server:\n  wsPath: \"\(path)\"\n"))
        #expect(error.kind == .notAllowed)
        #expect(error.keyPath == "server.wsPath")
    }

    @Test(arguments: ["none", "[chat.example.com]", "[https://chat.example.com/]", "[]"])
    func badOrigins(value: String) throws {
        let error = try #require(loadError("server:\n  allowedOrigins: \(value)\n"))
        #expect(error.keyPath == "server.allowedOrigins")
    }

    @Test func syntaxErrorHasItsLine() throws {
        let error = try #require(loadError("server:\n  port: 8080\n  host: [unclosed\nweb:\n  root: web\n"))
        #expect(error.kind == .syntax)
        #expect(error.line != nil)
        #expect(error.description == """
            config/confab.yaml:4: YAML syntax error: while parsing a flow sequence: \
            did not find expected ',' or ']'
            """)
    }

    @Test func badIndentationIsASyntaxError() throws {
        let error = try #require(loadError("server:\n  port: 8080\n   host: x\n"))
        #expect(error.kind == .syntax)
        #expect(error.line == 3)
        #expect(error.description
            == "config/confab.yaml:3: YAML syntax error: mapping values are not allowed in this context")
    }

    @Test func duplicateKeyIsASyntaxError() throws {
        let error = try #require(loadError("chat:\n  historySize: 1\n  historySize: 2\n"))
        #expect(error.kind == .syntax)
        #expect(error.description.contains("duplicate key historySize"))
    }

    @Test func missingExplicitFile() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(file: "/nonexistent/confab.yaml", environment: [:], overrides: ConfigOverrides())
        }
        #expect(error.kind == .fileNotFound)
        #expect(error.description == "/nonexistent/confab.yaml: file not found")
    }

    @Test func directoryIsUnreadable() throws {
        let dir = FileManager.default.temporaryDirectory.path
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(file: dir, environment: [:], overrides: ConfigOverrides())
        }
        #expect(error.kind == .unreadable)
        #expect(error.description == "\(dir): cannot read file: it is a directory")
    }

    @Test func binaryFileIsUnreadable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("confab-\(UUID()).yaml").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0xff, 0xfe, 0x00, 0xc3])))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(file: path, environment: [:], overrides: ConfigOverrides())
        }
        #expect(error.kind == .unreadable)
    }
}

@Suite struct CrossKeyTests {
    @Test func idleTimeoutMustExceedPingInterval() throws {
        let error = try #require(loadError("""
            websocket:
              pingIntervalSeconds: 30
              idleTimeoutSeconds: 30
            """))
        #expect(error.kind == .crossKey)
        #expect(error.line == 3)
        #expect(error.description == """
            config/confab.yaml:3: websocket.idleTimeoutSeconds: expected more seconds than \
            websocket.pingIntervalSeconds (30), found "30"
            """)
    }

    @Test func raisingOnlyThePingIntervalBlamesThePingInterval() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_WEBSOCKET_PING_INTERVAL_SECONDS": "90"]))
        #expect(error.kind == .crossKey)
        #expect(error.keyPath == "websocket.pingIntervalSeconds")
        #expect(error.description == """
            environment CONFAB_WEBSOCKET_PING_INTERVAL_SECONDS: expected fewer seconds than \
            websocket.idleTimeoutSeconds (75), found "90"
            """)
    }

    @Test func crossKeyFromEnvironmentNamesTheVariable() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_WEBSOCKET_IDLE_TIMEOUT_SECONDS": "10"]))
        #expect(error.description == """
            environment CONFAB_WEBSOCKET_IDLE_TIMEOUT_SECONDS: expected more seconds than \
            websocket.pingIntervalSeconds (30), found "10"
            """)
    }

    @Test func configuredRoomsMustFitUnderMaxRooms() throws {
        let error = try #require(loadError("chat:\n  rooms: [a, b, c]\n  maxRooms: 2\n"))
        #expect(error.kind == .crossKey)
        #expect(error.keyPath == "chat.maxRooms")
        #expect(error.line == 3)
    }

    @Test func pixidePathMustDifferFromTheOtherEndpoints() throws {
        let ws = try #require(loadError("compat:\n  pixidePath: /ws\n"))
        #expect(ws.kind == .crossKey)
        #expect(ws.keyPath == "compat.pixidePath")
        #expect(ws.expected == "a path other than server.wsPath (/ws)")
        let echo = try #require(loadError("diagnostics:\n  echoPath: /x\ncompat:\n  pixidePath: /x\n"))
        #expect(echo.keyPath == "compat.pixidePath")
        #expect(echo.line == 4)
        let reserved = try #require(loadError("compat:\n  pixidePath: /healthz\n"))
        #expect(reserved.kind == .notAllowed)
        #expect(try load("compat:\n  pixidePath: /pixide\n", environment: ["CONFAB_COMPAT_PIXIDE_PATH": ""]).compat.pixidePath == nil)
    }

    @Test func echoPathMustDifferFromWsPath() throws {
        let error = try #require(loadError("diagnostics:\n  echoPath: /ws\n"))
        #expect(error.kind == .crossKey)
        #expect(error.keyPath == "diagnostics.echoPath")
    }
}

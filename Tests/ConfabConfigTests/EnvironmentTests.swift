import Foundation
import Testing
@testable import ConfabConfig

@Suite struct EnvironmentTests {
    @Test func everyKeyHasItsVariable() throws {
        let config = try load("", environment: [
            "CONFAB_SERVER_HOST": "0.0.0.0",
            "CONFAB_SERVER_MAX_CONNECTIONS_PER_IP": "7",
            "CONFAB_CHAT_RATE_PER_SECOND": "2.5",
            "CONFAB_CHAT_REQUIRE_NAME": "true",
            "CONFAB_LOG_LEVEL": "debug",
            "CONFAB_LOG_FORMAT": "json",
            "CONFAB_DIAGNOSTICS_ECHO_PATH": "/echo",
        ])
        #expect(config.server.host == "0.0.0.0")
        #expect(config.server.maxConnectionsPerIP == 7)
        #expect(config.chat.rate.perSecond == 2.5)
        #expect(config.chat.requireName)
        #expect(config.log.level == .debug)
        #expect(config.log.format == .json)
        #expect(config.diagnostics.echoPath == "/echo")
    }

    @Test func listsAreCommaSeparated() throws {
        let config = try load("", environment: [
            "CONFAB_CHAT_ROOMS": "lobby, random,dev",
            "CONFAB_CHAT_RESERVED_NAMES": "",
            "CONFAB_SERVER_ALLOWED_ORIGINS": "https://a.example.com,https://b.example.com",
        ])
        #expect(config.chat.rooms == ["lobby", "random", "dev"])
        #expect(config.chat.reservedNames == [])
        #expect(config.server.allowedOrigins == .list(["https://a.example.com", "https://b.example.com"]))
        #expect(try load("", environment: ["CONFAB_SERVER_ALLOWED_ORIGINS": "same-origin"])
            .server.allowedOrigins == .sameOrigin)
    }

    @Test func emptyItemInAListIsAnError() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CHAT_ROOMS": "lobby,,dev"]))
        #expect(error.description == """
            environment CONFAB_CHAT_ROOMS: expected a list of at least 1 distinct room names \
            (1-32 letters, digits, - or _), found ["lobby", "", "dev"]
            """)
    }

    @Test func emptyEchoPathIsOff() throws {
        #expect(try load("diagnostics:\n  echoPath: /echo\n",
                         environment: ["CONFAB_DIAGNOSTICS_ECHO_PATH": ""]).diagnostics.echoPath == nil)
    }

    @Test func badValueNamesTheVariable() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CHAT_RATE_BURST": "0"]))
        #expect(error.source == .environment("CONFAB_CHAT_RATE_BURST"))
        #expect(error.keyPath == "chat.rate.burst")
        #expect(error.description == #"environment CONFAB_CHAT_RATE_BURST: expected an integer >= 1, found "0""#)
    }

    @Test func unknownVariableIsAnErrorWithASuggestion() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CHAT_HISTORYSIZE": "5"]))
        #expect(error.kind == .unknownKey)
        #expect(error.description
            == "environment CONFAB_CHAT_HISTORYSIZE: unknown variable, did you mean CONFAB_CHAT_HISTORY_SIZE?")
    }

    @Test func unknownVariableFarFromAnyHasNoSuggestion() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_FLUX": "1"]))
        #expect(error.description == "environment CONFAB_FLUX: unknown variable")
    }

    @Test func otherVariablesAreIgnored() throws {
        #expect(try load("", environment: ["HOME": "/root", "CONFABULATE": "x", "LOG_LEVEL": "loud"]) == ConfabConfig())
    }

    @Test func portLikeHeroku() throws {
        #expect(try load("", environment: ["PORT": "5000"]).server.port == 5000)
        let error = try #require(loadError(nil, environment: ["PORT": "http"]))
        #expect(error.description == #"environment PORT: expected an integer from 0 to 65535, found "http""#)
    }

    @Test func longNameBeatsAliasBeatsPort() throws {
        #expect(try load("", environment: ["PORT": "5000", "CONFAB_PORT": "6000"]).server.port == 6000)
        #expect(try load("", environment: ["PORT": "5000", "CONFAB_SERVER_PORT": "7000"]).server.port == 7000)
        #expect(try load("", environment: ["CONFAB_PORT": "6000", "CONFAB_SERVER_PORT": "7000"]).server.port == 7000)
        #expect(try load("", environment: ["CONFAB_HOST": "::", "CONFAB_SERVER_HOST": "0.0.0.0"]).server.host
            == "0.0.0.0")
        #expect(try load("", environment: ["CONFAB_HOST": "::"]).server.host == "::")
    }

    @Test func configVariableNamesTheFile() throws {
        let path = try temporaryFile("chat:\n  historySize: 7\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let viaEnvironment = try ConfigLoader.load(file: nil, environment: ["CONFAB_CONFIG": path],
                                                   overrides: ConfigOverrides())
        #expect(viaEnvironment.chat.historySize == 7)
        // An explicit file wins over CONFAB_CONFIG.
        let explicit = try ConfigLoader.load(file: RepositoryFiles.defaultConfig.path,
                                             environment: ["CONFAB_CONFIG": path], overrides: ConfigOverrides())
        #expect(explicit.chat.historySize == 50)
    }

    @Test func emptyConfigVariableMeansNoFile() throws {
        #expect(try ConfigLoader.load(file: nil, environment: ["CONFAB_CONFIG": ""], overrides: ConfigOverrides())
            == ConfabConfig())
    }

    @Test func missingFileNamedByConfigVariableIsAnError() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.load(file: nil, environment: ["CONFAB_CONFIG": "/nope.yaml"], overrides: ConfigOverrides())
        }
        #expect(error.kind == .fileNotFound)
    }
}

@Suite struct PrecedenceTests {
    let file = """
        server:
          host: 10.0.0.1
          port: 9000
        web:
          root: files
        chat:
          historySize: 10
        log:
          level: warning
        """

    @Test func fileBeatsDefaults() throws {
        let config = try load(file)
        #expect(config.server.port == 9000)
        #expect(config.chat.historySize == 10)
        #expect(config.chat.maxMessageBytes == 4096)
    }

    @Test func environmentBeatsFile() throws {
        let config = try load(file, environment: [
            "CONFAB_SERVER_PORT": "9001", "CONFAB_CHAT_HISTORY_SIZE": "20", "CONFAB_LOG_LEVEL": "error",
        ])
        #expect(config.server.port == 9001)
        #expect(config.chat.historySize == 20)
        #expect(config.log.level == .error)
        #expect(config.server.host == "10.0.0.1")
        #expect(try load(file, environment: ["PORT": "5000"]).server.port == 5000)
    }

    @Test func flagsBeatEnvironment() throws {
        let config = try load(file,
                              environment: ["CONFAB_SERVER_PORT": "9001", "CONFAB_SERVER_HOST": "10.0.0.2",
                                            "CONFAB_LOG_LEVEL": "error", "CONFAB_WEB_ROOT": "env-web"],
                              overrides: ConfigOverrides(host: "10.0.0.3", port: 9002, logLevel: "trace",
                                                         webRoot: "flag-web"))
        #expect(config.server.port == 9002)
        #expect(config.server.host == "10.0.0.3")
        #expect(config.log.level == .trace)
        #expect(config.web.root == "flag-web")
        #expect(config.chat.historySize == 10)
    }

    @Test func badFlagNamesTheFlag() throws {
        let error = try #require(loadError(nil, overrides: ConfigOverrides(port: 70_000)))
        #expect(error.source == .flag("--port"))
        #expect(error.description == #"flag --port: expected an integer from 0 to 65535, found "70000""#)
        let level = try #require(loadError(nil, overrides: ConfigOverrides(logLevel: "loud")))
        #expect(level.description.hasPrefix("flag --log-level: expected one of trace, "))
    }

    @Test func aBadFileValueFailsEvenIfTheEnvironmentWouldFixIt() throws {
        // Each layer is checked as read, so the error names the line that is wrong.
        let error = try #require(loadError("chat:\n  historySize: -1\n",
                                           environment: ["CONFAB_CHAT_HISTORY_SIZE": "5"]))
        #expect(error.line == 2)
    }
}

import ArgumentParser
import ConfabConfig
import ConfabServer
import Foundation
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the chat server.",
        discussion: """
            Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 64 bad flags,
            69 cannot listen, 78 invalid configuration, 128+N when a second signal N
            forces an immediate exit.

            \(ConfabConfig.reference)
            """)

    @Option(name: .long, help: ArgumentHelp("YAML config file (default: $CONFAB_CONFIG, else built-in defaults).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: "Address to listen on (server.host).")
    var host: String?

    @Option(name: .long, help: "TCP port, 0 for any free port (server.port).")
    var port: Int?

    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical (log.level).")
    var logLevel: String?

    @Option(name: .customLong("web-root"), help: "Directory of the chat page (web.root).")
    var webRoot: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let file = config ?? environment[ConfigLoader.configFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        let settings: ConfabConfig
        do {
            settings = try ConfigLoader.load(
                file: config, environment: environment,
                overrides: ConfigOverrides(host: host, port: port, logLevel: logLevel, webRoot: webRoot))
        } catch {
            FileHandle.standardError.write(Data("confab: invalid configuration: \(error)\n".utf8))
            throw ExitCode(ExitStatus.config)
        }
        let level = Logger.Level(rawValue: settings.log.level.rawValue) ?? .info
        let format = ConfabLogHandler.Format(rawValue: settings.log.format.rawValue) ?? .text
        LoggingSystem.bootstrap { label in ConfabLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "confab")

        raiseDescriptorLimit()
        let server: ConfabServer
        let address: ConfabServer.Addresses
        do {
            server = try ConfabServer(config: settings, logger: logger)
            address = try server.start()
        } catch let error as ConfigError {
            // Keys the loader accepted but the server could not use: still the operator's config.
            FileHandle.standardError.write(Data("confab: invalid configuration: \(error)\n".utf8))
            throw ExitCode(ExitStatus.config)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("confab: cannot start: \(error)\n".utf8))
            throw ExitCode(ExitStatus.unavailable)
        }
        let host = address.host.contains(":") ? "[\(address.host)]" : address.host
        // This line is the contract with scripts and tests: they read the port from it.
        // Written unbuffered: a script reading our stdout through a pipe needs it now.
        let lines = address.linePort.map { ", line chat at \(host):\($0)" } ?? ""
        let banner = "confab \(ConfabVersion.current) listening on http://\(host):\(address.port) (WebSocket at \(settings.server.wsPath)\(lines))\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        logger.info("started", metadata: ["address": "\(host):\(address.port)", "config": "\(file ?? "(defaults)")", "webRoot": "\(settings.web.root)"])
        if let redis = settings.cluster.redis { logger.info("cluster redis configured", metadata: ["redis": "\(redis)", "keyPrefix": "\(settings.cluster.keyPrefix)"]) }
        server.run()
    }
}

/// Thousands of clients need thousands of descriptors: take the hard limit, which the
/// administrator set, instead of the usual soft default of 1024.
func raiseDescriptorLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

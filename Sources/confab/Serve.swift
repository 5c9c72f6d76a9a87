import ArgumentParser
import ConfabConfig
import ConfabReactor
import ConfabServer
import Foundation
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the chat server.",
        discussion: """
            SIGTERM/SIGINT drain (close 1012, exit when every client is gone); SIGHUP reloads
            the configuration (what needs a restart is logged by key).
            Exit codes: 0 after a clean shutdown (SIGINT/SIGTERM), 64 bad flags,
            69 cannot listen, 78 invalid configuration, 128+N when a second signal N
            forces an immediate exit.

            --workers N (N > 1, needs cluster.redis): this process supervises N worker
            processes of itself, each a cluster node with its own node id, all listening on
            one port with SO_REUSEPORT (server.reusePort is forced on; with port 0 one free
            port is picked for all). The banner is printed once every worker listens. A
            worker that dies is restarted (after 0.25 s, doubling up to 5 s while it keeps
            dying within 10 s of its start). SIGTERM/SIGINT is passed on: every worker
            drains, and the supervisor exits 0 once all have exited cleanly (else the first
            worker's code that was not 0); a second signal kills them. If a worker cannot
            start at all, the others are stopped and its exit code is ours (69 port taken).
            Workers log to the same stderr with worker=N; they stop if the supervisor dies.

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

    @Option(name: .long, help: "Worker processes sharing the port, each a cluster node (above 1 needs cluster.redis).")
    var workers = 1

    /// Set by `--workers` on the processes it starts: which worker this is (1...N).
    @Option(name: .long, help: .hidden)
    var worker: Int?

    static let maxWorkers = 256

    func validate() throws {
        guard (1...Self.maxWorkers).contains(workers) else {
            throw ValidationError("--workers must be between 1 and \(Self.maxWorkers)")
        }
        if let worker, worker < 1 || workers != 1 {
            throw ValidationError("--worker is for the processes --workers starts")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let file = config ?? environment[ConfigLoader.configFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        // The same layers at start and on every reload (SIGHUP); a worker shares its port.
        let overrides = ConfigOverrides(host: host, port: port, logLevel: logLevel, webRoot: webRoot)
        let load = { [config, worker] () throws -> ConfabConfig in
            var loaded = try ConfigLoader.load(file: config, environment: environment, overrides: overrides)
            if worker != nil { loaded.server.reusePort = true }
            return loaded
        }
        let settings: ConfabConfig
        do {
            settings = try load()
        } catch {
            FileHandle.standardError.write(Data("confab: invalid configuration: \(error)\n".utf8))
            throw ExitCode(ExitStatus.config)
        }
        if workers > 1 && settings.cluster.redis == nil {
            FileHandle.standardError.write(Data("confab: invalid configuration: --workers \(workers) needs cluster.redis (CONFAB_CLUSTER_REDIS): the workers share rooms and users through Redis\n".utf8))
            throw ExitCode(ExitStatus.config)
        }
        let logs = LogControl(level: .info, format: .text)
        let applyLog = { (log: LogSettings) in
            logs.level = Logger.Level(rawValue: log.level.rawValue) ?? .info
            logs.format = ConfabLogHandler.Format(rawValue: log.format.rawValue) ?? .text
        }
        applyLog(settings.log)
        LoggingSystem.bootstrap { label in ConfabLogHandler(label: label, control: logs) }
        var logger = Logger(label: "confab")
        if let worker { logger[metadataKey: "worker"] = "\(worker)" }

        raiseDescriptorLimit()
        if workers > 1 { return try supervise(settings, environment: environment, logger: logger) }
        let server: ConfabServer
        let address: ConfabServer.Addresses
        do {
            server = try ConfabServer(config: settings, logger: logger)
            server.enableReload(load: load, applyLog: applyLog)
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
        if worker != nil { server.stopWhenInputEnds() }
        server.run()
    }

    /// `--workers N`: this process starts and watches N of itself on one port.
    private func supervise(_ settings: ConfabConfig, environment: [String: String], logger: Logger) throws {
        // Port 0: one free port for all of them, held until we exit.
        var reservations: [PortReservation] = []
        func shared(_ port: Int) throws -> Int {
            guard port == 0 else { return port }
            let reservation = try PortReservation(host: settings.server.host)
            reservations.append(reservation)
            return reservation.port
        }
        let port: Int, linePort: Int?
        let supervisor: WorkerSupervisor
        do {
            port = try shared(settings.server.port)
            linePort = settings.line.enabled && settings.line.port == 0 ? try shared(0) : nil
            guard let executable = Reactor.executablePath() else { throw ExecutableNotFound() }
            var flags: [String] = []
            for (flag, value) in [("--config", config), ("--host", host), ("--log-level", logLevel), ("--web-root", webRoot)] {
                if let value { flags += [flag, value] }
            }
            let command = WorkerCommand(flags: flags, environment: environment, port: port, linePort: linePort,
                                        nodeId: settings.cluster.nodeId)
            supervisor = try WorkerSupervisor(count: workers, executable: executable, command: command, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("confab: cannot start: \(error)\n".utf8))
            throw ExitCode(ExitStatus.unavailable)
        }
        logger.info("starting workers", metadata: ["workers": "\(workers)", "port": "\(port)"])
        let code = withExtendedLifetime(reservations) { supervisor.run() }
        logger.info("stopped", metadata: ["code": "\(code)"])
        if code != 0 { throw ExitCode(code) }
    }
}

private struct ExecutableNotFound: Error, CustomStringConvertible {
    var description: String { "cannot find the path of this program to start its workers" }
}

/// Thousands of clients need thousands of descriptors: take the hard limit, which the
/// administrator set, instead of the usual soft default of 1024.
func raiseDescriptorLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

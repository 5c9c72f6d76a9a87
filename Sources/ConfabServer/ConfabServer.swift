import ConfabAuth
import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabProtocol
import ConfabReactor
import Glibc
import Logging

/// Wires configuration, the reactor and the room state machine together.
/// Lives on the loop thread: every method here runs inside a reactor callback.
public final class ConfabServer: ReactorDelegate {
    /// The configuration in force; a reload (SIGHUP) changes its live keys (`ConfigReload`).
    var config: ConfabConfig
    let logger: Logger
    let reactor: Reactor
    let files: StaticFiles
    var chat: ChatMachine
    let startedAt: Int64
    /// The frame limits of WebSockets opened from now on.
    var wsLimits: WebSocketLimits

    /// What a chat upgrade asked for (`?name=`, `?resume=`), kept from routing to `opened`.
    var pendingConnects: [ConnectionID: ConnectRequest] = [:]
    /// Effects are applied outside the machine; events raised while applying them wait here.
    var effects: [ChatEffect] = []
    var batch: [ChatEffect] = []
    var deferredEvents: [ChatEvent] = []
    var isApplying = false
    /// SIGTERM or SIGINT came: /healthz says so, upgrades are refused, sessions are closing.
    var draining = false
    var admission: Admission
    /// Line users still at the name prompt (the reactor knows who is a line user at all).
    var linesNaming: Set<ConnectionID> = []
    /// PixIDE connections before their first `join`, with the requests refused so far.
    var pixideWaiting: [ConnectionID: Int] = [:]
    /// The name of each joined PixIDE user (its `userId`), repeated in its `joined` replies.
    var pixideNames: [ConnectionID: String] = [:]
    var counters = ServerCounters()
    let metrics = ServerMetrics()
    /// Cluster mode (`cluster.redis`): this node's link to the others through Redis.
    let cluster: ClusterLink?
    /// Who a chat upgrade is (`auth.*`); replaced whole by `reloadAuth`.
    var authenticator: Authenticator

    public init(config: ConfabConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        reactor = try Reactor(settings: Self.reactorSettings(config), logger: logger)
        files = StaticFiles(root: config.web.root)
        admission = Admission(config.server)
        var chatConfig = Self.chatConfig(config)
        if let redis = config.cluster.redis {
            let node = config.cluster.nodeId ?? ClusterLink.newNodeID()
            chatConfig.cluster = ClusterNode(nodeID: node)
            cluster = ClusterLink(reactor: reactor, endpoint: redis, keyPrefix: config.cluster.keyPrefix, node: node,
                                  nodeTimeoutSeconds: config.cluster.nodeTimeoutSeconds, historySize: chatConfig.historySize,
                                  logger: logger)
        } else {
            cluster = nil
        }
        chatConfig.allowAccountRename = config.auth.allowRename
        chat = ChatMachine(config: chatConfig, random: EntropyPool())
        authenticator = try Self.authenticator(config)
        startedAt = WallClock.unixMillis()
        wsLimits = Self.webSocketLimits(config)
        reactor.delegate = self
    }

    /// Where the server listens: HTTP/WebSocket, and the line chat when enabled.
    public struct Addresses: Sendable {
        public var host: String
        public var port: Int
        public var linePort: Int?
    }

    /// Binds the listeners and installs timers and signal handlers; returns the bound addresses.
    public func start() throws -> Addresses {
        let http = try reactor.listen(host: config.server.host, port: config.server.port, reusePort: config.server.reusePort)
        var address = Addresses(host: http.host, port: http.port, linePort: nil)
        if config.line.enabled {
            let kind = ListenerProtocol.lines(endpoint: Endpoint.line.rawValue, maxLineBytes: config.line.maxLineBytes)
            address.linePort = try reactor.listen(host: config.server.host, port: config.line.port, speaking: kind,
                                                  reusePort: config.server.reusePort).port
        }
        if let cluster {
            logger.notice("cluster mode", metadata: ["node": "\(cluster.node)", "redis": "\(cluster.redis.endpoint.host):\(cluster.redis.endpoint.port)"])
            cluster.deliver = { [unowned self] event in handle(.cluster(event, now: WallClock.unixMillis())) }
            cluster.start()
        }
        if let path = config.compat.pixidePath {
            logger.info("PixIDE endpoint enabled", metadata: ["path": "\(path)"])
        }
        // Often enough for a large room's occupancy to go out close to its interval.
        reactor.every(milliseconds: UInt64(min(1000, max(50, config.chat.presence.intervalMs / 4)))) { [unowned self] in
            self.handle(.tick(now: WallClock.unixMillis()))
        }
        reactor.turnEnded = { [unowned self] in
            if chat.hasPendingPresence { handle(.flush(now: WallClock.unixMillis())) }
        }
        reactor.every(milliseconds: 60_000) { [unowned self] in
            logger.info("active connections", metadata: ["connections": "\(reactor.sessionCount)", "users": "\(chat.userCount)", "rooms": "\(chat.roomCount)"])
        }
        for signal in [SIGINT, SIGTERM] {
            reactor.onSignal(signal) { [unowned self] signum in self.signalled(signum) }
        }
        return address
    }

    /// Runs until shutdown completes.
    public func run() {
        reactor.run()
        logger.info("stopped")
    }

    /// For a worker of `confab serve --workers`: its stdin is a pipe from the supervisor that
    /// ends when the supervisor is gone, however it went (kill -9 too); drain as on SIGTERM
    /// then, rather than serve on unsupervised.
    public func stopWhenInputEnds() {
        reactor.readInput(fd: 0, onData: { _ in }, onEnd: { [unowned self] in
            guard !draining else { return }
            logger.warning("supervisor gone: shutting down")
            signalled(SIGTERM)
        })
    }

    // MARK: Shutdown

    /// The first signal drains: at once `/healthz` answers 503 "draining" (load balancers
    /// stop sending new users) and upgrades are refused with 503, while the HTTP listener
    /// stays open for health checks (closed at once when `server.reusePort` shares the port
    /// with other processes). After `server.drainDelaySeconds` (time for the balancers to
    /// notice; connected users chat on meanwhile) every WebSocket is closed with 1012
    /// (service restart: clients come back after a short random delay, to this server's
    /// successor) and line users get a last line. The process exits once every session has
    /// closed, or `server.shutdownTimeoutSeconds` after that. A second signal exits at once.
    private func signalled(_ signum: Int32) {
        if draining {
            logger.warning("second signal: exiting now", metadata: ["signal": "\(signum)"])
            exit(128 + signum)
        }
        draining = true
        let delay = config.server.drainDelaySeconds
        logger.notice(delay > 0 ? "draining: /healthz says so, new upgrades refused; WebSockets closed with 1012 in \(delay) s"
                                : "draining: /healthz says so, new upgrades refused, WebSockets closed with 1012",
                      metadata: ["signal": "\(signum)", "connections": "\(reactor.connectionCount)"])
        // The HTTP listener stays for health checks, unless other processes share its port
        // (server.reusePort): then the kernel should hand every new connection to them.
        let sharedPort = config.server.reusePort
        reactor.stopAccepting { if case .lines = $0 { true } else { sharedPort } }
        if delay == 0 { return closeEveryone() }
        reactor.after(milliseconds: UInt64(delay) * 1000, keepsLoopAlive: true) { [unowned self] in
            logger.notice("draining: closing WebSockets with 1012", metadata: ["connections": "\(reactor.connectionCount)"])
            closeEveryone()
        }
    }

    /// The second half of a drain: everyone is told to come back elsewhere, then the process ends.
    private func closeEveryone() {
        cluster?.leave()
        for connection in reactor.connections(endpoint: Endpoint.line.rawValue) {
            sendLine("-- server shutting down", to: connection)
        }
        reactor.closeAll(code: CloseCode.serviceRestart, reason: "service restart")
        let deadline = reactor.now + UInt64(config.server.shutdownTimeoutSeconds * 1000)
        // Check often: the process should exit as soon as the last client has answered.
        reactor.every(milliseconds: 20, keepsLoopAlive: true) { [unowned self] in
            if reactor.busyConnectionCount == 0 {
                reactor.stop()
            } else if reactor.now >= deadline {
                logger.warning("shutdown timeout: closing remaining connections", metadata: ["connections": "\(reactor.busyConnectionCount)"])
                reactor.stop()
            }
        }
    }

    // MARK: ReactorDelegate

    public func route(_ request: HTTPRequest, connection: ConnectionID, peer: String) -> Route {
        let route = routeRequest(request, connection: connection, peer: peer)
        logger.debug("http", metadata: ["peer": "\(peer)", "method": "\(request.method)", "path": "\(request.rawPath)"])
        return route
    }

    public func opened(_ connection: ConnectionID, endpoint: Int) {
        if Endpoint(rawValue: endpoint) == .line { return lineOpened(connection) }
        if Endpoint(rawValue: endpoint) == .pixide { return pixideOpened(connection) }
        guard Endpoint(rawValue: endpoint) == .chat else { return }
        let request = pendingConnects.removeValue(forKey: connection) ?? ConnectRequest()
        logger.info("websocket open", metadata: ["peer": "\(reactor.peer(of: connection) ?? "?")", "conn": "\(connection)"])
        logger.debug("connections changed", metadata: ["connections": "\(reactor.sessionCount)"])
        handle(.connected(connection, request, now: WallClock.unixMillis()))
    }

    public func received(_ message: [UInt8], binary: Bool, connection: ConnectionID, endpoint: Int) {
        switch Endpoint(rawValue: endpoint) {
        case .chat:
            if binary {
                counters.protocolErrors[CloseCode.unsupportedData, default: 0] += 1
                reactor.close(connection, code: CloseCode.unsupportedData, reason: "binary messages are not supported")
                return
            }
            counters.messagesIn += 1
            let request = ProtocolV1.decodeRequest(message, maxBytes: chat.config.maxRequestBytes)
            handle(.received(connection, request, now: WallClock.unixMillis()))
        case .line:
            lineReceived(message, connection: connection)
        case .pixide:
            pixideReceived(message, binary: binary, connection: connection)
        case .echo:
            let opcode: WebSocketOpcode = binary ? .binary : .text
            reactor.send(OutboundFrame(FrameEncoder.encode(opcode: opcode, payload: message, fin: true, mask: nil)), to: connection)
        case nil:
            break
        }
    }

    public func closed(_ connection: ConnectionID, endpoint: Int, cause: CloseCause) {
        pendingConnects.removeValue(forKey: connection)
        admission.closed(connection)  // upgraded sessions were counted against their client's IP
        logger.debug("connections changed", metadata: ["connections": "\(reactor.sessionCount)"])
        if Endpoint(rawValue: endpoint) == .line { return lineClosed(connection) }
        if Endpoint(rawValue: endpoint) == .pixide { return pixideClosed(connection) }
        guard Endpoint(rawValue: endpoint) == .chat else { return }
        let disconnect: DisconnectCause
        switch cause {
        case .peerClosed(let code, _) where code == CloseCode.normalClosure:
            disconnect = .goodbye
        default:
            disconnect = .dropped("\(cause)")
        }
        handle(.disconnected(connection, disconnect, now: WallClock.unixMillis()))
    }

    // MARK: Chat effects

    /// Runs one event through the machine and carries out its effects. Effects can raise
    /// events (closing a connection reports its end); those wait for the current batch.
    func handle(_ event: ChatEvent) {
        if isApplying {
            deferredEvents.append(event)
            return
        }
        isApplying = true
        defer { isApplying = false }
        var next: ChatEvent? = event
        while let event = next {
            chat.handle(event, into: &effects)
            swap(&effects, &batch)
            for effect in batch { apply(effect) }
            batch.removeAll(keepingCapacity: true)
            next = deferredEvents.isEmpty ? nil : deferredEvents.removeFirst()
        }
    }

    private func apply(_ effect: ChatEffect) {
        switch effect {
        case .send(let connection, let message):
            counters.messagesOut += 1
            if let endpoint = reactor.endpoint(of: connection), let frame = frame(message, for: endpoint, to: connection) {
                reactor.send(frame, to: connection)
            }
        case .broadcast(let recipients, let except, let message):
            // Encoded once per dialect that has a recipient, shared by all of its recipients.
            counters.messagesOut += recipients.count - (except == nil ? 0 : 1)
            reactor.send(to: recipients, except: except) { self.frame(message, for: $0) }
        case .close(let connection, let code, let reason):
            // A line user has no close frame to read the reason in: it gets a last line.
            if reactor.endpoint(of: connection) == Endpoint.line.rawValue { sendLine("!! disconnected: \(reason)", to: connection) }
            reactor.close(connection, code: code, reason: reason)
        case .log(let level, let text):
            logger.log(level: Logger.Level(level), "\(text)")
        case .cluster(let effect):
            cluster?.apply(effect)
        }
    }

    /// The bytes of one message in the dialect an endpoint speaks. `connection` is the
    /// recipient of a direct send (nil for a broadcast, encoded once for all of an endpoint).
    func frame(_ message: OutboundMessage, for endpoint: Int, to connection: ConnectionID? = nil) -> OutboundFrame? {
        switch Endpoint(rawValue: endpoint) {
        case .chat:
            return Self.textFrame(message.json)
        case .line:
            return LineDialect.encode(message.message, utcOffsetSeconds: WallClock.utcOffsetSeconds()).map(OutboundFrame.init)
        case .pixide:
            return pixideFrame(message, to: connection)
        case .echo, nil:
            return nil
        }
    }

    static func textFrame(_ payload: [UInt8]) -> OutboundFrame {
        OutboundFrame(header: FrameEncoder.header(opcode: .text, payloadLength: payload.count), payload: payload)
    }
}

extension Logger.Level {
    init(_ level: ChatLogLevel) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}

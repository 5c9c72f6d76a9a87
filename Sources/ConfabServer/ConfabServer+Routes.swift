import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabProtocol
import ConfabReactor
import Logging

extension ConfabServer {
    /// The page may run only its own scripts and styles and talk only to this server.
    static let pageSecurityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
            + "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-cache"),
    ]

    func routeRequest(_ request: HTTPRequest, connection: ConnectionID, peer: String) -> Route {
        let path = request.path
        let isRead = request.method == "GET" || request.method == "HEAD"
        if let endpoint = webSocketEndpoint(at: path) {
            guard request.method == "GET" else { return methodNotAllowed(allow: "GET") }
            return upgrade(request, connection: connection, peer: peer, endpoint: endpoint)
        }
        let known = path == "/" || path == "/index.html" || path == "/healthz" || path == "/metrics" || path.hasPrefix("/static/")
        guard known else { return plain(404, "not found", request) }
        guard isRead else { return methodNotAllowed(allow: "GET, HEAD") }
        if path == "/healthz" {
            return respond(draining ? 503 : 200, contentType: "application/json", body: healthJSON(), request,
                           headers: [("Cache-Control", "no-store")])
        }
        if path == "/metrics" {
            let snapshot = ServerMetrics.Snapshot(
                reactor: reactor.stats, server: counters, webSockets: reactor.sessionCount,
                tcpConnections: reactor.connectionCount, users: chat.userCount, rooms: chat.roomCount,
                cluster: cluster.map { ServerMetrics.ClusterSnapshot(up: $0.isUp, redis: $0.redis.counters,
                                                                     roundTripMs: $0.redis.roundTripMs, undecodable: $0.undecodable) })
            return respond(200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render(snapshot), request,
                           headers: [("Cache-Control", "no-store")])
        }
        let relative = path.hasPrefix("/static/") ? String(path.dropFirst("/static/".count)) : "index.html"
        guard let file = files.file(relative) else { return plain(404, "not found", request) }
        let headers = relative.hasSuffix(".html") ? Self.pageSecurityHeaders : [("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]
        let body = relative == "index.html" ? ChatPage.render(file.body, wsPath: config.server.wsPath) : file.body
        return respond(200, contentType: file.contentType, body: body, request, headers: headers)
    }

    /// The WebSocket endpoint configured at `path`, if any.
    private func webSocketEndpoint(at path: String) -> Endpoint? {
        if path == config.server.wsPath { return .chat }
        if path == config.compat.pixidePath { return .pixide }
        if path == config.diagnostics.echoPath { return .echo }
        return nil
    }

    private func upgrade(_ request: HTTPRequest, connection: ConnectionID, peer: String, endpoint: Endpoint) -> Route {
        let accept: String
        switch WebSocketHandshake.validate(request) {
        case .failure(let error):
            counters.handshakeFailures[error.status, default: 0] += 1
            logger.info("handshake refused", metadata: ["peer": "\(peer)", "status": "\(error.status)", "reason": "\(error.reason)"])
            return .respond(error.response.encode(), keepAlive: false)
        case .success(let value):
            accept = value
        }
        if draining {
            counters.refused["draining", default: 0] += 1
            counters.handshakeFailures[503, default: 0] += 1
            return .respond(HTTPResponse(status: 503, headers: ["Content-Type": "text/plain; charset=utf-8", "Retry-After": "1"],
                                         text: "server is restarting; try again in a moment\n").encode(), keepAlive: false)
        }
        let client = clientAddress(request, connection: connection, peer: peer)
        let ip = client.ip
        if let refusal = admission.check(request, ip: ip, openConnections: reactor.sessionCount) {
            counters.refused[refusal.reason, default: 0] += 1
            counters.handshakeFailures[refusal.status, default: 0] += 1
            logger.warning("connection refused", metadata: ["peer": "\(reactor.peer(of: connection) ?? peer)", "reason": "\(refusal.reason)", "detail": "\(refusal.message)"])
            return .respond(HTTPResponse(status: refusal.status, headers: ["Content-Type": "text/plain; charset=utf-8"],
                                         text: refusal.message + "\n").encode(), keepAlive: false)
        }
        if endpoint == .chat {
            let account: Account?
            switch self.account(for: request, peer: peer) {
            case .success(let found): account = found
            case .failure(let refused): return .respond(refused.response.encode(), keepAlive: false)
            }
            let connect = ConnectRequest(name: request.query["name"], resumeToken: request.query["resume"], account: account)
            if let refusal = chat.admissionError(for: connect) {
                // `forbidden`: the account's token lists no room it can enter.
                let status = refusal.code == ChatErrorCode.forbidden.rawValue ? 403 : 400
                counters.handshakeFailures[status, default: 0] += 1
                logger.info("upgrade refused", metadata: ["code": "\(refusal.code)", "reason": "\(refusal.message)"])
                return .respond(HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"],
                                             text: "\(refusal.code): \(refusal.message)\n").encode(), keepAlive: false)
            }
            pendingConnects[connection] = connect
        }
        admission.opened(connection, ip: ip)  // released in `closed`
        return .upgrade(accept: accept, endpoint: endpoint.rawValue, limits: wsLimits)
    }

    /// The client behind a request (`ClientAddress`); a believed forwarded address also
    /// names the connection in the reactor's logs, as "client via proxy".
    func clientAddress(_ request: HTTPRequest, connection: ConnectionID, peer: String) -> ClientAddress {
        let client = ClientAddress.resolve(peer: Admission.ip(ofPeer: peer), headers: request.headers,
                                           trusted: config.server.trustedProxies, header: config.server.forwardedHeader)
        switch client.source {
        case .forwarded:
            counters.forwardedHeaders["believed", default: 0] += 1
            reactor.describePeer(connection, as: "\(client.ip) via \(peer)")
        case .ignoredHeader:
            counters.forwardedHeaders["ignored", default: 0] += 1
            logger.debug("forwarded header ignored: the peer is not in server.trustedProxies", metadata: ["peer": "\(peer)"])
        case .peer:
            break
        }
        return client
    }

    private func healthJSON() -> [UInt8] {
        let uptime = (WallClock.unixMillis() - startedAt) / 1000
        // A node apart from Redis still serves its users: 200, so a balancer keeps it, but degraded.
        // A draining one (SIGTERM) says so, with 503, whatever its cluster state.
        let clusterField = cluster.map { $0.isUp ? #","cluster":"up""# : #","cluster":"down""# } ?? ""
        let status = draining ? "draining" : cluster?.isUp == false ? "degraded" : "ok"
        return Array(#"{"status":"\#(status)","version":"\#(ConfabVersion.current)","uptimeSeconds":\#(uptime),"connections":\#(reactor.sessionCount),"rooms":\#(chat.roomCount)\#(clusterField)}"#.utf8)
    }

    private func methodNotAllowed(allow: String) -> Route {
        .respond(HTTPResponse(status: 405, headers: ["Allow": allow, "Content-Type": "text/plain; charset=utf-8"],
                              text: "method not allowed\n").encode(), keepAlive: false)
    }

    private func plain(_ status: Int, _ text: String, _ request: HTTPRequest) -> Route {
        respond(status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8), request)
    }

    /// A response for GET or HEAD (same headers, no body for HEAD), keeping the connection
    /// open when the client allows it.
    private func respond(_ status: Int, contentType: String, body: [UInt8], _ request: HTTPRequest, headers: [(String, String)] = []) -> Route {
        var fields = HTTPHeaders([("Content-Type", contentType)] + headers)
        var payload = body
        if request.method == "HEAD" {
            fields.add(name: "Content-Length", value: "\(body.count)")
            payload = []
        }
        return .respond(HTTPResponse(status: status, headers: fields, body: payload).encode(), keepAlive: request.keepAlive)
    }
}

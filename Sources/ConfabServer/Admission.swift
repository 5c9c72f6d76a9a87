import ConfabCodec
import ConfabConfig
import Foundation

/// Who may open a WebSocket: origin policy and connection limits, decided before the 101.
struct Admission {
    private(set) var origins: AllowedOrigins
    private(set) var maxConnections: Int
    private(set) var maxConnectionsPerIP: Int
    /// Open WebSockets per client IP (`ClientAddress`), for `maxConnectionsPerIP`.
    private(set) var openByIP: [String: Int] = [:]
    /// The IP each open WebSocket was counted under, given back when it closes.
    private var ipOf: [ConnectionID: String] = [:]

    init(_ server: ServerConfig) {
        origins = server.allowedOrigins
        maxConnections = server.maxConnections
        maxConnectionsPerIP = server.maxConnectionsPerIP
    }

    /// New limits and origins (SIGHUP); connections already open stay counted.
    mutating func reconfigure(_ server: ServerConfig) {
        self = Admission(server, keeping: self)
    }

    private init(_ server: ServerConfig, keeping open: Admission) {
        self.init(server)
        openByIP = open.openByIP
        ipOf = open.ipOf
    }

    enum Refusal: Equatable {
        case forbiddenOrigin(String)
        case serverFull
        case tooManyFromIP(String)

        var status: Int {
            switch self {
            case .forbiddenOrigin: return 403
            case .serverFull, .tooManyFromIP: return 503
            }
        }

        /// The label under which refusals are counted and logged.
        var reason: String {
            switch self {
            case .forbiddenOrigin: return "origin"
            case .serverFull: return "max_connections"
            case .tooManyFromIP: return "max_connections_per_ip"
            }
        }

        var message: String {
            switch self {
            case .forbiddenOrigin(let origin): return "origin \(origin) is not allowed"
            case .serverFull: return "server is at its connection limit; try again later"
            case .tooManyFromIP(let ip): return "too many connections from \(ip)"
            }
        }
    }

    /// Checks a WebSocket upgrade. A request without `Origin` is not from a browser, so
    /// there is no cross-site page to protect and it is allowed.
    func check(_ request: HTTPRequest, ip: String, openConnections: Int) -> Refusal? {
        if let origin = request.headers["Origin"], !originAllowed(origin, host: request.headers["Host"]) {
            return .forbiddenOrigin(origin)
        }
        if openConnections >= maxConnections { return .serverFull }
        if openByIP[ip, default: 0] >= maxConnectionsPerIP { return .tooManyFromIP(ip) }
        return nil
    }

    func originAllowed(_ origin: String, host: String?) -> Bool {
        switch origins {
        case .any:
            return true
        case .list(let allowed):
            return allowed.contains(origin.lowercased())
        case .sameOrigin:
            // "http://host:port" must name the host the browser sent the request to.
            guard let host, let schemeEnd = origin.range(of: "://") else { return false }
            return origin[schemeEnd.upperBound...].lowercased() == host.lowercased()
        }
    }

    mutating func opened(_ connection: ConnectionID, ip: String) {
        openByIP[ip, default: 0] += 1
        ipOf[connection] = ip
    }

    /// Gives back the connection's slot, if it was counted.
    mutating func closed(_ connection: ConnectionID) {
        guard let ip = ipOf.removeValue(forKey: connection), let count = openByIP[ip] else { return }
        openByIP[ip] = count > 1 ? count - 1 : nil
    }

    /// "1.2.3.4:5678" → "1.2.3.4"; "[::1]:5678" → "::1".
    static func ip(ofPeer peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") {
            return String(peer[peer.index(after: peer.startIndex)..<end])
        }
        return peer.lastIndex(of: ":").map { String(peer[..<$0]) } ?? peer
    }
}

/// `server.*`: where Confab listens and who may connect.
public struct ServerConfig: Sendable, Equatable {
    /// Loopback only: a fresh install is not exposed to the network until someone says so.
    public var host = "127.0.0.1"
    /// A common unprivileged HTTP port; 0 asks the OS for an ephemeral one (tests use that).
    public var port = 8080
    /// Conventional WebSocket path, kept apart from the page and static files.
    public var wsPath = "/ws"
    /// The product name; the web page shows it as its title.
    public var name = "Confab"
    /// Far above a small deployment yet below typical descriptor limits (ulimit -n is often 1M+).
    public var maxConnections = 10_000
    /// Lets a NAT or office share one address while stopping one host from taking everything.
    public var maxConnectionsPerIP = 1_000
    /// `any` so that a first start works from any page; production should list its origins.
    public var allowedOrigins = AllowedOrigins.any
    /// Nobody: without a proxy in front, any client could claim any address in a header.
    public var trustedProxies: [IPNetwork] = []
    /// What nearly every proxy and load balancer sets (nginx, HAProxy, cloud balancers).
    public var forwardedHeader = ForwardedHeader.xForwardedFor
    /// Long enough to flush close frames, short enough for a supervisor's stop timeout (often 10 s).
    public var shutdownTimeoutSeconds = 5
    /// None: without a load balancer nobody reads `/healthz` before the clients go.
    public var drainDelaySeconds = 0
    /// Off: a second process on the same port is almost always a mistake, unless it is
    /// meant as another node of a cluster (SO_REUSEPORT lets the kernel share the port).
    public var reusePort = false

    public init() {}
}

/// Which browser `Origin` values may open a WebSocket (cross-site WebSocket hijacking defence).
/// A request without `Origin` is not from a browser and is always allowed.
public enum AllowedOrigins: Sendable, Equatable {
    /// Every origin.
    case any
    /// Only an `Origin` whose host and port equal the request's `Host`.
    case sameOrigin
    /// Exactly these origins, lowercased, like `https://chat.example.com`.
    case list([String])
}

/// Which header a trusted proxy puts the client's address in. Only that one is read: a
/// proxy that sets one header passes the other through from the client unchanged.
public enum ForwardedHeader: String, Sendable, CaseIterable {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    case xForwardedFor = "x-forwarded-for"
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    case forwarded
}

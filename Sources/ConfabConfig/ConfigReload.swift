/// What a reload of the configuration (SIGHUP) changes in a running server.
///
/// The live keys take their new values at once: log level and format, connection limits,
/// allowed origins, trusted proxies, the rate limit, the WebSocket and HTTP limits and
/// timeouts (frame limits for connections opened from then on), the shutdown timeout.
/// Every other key keeps its running value, and is reported as needing a restart when
/// the file changed it: where the server listens, endpoint paths, the web root, rooms,
/// history, names, resume, presence, the line chat.
public struct ConfigReload: Sendable {
    /// The configuration to run with: the running one, with the loaded live keys.
    public let next: ConfabConfig
    /// Keys whose new value takes effect now.
    public let applied: [String]
    /// Keys the loaded file changed that keep their running value until a restart.
    public let needsRestart: [String]

    public init(running: ConfabConfig, loaded: ConfabConfig) {
        var next = running
        // The live keys. A section added later that can change while running (the JWT keys
        // of `auth.*`) adds its line here and applies it in `ConfabServer.reload`.
        next.log = loaded.log
        next.server.maxConnections = loaded.server.maxConnections
        next.server.maxConnectionsPerIP = loaded.server.maxConnectionsPerIP
        next.server.allowedOrigins = loaded.server.allowedOrigins
        next.server.trustedProxies = loaded.server.trustedProxies
        next.server.forwardedHeader = loaded.server.forwardedHeader
        next.server.shutdownTimeoutSeconds = loaded.server.shutdownTimeoutSeconds
        next.chat.rate = loaded.chat.rate
        next.websocket = loaded.websocket
        next.http = loaded.http
        self.next = next
        applied = ConfigKey.all.filter { $0.value(in: running) != $0.value(in: next) }.map(\.path)
        needsRestart = ConfigKey.all.filter { $0.value(in: next) != $0.value(in: loaded) }.map(\.path)
    }
}

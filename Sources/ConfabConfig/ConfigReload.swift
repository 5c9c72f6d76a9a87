/// What a reload of the configuration (SIGHUP) changes in a running server.
///
/// The live keys take their new values at once: log level and format, connection limits,
/// allowed origins, trusted proxies, the rate limit, the WebSocket and HTTP limits and
/// timeouts (frame limits for connections opened from then on), the shutdown timeout, and
/// the account tokens' mode, keys and leeway (for upgrades from then on). Every other key
/// keeps its running value, and is reported as needing a restart when the file changed it:
/// where the server listens, endpoint paths, the web root, rooms, history, names, resume,
/// presence, the line chat, the cluster, `auth.allowRename`.
public struct ConfigReload: Sendable {
    /// The configuration to run with: the running one, with the loaded live keys.
    public let next: ConfabConfig
    /// Keys whose new value takes effect now.
    public let applied: [String]
    /// Keys the loaded file changed that keep their running value until a restart.
    public let needsRestart: [String]

    public init(running: ConfabConfig, loaded: ConfabConfig) {
        var next = running
        // The live keys. A section that can change while running adds its line here and
        // applies it in `ConfabServer.reload`.
        next.log = loaded.log
        next.server.maxConnections = loaded.server.maxConnections
        next.server.maxConnectionsPerIP = loaded.server.maxConnectionsPerIP
        next.server.allowedOrigins = loaded.server.allowedOrigins
        next.server.trustedProxies = loaded.server.trustedProxies
        next.server.forwardedHeader = loaded.server.forwardedHeader
        next.server.shutdownTimeoutSeconds = loaded.server.shutdownTimeoutSeconds
        next.server.drainDelaySeconds = loaded.server.drainDelaySeconds
        next.chat.rate = loaded.chat.rate
        next.websocket = loaded.websocket
        next.http = loaded.http
        next.auth.mode = loaded.auth.mode
        next.auth.jwt = loaded.auth.jwt
        next.auth.leewaySeconds = loaded.auth.leewaySeconds
        self.next = next
        var applied = ConfigKey.all.filter { $0.value(in: running) != $0.value(in: next) }.map(\.path)
        // What a key's printed value does not show: a secret (printed masked) or a key file
        // rotated in place (the same path, new contents, read again by the loader).
        for (path, changed) in [("auth.jwt.secret", running.auth.jwt.secret != next.auth.jwt.secret),
                                ("auth.jwt.publicKeyFile", running.auth.jwt.publicKeyPEM != next.auth.jwt.publicKeyPEM)]
        where changed && !applied.contains(path) {
            applied.append(path)
        }
        self.applied = applied
        needsRestart = ConfigKey.all.filter { $0.value(in: next) != $0.value(in: loaded) }.map(\.path)
    }
}

// The table of every configuration key, in the order the docs and the default file show them.
// Adding a key: a field with its default (and why) in its section struct, then one line here.

extension ConfigKey {
    /// Every configuration key, grouped by section.
    public static let all: [ConfigKey] = [
        ConfigKey("server.host", \.server.host,
                  .string("a host name or IP address", allowed: "host or IP") { isHost($0) },
                  "Address to listen on; 0.0.0.0 or :: listens on every interface."),
        ConfigKey("server.port", \.server.port, .integer(min: 0, max: 65_535),
                  "TCP port to listen on; 0 picks a free one. PORT is also read."),
        ConfigKey("server.wsPath", \.server.wsPath, .endpointPath,
                  "Path of the chat WebSocket endpoint."),
        ConfigKey("server.name", \.server.name,
                  .string("a name of 1 to 64 characters", allowed: "1-64 chars") {
                      (1...64).contains($0.count) && !$0.contains { $0.isNewline }
                  },
                  "Server name shown by the web page."),
        ConfigKey("server.maxConnections", \.server.maxConnections, .integer(min: 1),
                  "Most open connections; more are refused with 503."),
        ConfigKey("server.maxConnectionsPerIP", \.server.maxConnectionsPerIP, .integer(min: 1),
                  "Most open connections from one IP address; more get 503."),
        ConfigKey("server.allowedOrigins", \.server.allowedOrigins, .origins,
                  "Browser origins allowed to open a WebSocket; others get 403."),
        ConfigKey("server.trustedProxies", \.server.trustedProxies, .networks,
                  "Proxies (IPs, CIDRs) whose forwarded client address is believed."),
        ConfigKey("server.forwardedHeader", \.server.forwardedHeader, .choice,
                  "Header the trusted proxies put the client address in."),
        ConfigKey("server.shutdownTimeoutSeconds", \.server.shutdownTimeoutSeconds,
                  .integer(min: 0, max: 3_600),
                  "Seconds to close clients and flush on SIGTERM before exiting."),
        ConfigKey("server.drainDelaySeconds", \.server.drainDelaySeconds, .integer(min: 0, max: 3_600),
                  "Seconds on SIGTERM between /healthz saying draining and closing clients."),
        ConfigKey("server.reusePort", \.server.reusePort, .boolean,
                  "Set SO_REUSEPORT so several processes can listen on one port."),

        ConfigKey("web.root", \.web.root,
                  .string("a directory path", allowed: "directory") { !$0.isEmpty },
                  "Directory of the web page and /static files, relative to the cwd."),

        ConfigKey("chat.historySize", \.chat.historySize, .integer(min: 0, max: 10_000),
                  "Messages kept per room and sent to whoever joins."),
        ConfigKey("chat.maxMessageBytes", \.chat.maxMessageBytes, .integer(min: 1, max: 1_048_576),
                  "Longest chat text in UTF-8 bytes; longer is message_too_long."),
        ConfigKey("chat.rooms", \.chat.rooms, .roomNames,
                  "Rooms that always exist; the first is where everyone starts."),
        ConfigKey("chat.reservedNames", \.chat.reservedNames, .userNames,
                  "User names nobody may take (case-insensitive)."),
        ConfigKey("chat.requireName", \.chat.requireName, .boolean,
                  "Refuse the upgrade (400) without a valid, free ?name=."),
        ConfigKey("chat.maxRooms", \.chat.maxRooms, .integer(min: 1),
                  "Most rooms on the server, configured ones included."),
        ConfigKey("chat.maxRoomsPerUser", \.chat.maxRoomsPerUser, .integer(min: 1),
                  "Most rooms one user can be in at once."),
        ConfigKey("chat.roomCapacity", \.chat.roomCapacity, .integer(min: 1),
                  "Most members in one room; more get room_full."),
        ConfigKey("chat.resumeGraceSeconds", \.chat.resumeGraceSeconds, .integer(min: 0, max: 3_600),
                  "Seconds a dropped session can be resumed with its token."),
        ConfigKey("chat.rate.perSecond", \.chat.rate.perSecond, .number(above: 0, max: 1_000_000),
                  "Requests per second a user may make on average."),
        ConfigKey("chat.rate.burst", \.chat.rate.burst, .integer(min: 1),
                  "Requests a user may make at once before the rate applies."),
        ConfigKey("chat.rate.disconnectAfter", \.chat.rate.disconnectAfter, .integer(min: 1),
                  "Refusals in a row after which the user is closed with 1008."),
        ConfigKey("chat.presence.fullListMax", \.chat.presence.fullListMax, .integer(min: 1, max: 100_000),
                  "Members above which a room sends counts, not a line per arrival."),
        ConfigKey("chat.presence.intervalMs", \.chat.presence.intervalMs, .integer(min: 50, max: 60_000),
                  "Milliseconds between a large room's occupancy updates."),

        ConfigKey("websocket.maxMessageBytes", \.websocket.maxMessageBytes,
                  .integer(min: 1, max: 1 << 30),
                  "Largest reassembled message; larger closes with 1009."),
        ConfigKey("websocket.maxFrameBytes", \.websocket.maxFrameBytes, .integer(min: 1, max: 1 << 30),
                  "Largest single frame payload; larger closes with 1009."),
        ConfigKey("websocket.maxFragments", \.websocket.maxFragments, .integer(min: 1, max: 1 << 20),
                  "Most frames in one fragmented message; more closes with 1009."),
        ConfigKey("websocket.pingIntervalSeconds", \.websocket.pingIntervalSeconds,
                  .integer(min: 1, max: 3_600),
                  "Seconds between the server's pings."),
        ConfigKey("websocket.idleTimeoutSeconds", \.websocket.idleTimeoutSeconds,
                  .integer(min: 2, max: 86_400),
                  "Seconds of silence before a client is closed; > pingIntervalSeconds."),
        ConfigKey("websocket.maxOutboundBytes", \.websocket.maxOutboundBytes,
                  .integer(min: 1_024, max: 1 << 30),
                  "Unsent bytes queued for one client before it is closed as too slow."),
        ConfigKey("websocket.closeTimeoutSeconds", \.websocket.closeTimeoutSeconds,
                  .integer(min: 1, max: 3_600),
                  "Seconds to wait for the peer's close frame before cutting TCP."),

        ConfigKey("http.maxHeaderBytes", \.http.maxHeaderBytes, .integer(min: 1_024, max: 65_536),
                  "Largest request line and headers; larger gets 431."),
        ConfigKey("http.handshakeTimeoutSeconds", \.http.handshakeTimeoutSeconds,
                  .integer(min: 1, max: 3_600),
                  "Seconds a client has to send its whole request."),

        ConfigKey("log.level", \.log.level, .choice, "Lowest level logged."),
        ConfigKey("log.format", \.log.format, .choice, "Log line format on stderr."),

        ConfigKey("line.enabled", \.line.enabled, .boolean,
                  "Listen for plain-TCP line chat (nc, telnet) on line.port."),
        ConfigKey("line.port", \.line.port, .integer(min: 0, max: 65_535),
                  "TCP port of the line chat, on server.host; 0 picks a free one."),
        ConfigKey("line.maxLineBytes", \.line.maxLineBytes, .integer(min: 64, max: 1_048_576),
                  "Longest input line of the line chat; longer lines are refused."),

        ConfigKey("diagnostics.echoPath", \.diagnostics.echoPath, .optional(.endpointPath),
                  "Path of a WebSocket echo endpoint for conformance tests; null is off."),

        ConfigKey("compat.pixidePath", \.compat.pixidePath, .optional(.endpointPath),
                  "Path of a WebSocket endpoint for PixIDE chat clients; null is off."),

        ConfigKey("cluster.redis", \.cluster.redis, .optional(.redisURL),
                  "Redis shared by the nodes of a cluster; null runs one process alone."),
        ConfigKey("cluster.keyPrefix", \.cluster.keyPrefix,
                  .string("1 to 64 characters without spaces", allowed: "1-64 chars, no spaces") {
                      (1...64).contains($0.count) && !$0.contains { $0.isWhitespace || $0.isNewline }
                  },
                  "Prefix of every Redis key and channel, so deployments can share one."),
        ConfigKey("cluster.nodeId", \.cluster.nodeId,
                  .optional(.string("1 to 64 letters, digits, '.', '_', ':' or '-'",
                                    allowed: "1-64 of A-Z a-z 0-9 . _ : -") { isNodeId($0) }),
                  "This node's name in the cluster; null makes a new one each start."),
        ConfigKey("cluster.nodeTimeoutSeconds", \.cluster.nodeTimeoutSeconds, .integer(min: 2, max: 3_600),
                  "Seconds without a heartbeat after which a node is declared dead."),

        ConfigKey("auth.mode", \.auth.mode, .choice,
                  "Signed tokens (JWT) on the chat upgrade: ignored, optional or required."),
        ConfigKey("auth.jwt.secret", \.auth.jwt.secret, .secret,
                  "HS256 secret; prefer the environment. Never logged or shown."),
        ConfigKey("auth.jwt.publicKeyFile", \.auth.jwt.publicKeyFile,
                  .optional(.string("a file path", allowed: "file path") { !$0.isEmpty }),
                  "PEM public key for RS256 (RSA) or ES256 (EC P-256) tokens."),
        ConfigKey("auth.leewaySeconds", \.auth.leewaySeconds, .integer(min: 0, max: 300),
                  "Clock skew allowed when checking a token's exp and nbf."),
        ConfigKey("auth.allowRename", \.auth.allowRename, .boolean,
                  "Let account users rename themselves (else forbidden)."),
    ]

    /// The key with this dotted path.
    public static func named(_ path: String) -> ConfigKey? { byPath[path] }

    static let byPath: [String: ConfigKey] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// Every section path (`server`, `chat`, `chat.rate`, ...), which hold keys rather than values.
    static let sections: Set<String> = Set(all.flatMap { key in
        let parts = key.path.split(separator: ".").dropLast()
        return parts.indices.map { parts[...$0].joined(separator: ".") }
    })
}

/// A node id goes into Redis keys, channels and logs: plain ASCII, no separators to escape.
func isNodeId(_ text: String) -> Bool {
    (1...64).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }
}

/// A host to bind: non-empty, no spaces or URL punctuation. Resolution is the server's job.
func isHost(_ text: String) -> Bool {
    !text.isEmpty && text.count <= 253 && !text.contains { $0.isWhitespace || "/?#@".contains($0) }
}

/// Counts the server layer keeps (the reactor keeps its own in `ReactorStats`).
struct ServerCounters {
    var messagesIn = 0
    /// Chat messages queued to clients: a broadcast to N recipients counts N.
    var messagesOut = 0
    /// Upgrades refused by policy, by reason (origin, max_connections, …).
    var refused: [String: Int] = [:]
    /// Handshakes answered with an error status, by status.
    var handshakeFailures: [Int: Int] = [:]
    /// Closes for protocol reasons the server decides itself (1003 binary on the chat),
    /// by code; the reactor counts the codec's.
    var protocolErrors: [UInt16: Int] = [:]
    /// Upgrades with a forwarding header: `believed` from a trusted proxy, `ignored` from
    /// anyone else (a proxy missing from `server.trustedProxies` shows here).
    var forwardedHeaders: [String: Int] = [:]
}

/// Plain counters kept by the loop thread. Metrics read them when scraped, so the hot
/// paths pay an integer add, never an atomic or a lock.
public struct ReactorStats: Sendable {
    public var connectionsAccepted = 0
    public var acceptErrors = 0
    public var bytesIn = 0
    public var bytesOut = 0
    /// Frames queued for peers: a broadcast to N recipients counts N.
    public var framesOut = 0
    public var slowConsumersDropped = 0
    /// Close codes we sent because a peer broke RFC 6455 (1002, 1007, 1009…).
    public var protocolErrors: [UInt16: Int] = [:]
    public var handshakeTimeouts = 0
    public var idleTimeouts = 0
    /// How late the last periodic sweep ran, in milliseconds: a busy loop shows here first.
    public var loopLagMs: UInt64 = 0
    public var maxLoopLagMs: UInt64 = 0
}

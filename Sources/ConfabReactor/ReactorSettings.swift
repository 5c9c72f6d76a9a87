/// The reactor's timeouts and bounds, all in milliseconds or bytes.
public struct ReactorSettings: Sendable {
    /// Largest HTTP request head accepted before answering 431.
    public var maxHeaderBytes: Int = 8192
    /// A connection that has not completed its HTTP request by then is closed (slowloris).
    public var handshakeTimeoutMs: UInt64 = 10_000
    /// The server pings a WebSocket that has been silent this long.
    public var pingIntervalMs: UInt64 = 30_000
    /// A WebSocket silent this long (no frame at all, pongs included) is closed with 1001.
    public var idleTimeoutMs: UInt64 = 75_000
    /// How long we wait for the peer to answer our close frame before cutting TCP.
    public var closeTimeoutMs: UInt64 = 5_000
    /// Bytes read and discarded after a protocol error while waiting for the peer's close
    /// (the rest of an oversized frame, say) before TCP is cut. 1 MiB passes the rest of any
    /// frame a default-limit client would send, at a cost bounded by the close timeout.
    public var closeDrainBytes: Int = 1 << 20
    /// Bytes queued for one connection beyond which it is a slow consumer, closed with 1008.
    public var maxOutboundBytes: Int = 1 << 20
    /// Size of the one read buffer shared by every connection of the loop.
    public var readBufferBytes: Int = 64 * 1024

    public init() {}
}

/// `websocket.*`: RFC 6455 limits and liveness, shared by the chat and echo endpoints.
public struct WebSocketSettings: Sendable, Equatable {
    /// Room for a chat request with a 4 KiB text after JSON escaping, far below memory concerns.
    public var maxMessageBytes = 65_536
    /// One frame may carry a whole message; checked from the header before buffering.
    public var maxFrameBytes = 65_536
    /// Stops floods of tiny fragments that cost more in bookkeeping than in bytes.
    public var maxFragments = 1_024
    /// Below the 60 s idle cut of common proxies and load balancers.
    public var pingIntervalSeconds = 30
    /// Two missed pings and a margin: one lost pong does not drop a client.
    public var idleTimeoutSeconds = 75
    /// Some history and a few broadcasts of backlog; beyond it a reader is too slow to keep.
    public var maxOutboundBytes = 1_048_576
    /// How long a peer gets to answer our close frame before TCP is cut.
    public var closeTimeoutSeconds = 5

    public init() {}
}

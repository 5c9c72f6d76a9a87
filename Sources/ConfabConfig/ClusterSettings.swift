import ConfabCodec

/// `cluster.*`: several Confab processes sharing every room through one Redis. Off (no
/// `redis`) by default: a single process needs nothing else to run.
public struct ClusterSettings: Sendable, Equatable {
    /// Off: clustering needs a Redis that someone runs on purpose.
    public var redis: RedisEndpoint? = nil
    /// Every key and channel starts with this, so several deployments can share one Redis.
    public var keyPrefix = "confab:"
    /// nil: the server makes one per process start, so a restarted node is a new node and
    /// never mistaken for the one that died.
    public var nodeId: String? = nil
    /// A node silent this long is dead: long enough to ride out a Redis failover or a GC-free
    /// but busy loop, short enough that its users' sessions do not linger.
    public var nodeTimeoutSeconds = 10

    public init() {}
}

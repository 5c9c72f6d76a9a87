/// `http.*`: limits on the HTTP request that precedes the upgrade.
public struct HTTPSettings: Sendable, Equatable {
    /// Browsers send 1–2 KiB with cookies; 8 KiB is the common server limit (nginx, Node).
    public var maxHeaderBytes = 8_192
    /// A real client finishes its request in milliseconds; slowloris clients never do.
    public var handshakeTimeoutSeconds = 10

    public init() {}
}

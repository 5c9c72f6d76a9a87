import ConfabProtocol

/// Identifies one transport connection; assigned by the reactor, never reused while open.
public typealias ConnectionID = UInt64

/// What the client asked for in the upgrade request's query (`/ws?name=…&resume=…`).
public struct ConnectRequest: Sendable, Equatable {
    public var name: String?
    public var resumeToken: String?

    public init(name: String? = nil, resumeToken: String? = nil) {
        self.name = name
        self.resumeToken = resumeToken
    }
}

/// Why a connection ended. Only a deliberate goodbye ends the session at once;
/// everything else keeps it resumable for `resumeGraceSeconds`.
public enum DisconnectCause: Sendable, Equatable {
    /// The client closed with 1000.
    case goodbye
    /// TCP drop, ping timeout, close 1001, protocol error…: starts the resume grace period.
    case dropped(String)
}

/// Everything the machine reacts to. `now` is Unix epoch milliseconds, supplied by the caller
/// so the machine never reads a clock.
public enum ChatEvent: Sendable {
    case connected(ConnectionID, ConnectRequest, now: Int64)
    /// One request, already decoded by the connection's dialect (failures included: every
    /// request counts against the rate limit).
    case received(ConnectionID, DecodedRequest, now: Int64)
    case disconnected(ConnectionID, DisconnectCause, now: Int64)
    /// About once a second; expires resume grace periods and sends presence that is due.
    case tick(now: Int64)
    /// The end of a loop turn: presence collected during the turn goes out, one message per
    /// room. The server sends it only when `ChatMachine.hasPendingPresence`.
    case flush(now: Int64)
}

import ConfabCodec
import ConfabProtocol

/// What the client asked for when it connected: in the upgrade request's query
/// (`/ws?name=…&resume=…`), or in the first request of a dialect that names the user then.
public struct ConnectRequest: Sendable, Equatable {
    public var name: String?
    public var resumeToken: String?
    /// The room a new session starts in instead of the home room, created when it does not
    /// exist. When it cannot be used (invalid name, full, no room left under `maxRooms`) the
    /// session starts in the home room and gets the `error` after its `welcome`, as for a
    /// refused name. Ignored when a resume token is accepted.
    public var startRoom: String?
    /// The session is in one room at a time: a successful `join` of another room then leaves
    /// the previous one (a `left` reply, presence `leave` there). For dialects such as PixIDE
    /// whose users switch rooms rather than join several.
    public var singleRoom: Bool
    /// The signed-in account, from a token the server verified before the upgrade; nil for an
    /// anonymous user. Its name replaces `name`.
    public var account: Account?

    public init(name: String? = nil, resumeToken: String? = nil, startRoom: String? = nil, singleRoom: Bool = false,
                account: Account? = nil) {
        self.name = name
        self.resumeToken = resumeToken
        self.startRoom = startRoom
        self.singleRoom = singleRoom
        self.account = account
    }
}

/// Who a verified token says the user is (docs/PROTOCOL.md, "Accounts").
public struct Account: Sendable, Equatable {
    /// The token's `sub`, shown as `user.id`: the same in every session of the account.
    public var id: String
    /// The name the account is shown under; it belongs to the account (no one else may take it).
    public var name: String
    /// The rooms the account may join (case-insensitive); nil for any room.
    public var rooms: [String]?

    public init(id: String, name: String, rooms: [String]? = nil) {
        self.id = id
        self.name = name
        self.rooms = rooms
    }

    /// Whether the account may be in the room `name`.
    func mayJoin(_ room: String) -> Bool {
        guard let rooms else { return true }
        let key = Names.key(room)
        return rooms.contains { Names.key($0) == key }
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
    /// Cluster mode only (`ChatConfig.cluster`).
    case cluster(ClusterEvent, now: Int64)
}

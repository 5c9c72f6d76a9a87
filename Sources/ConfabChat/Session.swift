import ConfabCodec
import ConfabProtocol

/// One user's session. It outlives its connection during the resume grace period.
struct Session {
    let key: SessionKey
    /// How others see this user, in every message and presence. `user.id` is stable for the
    /// life of the session, resumes included.
    private(set) var user: ChatUser
    /// Joined rooms in join order.
    var rooms: RoomList
    var current: RoomID
    /// nil while in the grace period.
    var connection: ConnectionID?
    var token: ResumeToken
    var limiter: RateLimiter
    /// In one room at a time: joining another leaves the previous one (`ConnectRequest.singleRoom`).
    let singleRoom: Bool
    /// Cluster mode: the node hosting a session listed here but connected elsewhere (no
    /// connection, token or grace period here); nil for this node's own sessions.
    var node: String?
    /// Moves between nodes so far (`ClusterMember.generation`).
    var generation: UInt64 = 0

    init(key: SessionKey, userID: String, name: String, room: RoomID, connection: ConnectionID,
         token: ResumeToken, limiter: RateLimiter, singleRoom: Bool = false) {
        self.key = key
        self.user = ChatUser(id: userID, name: name)
        self.rooms = [room]
        self.current = room
        self.connection = connection
        self.token = token
        self.limiter = limiter
        self.singleRoom = singleRoom
    }

    /// Another node's user, as its `joined` introduced them.
    init(key: SessionKey, remote user: ChatUser, node: String, room: RoomID) {
        self.init(key: key, userID: user.id, name: user.name, room: room, connection: 0, token: .unissued,
                  limiter: RateLimiter(burst: 1, now: 0))
        self.connection = nil
        self.node = node
    }

    var userID: String { user.id }
    var isRemote: Bool { node != nil }
    var name: String { user.name }
    /// Case-folded, for `nameOwners`.
    var nameKey: String { Names.key(user.name) }

    /// Only through `SessionTable.rename`, which lets cached member lists know.
    mutating func rename(to newName: String) {
        user.name = newName
    }
}

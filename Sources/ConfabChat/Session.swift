import ConfabProtocol

/// One user's session. It outlives its connection during the resume grace period.
struct Session {
    let key: SessionKey
    /// Stable for the life of the session, resumes included.
    let userID: String
    private(set) var name: String
    private(set) var nameKey: String
    /// How others see this user, in every message and presence.
    private(set) var user: ChatUser
    /// Joined rooms in join order.
    var rooms: [RoomID]
    var current: RoomID
    /// nil while in the grace period.
    var connection: ConnectionID?
    var token: String
    var limiter: RateLimiter

    init(key: SessionKey, userID: String, name: String, room: RoomID, connection: ConnectionID,
         token: String, limiter: RateLimiter) {
        self.key = key
        self.userID = userID
        self.name = name
        self.nameKey = Names.key(name)
        self.user = ChatUser(id: userID, name: name)
        self.rooms = [room]
        self.current = room
        self.connection = connection
        self.token = token
        self.limiter = limiter
    }

    mutating func rename(to newName: String) {
        name = newName
        nameKey = Names.key(newName)
        user.name = newName
    }
}

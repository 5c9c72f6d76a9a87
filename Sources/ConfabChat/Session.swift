/// One user's session. It outlives its connection during the resume grace period.
struct Session {
    let key: SessionKey
    /// Stable for the life of the session, resumes included.
    let userID: String
    private(set) var name: String
    private(set) var nameKey: String
    /// `{"id":"…","name":"…"}` encoded once per name, written into every message and presence.
    private(set) var userJSON: [UInt8]
    /// Joined rooms in join order.
    var rooms: [RoomID]
    var current: RoomID
    /// nil while in the grace period.
    var connection: ConnectionID?
    var token: String
    var graceDeadline: Int64?
    var limiter: RateLimiter

    init(key: SessionKey, userID: String, name: String, room: RoomID, connection: ConnectionID,
         token: String, limiter: RateLimiter) {
        self.key = key
        self.userID = userID
        self.name = name
        self.nameKey = Names.key(name)
        self.userJSON = Session.encodeUser(id: userID, name: name)
        self.rooms = [room]
        self.current = room
        self.connection = connection
        self.token = token
        self.limiter = limiter
    }

    mutating func rename(to newName: String) {
        name = newName
        nameKey = Names.key(newName)
        userJSON = Session.encodeUser(id: userID, name: newName)
    }

    static func encodeUser(id: String, name: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 32 + name.utf8.count)
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.key("name")
        writer.string(name)
        writer.endObject()
        return writer.bytes
    }
}

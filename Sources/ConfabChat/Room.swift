import ConfabProtocol

typealias RoomID = UInt64
typealias SessionKey = UInt64

/// One room. Two member lists with different jobs:
/// `connections` is the contiguous fan-out list handed to the reactor as is;
/// `users` is who is listed (sessions in their resume grace period included).
/// Both are `IndexedSet`s, so join/leave is O(1) even with 10,000 members.
struct Room {
    let id: RoomID
    let name: String
    /// Case-folded identity.
    let key: String
    /// Configured rooms always exist; the others go when their last user leaves.
    let permanent: Bool
    private var connectionSet = IndexedSet<ConnectionID>()
    private var userSet = IndexedSet<SessionKey>()
    var history: HistoryRing
    /// Next message seq; starts at 1 and never repeats while the room exists.
    var nextSeq: UInt64 = 1

    init(id: RoomID, name: String, permanent: Bool, historySize: Int) {
        self.id = id
        self.name = name
        self.key = Names.key(name)
        self.permanent = permanent
        self.history = HistoryRing(capacity: historySize)
    }

    var connections: [ConnectionID] { connectionSet.elements }
    var users: [SessionKey] { userSet.elements }

    func hasUser(_ key: SessionKey) -> Bool { userSet.contains(key) }
    func hasConnection(_ connection: ConnectionID) -> Bool { connectionSet.contains(connection) }
    mutating func addUser(_ key: SessionKey) { userSet.insert(key) }
    mutating func removeUser(_ key: SessionKey) { userSet.remove(key) }
    mutating func addConnection(_ connection: ConnectionID) { connectionSet.insert(connection) }
    mutating func removeConnection(_ connection: ConnectionID) { connectionSet.remove(connection) }

    /// Numbers and stores the next message and returns it with its recipients, so the
    /// caller looks the room up once.
    mutating func post(now: Int64, from user: ChatUser, text: String, action: Bool)
        -> (message: ChatMessage, recipients: [ConnectionID])
    {
        let message = ChatMessage(room: name, seq: nextSeq, timestamp: now, from: user, text: text, action: action)
        nextSeq += 1
        history.append(message)
        return (message, connections)
    }

    /// A session taken over by a new connection keeps its slot.
    mutating func replaceConnection(_ old: ConnectionID, with new: ConnectionID) {
        connectionSet.replace(old, with: new)
    }
}

/// The last `capacity` messages of a room, already encoded, oldest first on read.
struct HistoryRing {
    let capacity: Int
    private var storage: [ChatMessage] = []
    private var head = 0  // index of the oldest entry once full

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        storage.reserveCapacity(min(self.capacity, 1024))
    }

    var count: Int { storage.count }

    mutating func append(_ message: ChatMessage) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(message)
        } else {
            storage[head] = message
            head += 1
            if head == capacity { head = 0 }
        }
    }

    var oldestFirst: [ChatMessage] { Array(storage[head...] + storage[..<head]) }
}

typealias RoomID = UInt64
typealias SessionKey = UInt64

/// One room. Two member lists with different jobs:
/// `connections` is the contiguous fan-out list handed to the reactor as is;
/// `users` is who is listed (sessions in their resume grace period included).
/// Both use swap-remove with an index map, so join/leave is O(1) even with 10,000 members.
struct Room {
    let id: RoomID
    let name: String
    /// Case-folded identity.
    let key: String
    /// `"name"` already quoted, written into every message of the room.
    let nameJSON: [UInt8]
    /// Configured rooms always exist; the others go when their last user leaves.
    let permanent: Bool
    private(set) var connections: [ConnectionID] = []
    private var connectionIndex: [ConnectionID: Int] = [:]
    private(set) var users: [SessionKey] = []
    private var userIndex: [SessionKey: Int] = [:]
    var history: HistoryRing
    /// Next message seq; starts at 1 and never repeats while the room exists.
    var nextSeq: UInt64 = 1

    init(id: RoomID, name: String, permanent: Bool, historySize: Int) {
        self.id = id
        self.name = name
        self.key = Names.key(name)
        self.nameJSON = JSONWriter.quoted(name)
        self.permanent = permanent
        self.history = HistoryRing(capacity: historySize)
    }

    func hasUser(_ key: SessionKey) -> Bool { userIndex[key] != nil }
    func hasConnection(_ connection: ConnectionID) -> Bool { connectionIndex[connection] != nil }

    mutating func addUser(_ key: SessionKey) {
        guard userIndex[key] == nil else { return }
        userIndex[key] = users.count
        users.append(key)
    }

    mutating func removeUser(_ key: SessionKey) {
        guard let index = userIndex.removeValue(forKey: key) else { return }
        let last = users.removeLast()
        if index < users.count {
            users[index] = last
            userIndex[last] = index
        }
    }

    mutating func addConnection(_ connection: ConnectionID) {
        guard connectionIndex[connection] == nil else { return }
        connectionIndex[connection] = connections.count
        connections.append(connection)
    }

    mutating func removeConnection(_ connection: ConnectionID) {
        guard let index = connectionIndex.removeValue(forKey: connection) else { return }
        let last = connections.removeLast()
        if index < connections.count {
            connections[index] = last
            connectionIndex[last] = index
        }
    }

    /// Encodes the next message, stores it in the history and returns what a send needs,
    /// so the caller looks the room up once.
    mutating func post(now: Int64, from user: [UInt8], text: String, action: Bool)
        -> (message: OutboundMessage, recipients: [ConnectionID], room: [UInt8], seq: UInt64)
    {
        let seq = nextSeq
        let message = ServerMessage.message(room: nameJSON, seq: seq, now: now, from: user, text: text, action: action)
        nextSeq += 1
        history.append(message)
        return (message, connections, nameJSON, seq)
    }

    /// A session taken over by a new connection keeps its slot.
    mutating func replaceConnection(_ old: ConnectionID, with new: ConnectionID) {
        guard let index = connectionIndex.removeValue(forKey: old) else {
            addConnection(new)
            return
        }
        connections[index] = new
        connectionIndex[new] = index
    }
}

/// The last `capacity` messages of a room, already encoded, oldest first on read.
struct HistoryRing {
    let capacity: Int
    private var storage: [OutboundMessage] = []
    private var head = 0  // index of the oldest entry once full

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        storage.reserveCapacity(min(self.capacity, 1024))
    }

    var count: Int { storage.count }

    mutating func append(_ message: OutboundMessage) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(message)
        } else {
            storage[head] = message
            head += 1
            if head == capacity { head = 0 }
        }
    }

    func forEachOldestFirst(_ body: (OutboundMessage) -> Void) {
        for index in head..<storage.count { body(storage[index]) }
        for index in 0..<head { body(storage[index]) }
    }
}

import ConfabCodec
import ConfabProtocol

typealias RoomID = UInt64
typealias SessionKey = UInt64

/// One room. Two member lists with different jobs:
/// `connections` is the contiguous fan-out list handed to the reactor as is;
/// `members` is who is listed (sessions in their resume grace period included), in join
/// order for stable paging. Join and leave are O(1) in both, whatever the room's size.
struct Room {
    let id: RoomID
    let name: String
    /// Case-folded identity.
    let key: String
    /// Configured rooms always exist; the others go when their last user leaves.
    let permanent: Bool
    private var connectionSet = IndexedSet<ConnectionID>()
    private(set) var members = MemberLog()
    var history: HistoryRing
    /// Next message seq; starts at 1 and never repeats while the room exists.
    var nextSeq: UInt64 = 1

    /// Too many members to list them all and announce each one: the room gets `occupancy`
    /// updates instead of `presence`, and `users` pages.
    var isLarge = false
    /// Presence changes waiting for the end of the loop turn (small rooms), and whose they
    /// are when they are all one user's (that user is not told of their own change).
    var pendingChanges: [PresenceChange] = []
    var pendingActor: SessionKey?
    /// The room became small again: everyone gets the full list once, at the next flush.
    var needsFullList = false
    /// Large rooms: the count changed since the last `occupancy`.
    var occupancyChanged = false
    var lastOccupancyAt: Int64?
    /// Large rooms: arrivals since the last `occupancy`, newest last, at most `recentMax`.
    var recentArrivals: [ChatUser] = []
    /// Listed in `ChatCore.pendingRooms`.
    var isPending = false
    static let recentMax = 5

    init(id: RoomID, name: String, permanent: Bool, historySize: Int) {
        self.id = id
        self.name = name
        self.key = Names.key(name)
        self.permanent = permanent
        self.history = HistoryRing(capacity: historySize)
    }

    var connections: [ConnectionID] { connectionSet.elements }
    var userCount: Int { members.count }

    func hasUser(_ key: SessionKey) -> Bool { members.contains(key) }
    func hasConnection(_ connection: ConnectionID) -> Bool { connectionSet.contains(connection) }
    mutating func addUser(_ key: SessionKey) { members.insert(key) }
    mutating func removeUser(_ key: SessionKey) { members.remove(key) }
    mutating func replaceUser(_ key: SessionKey, with other: SessionKey) { members.replace(key, with: other) }
    mutating func firstUsersPage(userChanges: UInt64, encode: ([SessionKey]) -> [UInt8]) -> MemberLog.FirstPage {
        members.firstPage(limit: ChatConfig.usersPageSize, userChanges: userChanges, encode: encode)
    }
    mutating func addConnection(_ connection: ConnectionID) { connectionSet.insert(connection) }
    mutating func removeConnection(_ connection: ConnectionID) { connectionSet.remove(connection) }

    /// Records a presence change for the next flush and switches mode at the thresholds.
    /// Returns true when the room has just become pending.
    mutating func note(_ change: PresenceChange, by actor: SessionKey, largeAbove: Int, smallBelow: Int) -> Bool {
        if !isLarge && userCount > largeAbove {
            isLarge = true
            pendingChanges.removeAll()
            pendingActor = nil
            needsFullList = false
            occupancyChanged = true
        } else if isLarge && userCount < smallBelow {
            isLarge = false
            recentArrivals.removeAll()
            needsFullList = true
        }
        if isLarge {
            if change.event != .rename { occupancyChanged = true }
            if change.event == .join {
                if recentArrivals.count == Room.recentMax { recentArrivals.removeFirst() }
                recentArrivals.append(change.user)
            }
        } else if !needsFullList {
            pendingActor = pendingChanges.isEmpty || pendingActor == actor ? actor : nil
            pendingChanges.append(change)
        }
        guard !isPending else { return false }
        isPending = true
        return true
    }

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

    /// Stores a message numbered elsewhere (by the cluster) and returns its recipients here.
    mutating func accept(_ message: ChatMessage) -> [ConnectionID] {
        nextSeq = message.seq + 1
        history.append(message)
        return connections
    }

    /// Takes in a room's history as stored elsewhere, keeping what only this node has.
    mutating func mergeHistory(_ stored: [ChatMessage]) {
        var bySeq: [UInt64: ChatMessage] = [:]
        for message in history.oldestFirst + stored where Names.key(message.room) == key { bySeq[message.seq] = message }
        let merged = bySeq.keys.sorted().suffix(history.capacity).compactMap { bySeq[$0] }
        history = HistoryRing(capacity: history.capacity)
        for message in merged { history.append(message) }
        if let last = merged.last { nextSeq = max(nextSeq, last.seq + 1) }
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

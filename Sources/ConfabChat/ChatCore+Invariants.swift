import ConfabCodec
import ConfabProtocol
/// Consistency checks for tests (property-based tests call this after every step).
extension ChatCore {
    /// Every broken invariant, described; empty when the state is consistent.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        for (key, session) in sessions {
            if session.rooms.isEmpty { problems.append("session \(key) is in no room") }
            if session.singleRoom && session.rooms.count > 1 { problems.append("single-room session \(key) in \(session.rooms.count) rooms") }
            if !session.rooms.contains(session.current) { problems.append("session \(key) current room not joined") }
            if Set(session.rooms).count != session.rooms.count { problems.append("session \(key) joined a room twice") }
            if session.isRemote {
                // Another node's user: listed, but connected, resumed and timed out over there.
                if session.connection != nil || self.owner(of: session.token) != nil { problems.append("remote \(key) has local state") }
            } else {
                let owner = nameOwners[session.nameKey]
                if owner != key && !siblings(of: key).contains(where: { $0 == owner }) {
                    problems.append("name \(session.name) not owned by \(key) or its account")
                }
                if self.owner(of: session.token) != key || tokenOwners.candidate(for: session.token) != key { problems.append("token of \(key) not registered") }
                if let connection = session.connection {
                    if connections[connection] != key { problems.append("connection \(connection) not mapped to \(key)") }
                    if graceDeadlines[key] != nil { problems.append("connected session \(key) has a grace deadline") }
                } else if graceDeadlines[key] == nil {
                    problems.append("detached session \(key) has no grace deadline")
                }
            }
            for roomID in session.rooms {
                guard let room = rooms[roomID] else {
                    problems.append("session \(key) in missing room \(roomID)")
                    continue
                }
                if listedKey(of: key, in: roomID) == nil { problems.append("room \(room.name) does not list \(key)") }
                if let connection = session.connection, !room.hasConnection(connection) {
                    problems.append("room \(room.name) lacks connection \(connection)")
                }
            }
        }
        let remote = cluster?.remoteCount ?? 0
        if let cluster {
            if cluster.users.count != sessions.count - accountOf.count {
                problems.append("\(cluster.users.count) user ids for \(sessions.count - accountOf.count) anonymous sessions")
            }
            for (id, key) in cluster.users where sessions[key]?.userID != id { problems.append("user id \(id) indexed wrongly") }
            if sessions.values.filter(\.isRemote).count != remote { problems.append("remote count \(remote) is wrong") }
        }
        for (name, key) in nameOwners where sessions[key]?.nameKey != name { problems.append("name \(name) owned by \(key) who has another") }
        // An account's devices (and copies) are one user, with one name and one user id.
        let users = sessions.count - accountOf.count + accountSessions.count
        if remote == 0 && nameOwners.count != users { problems.append("\(nameOwners.count) names for \(users) users") }
        if tokenOwners.count != sessions.count - remote { problems.append("\(tokenOwners.count) tokens for \(sessions.count - remote) sessions") }
        if Set(sessions.values.map(\.userID)).count != users { problems.append("two users share a user id") }
        for (connection, key) in connections where sessions[key]?.connection != connection {
            problems.append("connection \(connection) maps to a session not bound to it")
        }
        for (id, room) in rooms {
            if roomByKey[room.key] != id { problems.append("room \(room.name) not indexed") }
            if room.userCount == 0 && !room.permanent { problems.append("empty room \(room.name) kept") }
            if room.history.count > config.historySize { problems.append("room \(room.name) history too long") }
            if Set(room.members.all).count != room.userCount { problems.append("room \(room.name) lists a user twice") }
            if let kept = room.members.keptFirstPage, kept.userChanges == sessions.userChanges {
                let fresh = room.members.page(after: 0, limit: kept.limit)
                if fresh.keys != kept.keys || fresh.next != kept.next
                    || ProtocolV1.encodeUserArray(self.users(fresh.keys)) != kept.usersJSON {
                    problems.append("room \(room.name): the first users page kept is not the page now")
                }
            }
            for key in room.members.all where sessions[key]?.rooms.contains(id) != true {
                problems.append("room \(room.name) lists \(key) who is not in it")
            }
            if Set(room.members.all.compactMap { sessions[$0]?.userID }).count != room.userCount {
                problems.append("room \(room.name) lists a user twice (two devices)")
            }
            let connected = sessions.values.filter { $0.connection != nil && $0.rooms.contains(id) }.count
            if connected != room.connections.count {
                problems.append("room \(room.name): \(room.connections.count) connections for \(connected) connected sessions")
            }
            for connection in room.connections {
                guard let key = connections[connection], sessions[key]?.rooms.contains(id) == true else {
                    problems.append("room \(room.name) fans out to non-member connection \(connection)")
                    continue
                }
            }
        }
        if roomByKey.count != rooms.count { problems.append("room index size mismatch") }
        if accountOf.count != accountSessions.values.map(\.count).reduce(0, +) {
            problems.append("\(accountOf.count) account sessions, indexed otherwise")
        }
        for (key, account) in accounts where accountOf[key] != account.id || sessions[key]?.isRemote != false {
            problems.append("account device \(key) not indexed as \(account.id)'s, or not this node's")
        }
        for (id, keys) in accountSessions {
            if keys.isEmpty || Set(keys).count != keys.count { problems.append("account \(id) has no or repeated sessions") }
            if Set(keys.compactMap { sessions[$0]?.name }).count > 1 { problems.append("account \(id) has several names") }
            let nodes = keys.compactMap { sessions[$0]?.node }
            if Set(nodes).count != nodes.count { problems.append("account \(id) has two copies of one node") }
            for key in keys {
                if accountOf[key] != id { problems.append("account \(id) lists session \(key) of another account") }
                if sessions[key]?.userID != id { problems.append("account \(id) session \(key) missing or not shown as its id") }
                if sessions[key]?.isRemote == false && accounts[key] == nil { problems.append("account \(id) device \(key) has no claims") }
            }
        }
        for (id, room) in rooms {
            if room.userCount > config.presenceFullListMax && !room.isLarge { problems.append("room \(room.name) too large to list") }
            if room.userCount < config.presenceSmallBelow && room.isLarge { problems.append("room \(room.name) small but counted") }
            if room.isPending != pendingRooms.contains(id) { problems.append("room \(room.name) pending flag disagrees") }
        }
        if Set(pendingRooms).count != pendingRooms.count { problems.append("a room is pending twice") }
        return problems
    }

    /// Test hooks: who a connection is and what a room holds.
    func roomMembers(named name: String) -> (users: Int, connections: [ConnectionID])? {
        guard let id = roomByKey[Names.key(name)], let room = rooms[id] else { return nil }
        return (room.userCount, room.connections)
    }

    func roomNames(of connection: ConnectionID) -> [String] {
        guard let key = connections[connection], let session = sessions[key] else { return [] }
        return session.rooms.compactMap { rooms[$0]?.name }
    }

    /// Small rooms with presence not yet sent (none right after a flush).
    var pendingSmallRooms: Int {
        pendingRooms.filter { rooms[$0]?.isLarge == false }.count
    }

    func historyCount(of name: String) -> Int? {
        guard let id = roomByKey[Names.key(name)] else { return nil }
        return rooms[id]?.history.count
    }
}

extension ChatCore {
    /// User ids listed in a room (grace-period sessions included).
    func roomUserIDs(named name: String) -> Set<String>? {
        guard let id = roomByKey[Names.key(name)], let room = rooms[id] else { return nil }
        return Set(room.members.all.compactMap { sessions[$0]?.userID })
    }
}

import ConfabCodec
import ConfabProtocol

/// Accounts in a cluster: an account's devices may be on several nodes at once. Each node
/// tells the others about its own devices of an account as one member (the rooms any of
/// them is in: `joined` with the first device here to enter a room, `left` with the last to
/// leave it, `ended` with the last device), and lists every other node's as one copy (a
/// remote session per node). Devices and copies are siblings (`accountSessions`), so rooms
/// list the account once and presence comes with its first session anywhere and goes with
/// its last. Accounts never move between nodes: a connection through another node is a new
/// device there.
extension ChatCore {
    /// Another node's copy of an account.
    func accountCopy(_ userID: String, on node: String) -> SessionKey? {
        accountSessions[userID]?.first { sessions[$0]?.node == node }
    }

    /// The session this node hosts for a user id: the anonymous user's, or the account's
    /// oldest device here.
    func localSession(_ userID: String) -> SessionKey? {
        if let key = cluster?.users[userID], sessions[key]?.isRemote == false { return key }
        return localDevices(of: userID).first
    }

    /// One of this node's sessions ends: the other nodes learn what they no longer list.
    mutating func endHere(_ session: Session, isAccount: Bool, _ effects: inout [ChatEffect]) {
        let key = session.key
        let others = isAccount ? localDevices(of: session.userID).filter { $0 != key } : []
        if others.isEmpty {
            announce({ .ended(node: $0, userID: session.userID) }, &effects)
        } else {
            for roomID in session.rooms where !anotherDeviceHere(of: key, in: roomID) {
                let name = rooms[roomID]?.name ?? ""
                announce({ .left(node: $0, userID: session.userID, room: name) }, &effects)
            }
        }
        if !isAccount { effects.append(.cluster(.dropToken(userID: session.userID))) }
        // An account's name stays claimed under its id in Redis, so that while it is away no
        // node gives it to anyone else, and it is granted again wherever the account returns.
        if siblings(of: key).isEmpty && !ownsAccountName(session) {
            effects.append(.cluster(.releaseName(session.nameKey, userID: session.userID)))
        }
    }

    /// This node's devices of each account as the one member the other nodes list.
    var localAccountMembers: [ClusterMember] {
        accountSessions.keys.sorted().compactMap { id in
            let devices = localDevices(of: id).compactMap { sessions[$0] }
            guard let first = devices.first else { return nil }
            var seen = Set<RoomID>()
            var names: [String] = []
            for device in devices {
                for roomID in device.rooms where seen.insert(roomID).inserted { names.append(rooms[roomID]?.name ?? "") }
            }
            return ClusterMember(user: first.user, rooms: names, account: true)
        }
    }

    /// Another node's devices of an account entered a room.
    mutating func remoteAccountJoin(_ user: ChatUser, on node: String, room name: String, _ effects: inout [ChatEffect]) {
        guard Names.isValidRoomName(name), Names.validUserName(user.name) == user.name, !user.id.isEmpty else {
            return log(.warning, "cluster: node \(node) sent an invalid account or room; ignored", &effects)
        }
        let roomID = roomByKey[Names.key(name)] ?? addRoom(name, &effects)
        let key: SessionKey
        if let copy = accountCopy(user.id, on: node) {
            guard sessions[copy]?.rooms.contains(roomID) == false else { return }
            key = copy
            sessions[key]?.rooms.append(roomID)
            sessions[key]?.current = roomID
        } else {
            key = sessions.nextKey
            // Named as the account is named here already, if it is (a rename may be on its way).
            let known = accountSessions[user.id]?.first.flatMap { sessions[$0]?.user } ?? user
            sessions.store(Session(key: key, remote: known, node: node, room: roomID))
            cluster?.remoteCount += 1
            addAccountSession(key, account: user.id)
            if siblings(of: key).isEmpty { claimListedName(Names.key(known.name), for: key, &effects) }
        }
        if enterRoom(key, roomID, connection: nil), let listed = sessions[key]?.user {
            presenceChanged(roomID, PresenceChange(.join, listed), by: key)
        }
    }

    /// Another node's devices of an account left a room; a copy in no room any more is gone.
    mutating func remoteAccountLeave(_ copy: SessionKey, room name: String, _ effects: inout [ChatEffect]) {
        guard let session = sessions[copy], let roomID = roomByKey[Names.key(name)], session.rooms.contains(roomID) else { return }
        let remaining = session.rooms.filter { $0 != roomID }
        guard let fallback = remaining.last else { return endSession(copy, &effects) }
        sessions[copy]?.rooms = RoomList(remaining)
        if session.current == roomID { sessions[copy]?.current = fallback }
        removeFromRoom(copy, connection: nil, roomID: roomID, user: session.user, &effects)
    }

    /// An account was renamed on another node (`auth.allowRename`, or a name lost there):
    /// every session of it here takes the name; its devices here are told, each room once.
    mutating func remoteAccountRename(_ userID: String, to raw: String, _ effects: inout [ChatEffect]) {
        let group = accountSessions[userID] ?? []
        guard let first = group.first, let old = sessions[first]?.name, let name = Names.validUserName(raw), name != old else { return }
        let oldKey = Names.key(old)
        if let owner = nameOwners[oldKey], group.contains(owner) { nameOwners.removeValue(forKey: oldKey) }
        // A device here shows the name: it holds it here, whoever else listed shows it too.
        if let device = localDevices(of: userID).first { nameOwners[Names.key(name)] = device } else {
            claimListedName(Names.key(name), for: first, &effects)
        }
        if accountNames.owner(of: oldKey) == userID { accountNames.claim(Names.key(name), for: userID) }
        for key in group { sessions.rename(key, to: name) }
        let user = ChatUser(id: userID, name: name)
        var told = Set<RoomID>()
        for key in group {
            if let connection = sessions[key]?.connection { send(.renamed(user: user, oldName: old, re: nil), to: connection, &effects) }
            for roomID in sessions[key]?.rooms ?? [] where told.insert(roomID).inserted {
                presenceChanged(roomID, PresenceChange(.rename, user, oldName: old), by: listedKey(of: key, in: roomID) ?? key)
            }
        }
    }

    /// Makes this node's copy of `node`'s devices of an account match `member`.
    mutating func reconcileAccount(_ member: ClusterMember, on node: String, _ effects: inout [ChatEffect]) {
        if let copy = accountCopy(member.user.id, on: node) {
            graceDeadlines.removeValue(forKey: copy)  // its node is alive after all
            if sessions[copy]?.name != member.user.name { remoteAccountRename(member.user.id, to: member.user.name, &effects) }
        }
        for room in member.rooms { remoteAccountJoin(member.user, on: node, room: room, &effects) }
        guard let copy = accountCopy(member.user.id, on: node), let session = sessions[copy] else { return }
        let wanted = Set(member.rooms.map(Names.key))
        for roomID in session.rooms {
            guard let room = rooms[roomID], !wanted.contains(room.key) else { continue }
            remoteAccountLeave(copy, room: room.name, &effects)
        }
    }

    /// Other nodes' copies of accounts, on `node`.
    func accountCopies(on node: String) -> [SessionKey] {
        accountSessions.values.flatMap { $0 }.filter { sessions[$0]?.node == node }.sorted()
    }
}

import ConfabCodec
import ConfabProtocol

/// Accounts (a verified token's `sub`, `name` and `rooms`): which session a connection
/// continues, an account's devices listed as one user, where a restricted account starts,
/// and names that belong to accounts.
extension ChatCore {
    /// The session a new connection continues, if any. An account's connections are its
    /// devices, each its own session under the account's id and name: a device's resume token
    /// continues that device (taking it over, 4000, if it is still connected); without one, a
    /// device in its grace period is picked up, else the connection is a new device. A resume
    /// token continues only an anonymous session for an anonymous connection: it never turns
    /// one kind of user into the other. In a cluster devices are per node: a connection
    /// through another node is a new device there (accounts never move between nodes).
    func continuedSession(_ request: ConnectRequest) -> SessionKey? {
        let token = request.resumeToken.flatMap(ResumeToken.init)
        if let account = request.account {
            let devices = localDevices(of: account.id)
            if let token, let key = owner(of: token), devices.contains(key) { return key }
            return devices.first { sessions[$0]?.connection == nil }
        }
        guard let token, let key = owner(of: token), accountOf[key] == nil else { return nil }
        return key
    }

    /// The other sessions of `key`'s account here (devices, and other nodes' copies), oldest
    /// first; none for anonymous users.
    func siblings(of key: SessionKey) -> [SessionKey] {
        guard let id = accountOf[key], let keys = accountSessions[id], keys.count > 1 else { return [] }
        return keys.filter { $0 != key }
    }

    /// The name is listed here as `key`'s account's (held by one of its other sessions).
    func siblingsOwn(_ nameKey: String, _ key: SessionKey) -> Bool {
        guard let owner = nameOwners[nameKey] else { return false }
        return siblings(of: key).contains(owner)
    }

    /// This node's devices of an account, oldest first.
    func localDevices(of accountID: String) -> [SessionKey] {
        (accountSessions[accountID] ?? []).filter { sessions[$0]?.isRemote == false }
    }

    /// Whether another of this node's devices of `key`'s account is in the room: then the
    /// other nodes already know the account is there (they list the rooms of a node's devices
    /// together).
    func anotherDeviceHere(of key: SessionKey, in roomID: RoomID) -> Bool {
        siblings(of: key).contains { sessions[$0].map { !$0.isRemote && $0.rooms.contains(roomID) } ?? false }
    }

    /// The session under which `key`'s user is listed in a room: itself, or another device of
    /// its account (a room lists each user once). nil when the user is not in the room.
    /// (Rooms are read in place: a copy held across a write would copy the member arrays.)
    func listedKey(of key: SessionKey, in roomID: RoomID) -> SessionKey? {
        if rooms[roomID]?.hasUser(key) == true { return key }
        return siblings(of: key).first { rooms[roomID]?.hasUser($0) == true }
    }

    /// Puts a session and its connection into a room. True when its user is new there (a
    /// presence `join`); false when another device of the account is listed already.
    mutating func enterRoom(_ key: SessionKey, _ roomID: RoomID, connection: ConnectionID?) -> Bool {
        if let connection { rooms[roomID]?.addConnection(connection) }
        // An anonymous user (the join path's common case) has no other session to be listed by.
        if accountOf[key] != nil, listedKey(of: key, in: roomID) != nil { return false }
        return rooms[roomID]?.addUser(key) != nil  // in place; nil: no such room
    }

    /// Takes a session and its connection out of a room. True when its user has gone from it
    /// (a presence `leave`); false when another device of the account is still there, which
    /// takes the session's place in the list if it was the one listed.
    mutating func exitRoom(_ key: SessionKey, _ roomID: RoomID, connection: ConnectionID?) -> Bool {
        if let connection { rooms[roomID]?.removeConnection(connection) }
        if accountOf[key] == nil { return rooms[roomID]?.removeUser(key) != nil }
        guard rooms[roomID]?.hasUser(key) == true else { return false }
        if let staying = siblings(of: key).first(where: { sessions[$0]?.rooms.contains(roomID) == true }) {
            rooms[roomID]?.replaceUser(key, with: staying)
            return false
        }
        rooms[roomID]?.removeUser(key)
        return true
    }

    /// Where an account with a `rooms` list starts when the home room is not on it: the first
    /// listed room it can enter now. nil: the home room, as for everyone else.
    func startRoom(for account: Account) -> Result<String?, ChatError> {
        guard let listed = account.rooms, let home = rooms[homeRoom], !account.mayJoin(home.name) else {
            return .success(nil)
        }
        var problem = ChatError(.forbidden, "this account may join no room")
        for name in listed where Names.isValidRoomName(name) {
            guard let error = openError(name) else { return .success(name) }
            problem = error
        }
        return .failure(problem)
    }

    var forbiddenRoom: ChatError { ChatError(.forbidden, "your account may not join that room") }

    /// An anonymous user holding `account`'s name (taken while the account was away, or before
    /// the server first saw it) gives it up for a random one: they get `renamed` and an `error`,
    /// their rooms a presence `rename`. Another account's name, or a reserved one, stays put.
    /// In a cluster the random name is claimed as any other; a holder on another node is
    /// Redis's to displace (`heldElsewhere`).
    mutating func reclaimName(for account: Account, _ effects: inout [ChatEffect]) {
        guard let name = Names.validUserName(account.name) else { return }
        let key = Names.key(name)
        guard let holder = nameOwners[key], accountOf[holder] == nil, let squatter = sessions[holder], !squatter.isRemote,
              accountNames.owner(of: key).map({ $0 == account.id }) ?? true else { return }
        let newName = randomName()
        performRename(holder, to: newName, re: nil, &effects)
        if cluster != nil {
            effects.append(.cluster(.claimName(Names.key(newName), userID: squatter.userID, reclaim: false, account: false)))
        }
        guard let connection = squatter.connection else { return }
        sendError(ChatError(.nameTaken, "the name \(squatter.name) belongs to an account; you are now \(newName)"),
                  to: connection, re: nil, &effects)
    }

    /// In a cluster: the account's name, when only another node's user shows it here. The
    /// account takes it (this node lists the account as its holder), and Redis decides: an
    /// anonymous holder is displaced and renamed by its node, another account keeps it (then
    /// this session loses it, as any refused claim does).
    func heldElsewhere(_ requested: String, for account: Account) -> String? {
        guard cluster != nil, let name = Names.validUserName(requested), !reservedKeys.contains(Names.key(name)),
              let holder = nameOwners[Names.key(name)], sessions[holder]?.isRemote == true,
              accountNames.owner(of: Names.key(name)).map({ $0 == account.id }) ?? true else { return nil }
        return name
    }

    /// The session shows its account's own name (claimed as the account's in Redis).
    func ownsAccountName(_ session: Session) -> Bool {
        guard let account = accounts[session.key] else { return false }
        return accountNames.owner(of: session.nameKey) == account.id
    }
}

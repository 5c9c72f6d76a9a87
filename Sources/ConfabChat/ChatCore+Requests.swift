import ConfabCodec
import ConfabProtocol

/// Client requests: decode, rate-limit, then one handler per request.
extension ChatCore {
    mutating func receive(_ connection: ConnectionID, _ decoded: DecodedRequest, now: Int64, _ effects: inout [ChatEffect]) {
        guard let key = connections[connection] else {
            log(.debug, "message from unknown connection \(connection) ignored", &effects)
            return
        }
        // Every request counts, valid or not, so garbage cannot bypass the limit.
        let (perSecond, burst) = (config.ratePerSecond, config.rateBurst)
        let decision = sessions[key]?.limiter.take(now: now, perSecond: perSecond, burst: burst)
        if case .refused(let retryAfterMs, let refusalsInRow)? = decision {
            if config.rateDisconnectAfter > 0 && refusalsInRow >= config.rateDisconnectAfter {
                log(.notice, "connection \(connection): closed after \(refusalsInRow) rate-limited requests in a row", &effects)
                effects.append(.close(connection, code: ChatCloseCode.policyViolation, reason: "rate limit exceeded"))
                endSession(key, &effects)
            } else {
                send(.error(ChatError(.rateLimited, "too many requests; retry in \(retryAfterMs) ms"),
                            retryAfterMs: retryAfterMs, re: decoded.re), to: connection, &effects)
            }
            return
        }
        switch decoded.result {
        case .failure(let error):
            sendError(error, to: connection, re: decoded.re, &effects)
        case .success(let request):
            perform(request, key: key, connection: connection, re: decoded.re, now: now, &effects)
        }
    }

    mutating func perform(_ request: ChatRequest, key: SessionKey, connection: ConnectionID, re: RequestID?,
                          now: Int64, _ effects: inout [ChatEffect]) {
        switch request {
        case .send(let text, let room, let action):
            send(text, room: room, action: action, key: key, connection: connection, re: re, now: now, &effects)
        case .name(let name):
            rename(to: name, key: key, connection: connection, re: re, &effects)
        case .join(let room):
            join(room, key: key, connection: connection, re: re, &effects)
        case .leave(let room):
            leave(room, key: key, connection: connection, re: re, &effects)
        case .rooms(let watch):
            if let watch {
                if watch { watchers.insert(connection) } else { watchers.remove(connection) }
            }
            listRooms(to: connection, re: re, &effects)
        case .users(let room, let query):
            listUsers(room, query: query, key: key, connection: connection, re: re, &effects)
        case .help:
            send(.system(Commands.help, re: re), to: connection, &effects)
        }
    }

    /// Resolves an explicit room the session must be in, or its current room.
    private func memberRoom(_ name: String?, of session: Session) -> Result<RoomID, ChatError> {
        guard let name else { return .success(session.current) }
        guard Names.isValidRoomName(name) else { return .failure(invalidRoom) }
        guard let id = roomByKey[Names.key(name)], session.rooms.contains(id) else {
            return .failure(ChatError(.notInRoom, "you are not in room \(name)"))
        }
        return .success(id)
    }

    var invalidRoom: ChatError {
        ChatError(.invalidRoom, "a room name is 1-32 letters, digits, '-' or '_'")
    }

    private mutating func send(_ text: String, room: String?, action: Bool, key: SessionKey, connection: ConnectionID,
                               re: RequestID?, now: Int64, _ effects: inout [ChatEffect]) {
        guard let session = sessions[key] else { return }
        let roomID: RoomID
        switch memberRoom(room, of: session) {
        case .success(let id): roomID = id
        case .failure(let error): return sendError(error, to: connection, re: re, &effects)
        }
        if Names.isBlank(text) {
            return sendError(ChatError(.emptyMessage, "the message is empty"), to: connection, re: re, &effects)
        }
        if text.utf8.count > config.maxMessageBytes {
            return sendError(ChatError(.messageTooLong, "a message is at most \(config.maxMessageBytes) bytes of UTF-8"),
                             to: connection, re: re, &effects)
        }
        log(.debug, "connection \(connection): message in \(rooms[roomID]?.name ?? "?") from \(session.name)", &effects)
        if postsThroughCluster, let cluster, let room = rooms[roomID] {
            // Redis numbers it; it comes back on the bus to every node, this one included.
            let payload = ClusterWire.messageAwaitingSeq(node: cluster.node, room: room.name, timestamp: now, from: session.user,
                                                         text: text, action: action, origin: connection, re: re)
            return effects.append(.cluster(.post(ClusterPost(
                roomKey: room.key, payload: payload, seqFloor: room.nextSeq, room: room.name, from: session.user, text: text, action: action,
                timestamp: now, origin: connection, re: re))))
        }
        postHere(roomID, from: session.user, text: text, action: action, origin: connection, re: re, now: now, &effects)
    }

    /// Numbers, stores and delivers a message on this node (one process, or a node apart from Redis).
    mutating func postHere(_ roomID: RoomID, from user: ChatUser, text: String, action: Bool, origin: ConnectionID,
                           re: RequestID?, now: Int64, _ effects: inout [ChatEffect]) {
        // Presence waiting for the turn's end goes first: a joiner's first words must not
        // reach the room before their arrival does (or a renamed user's before the rename).
        if rooms[roomID]?.pendingChanges.isEmpty == false { flushRoom(roomID, now: now, &effects) }
        guard let posted = rooms[roomID]?.post(now: now, from: user, text: text, action: action) else { return }
        effects.append(.broadcast(recipients: posted.recipients, except: nil, OutboundMessage(.message(posted.message))))
        if let re, connections[origin] != nil {
            send(.ack(re: re, room: posted.message.room, seq: posted.message.seq), to: origin, &effects)
        }
    }

    private mutating func rename(to raw: String, key: SessionKey, connection: ConnectionID, re: RequestID?,
                                 _ effects: inout [ChatEffect]) {
        guard let session = sessions[key] else { return }
        let account = accounts[key]
        if account != nil && !config.allowAccountRename {
            return sendError(ChatError(.forbidden, "your name comes from your account"), to: connection, re: re, &effects)
        }
        let name: String
        switch checkName(raw, for: key, account: account?.id) {
        case .success(let valid): name = valid
        case .failure(let error): return sendError(error, to: connection, re: re, &effects)
        }
        // In a cluster another node may be giving the name away this instant: Redis decides.
        if postsThroughCluster && Names.key(name) != session.nameKey {
            cluster?.renaming[key] = PendingRename(name: name, re: re)
            return effects.append(.cluster(.claimName(Names.key(name), userID: session.userID, reclaim: false, account: account != nil)))
        }
        performRename(key, to: name, re: re, &effects)
    }

    /// Renames a session whose new name is known to be free, and tells everyone. An account is
    /// renamed on all its devices, and each room it is in hears it once.
    mutating func performRename(_ key: SessionKey, to name: String, re: RequestID?, _ effects: inout [ChatEffect]) {
        guard let session = sessions[key] else { return }
        let devices = [key] + siblings(of: key)
        let oldName = session.name
        if name != oldName {
            // Only if it is this user's: in a cluster a name can briefly be shown by two.
            if let owner = nameOwners[session.nameKey], devices.contains(owner) { nameOwners.removeValue(forKey: session.nameKey) }
            nameOwners[Names.key(name)] = key
            for device in devices { sessions.rename(device, to: name) }
            // An account's name moves with it (`auth.allowRename`): the new one is its own.
            if let account = accounts[key] { accountNames.claim(Names.key(name), for: account.id) }
            if cluster != nil && Names.key(name) != session.nameKey {
                effects.append(.cluster(.releaseName(session.nameKey, userID: session.userID)))
            }
        }
        let user = sessions[key]?.user ?? session.user
        if let connection = session.connection { send(.renamed(user: user, oldName: oldName, re: re), to: connection, &effects) }
        guard name != oldName else { return }
        for device in devices.dropFirst() {
            if let connection = sessions[device]?.connection { send(.renamed(user: user, oldName: oldName, re: nil), to: connection, &effects) }
        }
        var told = Set<RoomID>()
        for device in devices {
            for roomID in sessions[device]?.rooms ?? [] where told.insert(roomID).inserted {
                let listed = listedKey(of: device, in: roomID) ?? device
                presenceChanged(roomID, PresenceChange(.rename, user, oldName: oldName), by: listed)
            }
        }
        announce({ .renamed(node: $0, userID: user.id, name: name) }, &effects)
        log(.info, "session \(user.id): \(oldName) is now \(name)", &effects)
    }

    private mutating func join(_ name: String, key: SessionKey, connection: ConnectionID, re: RequestID?,
                               _ effects: inout [ChatEffect]) {
        guard Names.isValidRoomName(name) else { return sendError(invalidRoom, to: connection, re: re, &effects) }
        guard let session = sessions[key] else { return }
        if let existing = roomByKey[Names.key(name)], session.rooms.contains(existing) {
            // Idempotent: make it current and resend its state, no presence.
            sessions[key]?.current = existing
            send(.joined(room: rooms[existing]?.name ?? name, re: re), to: connection, &effects)
            return sendRoomState(existing, to: connection, re: nil, &effects)
        }
        if accounts[key]?.mayJoin(name) == false { return sendError(forbiddenRoom, to: connection, re: re, &effects) }
        // A single-room session leaves its room on joining, so it never nears the per-user limit.
        if !session.singleRoom && session.rooms.count >= config.maxRoomsPerUser {
            return sendError(roomsPerUserLimit, to: connection, re: re, &effects)
        }
        let roomID: RoomID
        switch openRoom(name, &effects) {
        case .success(let id): roomID = id
        case .failure(let error): return sendError(error, to: connection, re: re, &effects)
        }
        let arrived = enterRoom(key, roomID, connection: connection)
        sessions[key]?.rooms.append(roomID)
        sessions[key]?.current = roomID
        guard let room = rooms[roomID] else { return }
        if arrived { presenceChanged(roomID, PresenceChange(.join, session.user), by: key) }
        if !anotherDeviceHere(of: key, in: roomID) {
            announce({ .joined(node: $0, user: session.user, room: room.name, account: accountOf[key] != nil) }, &effects)
        }
        send(.joined(room: room.name, re: re), to: connection, &effects)
        sendRoomState(roomID, to: connection, re: nil, &effects)
        guard session.singleRoom else { return }
        // Joined first, so a refused join keeps the user where they were; now leave the old room.
        sessions[key]?.rooms = [roomID]
        for previous in session.rooms {
            let previousName = rooms[previous]?.name ?? ""
            removeFromRoom(key, connection: connection, roomID: previous, user: session.user, &effects)
            if !anotherDeviceHere(of: key, in: previous) { announce({ .left(node: $0, userID: session.userID, room: previousName) }, &effects) }
            send(.left(room: previousName, current: room.name, re: nil), to: connection, &effects)
        }
    }

    /// The room `name` (a valid room name) names, for a session to enter: an existing room
    /// unless it is at `roomCapacity`, else a new room unless the server is at `maxRooms`.
    mutating func openRoom(_ name: String, _ effects: inout [ChatEffect]) -> Result<RoomID, ChatError> {
        if let error = openError(name) { return .failure(error) }
        if let existing = roomByKey[Names.key(name)] { return .success(existing) }
        return .success(addRoom(name, &effects))
    }

    /// A new room (not configured, so it goes when its last member leaves).
    mutating func addRoom(_ name: String, _ effects: inout [ChatEffect]) -> RoomID {
        let roomID = nextRoomID
        nextRoomID += 1
        let room = Room(id: roomID, name: name, permanent: false, historySize: config.historySize)
        rooms[roomID] = room
        roomByKey[room.key] = roomID
        log(.debug, "room \(name) created", &effects)
        return roomID
    }

    /// Why `openRoom` would fail now, or nil.
    func openError(_ name: String) -> ChatError? {
        if let existing = roomByKey[Names.key(name)] {
            if let room = rooms[existing], room.userCount >= config.roomCapacity {
                return ChatError(.roomFull, "room \(room.name) is full")
            }
            return nil
        }
        if rooms.count >= config.maxRooms {
            return ChatError(.roomLimit, "the server has reached its limit of \(config.maxRooms) rooms")
        }
        return nil
    }

    private var roomsPerUserLimit: ChatError {
        ChatError(.roomLimit, "you can be in at most \(config.maxRoomsPerUser) rooms")
    }

    private mutating func leave(_ name: String?, key: SessionKey, connection: ConnectionID, re: RequestID?,
                                _ effects: inout [ChatEffect]) {
        guard let session = sessions[key] else { return }
        let roomID: RoomID
        switch memberRoom(name, of: session) {
        case .success(let id): roomID = id
        case .failure(let error): return sendError(error, to: connection, re: re, &effects)
        }
        guard session.rooms.count > 1 else {
            return sendError(ChatError(.lastRoom, "you cannot leave your last room"), to: connection, re: re, &effects)
        }
        let remaining = session.rooms.filter { $0 != roomID }
        // Leaving the current room falls back to the most recently joined one still held.
        let current = session.current == roomID ? (remaining.last ?? homeRoom) : session.current
        sessions[key]?.rooms = RoomList(remaining)
        sessions[key]?.current = current
        let roomName = rooms[roomID]?.name ?? ""
        removeFromRoom(key, connection: connection, roomID: roomID, user: session.user, &effects)
        if !anotherDeviceHere(of: key, in: roomID) { announce({ .left(node: $0, userID: session.userID, room: roomName) }, &effects) }
        send(.left(room: roomName, current: rooms[current]?.name ?? "", re: re), to: connection, &effects)
    }

    private func listRooms(to connection: ConnectionID, re: RequestID?, _ effects: inout [ChatEffect]) {
        let list = rooms.values.sorted { $0.key < $1.key }.map { RoomSummary(name: $0.name, users: $0.userCount) }
        send(.rooms(list, re: re), to: connection, &effects)
    }

    private func listUsers(_ name: String?, query: UsersQuery, key: SessionKey, connection: ConnectionID, re: RequestID?,
                           _ effects: inout [ChatEffect]) {
        let roomID: RoomID
        if let name {
            guard Names.isValidRoomName(name) else { return sendError(invalidRoom, to: connection, re: re, &effects) }
            // Members of a room the account may not join are none of its business.
            if accounts[key]?.mayJoin(name) == false { return sendError(forbiddenRoom, to: connection, re: re, &effects) }
            guard let id = roomByKey[Names.key(name)] else {
                return sendError(ChatError(.noSuchRoom, "there is no room \(name)"), to: connection, re: re, &effects)
            }
            roomID = id
        } else {
            guard let current = sessions[key]?.current else { return }
            roomID = current
        }
        guard let room = rooms[roomID] else { return }
        switch usersReply(room, query: query, re: re) {
        case .success(let reply): send(reply, to: connection, &effects)
        case .failure(let error): sendError(error, to: connection, re: re, &effects)
        }
    }
}

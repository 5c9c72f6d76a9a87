import ConfabCodec
import ConfabProtocol

/// The state and logic behind `ChatMachine`. Not generic on purpose: a generic type used from
/// another module runs unspecialized (metadata lookups on every call); here only the rare
/// draws of names, ids and tokens go through the existential generator.
struct ChatCore {
    var config: ChatConfig
    var random: any RandomNumberGenerator

    var sessions = SessionTable()
    var connections: [ConnectionID: SessionKey] = [:]
    var nameOwners: [String: SessionKey] = [:]
    var tokenOwners = TokenIndex()
    let userIDs: UserIDs
    var rooms: [RoomID: Room] = [:]
    var roomByKey: [String: RoomID] = [:]
    /// Sessions in their resume grace period, so `tick` scans only them.
    var graceDeadlines: [SessionKey: Int64] = [:]
    let reservedKeys: Set<String>
    /// Where every new session starts: the first configured room.
    let homeRoom: RoomID
    /// Rooms with presence waiting for `flush`.
    var pendingRooms: [RoomID] = []
    /// Connections that asked for `roomsChanged`, and what changed since the last one.
    var watchers = IndexedSet<ConnectionID>()
    var directoryChanged: Set<RoomID> = []
    var directoryRemoved: [String] = []
    var lastDirectoryAt: Int64?
    /// Numbers user ids (through `userIDs`), never reused, unlike session keys.
    var nextUserNumber: UInt64 = 1
    var nextRoomID: RoomID = 1
    /// Cluster mode: this node's view of the others; nil for one process.
    var cluster: ClusterView?
    /// The sessions that list each account here, by account id (its `sub`, which is its user
    /// id): this node's devices, oldest first, and in a cluster one copy per other node where
    /// the account has devices. `accountOf` indexes them back; `accounts` holds this node's
    /// devices' verified claims. See `continuedSession`.
    var accountSessions: [String: [SessionKey]] = [:]
    var accountOf: [SessionKey: String] = [:]
    var accounts: [SessionKey: Account] = [:]
    var accountNames = AccountNames()

    init(config: ChatConfig, random: any RandomNumberGenerator) {
        // Clamp instead of trapping; ConfabConfig reports out-of-range values to the operator.
        var config = config
        config.historySize = min(max(0, config.historySize), 10_000)  // as ConfabConfig validates
        config.maxMessageBytes = min(max(1, config.maxMessageBytes), 1 << 20)
        config.maxRoomsPerUser = max(1, config.maxRoomsPerUser)
        config.roomCapacity = max(1, config.roomCapacity)
        config.resumeGraceSeconds = min(max(0, config.resumeGraceSeconds), 86_400)
        config.rateBurst = max(1, config.rateBurst)
        config.presenceFullListMax = max(1, config.presenceFullListMax)
        config.presenceIntervalMs = min(max(0, config.presenceIntervalMs), 3_600_000)
        var names: [String] = []
        var seen: Set<String> = []
        for name in config.rooms where Names.isValidRoomName(name) && seen.insert(Names.key(name)).inserted {
            names.append(name)
        }
        if names.isEmpty { names = ["lobby"] }
        config.rooms = names
        config.maxRooms = max(names.count, config.maxRooms)
        self.config = config
        var generator = random
        self.userIDs = UserIDs(using: &generator)
        self.random = generator
        self.reservedKeys = Set(config.reservedNames.map(Names.key))
        self.homeRoom = 1
        self.cluster = config.cluster.map { ClusterView(node: $0.nodeID) }
        for name in names {
            let room = Room(id: nextRoomID, name: name, permanent: true, historySize: config.historySize)
            rooms[room.id] = room
            roomByKey[room.key] = room.id
            nextRoomID += 1
        }
    }

    /// Applies one event, appending effects (the caller reuses the array).
    mutating func handle(_ event: ChatEvent, into effects: inout [ChatEffect]) {
        switch event {
        case .connected(let connection, let request, let now):
            connect(connection, request, now: now, &effects)
        case .received(let connection, let request, let now):
            receive(connection, request, now: now, &effects)
        case .disconnected(let connection, let cause, let now):
            disconnect(connection, cause, now: now, &effects)
        case .tick(let now):
            tick(now: now, &effects)
            flush(now: now, &effects)
        case .flush(let now):
            flush(now: now, &effects)
        case .cluster(let event, let now):
            handleCluster(event, now: now, &effects)
        }
    }

    func admissionError(for request: ConnectRequest) -> ChatRefusal? {
        if continuedSession(request) != nil { return nil }
        // In a cluster an unknown token may be another node's session: Redis says after the upgrade.
        if request.account == nil, cluster?.isUp == true, request.resumeToken.flatMap(ResumeToken.init) != nil { return nil }
        if let account = request.account {
            // An account brings its name, so `requireName` is met; a restricted one may start elsewhere.
            switch startRoom(for: account) {
            case .failure(let error): return ChatRefusal(code: error.code.rawValue, message: error.message)
            case .success(.some): return nil
            case .success(nil): break
            }
        }
        if let home = rooms[homeRoom], home.userCount >= config.roomCapacity {
            return ChatRefusal(code: "room_full", message: "room \(home.name) is full; try again later")
        }
        guard config.requireName, request.account == nil else { return nil }
        guard let name = request.name else {
            return ChatRefusal(code: "name_required", message: "a name is required: connect with ?name=NAME")
        }
        if case .failure(let error) = checkName(name, for: nil) {
            return ChatRefusal(code: error.code.rawValue, message: error.message)
        }
        return nil
    }

    // MARK: - Helpers shared by the event handlers

    func log(_ level: ChatLogLevel, _ message: @autoclosure () -> String, _ effects: inout [ChatEffect]) {
        if level >= config.minimumLogLevel { effects.append(.log(level, message())) }
    }

    /// `account` is the account asking (its own name is not taken from it).
    func checkName(_ raw: String, for owner: SessionKey?, account: String? = nil) -> Result<String, ChatError> {
        guard let name = Names.validUserName(raw) else {
            return .failure(ChatError(.invalidName, "a name is 1-24 letters, digits, spaces, '-', '_' or '.'"))
        }
        let key = Names.key(name)
        if reservedKeys.contains(key) {
            return .failure(ChatError(.invalidName, "the name \(name) is reserved"))
        }
        if let current = nameOwners[key], current != owner, account == nil || accountOf[current] != account {
            return .failure(ChatError(.nameTaken, "the name \(name) is taken"))
        }
        if let claimant = accountNames.owner(of: key), claimant != account {
            return .failure(ChatError(.nameTaken, "the name \(name) belongs to an account"))
        }
        return .success(name)
    }

    mutating func randomName() -> String {
        for _ in 0..<1000 {
            let name = Names.random(using: &random)
            let key = Names.key(name)
            if nameOwners[key] == nil && !reservedKeys.contains(key) && accountNames.owner(of: key) == nil { return name }
        }
        // 225,000 combinations all but exhausted: fall back to a long random suffix.
        while true {
            let name = "user-" + Tokens.random(words: 1, using: &random)
            if nameOwners[Names.key(name)] == nil && accountNames.owner(of: Names.key(name)) == nil { return name }
        }
    }

    /// 192 random bits: unguessable, URL-safe.
    mutating func newToken() -> ResumeToken {
        while true {
            if let token = ResumeToken(Tokens.random(words: 3, using: &random)), !tokenOwners.isTaken(token) { return token }
        }
    }

    /// The session whose resume token this is: the whole token compared, not its digest.
    func owner(of token: ResumeToken) -> SessionKey? {
        tokenOwners.candidate(for: token).flatMap { sessions[$0]?.token == token ? $0 : nil }
    }

    func send(_ message: ServerMessage, to connection: ConnectionID, _ effects: inout [ChatEffect]) {
        effects.append(.send(connection, OutboundMessage(message)))
    }

    /// `users` then `history` of one room, to one connection.
    mutating func sendRoomState(_ roomID: RoomID, to connection: ConnectionID, re: RequestID?, _ effects: inout [ChatEffect]) {
        guard let room = rooms[roomID] else { return }
        if room.isLarge, let users = firstUsersPage(of: roomID, re: re) {
            effects.append(.send(connection, users))
        } else if case .success(let users) = usersReply(room, query: UsersQuery(), re: re) {
            send(users, to: connection, &effects)
        }
        send(.history(room: room.name, messages: room.history.oldestFirst, lastSeq: room.nextSeq - 1), to: connection, &effects)
    }

    /// A large room's first page of members, as `usersReply` gives it, with the users' JSON
    /// encoded once for every joiner until the page changes (`MemberLog.FirstPage`).
    mutating func firstUsersPage(of roomID: RoomID, re: RequestID?) -> OutboundMessage? {
        let sessions = self.sessions
        let encode = { (keys: [SessionKey]) in ProtocolV1.encodeUserArray(keys.compactMap { sessions[$0]?.user }) }
        guard let page = rooms[roomID]?.firstUsersPage(userChanges: sessions.userChanges, encode: encode),
              let room = rooms[roomID] else { return nil }
        let list = UserList(room: room.name, count: room.userCount, users: users(page.keys), full: !room.isLarge,
                            next: page.next.map { String($0) })
        return OutboundMessage(.users(list, re: re), json: ProtocolV1.encodeUsers(list, re: re, usersJSON: page.usersJSON))
    }

    func welcome(_ session: Session, resumed: Bool) -> ServerMessage {
        let limits = Welcome.Limits(
            maxMessageBytes: config.maxMessageBytes, historySize: config.historySize,
            maxRoomsPerUser: config.maxRoomsPerUser, ratePerSecond: config.ratePerSecond,
            rateBurst: config.rateBurst, resumeGraceSeconds: config.resumeGraceSeconds)
        return .welcome(Welcome(user: session.user, room: rooms[session.current]?.name ?? "",
                                rooms: session.rooms.compactMap { rooms[$0]?.name }, token: session.token.string,
                                resumed: resumed, server: config.serverName, limits: limits))
    }

    func sendError(_ error: ChatError, to connection: ConnectionID, re: RequestID?, _ effects: inout [ChatEffect]) {
        send(.error(error, retryAfterMs: nil, re: re), to: connection, &effects)
    }

    /// Removes a session from one room: presence `leave` for those still there, and the room
    /// itself when it is not configured and nobody is listed any more.
    mutating func removeFromRoom(_ key: SessionKey, connection: ConnectionID?, roomID: RoomID, user: ChatUser,
                                 _ effects: inout [ChatEffect]) {
        let gone = exitRoom(key, roomID, connection: connection)
        guard let room = rooms[roomID] else { return }
        if room.userCount == 0 && !room.permanent {
            rooms.removeValue(forKey: roomID)
            roomByKey.removeValue(forKey: room.key)
            directoryChanged.remove(roomID)
            directoryRemoved.append(room.name)
            // Every node that sees the room go asks; Redis keeps it if a message came since.
            if cluster != nil { effects.append(.cluster(.forgetRoom(roomKey: room.key, lastSeq: room.nextSeq - 1))) }
            log(.debug, "room \(room.name) removed", &effects)
            return
        }
        if gone { presenceChanged(roomID, PresenceChange(.leave, user), by: key) }
    }

    /// Ends a session for good: `leave` presence in each room, name, id and token freed. An
    /// account's other devices keep its name and its place in the rooms they are in.
    mutating func endSession(_ key: SessionKey, _ effects: inout [ChatEffect]) {
        let heir = siblings(of: key).first
        guard let session = sessions.removeValue(forKey: key) else { return }
        let isAccount = accountOf[key] != nil
        if !isAccount { cluster?.users.removeValue(forKey: session.userID) }
        if session.isRemote {
            cluster?.remoteCount -= 1
        } else if cluster != nil {
            endHere(session, isAccount: isAccount, &effects)
            cluster?.renaming.removeValue(forKey: key)
        }
        if let connection = session.connection {
            connections.removeValue(forKey: connection)
            watchers.remove(connection)
        }
        if nameOwners[session.nameKey] == key { nameOwners[session.nameKey] = heir }
        tokenOwners.remove(session.token, of: key)
        graceDeadlines.removeValue(forKey: key)
        for roomID in session.rooms {
            removeFromRoom(key, connection: session.connection, roomID: roomID, user: session.user, &effects)
        }
        // Last, so the rooms above could still find the account's other devices.
        accounts.removeValue(forKey: key)
        if let id = accountOf.removeValue(forKey: key) {
            accountSessions[id]?.removeAll { $0 == key }
            if accountSessions[id]?.isEmpty == true { accountSessions.removeValue(forKey: id) }
        }
    }

    /// Lists a session under its account (a device here, or another node's copy).
    mutating func addAccountSession(_ key: SessionKey, account id: String) {
        if accountOf.updateValue(id, forKey: key) == nil { accountSessions[id, default: []].append(key) }
    }
}

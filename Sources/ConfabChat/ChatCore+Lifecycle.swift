import ConfabCodec
import ConfabProtocol

/// Connect, resume, disconnect and the grace-period clock.
extension ChatCore {
    mutating func connect(_ connection: ConnectionID, _ request: ConnectRequest, now: Int64,
                          _ effects: inout [ChatEffect]) {
        guard connections[connection] == nil else {
            log(.error, "connection \(connection) connected twice; event ignored", &effects)
            return
        }
        if let key = continuedSession(request) {
            if let account = request.account {
                // The newest token's rooms list applies to all the account's devices; the name stays.
                for device in localDevices(of: account.id) { accounts[device] = account }
            }
            let byToken = request.resumeToken.flatMap(ResumeToken.init) == sessions[key]?.token
            resume(key, on: connection, byToken: byToken, now: now, &effects)
            return
        }
        // An account's devices stay on their node: its resume token is not looked up elsewhere.
        if request.account == nil, parkForLookup(connection, request, &effects) { return }
        startSession(connection, request, now: now, &effects)
    }

    mutating func startSession(_ connection: ConnectionID, _ request: ConnectRequest, now: Int64,
                                       _ effects: inout [ChatEffect]) {
        let account = request.account
        var start = homeRoom
        if let account {
            // Where a restricted account starts (checked by `admissionError` before the upgrade;
            // things may have changed since).
            var problem: ChatError?
            switch startRoom(for: account) {
            case .success(nil): break
            case .success(let name?):
                switch openRoom(name, &effects) {
                case .success(let id): start = id
                case .failure(let error): problem = error
                }
            case .failure(let error): problem = error
            }
            if let problem {
                sendError(problem, to: connection, re: nil, &effects)
                effects.append(.close(connection, code: ChatCloseCode.policyViolation, reason: problem.code.rawValue))
                log(.notice, "connection \(connection): account \(account.id) has no room to start in", &effects)
                return
            }
        }
        // Another device of the account: same user, same name (it may have been renamed).
        let device = account.flatMap { accountSessions[$0.id]?.first }.flatMap { sessions[$0] }
        // (Also when only other nodes' copies show it: a user here who took it meanwhile gives it back.)
        if let account, localDevices(of: account.id).isEmpty, device.map({ $0.nameKey == Names.key(account.name) }) ?? true {
            reclaimName(for: account, &effects)
        }
        var chosen = device?.name
        var nameError: ChatError?
        if device == nil, let requested = account?.name ?? request.name {
            switch checkName(requested, for: nil, account: account?.id) {
            case .success(let name): chosen = name
            case .failure(let error):
                if let account, let name = heldElsewhere(requested, for: account) { chosen = name } else { nameError = error }
            }
        }
        let name = chosen ?? randomName()
        // A requested start room that cannot be used falls back to the home room, with an error.
        var roomError: ChatError?
        if let requested = request.startRoom {
            if !Names.isValidRoomName(requested) {
                roomError = invalidRoom
            } else if account?.mayJoin(requested) == false {
                roomError = forbiddenRoom
            } else {
                switch openRoom(requested, &effects) {
                case .success(let id): start = id
                case .failure(let error): roomError = error
                }
            }
        }
        let key = sessions.nextKey
        let number = nextUserNumber
        nextUserNumber += 1
        let session = Session(key: key, userID: account?.id ?? userIDs.id(for: number), name: name, room: start, connection: connection,
                              token: newToken(), limiter: RateLimiter(burst: config.rateBurst, now: now),
                              singleRoom: request.singleRoom)
        sessions.store(session)
        connections[connection] = key
        // Another device's (or another node's copy's) name is this one's too, unless another
        // node's user shows it here as well (two nodes granted it while apart): ours wins here.
        if device == nil || !siblingsOwn(session.nameKey, key) { nameOwners[session.nameKey] = key }
        tokenOwners.register(session.token, for: key)
        if cluster != nil && account == nil {
            cluster?.users[session.userID] = key
            effects.append(.cluster(.storeToken(session.token.string, userID: session.userID)))
        }
        if cluster != nil && device == nil {
            // Shown at once; if another node's user won it meanwhile, this one is renamed.
            effects.append(.cluster(.claimName(session.nameKey, userID: session.userID, reclaim: false,
                                               account: account != nil && chosen != nil)))
        }
        if let account {
            addAccountSession(key, account: account.id)
            accounts[key] = account
            if chosen != nil && device == nil { accountNames.claim(session.nameKey, for: account.id) }
        }
        if start == homeRoom, let home = rooms[homeRoom], home.userCount >= config.roomCapacity {
            // The server should have asked admissionError first; admit anyway rather than strand the user.
            log(.warning, "connection \(connection): admitted to full room \(home.name)", &effects)
        }
        let arrived = enterRoom(key, start, connection: connection)

        send(welcome(session, resumed: false), to: connection, &effects)
        if let nameError { sendError(nameError, to: connection, re: nil, &effects) }
        if let roomError { sendError(roomError, to: connection, re: nil, &effects) }
        // First, so the newcomer's list is in the room's new mode when it tips the room over.
        if arrived { presenceChanged(start, PresenceChange(.join, session.user), by: key) }
        if let room = rooms[start], !anotherDeviceHere(of: key, in: start) {
            announce({ .joined(node: $0, user: session.user, room: room.name, account: account != nil) }, &effects)
        }
        sendRoomState(start, to: connection, re: nil, &effects)
        log(.info, "connection \(connection): session \(session.userID) started as \(name)"
            + (account != nil ? (device != nil ? " (account, another device)" : " (account)") : "")
            + (start != homeRoom ? " in \(rooms[start]?.name ?? "?")" : "")
            + (request.resumeToken != nil ? " (resume token unknown or expired)" : ""), &effects)
    }

    /// Binds an existing session to a new connection. No presence: to the others the user never left.
    /// `byToken`: the connection showed the session's resume token (`welcome.resumed`); an
    /// account's session is also continued without it.
    private mutating func resume(_ key: SessionKey, on connection: ConnectionID, byToken: Bool,
                                 now: Int64, _ effects: inout [ChatEffect]) {
        guard var session = sessions[key] else { return }
        // Single use: the presented token is void from now on.
        tokenOwners.remove(session.token, of: key)
        session.token = newToken()
        tokenOwners.register(session.token, for: key)
        if let old = session.connection {
            // The server has not noticed the old connection's death yet (or the client opened a
            // second tab with the token): the newest connection wins.
            effects.append(.close(old, code: ChatCloseCode.sessionResumedElsewhere, reason: "session resumed elsewhere"))
            connections.removeValue(forKey: old)
            watchers.remove(old)
            for roomID in session.rooms { rooms[roomID]?.replaceConnection(old, with: connection) }
            log(.info, "connection \(connection): session \(session.userID) taken over from connection \(old)", &effects)
        } else {
            graceDeadlines.removeValue(forKey: key)
            for roomID in session.rooms { rooms[roomID]?.addConnection(connection) }
            log(.info, "connection \(connection): session \(session.userID) resumed", &effects)
        }
        session.connection = connection
        sessions.store(session)
        connections[connection] = key
        if cluster != nil { effects.append(.cluster(.storeToken(session.token.string, userID: session.userID))) }
        send(welcome(session, resumed: byToken), to: connection, &effects)
        for roomID in session.rooms { sendRoomState(roomID, to: connection, re: nil, &effects) }
    }

    mutating func disconnect(_ connection: ConnectionID, _ cause: DisconnectCause, now: Int64,
                             _ effects: inout [ChatEffect]) {
        if cluster?.parked.removeValue(forKey: connection) != nil { return }
        guard let key = connections[connection], let session = sessions[key] else {
            log(.debug, "disconnect of unknown connection \(connection) ignored", &effects)
            return
        }
        switch cause {
        case .goodbye:
            log(.info, "connection \(connection): \(session.name) said goodbye; session ended", &effects)
            endSession(key, &effects)
        case .dropped(let reason) where config.resumeGraceSeconds == 0:
            log(.info, "connection \(connection): dropped (\(reason)); session ended", &effects)
            endSession(key, &effects)
        case .dropped(let reason):
            connections.removeValue(forKey: connection)
            watchers.remove(connection)
            for roomID in session.rooms { rooms[roomID]?.removeConnection(connection) }
            let deadline = now + Int64(config.resumeGraceSeconds) * 1000
            sessions[key]?.connection = nil
            graceDeadlines[key] = deadline
            log(.info, "connection \(connection): dropped (\(reason)); \(session.name) resumable for \(config.resumeGraceSeconds) s",
                &effects)
        }
    }

    mutating func tick(now: Int64, _ effects: inout [ChatEffect]) {
        guard !graceDeadlines.isEmpty else { return }
        // Sorted so the effect order does not depend on hashing.
        let expired = graceDeadlines.filter { $0.value <= now }.map(\.key).sorted()
        for key in expired {
            guard let session = sessions[key] else { continue }
            let isAccount = accountOf[key] != nil
            log(.info, "session \(session.userID) (\(session.name)) expired after its grace period", &effects)
            endSession(key, &effects)
            // A dead node's user: its node cannot drop the token any more (accounts have none there).
            if session.isRemote && !isAccount {
                effects.append(.cluster(.dropToken(userID: session.userID)))
                effects.append(.cluster(.releaseName(session.nameKey, userID: session.userID)))
            }
        }
    }
}

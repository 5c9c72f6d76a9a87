import ConfabCodec
import ConfabProtocol

/// This node's view of the cluster: the other nodes' users are listed here as sessions
/// without a connection (`Session.node`), so rooms, counts, `users`, names and presence work
/// on one model whoever hosts whom. Each node applies the others' membership news at O(1)
/// per change; a `hello` (a node arriving, or back after losing Redis) reconciles one node's
/// users in full.
struct ClusterView {
    let node: String
    /// Subscribed to the bus; false before the first `up` and while Redis is lost.
    var isUp = false
    /// Every anonymous session listed here, this node's and the others', by user id (accounts,
    /// which may have several sessions here, are in `ChatCore.accountSessions`).
    var users: [String: SessionKey] = [:]
    /// How many of them other nodes host.
    var remoteCount = 0
    /// Connections presenting a resume token this node does not know, waiting for Redis to
    /// say whose it is.
    var parked: [ConnectionID: ConnectRequest] = [:]
    /// Renames waiting for Redis to grant the name.
    var renaming: [SessionKey: PendingRename] = [:]

    /// The key of another node's user.
    func remote(_ userID: String, in sessions: SessionTable) -> SessionKey? {
        users[userID].flatMap { sessions[$0]?.isRemote == true ? $0 : nil }
    }
}

struct PendingRename {
    var name: String
    var re: RequestID?
}

extension ChatCore {
    /// Tells the other nodes. Nothing while Redis is lost: the `hello` after it carries the news.
    func announce(_ make: (String) -> BusMessage, _ effects: inout [ChatEffect]) {
        guard let cluster, cluster.isUp else { return }
        effects.append(.cluster(.publish(make(cluster.node))))
    }

    /// Posts go through Redis for their seq while it is there.
    var postsThroughCluster: Bool { cluster?.isUp == true }

    mutating func handleCluster(_ event: ClusterEvent, now: Int64, _ effects: inout [ChatEffect]) {
        guard let cluster else { return log(.warning, "cluster event outside cluster mode ignored", &effects) }
        switch event {
        case .up:
            self.cluster?.isUp = true
            log(.notice, "cluster: on the bus as node \(cluster.node)", &effects)
            announce({ .hello(node: $0, members: localMembers) }, &effects)
            // Redis may have restarted empty: what it must know of this node goes again.
            for session in sessions.values where !session.isRemote {
                if accountOf[session.key] == nil { effects.append(.cluster(.storeToken(session.token.string, userID: session.userID))) }
                effects.append(.cluster(.claimName(session.nameKey, userID: session.userID, reclaim: true,
                                                   account: ownsAccountName(session))))
            }
            // Sorted so the effect order does not depend on hashing.
            for room in rooms.values.sorted(by: { $0.key < $1.key }) {
                if room.nextSeq > 1 { effects.append(.cluster(.raiseSeq(roomKey: room.key, atLeast: room.nextSeq - 1))) }
                effects.append(.cluster(.loadHistory(roomKey: room.key)))
            }
        case .down:
            self.cluster?.isUp = false
            log(.warning, "cluster: Redis lost; node \(cluster.node) serves its own users alone", &effects)
        case .bus(let message):
            apply(message, now: now, &effects)
        case .history(let roomKey, let messages):
            guard let roomID = roomByKey[roomKey] else { return }
            rooms[roomID]?.mergeHistory(messages)
        case .tokenOwner(let connection, _, let userID):
            guard let request = self.cluster?.parked.removeValue(forKey: connection) else { return }
            if let userID, let key = cluster.remote(userID, in: sessions) {
                adopt(key, on: connection, now: now, &effects)
            } else {
                startSession(connection, request, now: now, &effects)
            }
        case .nameClaim(let nameKey, let userID, let granted, let displaced):
            nameClaimed(nameKey, by: userID, granted: granted, displaced: displaced, &effects)
        case .postFailed(let post):
            guard let roomID = roomByKey[post.roomKey] else { return }
            log(.warning, "cluster: message in \(post.room) delivered on this node only", &effects)
            postHere(roomID, from: post.from, text: post.text, action: post.action, origin: post.origin, re: post.re,
                     now: now, &effects)
        }
    }

    /// This node's own users, for `hello` and `members` (an account's devices as one).
    var localMembers: [ClusterMember] {
        sessions.values.filter { !$0.isRemote && accountOf[$0.key] == nil }.map(member) + localAccountMembers
    }

    func member(_ session: Session) -> ClusterMember {
        ClusterMember(user: session.user, rooms: session.rooms.compactMap { rooms[$0]?.name }, generation: session.generation)
    }

    /// News about a user counts only from the node hosting it here (a node with a stale copy
    /// may still speak of it), or about a user not listed yet.
    private func isHost(_ node: String, of userID: String) -> Bool {
        guard let key = cluster?.users[userID], let session = sessions[key] else { return true }
        return session.node == node
    }

    /// Whether `node`'s listing of a session this node lists too is the live copy: more moves,
    /// or as many and the greater node id (two nodes resuming one session at once).
    private func outranks(_ member: ClusterMember, from node: String, _ session: Session) -> Bool {
        let mine = (session.generation, session.node ?? cluster?.node ?? "")
        return member.generation != mine.0 ? member.generation > mine.0 : node > mine.1
    }

    /// `node` says it hosts `member`: taken when it is the live copy; a session this node
    /// hosts with a newer copy is asserted again, so the stale node gives it up.
    private mutating func adoptListing(_ listing: ClusterMember, by node: String, _ effects: inout [ChatEffect]) {
        guard let key = cluster?.users[listing.user.id], let session = sessions[key] else {
            return reconcile(listing, on: node, &effects)
        }
        if session.node == node || outranks(listing, from: node, session) {
            movedAway(listing.user.id, to: node, &effects)
            return reconcile(listing, on: node, &effects)
        }
        if !session.isRemote {
            log(.notice, "cluster: node \(node) holds a stale copy of session \(session.userID); asserted again", &effects)
            let ours = member(session)
            announce({ .moved(node: $0, member: ours, from: node) }, &effects)
        }
    }

    private mutating func apply(_ message: BusMessage, now: Int64, _ effects: inout [ChatEffect]) {
        guard let cluster else { return }
        if case .message(let node, let chat, let origin, let re) = message {
            return receive(chat, ours: node == cluster.node ? origin : nil, re: re, now: now, &effects)
        }
        // Our own news, already applied here (but not our own death notice: see `nodeDown`).
        if case .down = message {} else if message.node == cluster.node { return }
        switch message {
        case .hello(let node, let members):
            reconcile(node, members, &effects)
            announce({ .members(node: $0, members: localMembers) }, &effects)
        case .members(let node, let members):
            reconcile(node, members, &effects)
        case .joined(let node, let user, let room, let account):
            if account { return remoteAccountJoin(user, on: node, room: room, &effects) }
            guard isHost(node, of: user.id) else { return }
            remoteJoin(user, on: node, room: room, &effects)
        case .left(let node, let userID, let room):
            if let copy = accountCopy(userID, on: node) { return remoteAccountLeave(copy, room: room, &effects) }
            guard isHost(node, of: userID) else { return }
            remoteLeave(userID, room: room, &effects)
        case .renamed(let node, let userID, let name):
            if accountCopy(userID, on: node) != nil { return remoteAccountRename(userID, to: name, &effects) }
            guard isHost(node, of: userID) else { return }
            remoteRename(userID, to: name, &effects)
        case .ended(let node, let userID):
            if let copy = accountCopy(userID, on: node) { return endSession(copy, &effects) }
            guard isHost(node, of: userID), let key = cluster.remote(userID, in: sessions) else { return }
            endSession(key, &effects)
        case .moved(let node, let member, _):
            adoptListing(member, by: node, &effects)
        case .down(let node):
            nodeDown(node, now: now, &effects)
        case .nameLost(_, let userID, let name):
            if let key = localSession(userID), let session = sessions[key], session.nameKey == name {
                loseName(key, &effects)
            }
        case .message:
            break
        }
    }

    /// Redis answered a claim: a rename goes ahead or is refused; a name a session already
    /// shows (its first, or one re-claimed after an outage) is given up if refused.
    private mutating func nameClaimed(_ nameKey: String, by userID: String, granted answer: Bool?, displaced: String?,
                                      _ effects: inout [ChatEffect]) {
        // Unanswered (Redis lost meanwhile): decided here, as apart; the re-claim after settles it.
        let granted = answer ?? true
        // An account's rename waits on the device that asked; any device of it stands for the name.
        let devices = localDevices(of: userID)
        guard let key = devices.first(where: { cluster?.renaming[$0] != nil }) ?? localSession(userID), let session = sessions[key] else {
            if granted { effects.append(.cluster(.releaseName(nameKey, userID: userID))) }
            return
        }
        if let displaced { announce({ .nameLost(node: $0, userID: displaced, name: nameKey) }, &effects) }
        if let pending = cluster?.renaming[key], Names.key(pending.name) == nameKey {
            cluster?.renaming.removeValue(forKey: key)
            if granted, case .success = checkName(pending.name, for: key) {
                return performRename(key, to: pending.name, re: pending.re, &effects)
            }
            if granted { effects.append(.cluster(.releaseName(nameKey, userID: userID))) }
            guard let connection = session.connection else { return }
            return sendError(ChatError(.nameTaken, "the name \(pending.name) is taken"), to: connection, re: pending.re, &effects)
        }
        if session.nameKey == nameKey {
            if !granted { loseName(key, &effects) }
        } else if granted {
            effects.append(.cluster(.releaseName(nameKey, userID: userID)))  // a claim nobody waits for any more
        }
    }

    /// Another user holds this session's name cluster-wide: it gets a random one, and is told.
    private mutating func loseName(_ key: SessionKey, _ effects: inout [ChatEffect]) {
        guard let session = sessions[key] else { return }
        let name = randomName()
        log(.notice, "session \(session.userID): the name \(session.name) is held on another node; now \(name)", &effects)
        if let connection = session.connection {
            sendError(ChatError(.nameTaken, "the name \(session.name) is taken on another server; you are now \(name)"),
                      to: connection, re: nil, &effects)
        }
        performRename(key, to: name, re: nil, &effects)
        effects.append(.cluster(.claimName(Names.key(name), userID: session.userID, reclaim: false, account: false)))
        // The winner may be listed here already (another node's user): the name is theirs here
        // too. A scan, but only on this rare path.
        if nameOwners[session.nameKey] == nil, let winner = sessions.first(where: { $0.value.nameKey == session.nameKey }) {
            nameOwners[session.nameKey] = winner.key
        }
    }

    /// A connection presenting a token this node does not know: in a cluster it may be
    /// another node's session; Redis says. Returns false when there is nothing to ask.
    mutating func parkForLookup(_ connection: ConnectionID, _ request: ConnectRequest, _ effects: inout [ChatEffect]) -> Bool {
        guard cluster?.isUp == true, let text = request.resumeToken, ResumeToken(text) != nil else { return false }
        cluster?.parked[connection] = request
        effects.append(.cluster(.lookupToken(text, for: connection)))
        return true
    }

    /// Resumes another node's session here (its connection dropped, its node died, or the
    /// client just came back through another node): it is this node's from now on.
    mutating func adopt(_ key: SessionKey, on connection: ConnectionID, now: Int64, _ effects: inout [ChatEffect]) {
        guard var session = sessions[key], let from = session.node else { return }
        session.node = nil
        session.generation += 1
        session.connection = connection
        session.token = newToken()
        session.limiter = RateLimiter(burst: config.rateBurst, now: now)
        sessions.store(session)
        cluster?.remoteCount -= 1
        graceDeadlines.removeValue(forKey: key)
        connections[connection] = key
        tokenOwners.register(session.token, for: key)
        for roomID in session.rooms { rooms[roomID]?.addConnection(connection) }
        let listing = member(session)
        announce({ .moved(node: $0, member: listing, from: from) }, &effects)
        // Two users of one name (taken on two nodes while apart) now both here: the lesser
        // user id keeps it, as Redis's re-claim rule says.
        // (An account's name held here through another node's copy is its device's here.)
        let holder = nameOwners[session.nameKey].map { owner in accountOf[owner].flatMap { localDevices(of: $0).first } ?? owner }
        let rival = holder.flatMap { $0 != key && sessions[$0]?.isRemote == false ? sessions[$0] : nil }
        nameOwners[session.nameKey] = key
        effects.append(.cluster(.storeToken(session.token.string, userID: session.userID)))
        log(.info, "connection \(connection): session \(session.userID) resumed from node \(from)", &effects)
        send(welcome(session, resumed: true), to: connection, &effects)
        for roomID in session.rooms { sendRoomState(roomID, to: connection, re: nil, &effects) }
        if let rival {
            let (keeper, loser) = rival.userID < session.userID ? (rival.key, key) : (key, rival.key)
            nameOwners[session.nameKey] = keeper
            loseName(loser, &effects)
        }
    }

    /// Another node resumed a session: if it was this node's, its connection (if any) is
    /// closed with 4000, as for a take-over here; no presence either way.
    private mutating func movedAway(_ userID: String, to node: String, _ effects: inout [ChatEffect]) {
        guard let key = cluster?.users[userID], var session = sessions[key] else { return }
        graceDeadlines.removeValue(forKey: key)
        guard !session.isRemote else {
            sessions[key]?.node = node
            return
        }
        if let old = session.connection {
            effects.append(.close(old, code: ChatCloseCode.sessionResumedElsewhere, reason: "session resumed elsewhere"))
            connections.removeValue(forKey: old)
            watchers.remove(old)
            for roomID in session.rooms { rooms[roomID]?.removeConnection(old) }
        }
        tokenOwners.remove(session.token, of: key)
        session.token = .unissued
        session.connection = nil
        session.node = node
        sessions.store(session)
        cluster?.remoteCount += 1
        log(.info, "session \(userID) resumed on node \(node)", &effects)
    }

    /// A node stopped beating: its users are dropped connections now, resumable anywhere
    /// for the grace period, then gone everywhere (each node ends them in its own `tick`).
    private mutating func nodeDown(_ node: String, now: Int64, _ effects: inout [ChatEffect]) {
        guard let cluster else { return }
        guard node != cluster.node else {
            // Declared dead while alive (a long pause, a partition): say so again.
            log(.warning, "cluster: this node was declared dead; announcing itself again", &effects)
            return announce({ .hello(node: $0, members: localMembers) }, &effects)
        }
        let hosted = (cluster.users.values.filter { sessions[$0]?.node == node } + accountCopies(on: node)).sorted()
        log(.notice, "cluster: node \(node) is down; its \(hosted.count) users resumable for \(config.resumeGraceSeconds) s",
            &effects)
        for key in hosted {
            if config.resumeGraceSeconds == 0, let userID = sessions[key]?.userID {
                let nameKey = sessions[key]?.nameKey ?? ""
                let isAccount = accountOf[key] != nil
                endSession(key, &effects)
                if !isAccount {
                    effects.append(.cluster(.dropToken(userID: userID)))
                    effects.append(.cluster(.releaseName(nameKey, userID: userID)))
                }
            } else {
                graceDeadlines[key] = now + Int64(config.resumeGraceSeconds) * 1000
            }
        }
    }

    /// A chat message numbered by Redis: delivered here and stored, once. `ours`: the
    /// connection on this node that sent it, to ack.
    private mutating func receive(_ message: ChatMessage, ours origin: ConnectionID?, re: RequestID?, now: Int64,
                                  _ effects: inout [ChatEffect]) {
        // Only fields are read before the write: a copy of the room would make the write copy its arrays.
        guard let roomID = roomByKey[Names.key(message.room)], let nextSeq = rooms[roomID]?.nextSeq else { return }
        guard message.seq >= nextSeq else {
            return log(.debug, "cluster: message \(message.seq) in \(message.room) already delivered", &effects)
        }
        if rooms[roomID]?.pendingChanges.isEmpty == false { flushRoom(roomID, now: now, &effects) }
        guard let recipients = rooms[roomID]?.accept(message) else { return }
        if !recipients.isEmpty {
            effects.append(.broadcast(recipients: recipients, except: nil, OutboundMessage(.message(message))))
        }
        if let origin, let re, connections[origin] != nil {
            send(.ack(re: re, room: message.room, seq: message.seq), to: origin, &effects)
        }
    }

    /// Another node's user entered a room (created here if it is new to this node).
    private mutating func remoteJoin(_ user: ChatUser, on node: String, room name: String, _ effects: inout [ChatEffect]) {
        guard Names.isValidRoomName(name) else {
            return log(.warning, "cluster: node \(node) sent invalid room name; ignored", &effects)
        }
        let known = cluster?.users[user.id].flatMap { key in sessions[key].map { (key, $0) } }
        if let (_, session) = known, !session.isRemote {
            return log(.warning, "cluster: node \(node) announced this node's user \(user.id); ignored", &effects)
        }
        guard known != nil || (Names.validUserName(user.name) == user.name && !user.id.isEmpty) else {
            return log(.warning, "cluster: node \(node) sent invalid user; ignored", &effects)
        }
        // Only now, so a refused announcement leaves no empty room behind.
        let roomID = roomByKey[Names.key(name)] ?? addRoom(name, &effects)
        let key: SessionKey
        if let (knownKey, session) = known {
            guard !session.rooms.contains(roomID) else { return }
            key = knownKey
            sessions[key]?.rooms.append(roomID)
            sessions[key]?.current = roomID  // as on its own node: a join makes the room current
            sessions[key]?.node = node
        } else {
            key = sessions.nextKey
            sessions.store(Session(key: key, remote: user, node: node, room: roomID))
            cluster?.users[user.id] = key
            cluster?.remoteCount += 1
            claimListedName(Names.key(user.name), for: key, &effects)
        }
        rooms[roomID]?.addUser(key)
        presenceChanged(roomID, PresenceChange(.join, user), by: key)
    }


    /// Another node's user left a room; a user in no room any more is gone.
    private mutating func remoteLeave(_ userID: String, room name: String, _ effects: inout [ChatEffect]) {
        guard let key = cluster?.remote(userID, in: sessions), let session = sessions[key],
              let roomID = roomByKey[Names.key(name)], session.rooms.contains(roomID) else { return }
        let remaining = session.rooms.filter { $0 != roomID }
        guard let fallback = remaining.last else { return endSession(key, &effects) }
        sessions[key]?.rooms = RoomList(remaining)
        if session.current == roomID { sessions[key]?.current = fallback }
        removeFromRoom(key, connection: nil, roomID: roomID, user: session.user, &effects)
    }

    private mutating func remoteRename(_ userID: String, to raw: String, _ effects: inout [ChatEffect]) {
        guard let key = cluster?.remote(userID, in: sessions), let session = sessions[key],
              let name = Names.validUserName(raw), name != session.name else { return }
        if nameOwners[session.nameKey] == key { nameOwners.removeValue(forKey: session.nameKey) }
        claimListedName(Names.key(name), for: key, &effects)
        sessions.rename(key, to: name)
        let user = ChatUser(id: userID, name: name)
        for roomID in session.rooms {
            presenceChanged(roomID, PresenceChange(.rename, user, oldName: session.name), by: key)
        }
    }

    /// Lists a remote user's name as taken here. Two users holding one name (taken on two
    /// nodes at once) both stay listed; the first listed owns it here.
    mutating func claimListedName(_ nameKey: String, for key: SessionKey, _ effects: inout [ChatEffect]) {
        if nameOwners[nameKey] == nil {
            nameOwners[nameKey] = key
        } else {
            log(.warning, "cluster: the name \(nameKey) is held on two nodes", &effects)
        }
    }

    /// Makes this node's copy of `node`'s users exactly `members`: joins first, so a user
    /// moving between rooms is never dropped in between, then leaves, then the users gone.
    ///
    /// A user listed by `node` and hosted here too was resumed on one of the two while the
    /// other was apart from Redis and missed the `moved`: the copy with more moves is the
    /// live one (`adoptListing`).
    private mutating func reconcile(_ node: String, _ members: [ClusterMember], _ effects: inout [ChatEffect]) {
        var listed = Set<String>()
        for member in members {
            listed.insert(member.user.id)
            if member.account { reconcileAccount(member, on: node, &effects) } else { adoptListing(member, by: node, &effects) }
        }
        let gone = ((cluster?.users ?? [:]).values.map { $0 } + accountCopies(on: node)).filter { key in
            guard let session = sessions[key] else { return false }
            return session.node == node && !listed.contains(session.userID)
        }
        for key in gone.sorted() { endSession(key, &effects) }
    }

    /// Makes this node's copy of one of `node`'s users match `member`.
    private mutating func reconcile(_ member: ClusterMember, on node: String, _ effects: inout [ChatEffect]) {
        if let key = cluster?.remote(member.user.id, in: sessions) {
            sessions[key]?.node = node
            sessions[key]?.generation = member.generation
            graceDeadlines.removeValue(forKey: key)  // its node is alive after all
            if sessions[key]?.name != member.user.name { remoteRename(member.user.id, to: member.user.name, &effects) }
        }
        for room in member.rooms { remoteJoin(member.user, on: node, room: room, &effects) }
        guard let key = cluster?.remote(member.user.id, in: sessions), let session = sessions[key] else { return }
        sessions[key]?.generation = member.generation
        let wanted = Set(member.rooms.map(Names.key))
        for roomID in session.rooms {
            guard let room = rooms[roomID], !wanted.contains(room.key) else { continue }
            remoteLeave(member.user.id, room: room.name, &effects)
        }
    }
}

import ConfabCodec
import ConfabProtocol

/// Presence at a cost per join, leave or rename that does not grow with the room.
///
/// Changes are not sent as they happen. A small room collects them and sends one `presence`
/// with all of them at the end of the loop turn (`flush`). A room above
/// `presenceFullListMax` members stops announcing people: it sends an `occupancy` (count and
/// recent arrivals) at most every `presenceIntervalMs` when it changed, and `users` pages.
/// It turns small again only below `presenceSmallBelow`, so a room at the threshold does not
/// flap. Watchers of the room list get `roomsChanged` on the same interval.
extension ChatCore {
    /// A change in who is listed in a room (after the membership itself changed), by `actor`.
    mutating func presenceChanged(_ roomID: RoomID, _ change: PresenceChange, by actor: SessionKey) {
        if change.event != .rename { directoryChanged.insert(roomID) }
        // In place (optional chaining on the dictionary), so no room array is copied.
        let (largeAbove, smallBelow) = (config.presenceFullListMax, config.presenceSmallBelow)
        if rooms[roomID]?.note(change, by: actor, largeAbove: largeAbove, smallBelow: smallBelow) == true {
            pendingRooms.append(roomID)
        }
    }

    /// Something is waiting for `flush`.
    var hasPendingPresence: Bool {
        !pendingRooms.isEmpty || (!watchers.isEmpty && (!directoryChanged.isEmpty || !directoryRemoved.isEmpty))
    }

    /// End of a loop turn (and every tick): sends what is due. Large rooms whose interval
    /// has not passed stay pending.
    mutating func flush(now: Int64, _ effects: inout [ChatEffect]) {
        if !pendingRooms.isEmpty {
            let pending = pendingRooms
            pendingRooms.removeAll(keepingCapacity: true)
            for roomID in pending { flushRoom(roomID, now: now, &effects) }
        }
        flushDirectory(now: now, &effects)
    }

    /// Sends one room's pending presence. A room flushed early (before a message) is taken
    /// off the pending list so the turn's flush does not visit it again.
    mutating func flushRoom(_ roomID: RoomID, now: Int64, _ effects: inout [ChatEffect]) {
        guard var room = rooms[roomID] else { return }
        defer { rooms[roomID] = room }
        if room.isPending, let index = pendingRooms.firstIndex(of: roomID) { pendingRooms.remove(at: index) }
        room.isPending = false
        let everyone = room.connections
        if room.isLarge {
            guard room.occupancyChanged else { return }
            if let last = room.lastOccupancyAt, now - last < Int64(config.presenceIntervalMs) {
                room.isPending = true
                pendingRooms.append(roomID)
                return
            }
            room.occupancyChanged = false
            room.lastOccupancyAt = now
            let recent = room.recentArrivals
            room.recentArrivals.removeAll()
            if !everyone.isEmpty {
                effects.append(.broadcast(recipients: everyone, except: nil, OutboundMessage(
                    .occupancy(room: room.name, count: room.userCount, recent: recent))))
            }
        } else if room.needsFullList {
            room.needsFullList = false
            room.pendingChanges.removeAll()
            if !everyone.isEmpty {
                effects.append(.broadcast(recipients: everyone, except: nil, OutboundMessage(.users(self.everyone(in: room), re: nil))))
            }
        } else if !room.pendingChanges.isEmpty {
            let changes = room.pendingChanges
            // One user's own changes are news to the others only; when several users' changes
            // share the message, everyone gets the same bytes and applies them in order.
            let actor = room.pendingActor.flatMap { sessions[$0]?.connection }
            room.pendingChanges.removeAll()
            room.pendingActor = nil
            let actorListening = actor.map(room.hasConnection) ?? false
            if everyone.count > (actorListening ? 1 : 0) {
                effects.append(.broadcast(recipients: everyone, except: actor,
                                          OutboundMessage(.presence(room: room.name, changes: changes))))
            }
        }
    }

    private mutating func flushDirectory(now: Int64, _ effects: inout [ChatEffect]) {
        guard !directoryChanged.isEmpty || !directoryRemoved.isEmpty else { return }
        guard !watchers.isEmpty else {
            directoryChanged.removeAll()
            directoryRemoved.removeAll()
            return
        }
        if let last = lastDirectoryAt, now - last < Int64(config.presenceIntervalMs) { return }
        lastDirectoryAt = now
        let changed = directoryChanged.compactMap { rooms[$0] }.sorted { $0.key < $1.key }
            .map { RoomSummary(name: $0.name, users: $0.userCount) }
        let removed = directoryRemoved
        directoryChanged.removeAll()
        directoryRemoved.removeAll()
        effects.append(.broadcast(recipients: watchers.elements, except: nil,
                                  OutboundMessage(.roomsChanged(rooms: changed, removed: removed))))
    }

    /// The reply to `users` (and the list a joiner gets): everyone in a small room, else a
    /// page; or one name looked up, in O(1).
    func usersReply(_ room: Room, query: UsersQuery, re: RequestID?) -> Result<ServerMessage, ChatError> {
        if let name = query.name {
            let found = nameOwners[Names.key(PlainText.trim(name))].flatMap { key in
                listedKey(of: key, in: room.id).flatMap { sessions[$0]?.user }
            }
            return .success(.users(UserList(room: room.name, count: room.userCount, users: found.map { [$0] } ?? [],
                                            full: !room.isLarge, name: name), re: re))
        }
        var cursor: UInt64 = 0
        if let text = query.cursor {
            guard let value = UInt64(text) else { return .failure(ChatError(.invalidRequest, "cursor is not one this server gave")) }
            cursor = value
        }
        if query.cursor == nil && query.limit == nil && !room.isLarge {
            return .success(.users(everyone(in: room), re: re))
        }
        let page = room.members.page(after: cursor, limit: query.limit ?? ChatConfig.usersPageSize)
        return .success(.users(UserList(room: room.name, count: room.userCount, users: users(page.keys), full: !room.isLarge,
                                        next: page.next.map { String($0) }), re: re))
    }

    func everyone(in room: Room) -> UserList {
        UserList(room: room.name, count: room.userCount, users: users(room.members.all), full: true)
    }

    func users(_ keys: [SessionKey]) -> [ChatUser] {
        keys.compactMap { sessions[$0]?.user }
    }
}

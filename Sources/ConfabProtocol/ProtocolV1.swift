/// Protocol v1 (docs/PROTOCOL.md): one JSON object per WebSocket text frame.
/// The server decodes requests and encodes messages; Confab's own clients do the reverse.
public enum ProtocolV1 {}

// MARK: - Server side: requests in

extension ProtocolV1 {
    /// Decodes one text frame (already validated as UTF-8 by the WebSocket reader).
    public static func decodeRequest(_ bytes: [UInt8], maxBytes: Int) -> DecodedRequest {
        guard bytes.count <= maxBytes else {
            return DecodedRequest(.failure(ChatError(.messageTooLong, "request larger than \(maxBytes) bytes")))
        }
        guard let value = JSONParser.parse(bytes: bytes, maxBytes: maxBytes), case .object(let object) = value else {
            return DecodedRequest(.failure(ChatError(.invalidJSON, "expected a JSON object")))
        }
        var re: RequestID?
        switch object["id"] {
        case nil, .null?:
            break
        case .number(let lexeme)?:
            re = RequestID(json: Array(lexeme.utf8))
        case .string(let id)?:
            re = RequestID(json: JSONWriter.quoted(id))
        case .some:
            return DecodedRequest(.failure(ChatError(.invalidRequest, "id must be a string or a number")))
        }
        return DecodedRequest(re: re, request(from: object))
    }

    private static func request(from object: JSONObject) -> Result<ChatRequest, ChatError> {
        guard case .string(let type)? = object["type"] else {
            return .failure(ChatError(.invalidRequest, "type must be a string"))
        }
        do {
            switch type {
            case "send":
                let text = try requiredString(object, "text")
                let room = try optionalString(object, "room")
                var action = false
                switch object["action"] {
                case nil, .null?: break
                case .bool(let flag)?: action = flag
                case .some: throw ChatError(.invalidRequest, "action must be a boolean")
                }
                return Commands.request(send: text, room: room, action: action)
            case "name":
                return .success(.name(try requiredString(object, "name")))
            case "join":
                return .success(.join(try requiredString(object, "room")))
            case "leave":
                return .success(.leave(try optionalString(object, "room")))
            case "rooms":
                switch object["watch"] {
                case nil, .null?: return .success(.rooms(watch: nil))
                case .bool(let watch)?: return .success(.rooms(watch: watch))
                case .some: throw ChatError(.invalidRequest, "watch must be a boolean")
                }
            case "users":
                var query = UsersQuery(cursor: try optionalString(object, "cursor"), name: try optionalString(object, "name"))
                switch object["limit"] {
                case nil, .null?: break
                case .number(let lexeme)?:
                    guard let limit = Int(lexeme), (1...UsersQuery.maxLimit).contains(limit) else {
                        throw ChatError(.invalidRequest, "limit must be an integer from 1 to \(UsersQuery.maxLimit)")
                    }
                    query.limit = limit
                case .some: throw ChatError(.invalidRequest, "limit must be an integer from 1 to \(UsersQuery.maxLimit)")
                }
                return .success(.users(room: try optionalString(object, "room"), query))
            case "help":
                return .success(.help)
            default:
                return .failure(ChatError(.unknownType, "unknown request type; see /help"))
            }
        } catch let error as ChatError {
            return .failure(error)
        } catch {
            return .failure(ChatError(.invalidRequest, "malformed request"))
        }
    }

    private static func requiredString(_ object: JSONObject, _ key: String) throws -> String {
        guard case .string(let value)? = object[key] else {
            throw ChatError(.invalidRequest, "\(key) must be a string")
        }
        return value
    }

    private static func optionalString(_ object: JSONObject, _ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case .some: throw ChatError(.invalidRequest, "\(key) must be a string")
        }
    }
}

// MARK: - Server side: messages out

extension ProtocolV1 {
    /// Keys in the protocol's fixed order; `re` comes last, except in `ack` where it is second.
    public static func encode(_ message: ServerMessage) -> [UInt8] {
        switch message {
        case .message(let chat):
            return chat.json
        case .welcome(let welcome):
            var w = JSONWriter(capacity: 256)
            w.beginObject()
            w.key("type"); w.string("welcome")
            w.key("user"); user(welcome.user, &w)
            w.key("room"); w.string(welcome.room)
            w.key("rooms"); w.beginArray()
            for name in welcome.rooms { w.string(name) }
            w.endArray()
            w.key("token"); w.string(welcome.token)
            w.key("resumed"); w.bool(welcome.resumed)
            w.key("server"); w.string(welcome.server)
            let limits = welcome.limits
            w.key("limits"); w.beginObject()
            w.key("maxMessageBytes"); w.int(limits.maxMessageBytes)
            w.key("historySize"); w.int(limits.historySize)
            w.key("maxRoomsPerUser"); w.int(limits.maxRoomsPerUser)
            w.key("ratePerSecond"); w.double(limits.ratePerSecond)
            w.key("rateBurst"); w.int(limits.rateBurst)
            w.key("resumeGraceSeconds"); w.int(limits.resumeGraceSeconds)
            w.endObject()
            w.endObject()
            return w.bytes
        case .users(let list, let re):
            return encodeUsers(list, re: re, usersJSON: nil)
        case .history(let room, let messages, let lastSeq):
            // Concatenates the stored message bytes; nothing is re-encoded.
            var w = JSONWriter(capacity: 96 + messages.reduce(0) { $0 + $1.json.count + 1 })
            w.beginObject()
            w.key("type"); w.string("history")
            w.key("room"); w.string(room)
            w.key("lastSeq"); w.uint(lastSeq)
            w.key("messages"); w.beginArray()
            for chat in messages { w.raw(chat.json) }
            w.endArray()
            w.endObject()
            return w.bytes
        case .ack(let re, let room, let seq):
            var w = JSONWriter(capacity: 64)
            w.beginObject()
            w.key("type"); w.string("ack")
            w.key("re"); w.raw(re.json)
            w.key("room"); w.string(room)
            w.key("seq"); w.uint(seq)
            w.endObject()
            return w.bytes
        case .presence(let room, let changes):
            var w = JSONWriter(capacity: 64 + changes.count * 80)
            w.beginObject()
            w.key("type"); w.string("presence")
            w.key("room"); w.string(room)
            w.key("changes"); w.beginArray()
            for change in changes {
                w.beginObject()
                w.key("event"); w.string(change.event.rawValue)
                w.key("user"); user(change.user, &w)
                if let oldName = change.oldName { w.key("oldName"); w.string(oldName) }
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return w.bytes
        case .occupancy(let room, let count, let recent):
            var w = JSONWriter(capacity: 80 + recent.count * 48)
            w.beginObject()
            w.key("type"); w.string("occupancy")
            w.key("room"); w.string(room)
            w.key("count"); w.int(count)
            w.key("recent"); w.beginArray()
            for entry in recent { user(entry, &w) }
            w.endArray()
            w.endObject()
            return w.bytes
        case .roomsChanged(let rooms, let removed):
            var w = JSONWriter(capacity: 48 + rooms.count * 40 + removed.count * 24)
            w.beginObject()
            w.key("type"); w.string("roomsChanged")
            w.key("rooms"); summaries(rooms, &w)
            w.key("removed"); w.beginArray()
            for name in removed { w.string(name) }
            w.endArray()
            w.endObject()
            return w.bytes
        case .renamed(let who, let oldName, let re):
            var w = JSONWriter(capacity: 96)
            w.beginObject()
            w.key("type"); w.string("renamed")
            w.key("user"); user(who, &w)
            w.key("oldName"); w.string(oldName)
            return reply(&w, re)
        case .joined(let room, let re):
            var w = JSONWriter(capacity: 64)
            w.beginObject()
            w.key("type"); w.string("joined")
            w.key("room"); w.string(room)
            return reply(&w, re)
        case .left(let room, let current, let re):
            var w = JSONWriter(capacity: 80)
            w.beginObject()
            w.key("type"); w.string("left")
            w.key("room"); w.string(room)
            w.key("current"); w.string(current)
            return reply(&w, re)
        case .rooms(let rooms, let re):
            var w = JSONWriter(capacity: 48 + rooms.count * 40)
            w.beginObject()
            w.key("type"); w.string("rooms")
            w.key("rooms"); summaries(rooms, &w)
            return reply(&w, re)
        case .system(let text, let re):
            var w = JSONWriter(capacity: 32 + text.utf8.count)
            w.beginObject()
            w.key("type"); w.string("system")
            w.key("text"); w.string(text)
            return reply(&w, re)
        case .error(let error, let retryAfterMs, let re):
            var w = JSONWriter(capacity: 64 + error.message.utf8.count)
            w.beginObject()
            w.key("type"); w.string("error")
            w.key("code"); w.string(error.code.rawValue)
            w.key("message"); w.string(error.message)
            if let retryAfterMs { w.key("retryAfterMs"); w.int(retryAfterMs) }
            return reply(&w, re)
        }
    }

    static func encodeMessage(room: String, seq: UInt64, timestamp: Int64, from: ChatUser, text: String,
                              action: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: 128 + room.utf8.count + from.name.utf8.count + text.utf8.count)
        w.beginObject()
        w.key("type"); w.string("message")
        w.key("room"); w.string(room)
        w.key("seq"); w.uint(seq)
        w.key("ts"); w.timestamp(epochMilliseconds: timestamp)
        w.key("from"); user(from, &w)
        w.key("text"); w.string(text)
        if action { w.key("action"); w.bool(true) }
        w.endObject()
        return w.bytes
    }

    static func user(_ user: ChatUser, _ w: inout JSONWriter) {
        w.object("{\"id\":", user.id, ",\"name\":", user.name)
    }

    private static func summaries(_ rooms: [RoomSummary], _ w: inout JSONWriter) {
        w.beginArray()
        for room in rooms {
            w.beginObject()
            w.key("name"); w.string(room.name)
            w.key("users"); w.int(room.users)
            w.endObject()
        }
        w.endArray()
    }

    /// A `users` message; `usersJSON`, when given, is `encodeUserArray(list.users)` kept from
    /// before (a large room's first page is the same for every joiner until someone on it goes).
    public static func encodeUsers(_ list: UserList, re: RequestID?, usersJSON: [UInt8]?) -> [UInt8] {
        var w = JSONWriter(capacity: 80 + (usersJSON?.count ?? list.users.count * 48))
        w.beginObject()
        w.key("type"); w.string("users")
        w.key("room"); w.string(list.room)
        w.key("mode"); w.string(list.full ? "full" : "count")
        w.key("count"); w.int(list.count)
        if let name = list.name { w.key("name"); w.string(name) }
        w.key("users")
        if let usersJSON {
            w.raw(usersJSON)
        } else {
            w.beginArray()
            for entry in list.users { user(entry, &w) }
            w.endArray()
        }
        if let next = list.next { w.key("next"); w.string(next) }
        return reply(&w, re)
    }

    /// The JSON array of `users` as `encode` writes it in a `users` message.
    public static func encodeUserArray(_ users: [ChatUser]) -> [UInt8] {
        var w = JSONWriter(capacity: 2 + users.count * 48)
        w.beginArray()
        for entry in users { user(entry, &w) }
        w.endArray()
        return w.bytes
    }

    private static func reply(_ w: inout JSONWriter, _ re: RequestID?) -> [UInt8] {
        if let re { w.key("re"); w.raw(re.json) }
        w.endObject()
        return w.bytes
    }
}

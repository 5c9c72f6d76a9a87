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
                return .success(.rooms)
            case "users":
                return .success(.users(try optionalString(object, "room")))
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
        case .users(let room, let users, let re):
            var w = JSONWriter(capacity: 48 + users.count * 48)
            w.beginObject()
            w.key("type"); w.string("users")
            w.key("room"); w.string(room)
            w.key("users"); w.beginArray()
            for entry in users { user(entry, &w) }
            w.endArray()
            return reply(&w, re)
        case .history(let room, let messages):
            // Concatenates the stored message bytes; nothing is re-encoded.
            var w = JSONWriter(capacity: 64 + messages.reduce(0) { $0 + $1.json.count + 1 })
            w.beginObject()
            w.key("type"); w.string("history")
            w.key("room"); w.string(room)
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
        case .presence(let room, let event, let who, let oldName):
            var w = JSONWriter(capacity: 128)
            w.beginObject()
            w.key("type"); w.string("presence")
            w.key("room"); w.string(room)
            w.key("event"); w.string(event.rawValue)
            w.key("user"); user(who, &w)
            if let oldName { w.key("oldName"); w.string(oldName) }
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
            w.key("rooms"); w.beginArray()
            for room in rooms {
                w.beginObject()
                w.key("name"); w.string(room.name)
                w.key("users"); w.int(room.users)
                w.endObject()
            }
            w.endArray()
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

    private static func user(_ user: ChatUser, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(user.id)
        w.key("name"); w.string(user.name)
        w.endObject()
    }

    private static func reply(_ w: inout JSONWriter, _ re: RequestID?) -> [UInt8] {
        if let re { w.key("re"); w.raw(re.json) }
        w.endObject()
        return w.bytes
    }
}

/// The client half of protocol v1, for Confab's own clients (`confab chat`, `confab load`):
/// requests encoded with correct escaping, and each server message parsed once into its type.
extension ProtocolV1 {
    /// One request as JSON; `id`, when given, comes back as `re` in the reply.
    public static func encodeRequest(_ request: ChatRequest, id: String? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        switch request {
        case .send(let text, let room, let action):
            w.key("type"); w.string("send")
            if let room { w.key("room"); w.string(room) }
            w.key("text"); w.string(text)
            if action { w.key("action"); w.bool(true) }
        case .name(let name):
            w.key("type"); w.string("name")
            w.key("name"); w.string(name)
        case .join(let room):
            w.key("type"); w.string("join")
            w.key("room"); w.string(room)
        case .leave(let room):
            w.key("type"); w.string("leave")
            if let room { w.key("room"); w.string(room) }
        case .rooms(let watch):
            w.key("type"); w.string("rooms")
            if let watch { w.key("watch"); w.bool(watch) }
        case .users(let room, let query):
            w.key("type"); w.string("users")
            if let room { w.key("room"); w.string(room) }
            if let cursor = query.cursor { w.key("cursor"); w.string(cursor) }
            if let limit = query.limit { w.key("limit"); w.int(limit) }
            if let name = query.name { w.key("name"); w.string(name) }
        case .help:
            w.key("type"); w.string("help")
        }
        if let id { w.key("id"); w.string(id) }
        w.endObject()
        return w.bytes
    }

    /// Parses one server message; nil for anything that is not a message this client knows
    /// (unknown types are ignored, as the protocol asks of clients).
    public static func decodeMessage(_ bytes: [UInt8]) -> ServerMessage? {
        guard case .object(let m)? = JSONParser.parse(bytes: bytes) else { return nil }
        let re = m["re"].flatMap(RequestID.init(value:))
        let room = m.string("room") ?? ""
        switch m.string("type") ?? "" {
        case "message":
            return chatMessage(m).map(ServerMessage.message)
        case "history":
            guard case .array(let items)? = m["messages"] else { return nil }
            let messages = items.compactMap { item -> ChatMessage? in
                guard case .object(let object) = item else { return nil }
                return chatMessage(object)
            }
            let lastSeq = m.number("lastSeq").flatMap { UInt64($0) } ?? messages.last?.seq ?? 0
            return .history(room: room, messages: messages, lastSeq: lastSeq)
        case "welcome":
            guard let user = chatUser(m["user"]) else { return nil }
            var rooms: [String] = []
            if case .array(let names)? = m["rooms"] {
                rooms = names.compactMap { if case .string(let name) = $0 { return name } else { return nil } }
            }
            var limits = Welcome.Limits(maxMessageBytes: 0, historySize: 0, maxRoomsPerUser: 0, ratePerSecond: 0,
                                        rateBurst: 0, resumeGraceSeconds: 0)
            if case .object(let l)? = m["limits"] {
                limits.maxMessageBytes = l.int("maxMessageBytes") ?? 0
                limits.historySize = l.int("historySize") ?? 0
                limits.maxRoomsPerUser = l.int("maxRoomsPerUser") ?? 0
                limits.ratePerSecond = l.number("ratePerSecond").flatMap(Double.init) ?? 0
                limits.rateBurst = l.int("rateBurst") ?? 0
                limits.resumeGraceSeconds = l.int("resumeGraceSeconds") ?? 0
            }
            return .welcome(Welcome(user: user, room: room, rooms: rooms, token: m.string("token") ?? "",
                                    resumed: m["resumed"] == .bool(true), server: m.string("server") ?? "Confab",
                                    limits: limits))
        case "users":
            guard case .array(let users)? = m["users"] else { return nil }
            let listed = users.compactMap(chatUser)
            return .users(UserList(room: room, count: m.int("count") ?? listed.count, users: listed,
                                   full: m.string("mode") != "count", next: m.string("next"), name: m.string("name")), re: re)
        case "ack":
            guard let re else { return nil }
            return .ack(re: re, room: room, seq: UInt64(max(0, m.int("seq") ?? 0)))
        case "presence":
            guard case .array(let items)? = m["changes"] else { return nil }
            let changes = items.compactMap { item -> PresenceChange? in
                guard case .object(let change) = item,
                      let event = change.string("event").flatMap(PresenceEvent.init(rawValue:)),
                      let user = chatUser(change["user"]) else { return nil }
                return PresenceChange(event, user, oldName: change.string("oldName"))
            }
            return .presence(room: room, changes: changes)
        case "occupancy":
            var recent: [ChatUser] = []
            if case .array(let users)? = m["recent"] { recent = users.compactMap(chatUser) }
            return .occupancy(room: room, count: m.int("count") ?? 0, recent: recent)
        case "roomsChanged":
            var removed: [String] = []
            if case .array(let names)? = m["removed"] {
                removed = names.compactMap { if case .string(let name) = $0 { return name } else { return nil } }
            }
            return .roomsChanged(rooms: summaries(m["rooms"]), removed: removed)
        case "renamed":
            guard let user = chatUser(m["user"]) else { return nil }
            return .renamed(user: user, oldName: m.string("oldName") ?? "", re: re)
        case "joined":
            return .joined(room: room, re: re)
        case "left":
            return .left(room: room, current: m.string("current") ?? "", re: re)
        case "rooms":
            return .rooms(summaries(m["rooms"]), re: re)
        case "system":
            return .system(m.string("text") ?? "", re: re)
        case "error":
            let code = m.string("code").flatMap(ChatErrorCode.init(rawValue:)) ?? .invalidRequest
            let retry = m.int("retryAfterMs").map(Int64.init)
            return .error(ChatError(code, m.string("message") ?? "error"), retryAfterMs: retry, re: re)
        default:
            return nil
        }
    }

    static func chatMessage(_ m: JSONObject) -> ChatMessage? {
        guard let from = chatUser(m["from"]), let seq = m.int("seq") else { return nil }
        return ChatMessage(room: m.string("room") ?? "", seq: UInt64(max(0, seq)),
                           timestamp: m.string("ts").flatMap(Timestamp.parse) ?? 0, from: from,
                           text: m.string("text") ?? "", action: m["action"] == .bool(true))
    }

    private static func summaries(_ value: JSONValue?) -> [RoomSummary] {
        guard case .array(let entries)? = value else { return [] }
        return entries.compactMap { entry -> RoomSummary? in
            guard case .object(let object) = entry, let name = object.string("name") else { return nil }
            return RoomSummary(name: name, users: object.int("users") ?? 0)
        }
    }

    static func chatUser(_ value: JSONValue?) -> ChatUser? {
        guard case .object(let object)? = value, let name = object.string("name") else { return nil }
        return ChatUser(id: object.string("id") ?? "", name: name)
    }
}

extension RequestID {
    /// The id a client sent as a string, as it comes back in `re`.
    public init(string: String) { self.init(json: JSONWriter.quoted(string)) }

    init?(value: JSONValue) {
        switch value {
        case .number(let lexeme): self.init(json: Array(lexeme.utf8))
        case .string(let text): self.init(string: text)
        default: return nil
        }
    }
}

extension JSONObject {
    public func string(_ key: String) -> String? {
        if case .string(let value)? = self[key] { return value }
        return nil
    }

    public func number(_ key: String) -> String? {
        if case .number(let value)? = self[key] { return value }
        return nil
    }

    /// An integer member; nil for fractions, exponents and out-of-range values.
    public func int(_ key: String) -> Int? { number(key).flatMap { Int($0) } }
}

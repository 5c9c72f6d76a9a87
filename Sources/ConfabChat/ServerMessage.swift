/// Encoders for every server→client message, keys in the protocol's fixed order.
/// `re` (the request's encoded id) always comes last, except in `ack` where it is second.
enum ServerMessage {
    static func welcome(user: [UInt8], room: [UInt8], rooms: [[UInt8]], token: String, resumed: Bool,
                        config: ChatConfig) -> OutboundMessage {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("type"); w.string("welcome")
        w.key("user"); w.raw(user)
        w.key("room"); w.raw(room)
        w.key("rooms"); w.beginArray()
        for name in rooms { w.raw(name) }
        w.endArray()
        w.key("token"); w.string(token)
        w.key("resumed"); w.bool(resumed)
        w.key("server"); w.string(config.serverName)
        w.key("limits"); w.beginObject()
        w.key("maxMessageBytes"); w.int(config.maxMessageBytes)
        w.key("historySize"); w.int(config.historySize)
        w.key("maxRoomsPerUser"); w.int(config.maxRoomsPerUser)
        w.key("ratePerSecond"); w.double(config.ratePerSecond)
        w.key("rateBurst"); w.int(config.rateBurst)
        w.key("resumeGraceSeconds"); w.int(config.resumeGraceSeconds)
        w.endObject()
        w.endObject()
        return OutboundMessage(json: w.bytes)
    }

    static func users(room: [UInt8], users: [[UInt8]], re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 48 + users.count * 48)
        w.beginObject()
        w.key("type"); w.string("users")
        w.key("room"); w.raw(room)
        w.key("users"); w.beginArray()
        for user in users { w.raw(user) }
        w.endArray()
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    /// Concatenates the stored message bytes; nothing is re-encoded.
    static func history(room: [UInt8], ring: HistoryRing) -> OutboundMessage {
        var w = JSONWriter(capacity: 64 + ring.count * 160)
        w.beginObject()
        w.key("type"); w.string("history")
        w.key("room"); w.raw(room)
        w.key("messages"); w.beginArray()
        ring.forEachOldestFirst { w.raw($0.json) }
        w.endArray()
        w.endObject()
        return OutboundMessage(json: w.bytes)
    }

    static func message(room: [UInt8], seq: UInt64, now: Int64, from user: [UInt8], text: String,
                        action: Bool) -> OutboundMessage {
        var w = JSONWriter(capacity: 112 + room.count + user.count + text.utf8.count)
        w.beginObject()
        w.key("type"); w.string("message")
        w.key("room"); w.raw(room)
        w.key("seq"); w.uint(seq)
        w.key("ts"); w.timestamp(epochMilliseconds: now)
        w.key("from"); w.raw(user)
        w.key("text"); w.string(text)
        if action { w.key("action"); w.bool(true) }
        w.endObject()
        return OutboundMessage(json: w.bytes)
    }

    enum PresenceEvent: String { case join, leave, rename }

    static func presence(room: [UInt8], event: PresenceEvent, user: [UInt8], oldName: String? = nil) -> OutboundMessage {
        var w = JSONWriter(capacity: 96 + user.count)
        w.beginObject()
        w.key("type"); w.string("presence")
        w.key("room"); w.raw(room)
        w.key("event"); w.string(event.rawValue)
        w.key("user"); w.raw(user)
        if let oldName { w.key("oldName"); w.string(oldName) }
        w.endObject()
        return OutboundMessage(json: w.bytes)
    }

    static func error(_ error: ChatError, retryAfterMs: Int64? = nil, re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 64 + error.message.utf8.count)
        w.beginObject()
        w.key("type"); w.string("error")
        w.key("code"); w.string(error.code.rawValue)
        w.key("message"); w.string(error.message)
        if let retryAfterMs { w.key("retryAfterMs"); w.int(retryAfterMs) }
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func renamed(user: [UInt8], oldName: String, re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 64 + user.count)
        w.beginObject()
        w.key("type"); w.string("renamed")
        w.key("user"); w.raw(user)
        w.key("oldName"); w.string(oldName)
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func system(_ text: String, re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 32 + text.utf8.count)
        w.beginObject()
        w.key("type"); w.string("system")
        w.key("text"); w.string(text)
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func joined(room: [UInt8], re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("type"); w.string("joined")
        w.key("room"); w.raw(room)
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func left(room: [UInt8], current: [UInt8], re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 80)
        w.beginObject()
        w.key("type"); w.string("left")
        w.key("room"); w.raw(room)
        w.key("current"); w.raw(current)
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func rooms(_ rooms: [(name: [UInt8], users: Int)], re: [UInt8]?) -> OutboundMessage {
        var w = JSONWriter(capacity: 48 + rooms.count * 40)
        w.beginObject()
        w.key("type"); w.string("rooms")
        w.key("rooms"); w.beginArray()
        for room in rooms {
            w.beginObject()
            w.key("name"); w.raw(room.name)
            w.key("users"); w.int(room.users)
            w.endObject()
        }
        w.endArray()
        reply(&w, re)
        return OutboundMessage(json: w.bytes)
    }

    static func ack(re: [UInt8], room: [UInt8], seq: UInt64) -> OutboundMessage {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("type"); w.string("ack")
        w.key("re"); w.raw(re)
        w.key("room"); w.raw(room)
        w.key("seq"); w.uint(seq)
        w.endObject()
        return OutboundMessage(json: w.bytes)
    }

    private static func reply(_ w: inout JSONWriter, _ re: [UInt8]?) {
        if let re { w.key("re"); w.raw(re) }
        w.endObject()
    }
}

/// Requests as a client writes them, for Confab's own clients (the line chat bridge,
/// `confab chat`, `confab load`): correctly escaped JSON without a JSON library.
public enum ClientRequest {
    /// `{"type":"send","text":…}`; a text starting with `/` is a command.
    public static func send(_ text: String, room: String? = nil, id: String? = nil) -> String {
        var w = JSONWriter(capacity: text.utf8.count + 48)
        w.beginObject()
        w.key("type"); w.string("send")
        if let room { w.key("room"); w.string(room) }
        w.key("text"); w.string(text)
        if let id { w.key("id"); w.string(id) }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// `{"type":"join","room":…}`.
    public static func join(_ room: String, id: String? = nil) -> String {
        roomRequest("join", room: room, id: id)
    }

    /// `{"type":"leave","room":…}`; without a room, the current one.
    public static func leave(_ room: String? = nil, id: String? = nil) -> String {
        roomRequest("leave", room: room, id: id)
    }

    private static func roomRequest(_ type: String, room: String?, id: String?) -> String {
        var w = JSONWriter(capacity: (room?.utf8.count ?? 0) + 48)
        w.beginObject()
        w.key("type"); w.string(type)
        if let room { w.key("room"); w.string(room) }
        if let id { w.key("id"); w.string(id) }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

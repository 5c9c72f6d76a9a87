/// A node's user as the other nodes list them: who, and in which rooms.
public struct ClusterMember: Equatable, Sendable {
    public var user: ChatUser
    public var rooms: [String]
    /// How many times the session moved to another node: of two nodes that both think they
    /// host it (one was apart from Redis when it moved), the higher count is the live copy.
    public var generation: UInt64
    /// A signed-in account (`user.id` is its `sub`): its devices may be on several nodes at
    /// once, each node listing the rooms of its own devices; accounts never move.
    public var account: Bool

    public init(user: ChatUser, rooms: [String], generation: UInt64 = 0, account: Bool = false) {
        self.user = user
        self.rooms = rooms
        self.generation = generation
        self.account = account
    }
}

/// What the nodes of a cluster tell each other on the shared channel (docs/CLUSTER.md).
/// Membership changes are the origin node's news, applied by every other node to its copy;
/// messages come back to every node, the origin included, numbered by Redis in one order.
public enum BusMessage: Sendable {
    /// A node joined the bus (at start, or after losing Redis) with every user it hosts;
    /// the others answer with `members`.
    case hello(node: String, members: [ClusterMember])
    /// A node's complete list of users, answering a `hello`.
    case members(node: String, members: [ClusterMember])
    case joined(node: String, user: ChatUser, room: String, account: Bool)
    case left(node: String, userID: String, room: String)
    case renamed(node: String, userID: String, name: String)
    /// The session is over: it leaves every room.
    case ended(node: String, userID: String)
    /// A chat message with its cluster-wide seq. `origin` and `re` let the sender's node ack it.
    case message(node: String, ChatMessage, origin: UInt64?, re: RequestID?)
    /// `node` resumed a session hosted by `from`: it is `node`'s now, in the rooms listed
    /// (what `node` knew; a join on `from` in the same instant is undone). No presence
    /// otherwise: to the others the user never left.
    case moved(node: String, member: ClusterMember, from: String)
    /// `node` missed its heartbeats for the node timeout (published by Redis's heartbeat
    /// script, once, by whichever node noticed): its users are dropped connections now.
    case down(node: String)
    /// Two users took one name while their nodes were apart from Redis; the lesser user id
    /// keeps it, and `userID`'s node renames its user.
    case nameLost(node: String, userID: String, name: String)

    public var node: String {
        switch self {
        case .hello(let node, _), .members(let node, _), .joined(let node, _, _, _), .left(let node, _, _),
             .renamed(let node, _, _), .ended(let node, _), .message(let node, _, _, _), .moved(let node, _, _),
             .down(let node), .nameLost(let node, _, _):
            return node
        }
    }
}

/// The bus's JSON. Compact keys: every node parses every message of the cluster.
public enum ClusterWire {
    /// Largest bus message parsed: a `hello` lists every user of a node.
    public static let maxBytes = 64 << 20

    public static func encode(_ message: BusMessage) -> [UInt8] {
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        switch message {
        case .hello(let node, let members), .members(let node, let members):
            if case .hello = message { type("hello", node, &w) } else { type("members", node, &w) }
            w.key("members"); w.beginArray()
            for member in members { self.member(member, &w) }
            w.endArray()
        case .joined(let node, let user, let room, let account):
            type("join", node, &w)
            w.key("u"); ProtocolV1.user(user, &w)
            w.key("r"); w.string(room)
            if account { w.key("a"); w.bool(true) }
        case .left(let node, let userID, let room):
            type("leave", node, &w)
            w.key("id"); w.string(userID)
            w.key("r"); w.string(room)
        case .renamed(let node, let userID, let name):
            type("rename", node, &w)
            w.key("id"); w.string(userID)
            w.key("name"); w.string(name)
        case .ended(let node, let userID):
            type("end", node, &w)
            w.key("id"); w.string(userID)
        case .moved(let node, let member, let from):
            type("moved", node, &w)
            w.key("from"); w.string(from)
            w.key("m"); self.member(member, &w)
        case .down(let node):
            type("down", node, &w)
        case .nameLost(let node, let userID, let name):
            type("lost", node, &w)
            w.key("id"); w.string(userID)
            w.key("name"); w.string(name)
        case .message(let node, let message, let origin, let re):
            messageFields(node: node, room: message.room, timestamp: message.timestamp, from: message.from,
                          text: message.text, action: message.action, origin: origin, re: re, &w)
            w.key("seq"); w.uint(message.seq)
        }
        w.endObject()
        return w.bytes
    }

    /// A `message` without its seq: the bytes up to `"seq":`, to which Redis appends the
    /// number it draws and `}` (one script numbers, stores and publishes, so every node sees
    /// a room's messages in one order).
    public static func messageAwaitingSeq(node: String, room: String, timestamp: Int64, from: ChatUser, text: String,
                                          action: Bool, origin: UInt64?, re: RequestID?) -> [UInt8] {
        var w = JSONWriter(capacity: 160 + text.utf8.count)
        w.beginObject()
        messageFields(node: node, room: room, timestamp: timestamp, from: from, text: text, action: action,
                      origin: origin, re: re, &w)
        w.key("seq")
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) -> BusMessage? {
        guard case .object(let m)? = JSONParser.parse(bytes: bytes, maxBytes: maxBytes), let node = m.string("n") else {
            return nil
        }
        switch m.string("t") ?? "" {
        case "hello", "members":
            guard case .array(let entries)? = m["members"] else { return nil }
            let members = entries.compactMap(member)
            return m.string("t") == "hello" ? .hello(node: node, members: members) : .members(node: node, members: members)
        case "join":
            guard let user = ProtocolV1.chatUser(m["u"]), let room = m.string("r") else { return nil }
            return .joined(node: node, user: user, room: room, account: m["a"] == .bool(true))
        case "leave":
            guard let id = m.string("id"), let room = m.string("r") else { return nil }
            return .left(node: node, userID: id, room: room)
        case "rename":
            guard let id = m.string("id"), let name = m.string("name") else { return nil }
            return .renamed(node: node, userID: id, name: name)
        case "end":
            guard let id = m.string("id") else { return nil }
            return .ended(node: node, userID: id)
        case "moved":
            guard let from = m.string("from"), let member = m["m"].flatMap(member) else { return nil }
            return .moved(node: node, member: member, from: from)
        case "down":
            return .down(node: node)
        case "lost":
            guard let id = m.string("id"), let name = m.string("name") else { return nil }
            return .nameLost(node: node, userID: id, name: name)
        case "msg":
            guard let message = ProtocolV1.chatMessage(m) else { return nil }
            return .message(node: node, message, origin: m.number("c").flatMap { UInt64($0) },
                            re: m["re"].flatMap(RequestID.init(value:)))
        default:
            return nil
        }
    }

    /// A message as a room's stored history holds it (the bus message itself).
    public static func decodeStoredMessage(_ bytes: [UInt8]) -> ChatMessage? {
        guard case .message(_, let message, _, _)? = decode(bytes) else { return nil }
        return message
    }

    private static func member(_ member: ClusterMember, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("u"); ProtocolV1.user(member.user, &w)
        w.key("r"); w.beginArray()
        for room in member.rooms { w.string(room) }
        w.endArray()
        if member.generation > 0 { w.key("g"); w.uint(member.generation) }
        if member.account { w.key("a"); w.bool(true) }
        w.endObject()
    }

    private static func member(_ value: JSONValue) -> ClusterMember? {
        guard case .object(let object) = value, let user = ProtocolV1.chatUser(object["u"]),
              case .array(let names)? = object["r"] else { return nil }
        return ClusterMember(user: user, rooms: names.compactMap { if case .string(let s) = $0 { s } else { nil } },
                             generation: object.number("g").flatMap { UInt64($0) } ?? 0, account: object["a"] == .bool(true))
    }

    private static func type(_ type: StaticString, _ node: String, _ w: inout JSONWriter) {
        w.key("t"); w.string(type)
        w.key("n"); w.string(node)
    }

    private static func messageFields(node: String, room: String, timestamp: Int64, from: ChatUser, text: String,
                                      action: Bool, origin: UInt64?, re: RequestID?, _ w: inout JSONWriter) {
        type("msg", node, &w)
        if let origin { w.key("c"); w.uint(origin) }
        if let re { w.key("re"); w.raw(re.json) }
        w.key("room"); w.string(room)
        w.key("ts"); w.timestamp(epochMilliseconds: timestamp)
        w.key("from"); ProtocolV1.user(from, &w)
        w.key("text"); w.string(text)
        if action { w.key("action"); w.bool(true) }
    }
}

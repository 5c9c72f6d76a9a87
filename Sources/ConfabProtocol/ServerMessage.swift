/// Everything the server tells a client, typed. The state machine produces these; each
/// dialect (protocol v1 JSON, the line chat, PixIDE) turns them into its own bytes.
public enum ServerMessage: Sendable {
    case welcome(Welcome)
    case users(UserList, re: RequestID?)
    /// The room's last messages, oldest first, and the seq of its latest message (0: none yet),
    /// so that a client can tell what it missed that the history no longer holds.
    case history(room: String, messages: [ChatMessage], lastSeq: UInt64)
    case message(ChatMessage)
    /// Where the sender's `send` with an `id` landed; sent after the `message`.
    case ack(re: RequestID, room: String, seq: UInt64)
    /// The joins, leaves and renames of one loop turn in a room that lists its members in full.
    case presence(room: String, changes: [PresenceChange])
    /// A room too large for per-member presence: its member count and who arrived lately,
    /// at most once per `chat.presence.intervalMs`.
    case occupancy(room: String, count: Int, recent: [ChatUser])
    /// Rooms whose member count changed, and rooms that are gone, for connections that
    /// watch the room list.
    case roomsChanged(rooms: [RoomSummary], removed: [String])
    case renamed(user: ChatUser, oldName: String, re: RequestID?)
    case joined(room: String, re: RequestID?)
    case left(room: String, current: String, re: RequestID?)
    case rooms([RoomSummary], re: RequestID?)
    case system(String, re: RequestID?)
    case error(ChatError, retryAfterMs: Int64?, re: RequestID?)
}

/// Members of a room: everyone, a page, or one name looked up.
public struct UserList: Equatable, Sendable {
    public var room: String
    /// How many are listed in the room.
    public var count: Int
    public var users: [ChatUser]
    /// The room lists everyone and announces changes with `presence` (`"mode":"full"`); false
    /// when it is large and sends `occupancy` counts instead (`"mode":"count"`).
    public var full: Bool
    /// The cursor of the following page; nil at the end.
    public var next: String?
    /// The name looked up, for a lookup's reply: `users` holds that user or nobody.
    public var name: String?

    public init(room: String, count: Int, users: [ChatUser], full: Bool, next: String? = nil, name: String? = nil) {
        self.room = room
        self.count = count
        self.users = users
        self.full = full
        self.next = next
        self.name = name
    }

    /// Everyone in the room is in `users`.
    public var isEveryone: Bool { name == nil && users.count == count }
}

public enum PresenceEvent: String, Sendable {
    case join, leave, rename
}

public struct PresenceChange: Equatable, Sendable {
    public var event: PresenceEvent
    public var user: ChatUser
    /// The name before a rename.
    public var oldName: String?

    public init(_ event: PresenceEvent, _ user: ChatUser, oldName: String? = nil) {
        self.event = event
        self.user = user
        self.oldName = oldName
    }
}

/// A user as others see them: a stable opaque id and the current display name.
public struct ChatUser: Equatable, Sendable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

public struct RoomSummary: Equatable, Sendable {
    public var name: String
    public var users: Int

    public init(name: String, users: Int) {
        self.name = name
        self.users = users
    }
}

public struct Welcome: Equatable, Sendable {
    public var user: ChatUser
    public var room: String
    public var rooms: [String]
    public var token: String
    public var resumed: Bool
    public var server: String
    public var limits: Limits

    public struct Limits: Equatable, Sendable {
        public var maxMessageBytes: Int
        public var historySize: Int
        public var maxRoomsPerUser: Int
        public var ratePerSecond: Double
        public var rateBurst: Int
        public var resumeGraceSeconds: Int

        public init(maxMessageBytes: Int, historySize: Int, maxRoomsPerUser: Int, ratePerSecond: Double,
                    rateBurst: Int, resumeGraceSeconds: Int) {
            self.maxMessageBytes = maxMessageBytes
            self.historySize = historySize
            self.maxRoomsPerUser = maxRoomsPerUser
            self.ratePerSecond = ratePerSecond
            self.rateBurst = rateBurst
            self.resumeGraceSeconds = resumeGraceSeconds
        }
    }

    public init(user: ChatUser, room: String, rooms: [String], token: String, resumed: Bool, server: String,
                limits: Limits) {
        self.user = user
        self.room = room
        self.rooms = rooms
        self.token = token
        self.resumed = resumed
        self.server = server
        self.limits = limits
    }
}

/// One chat message. A class so the broadcast and the room's history share one instance, and
/// its protocol v1 JSON is encoded once, here, for every recipient and every later `history`.
public final class ChatMessage: Sendable {
    public let room: String
    public let seq: UInt64
    /// Unix epoch milliseconds.
    public let timestamp: Int64
    public let from: ChatUser
    public let text: String
    /// `/me`.
    public let action: Bool
    public let json: [UInt8]

    public init(room: String, seq: UInt64, timestamp: Int64, from: ChatUser, text: String, action: Bool) {
        self.room = room
        self.seq = seq
        self.timestamp = timestamp
        self.from = from
        self.text = text
        self.action = action
        self.json = ProtocolV1.encodeMessage(room: room, seq: seq, timestamp: timestamp, from: from, text: text,
                                             action: action)
    }
}

/// One server message and its protocol v1 JSON, encoded once and shared by every recipient.
public final class OutboundMessage: Sendable {
    public let message: ServerMessage
    public let json: [UInt8]

    public init(_ message: ServerMessage) {
        self.message = message
        self.json = ProtocolV1.encode(message)
    }

    /// `json` must be what `ProtocolV1.encode(message)` gives, put together from parts
    /// encoded before (see `ProtocolV1.encodeUsers`).
    public init(_ message: ServerMessage, json: [UInt8]) {
        self.message = message
        self.json = json
    }

    /// The JSON as a String (tests, logs).
    public var text: String { String(decoding: json, as: UTF8.self) }
}

/// Everything the server tells a client, typed. The state machine produces these; each
/// dialect (protocol v1 JSON, the line chat, PixIDE) turns them into its own bytes.
public enum ServerMessage: Sendable {
    case welcome(Welcome)
    case users(room: String, users: [ChatUser], re: RequestID?)
    case history(room: String, messages: [ChatMessage])
    case message(ChatMessage)
    /// Where the sender's `send` with an `id` landed; sent after the `message`.
    case ack(re: RequestID, room: String, seq: UInt64)
    case presence(room: String, event: PresenceEvent, user: ChatUser, oldName: String?)
    case renamed(user: ChatUser, oldName: String, re: RequestID?)
    case joined(room: String, re: RequestID?)
    case left(room: String, current: String, re: RequestID?)
    case rooms([RoomSummary], re: RequestID?)
    case system(String, re: RequestID?)
    case error(ChatError, retryAfterMs: Int64?, re: RequestID?)
}

public enum PresenceEvent: String, Sendable {
    case join, leave, rename
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

    /// The JSON as a String (tests, logs).
    public var text: String { String(decoding: json, as: UTF8.self) }
}

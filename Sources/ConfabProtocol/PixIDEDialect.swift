/// PixIDE's chat protocol (docs/PROTOCOL.md, "PixIDE dialect"), served on `compat.pixidePath`:
/// one JSON object per text frame. Requests are `join`, `chat_message` and `switch_room`;
/// the server sends `joined`, `chat_message`, `user_joined`, `user_left` and `error`.
///
/// A PixIDE `userId` is a Confab user *name* (unique, shown to others); Confab's opaque user
/// ids have no PixIDE equivalent. Messages with no PixIDE equivalent encode to nothing.
public enum PixIDEDialect {
    /// What one PixIDE frame asks of the bridge.
    public enum Request: Equatable, Sendable {
        /// `join`. The first one starts the session, named `userId`, in `room` (nil: the room
        /// named like the user). Once joined it is a switch to `room` (nil: the user's own room)
        /// and `userId` is not looked at.
        case join(userId: String, room: String?)
        /// For the state machine as it is: `chat_message` is a `send` (its content literal,
        /// never a `/command`), `switch_room` a `join`, and decoding failures.
        case chat(DecodedRequest)
    }

    /// A request other than `join` before the first `join` has named the user.
    public static let joinFirst = ChatError(.invalidRequest, "send a join with your userId first")

    // MARK: Requests in

    /// Decodes one text frame (already validated as UTF-8 by the WebSocket reader).
    public static func decodeRequest(_ bytes: [UInt8], maxBytes: Int) -> Request {
        guard bytes.count <= maxBytes else {
            return failure(.messageTooLong, "message larger than \(maxBytes) bytes")
        }
        guard let value = JSONParser.parse(bytes: bytes, maxBytes: maxBytes), case .object(let object) = value else {
            return failure(.invalidJSON, "expected a JSON object")
        }
        guard case .string(let type)? = object["type"] else {
            return failure(.invalidRequest, "type must be a string")
        }
        do throws(ChatError) {
            switch type {
            case "join":
                return .join(userId: try string(object, "userId"), room: try optionalString(object, "roomId"))
            case "chat_message":
                return .chat(DecodedRequest(.success(.send(text: try string(object, "content"), room: nil, action: false))))
            case "switch_room":
                return .chat(DecodedRequest(.success(.join(try string(object, "roomId")))))
            default:
                return failure(.unknownType, "unknown message type; expected join, chat_message or switch_room")
            }
        } catch {
            return .chat(DecodedRequest(.failure(error)))
        }
    }

    private static func failure(_ code: ChatErrorCode, _ message: String) -> Request {
        .chat(DecodedRequest(.failure(ChatError(code, message))))
    }

    private static func string(_ object: JSONObject, _ key: String) throws(ChatError) -> String {
        guard case .string(let value)? = object[key] else {
            throw ChatError(.invalidRequest, "\(key) must be a string")
        }
        return value
    }

    private static func optionalString(_ object: JSONObject, _ key: String) throws(ChatError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case .some: throw ChatError(.invalidRequest, "\(key) must be a string")
        }
    }

    // MARK: Messages out

    /// The PixIDE messages for one server message, each the payload of one text frame; empty
    /// when it has no PixIDE equivalent. `recipient` is the name of the PixIDE user it goes to,
    /// for the `userId` of a `joined` (the machine's `joined` reply does not repeat it).
    public static func encode(_ message: ServerMessage, recipient: String? = nil) -> [[UInt8]] {
        switch message {
        case .welcome(let welcome):
            return [joined(room: welcome.room, userId: welcome.user.name)]
        case .joined(let room, _):
            return [joined(room: room, userId: recipient)]
        case .message(let chat):
            return [chatMessage(chat)]
        case .presence(let room, let changes):
            return changes.flatMap { presence(room: room, event: $0.event, user: $0.user, oldName: $0.oldName) }
        case .error(let error, _, _):
            var w = JSONWriter(capacity: 48 + error.message.utf8.count)
            w.beginObject()
            w.key("type"); w.string("error")
            w.key("message"); w.string(error.message)
            w.key("code"); w.string(error.code.rawValue)
            w.endObject()
            return [w.bytes]
        case .users, .history, .ack, .left, .renamed, .rooms, .system, .occupancy, .roomsChanged:
            // No roster, history, acknowledgements or listings in PixIDE; `left` only follows a
            // switch the `joined` already reported; a PixIDE user cannot rename or ask for help.
            // Large rooms announce nobody (occupancy counts have no PixIDE form).
            return []
        }
    }

    /// One presence change, in PixIDE terms: a join is `user_joined`, a leave `user_left`, and
    /// a rename the old name leaving and the new one joining (a PixIDE client keys its users by
    /// `userId`, which is the name). The one place presence is mapped, so a message carrying
    /// several changes encodes as the concatenation of these.
    public static func presence(room: String, event: PresenceEvent, user: ChatUser, oldName: String?) -> [[UInt8]] {
        switch event {
        case .join:
            return [userEvent("user_joined", room: room, userId: user.name, verb: "joined")]
        case .leave:
            return [userEvent("user_left", room: room, userId: user.name, verb: "left")]
        case .rename:
            guard let oldName, oldName != user.name else { return [] }
            return [userEvent("user_left", room: room, userId: oldName, verb: "left"),
                    userEvent("user_joined", room: room, userId: user.name, verb: "joined")]
        }
    }

    private static func joined(room: String, userId: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 96 + room.utf8.count * 2)
        w.beginObject()
        w.key("type"); w.string("joined")
        w.key("roomId"); w.string(room)
        if let userId { w.key("userId"); w.string(userId) }
        w.key("message"); w.string("Joined room: " + room)
        w.endObject()
        return w.bytes
    }

    /// An action (`/me waves`) has no PixIDE form; its content is what was typed, `/me waves`.
    private static func chatMessage(_ chat: ChatMessage) -> [UInt8] {
        let content = chat.action ? "/me " + chat.text : chat.text
        var w = JSONWriter(capacity: 128 + chat.room.utf8.count + chat.from.name.utf8.count + content.utf8.count)
        w.beginObject()
        w.key("type"); w.string("chat_message")
        w.key("userId"); w.string(chat.from.name)
        w.key("roomId"); w.string(chat.room)
        w.key("content"); w.string(content)
        w.key("timestamp"); w.timestamp(epochMilliseconds: chat.timestamp)
        w.endObject()
        return w.bytes
    }

    private static func userEvent(_ type: StaticString, room: String, userId: String, verb: String) -> [UInt8] {
        var w = JSONWriter(capacity: 96 + room.utf8.count + userId.utf8.count * 2)
        w.beginObject()
        w.key("type"); w.string(type)
        w.key("userId"); w.string(userId)
        w.key("roomId"); w.string(room)
        w.key("message"); w.string("\(userId) \(verb) the room")
        w.endObject()
        return w.bytes
    }
}

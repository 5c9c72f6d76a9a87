/// Stable machine codes of `error` messages (documented in docs/PROTOCOL.md).
public enum ChatErrorCode: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case invalidRequest = "invalid_request"
    case unknownType = "unknown_type"
    case emptyMessage = "empty_message"
    case messageTooLong = "message_too_long"
    case invalidName = "invalid_name"
    case nameTaken = "name_taken"
    case unknownCommand = "unknown_command"
    case invalidRoom = "invalid_room"
    case noSuchRoom = "no_such_room"
    case notInRoom = "not_in_room"
    case lastRoom = "last_room"
    case roomLimit = "room_limit"
    case roomFull = "room_full"
    case rateLimited = "rate_limited"
    /// Not for this account: a room outside its token's `rooms`, or a rename without `auth.allowRename`.
    case forbidden = "forbidden"
}

/// An `error` reply: a stable code for programs and a message for people.
public struct ChatError: Error, Equatable, Sendable {
    public var code: ChatErrorCode
    public var message: String

    public init(_ code: ChatErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

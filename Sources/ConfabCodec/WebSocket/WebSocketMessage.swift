/// One complete inbound message or control frame.
public enum WebSocketMessage: Sendable, Equatable {
    /// Already validated as UTF-8; decode with `String(decoding:as:)`.
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// `code` is nil for an empty close payload (which means 1005 locally).
    case close(code: UInt16?, reason: String)
}

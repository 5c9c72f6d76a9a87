import CHiredis

/// A Redis reply (RESP2), copied out of hiredis's reply tree: strings stay bytes, so
/// binary payloads (NUL bytes, invalid UTF-8) come back exactly as they were sent.
public enum RedisReply: Sendable, Equatable {
    /// A simple string such as `OK` or `PONG`.
    case status(String)
    /// An error reply such as `ERR unknown command`, or the client's own reason a command
    /// got no reply (`not connected`, or why the connection was lost).
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    /// A nil bulk string or nil array (a missing key, a timed-out blocking pop).
    case null
    case array([RedisReply])

    /// Deeper than this is not converted (hiredis itself stops at 7 levels).
    static let maxDepth = 16

    /// Copies `reply` (hiredis frees its own when the callback returns).
    init(_ reply: UnsafePointer<redisReply>, depth: Int = 0) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(value), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(value), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(value.integer))
        case REDIS_REPLY_STRING:
            self = .bulk(Self.bytes(value))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_ARRAY:
            guard depth < Self.maxDepth else {
                self = .error("reply nested deeper than \(Self.maxDepth) levels")
                return
            }
            guard let elements = value.element, value.elements > 0 else {
                self = .array([])
                return
            }
            self = .array((0..<Int(value.elements)).map { index in
                elements[index].map { RedisReply(UnsafePointer($0), depth: depth + 1) } ?? .null
            })
        default:
            self = .error("reply of unknown type \(value.type)")
        }
    }

    /// The bytes of a string, status or error reply.
    static func bytes(_ reply: redisReply) -> [UInt8] {
        guard let start = reply.str, reply.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: Int(reply.len)))
    }
}

import ConfabCodec
import ConfabProtocol

public enum ChatLogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, notice, warning, error

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the reactor must do. The machine never performs I/O itself.
public enum ChatEffect: Sendable {
    case send(ConnectionID, OutboundMessage)
    /// `recipients` is the room's own member array (copy-on-write, not copied per broadcast).
    /// `except`, when set, must be skipped.
    case broadcast(recipients: [ConnectionID], except: ConnectionID?, OutboundMessage)
    /// The machine has already ended the session; a later `.disconnected` for it is ignored.
    case close(ConnectionID, code: UInt16, reason: String)
    case log(ChatLogLevel, String)
    /// Cluster mode only (`ChatConfig.cluster`).
    case cluster(ClusterEffect)
}

/// Why an upgrade is refused before it happens (answered as HTTP 400, `forbidden` as 403, with `message`).
public struct ChatRefusal: Sendable, Equatable, Error {
    /// Stable machine code: `name_required`, `invalid_name`, `name_taken`, `room_full`,
    /// `room_limit` or `forbidden`.
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// WebSocket close codes the machine asks for.
public enum ChatCloseCode {
    /// Too many rate-limit refusals in a row (RFC 6455 "policy violation").
    public static let policyViolation: UInt16 = 1008
    /// The session was resumed on another connection.
    public static let sessionResumedElsewhere: UInt16 = 4000
}

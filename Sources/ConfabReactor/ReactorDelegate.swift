import ConfabCodec

/// What the server wants done with a parsed HTTP request. Policy (paths, origins,
/// admission) lives in the delegate; the reactor only carries the decision out.
public enum Route {
    /// Write this response; keep the connection for the next request or close it.
    case respond([UInt8], keepAlive: Bool)
    /// Answer 101 with this `Sec-WebSocket-Accept` value and speak WebSocket from now on.
    /// `endpoint` is the delegate's own tag (chat, echo…), handed back with every event.
    case upgrade(accept: String, endpoint: Int, limits: WebSocketLimits)
}

/// Why a WebSocket session ended, as the delegate needs to know it.
public enum CloseCause: Sendable, Equatable {
    /// The peer sent a close frame (code nil when the frame had no payload).
    case peerClosed(code: UInt16?, reason: String)
    /// The peer broke RFC 6455; we sent a close with this code.
    case protocolError(code: UInt16, reason: String)
    /// We closed it (`Reactor.close`), e.g. 1001 on shutdown or 1008 on abuse.
    case local(code: UInt16, reason: String)
    /// The TCP connection ended or failed without a close handshake.
    case transport(String)
    /// The peer went silent past the idle timeout.
    case timeout(String)
    /// A client's handshake was answered with `status` instead of 101 (`reason`: the status
    /// line's phrase, and the `error_description` of a `WWW-Authenticate` challenge if any).
    case refused(status: Int, reason: String)
}

/// The server side of the reactor. Called on the loop thread only.
public protocol ReactorDelegate: AnyObject {
    func route(_ request: HTTPRequest, connection: ConnectionID, peer: String) -> Route
    func opened(_ connection: ConnectionID, endpoint: Int)
    func received(_ message: [UInt8], binary: Bool, connection: ConnectionID, endpoint: Int)
    func closed(_ connection: ConnectionID, endpoint: Int, cause: CloseCause)
    /// A line-mode peer sent a line longer than the listener's limit; the reactor drops it
    /// up to the next newline.
    func lineTooLong(_ connection: ConnectionID, endpoint: Int)
}

extension ReactorDelegate {
    public func lineTooLong(_ connection: ConnectionID, endpoint: Int) {}
}

extension CloseCause: CustomStringConvertible {
    /// For logs: "peer closed 1000 (bye)", "protocol error 1002 (…)", "transport: …".
    public var description: String {
        func detail(_ code: UInt16?, _ reason: String) -> String {
            let number = code.map { "\($0)" } ?? "without a code"
            return reason.isEmpty ? number : "\(number) (\(reason))"
        }
        switch self {
        case .peerClosed(let code, let reason): return "peer closed " + detail(code, reason)
        case .protocolError(let code, let reason): return "protocol error " + detail(code, reason)
        case .local(let code, let reason): return "closed by server " + detail(code, reason)
        case .transport(let reason): return "transport: \(reason)"
        case .timeout(let reason): return "timeout: \(reason)"
        case .refused(let status, let reason): return "handshake refused (\(status)): \(reason)"
        }
    }
}

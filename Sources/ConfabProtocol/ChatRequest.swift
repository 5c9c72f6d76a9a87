/// A client request after decoding, whatever dialect it came in (JSON, a `/command`, a line).
public enum ChatRequest: Equatable, Sendable {
    case send(text: String, room: String?, action: Bool)
    case name(String)
    case join(String)
    case leave(String?)
    case rooms
    case users(String?)
    case help
}

/// A request's `id`, kept as the JSON it arrived as (a number's exact lexeme or a re-escaped
/// string) so replies echo it byte for byte as `re`.
public struct RequestID: Hashable, Sendable {
    public let json: [UInt8]

    public init(json: [UInt8]) { self.json = json }
}

/// The outcome of decoding one client frame or line. Failures still reach the state machine,
/// which rate-limits every request, valid or not, and answers the error.
public struct DecodedRequest: Equatable, Sendable {
    public var re: RequestID?
    public var result: Result<ChatRequest, ChatError>

    public init(re: RequestID? = nil, _ result: Result<ChatRequest, ChatError>) {
        self.re = re
        self.result = result
    }
}

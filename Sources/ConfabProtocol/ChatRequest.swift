/// A client request after decoding, whatever dialect it came in (JSON, a `/command`, a line).
public enum ChatRequest: Equatable, Sendable {
    case send(text: String, room: String?, action: Bool)
    case name(String)
    case join(String)
    case leave(String?)
    /// `watch` subscribes (true) or unsubscribes (false) this connection to `roomsChanged`.
    case rooms(watch: Bool?)
    case users(room: String?, UsersQuery)
    case help
}

/// Which members a `users` request asks for: a page after `cursor`, or one `name`.
public struct UsersQuery: Equatable, Sendable {
    /// Where the previous page ended (its `next`); nil for the first page.
    public var cursor: String?
    /// Page size; nil for the server's default (everyone, in a room small enough).
    public var limit: Int?
    /// Look one user up by name instead of paging.
    public var name: String?

    /// The largest page a client may ask for.
    public static let maxLimit = 200

    public init(cursor: String? = nil, limit: Int? = nil, name: String? = nil) {
        self.cursor = cursor
        self.limit = limit
        self.name = name
    }
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

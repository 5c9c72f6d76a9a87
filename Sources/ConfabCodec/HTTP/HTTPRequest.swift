public struct HTTPVersion: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A parsed request head. Bodies are not read: `hasBody` tells the server to
/// refuse and close, since Confab has no endpoint that takes one.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request-target exactly as sent.
    public var target: String
    /// The path part of the target, still percent-encoded.
    public var rawPath: String
    /// `rawPath` percent-decoded; `%2e%2e` becomes `..`, so check it before
    /// mapping it onto a file system.
    public var path: String
    /// Query parameters, percent-decoded with `+` as space; the first of a
    /// repeated name wins, like `headers[name]`.
    public var query: [String: String]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// HTTP/1.1 defaults to persistent unless `Connection: close`; HTTP/1.0 to
    /// closing unless `Connection: keep-alive` (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// Content-Length > 0 or any Transfer-Encoding.
    public var hasBody: Bool
    public var contentLength: Int?

    public init(
        method: String, target: String, rawPath: String, path: String,
        query: [String: String], version: HTTPVersion, headers: HTTPHeaders,
        keepAlive: Bool, hasBody: Bool, contentLength: Int?
    ) {
        self.method = method
        self.target = target
        self.rawPath = rawPath
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.hasBody = hasBody
        self.contentLength = contentLength
    }
}

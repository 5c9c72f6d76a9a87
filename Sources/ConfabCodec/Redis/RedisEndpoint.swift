/// Where a Redis server is and how to log in to it, from a URL
/// `redis://[[user]:password@]host[:port][/db]`; the config's `cluster.redis`.
///
/// Parsed once, where the config is read, so a bad URL stops start-up with a message
/// that says what is wrong; the Redis client then takes the parsed value.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A name or an IP address (an IPv6 one without its brackets).
    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+) for `AUTH user password`; nil logs in as the default user.
    public var username: String?
    /// Sent with `AUTH` on every connection when set.
    public var password: String?
    /// The database `SELECT`ed on every connection (pub/sub ignores it).
    public var db: Int

    /// Redis's own port.
    public static let defaultPort = 6379

    public init(host: String, port: Int = defaultPort, username: String? = nil, password: String? = nil, db: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.db = db
    }

    /// Why a URL is not a Redis endpoint, as a phrase: "the port must be 1 to 65535".
    public struct InvalidURL: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The endpoint a URL names, or what is wrong with it. Percent-escapes in the user and
    /// password are decoded; the password may also hold `@`, `/` or `:` unescaped (the
    /// last `@` ends it).
    public static func parse(_ url: String) throws(InvalidURL) -> RedisEndpoint {
        func fail(_ reason: String) -> InvalidURL { InvalidURL(reason: reason) }
        let scheme = "redis://"
        guard url.lowercased().hasPrefix(scheme) else {
            if url.lowercased().hasPrefix("rediss://") { throw fail("TLS (rediss://) is not supported") }
            throw fail("it must start with redis://")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var endpoint = RedisEndpoint(host: "")
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw fail("the part before @ must be :password or user:password")
            }
            guard let user = PercentEncoding.decode(userInfo[..<colon]),
                  let password = PercentEncoding.decode(userInfo[userInfo.index(after: colon)...]) else {
                throw fail("the user or password has a bad %-escape")
            }
            guard !password.isEmpty else { throw fail("the password after : is empty") }
            endpoint.username = user.isEmpty ? nil : user
            endpoint.password = password
        }
        if rest.contains(where: { $0 == "?" || $0 == "#" }) { throw fail("query parameters and fragments are not supported") }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard path.allSatisfy(\.isASCII), let db = Int(path), (0...1_000_000).contains(db) else {
                    throw fail("the database after / must be a number from 0")
                }
                endpoint.db = db
            }
        }
        var portText: Substring?
        if authority.hasPrefix("[") {
            // An IPv6 address: [::1]:6379.
            guard let close = authority.firstIndex(of: "]") else { throw fail("the IPv6 address has no closing ]") }
            endpoint.host = String(authority[authority.index(after: authority.startIndex)..<close])
            guard endpoint.host.contains(":"), endpoint.host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw fail("the address in [] is not an IPv6 address")
            }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("only :port may follow the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            endpoint.host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            endpoint.host = String(authority)
        }
        guard !endpoint.host.isEmpty, endpoint.host.count <= 253,
              !endpoint.host.contains(where: { $0.isWhitespace || "/?#@[]".contains($0) }),
              authority.hasPrefix("[") || !endpoint.host.contains(":") else {
            throw fail("the host is missing or not a host name or IP address")
        }
        if let portText {
            guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65_535).contains(port) else {
                throw fail("the port must be 1 to 65535")
            }
            endpoint.port = port
        }
        return endpoint
    }

    /// The URL with the password hidden, for logs and messages.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let login = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(login)\(host):\(port)/\(db)"
    }

    /// `url` with its password hidden, whether or not it parses: for error messages that
    /// quote what was given.
    public static func redacted(_ url: String) -> String {
        let parts = url.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let at = parts[1].lastIndex(of: "@"),
              let colon = parts[1][..<at].firstIndex(of: ":") else { return url }
        return parts[0] + "://" + parts[1][...colon] + "***" + parts[1][at...]
    }
}

/// A `ws://host:port/path?query` URL, split into what `Reactor.connect` needs.
/// Only `ws://` (no TLS: the reactor speaks plain TCP); `http://` is accepted as a synonym.
public struct ServerURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Path without the query, e.g. `/ws`.
    public var path: String
    /// Query items from the URL, kept in order (e.g. `name=Alice`).
    public var query: [(String, String)]

    public static func == (a: ServerURL, b: ServerURL) -> Bool {
        a.host == b.host && a.port == b.port && a.path == b.path
            && a.query.map { "\($0)=\($1)" } == b.query.map { "\($0)=\($1)" }
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case scheme(String)
        case host(String)
        case port(String)
        public var description: String {
            switch self {
            case .scheme(let url): return "\(url): only ws:// URLs are supported (e.g. ws://127.0.0.1:8080/ws)"
            case .host(let url): return "\(url): no host"
            case .port(let url): return "\(url): bad port"
            }
        }
    }

    public init(host: String, port: Int, path: String = "/ws", query: [(String, String)] = []) {
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    public init(parsing text: String) throws(ParseError) {
        var rest: Substring
        if text.hasPrefix("ws://") { rest = text.dropFirst(5) }
        else if text.hasPrefix("http://") { rest = text.dropFirst(7) }
        else { throw .scheme(text) }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .host(text) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw .port(text) }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else { throw .port(text) }
            port = value
        }
        guard !host.isEmpty else { throw .host(text) }
        self.host = String(host)
        self.port = port
        let queryStart = rest.firstIndex(of: "?")
        let path = queryStart.map { rest[..<$0] } ?? rest
        self.path = path.isEmpty ? "/ws" : String(path)
        query = []
        if let queryStart {
            for item in rest[rest.index(after: queryStart)...].split(separator: "&") where !item.isEmpty {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : ""))
            }
        }
    }

    /// `host:port` for the Host header (IPv6 literals bracketed).
    public var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The request target with `extra` query items replacing same-named ones.
    public func target(adding extra: [(String, String)] = []) -> String {
        var items = query.filter { item in !extra.contains { $0.0 == item.0 } }
        items += extra.map { ($0.0, Self.percentEncode($0.1)) }
        guard !items.isEmpty else { return path }
        return path + "?" + items.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
    public static func percentEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

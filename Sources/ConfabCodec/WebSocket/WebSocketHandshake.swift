/// The RFC 6455 §4.2 opening handshake, as pure functions. Policy (path,
/// origin, auth) belongs to the server, not here.
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// base64(SHA-1(key + GUID)), RFC 6455 §4.2.2.
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// Checks an upgrade request; on success gives the `Sec-WebSocket-Accept` value.
    public static func validate(_ request: HTTPRequest) -> Result<String, HandshakeError> {
        guard request.method == "GET" else { return .failure(.methodNotAllowed) }
        guard request.version >= .http1_1 else { return .failure(.httpVersionTooOld) }
        guard request.headers.hasToken("Upgrade", "websocket"),
              request.headers.hasToken("Connection", "Upgrade") else {
            return .failure(.upgradeRequired)
        }
        let versions = request.headers.values("Sec-WebSocket-Version")
        guard versions.count == 1, versions[0] == "13" else { return .failure(.unsupportedVersion) }
        let keys = request.headers.values("Sec-WebSocket-Key")
        guard keys.count == 1, let decoded = Base64.decode(keys[0]), decoded.count == 16 else {
            return .failure(.invalidKey)
        }
        return .success(acceptValue(forKey: keys[0]))
    }

    public static func switchingProtocolsResponse(accept: String) -> [UInt8] {
        Array((
            "HTTP/1.1 101 Switching Protocols\r\n"
            + "Upgrade: websocket\r\n"
            + "Connection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(accept)\r\n\r\n"
        ).utf8)
    }
}

/// A refused upgrade: the status, a reason for the body/log, and the headers
/// the RFCs require on that status.
public struct HandshakeError: Error, Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders

    public init(status: Int, reason: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// 405 must list the allowed methods (RFC 9110 §15.5.6).
    public static let methodNotAllowed = HandshakeError(
        status: 405, reason: "WebSocket upgrade requires GET", headers: ["Allow": "GET"])
    public static let httpVersionTooOld = HandshakeError(
        status: 400, reason: "WebSocket upgrade requires HTTP/1.1 or later")
    /// 426 must name the protocol to upgrade to (RFC 9110 §15.5.22).
    public static let upgradeRequired = HandshakeError(
        status: 426, reason: "Upgrade Required",
        headers: ["Upgrade": "websocket"])
    /// RFC 6455 §4.4: tell the client which version we speak.
    public static let unsupportedVersion = HandshakeError(
        status: 426, reason: "Sec-WebSocket-Version must be 13",
        headers: ["Sec-WebSocket-Version": "13"])
    public static let invalidKey = HandshakeError(
        status: 400, reason: "Sec-WebSocket-Key must be base64 of 16 bytes")

    /// The response to send before closing the connection.
    public var response: HTTPResponse {
        var headers = self.headers
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Connection", value: "close")
        return HTTPResponse(status: status, headers: headers, text: reason + "\n")
    }
}

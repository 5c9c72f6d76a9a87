/// The client half of the RFC 6455 opening handshake (§4.1): the request to send and the
/// check of the server's answer. Pure, like the server half.
public struct WebSocketClientHandshake: Sendable {
    /// Longest response head we accept before giving up on the server.
    public static let maxResponseBytes = 8192

    public let key: String
    public let expectedAccept: String
    private var head: [UInt8] = []

    /// `nonce` must be 16 random bytes (§4.1: "randomly selected").
    public init(nonce: [UInt8]) {
        key = Base64.encode(nonce)
        expectedAccept = WebSocketHandshake.acceptValue(forKey: key)
    }

    public func request(host: String, path: String, extraHeaders: HTTPHeaders = [:]) -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for field in extraHeaders { text += "\(field.name): \(field.value)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    public enum Outcome: Equatable, Sendable {
        case needMore
        /// Upgraded; `consumed` bytes of this input were the head, the rest are frames.
        case accepted(consumed: Int)
        /// Not upgraded: the status (0 when the answer is not HTTP) and why.
        case refused(status: Int, reason: String)
    }

    /// Feeds response bytes until the head is complete, then checks it.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        for (index, byte) in bytes.enumerated() {
            head.append(byte)
            if head.count >= 4, head[head.count - 4..<head.count].elementsEqual([.cr, .lf, .cr, .lf]) {
                let outcome = check()
                if case .accepted = outcome { return .accepted(consumed: index + 1) }
                return outcome
            }
            if head.count > Self.maxResponseBytes {
                return .refused(status: 0, reason: "response head over \(Self.maxResponseBytes) bytes")
            }
        }
        return .needMore
    }

    private func check() -> Outcome {
        head.withUnsafeBufferPointer { buffer in
            var lines = HTTPHeadParser.LineIterator(buffer)
            guard let first = lines.next(), let statusLine = first else {
                return .refused(status: 0, reason: "malformed status line")
            }
            let parts = HTTPHeadParser.string(statusLine).split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                return .refused(status: 0, reason: "not an HTTP response")
            }
            var headers = HTTPHeaders()
            while let next = lines.next() {
                guard let line = next else { return .refused(status: status, reason: "malformed header") }
                if line.isEmpty { break }
                guard let (name, value) = HTTPHeadParser.parseField(line) else {
                    return .refused(status: status, reason: "malformed header")
                }
                headers.add(name: name, value: value)
            }
            guard status == 101 else {
                var reason = parts.count > 2 ? String(parts[2]) : "status \(status)"
                // A token refused with a 401 says why in its challenge (RFC 6750 §3).
                if let detail = headers["WWW-Authenticate"].flatMap(Self.errorDescription) { reason += " (\(detail))" }
                return .refused(status: status, reason: reason)
            }
            guard headers.hasToken("Upgrade", "websocket"), headers.hasToken("Connection", "Upgrade") else {
                return .refused(status: status, reason: "101 without Upgrade: websocket")
            }
            guard headers["Sec-WebSocket-Accept"] == expectedAccept else {
                return .refused(status: status, reason: "wrong Sec-WebSocket-Accept")
            }
            return .accepted(consumed: 0)
        }
    }

    /// `error_description="…"` of a challenge, if any.
    static func errorDescription(_ challenge: String) -> String? {
        guard let start = challenge.firstRange(of: "error_description=\"") else { return nil }
        let rest = challenge[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}

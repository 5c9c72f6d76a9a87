import Testing
@testable import ConfabCodec

@Suite struct ClientHandshakeTests {
    /// The RFC 6455 §1.3 nonce "the sample nonce".
    let nonce = Array("the sample nonce".utf8)

    func feed(_ handshake: inout WebSocketClientHandshake, _ text: String) -> WebSocketClientHandshake.Outcome {
        Array(text.utf8).withUnsafeBytes { handshake.feed($0) }
    }

    @Test func requestCarriesKeyAndVersion() {
        let handshake = WebSocketClientHandshake(nonce: nonce)
        #expect(handshake.key == "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(handshake.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let text = String(decoding: handshake.request(host: "example.com:80", path: "/ws?name=A"), as: UTF8.self)
        #expect(text.hasPrefix("GET /ws?name=A HTTP/1.1\r\nHost: example.com:80\r\n"))
        #expect(text.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
        #expect(text.contains("Sec-WebSocket-Version: 13\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }

    @Test func acceptsTheServersAnswerAndReportsLeftoverBytes() {
        var handshake = WebSocketClientHandshake(nonce: nonce)
        let head = WebSocketHandshake.switchingProtocolsResponse(accept: handshake.expectedAccept)
        let input = head + [0x81, 0x00]
        let outcome = input.withUnsafeBytes { handshake.feed($0) }
        #expect(outcome == .accepted(consumed: head.count))
    }

    @Test func acceptsAnswerSplitIntoSingleBytes() {
        var handshake = WebSocketClientHandshake(nonce: nonce)
        let head = WebSocketHandshake.switchingProtocolsResponse(accept: handshake.expectedAccept)
        var outcomes: [WebSocketClientHandshake.Outcome] = []
        for byte in head { outcomes.append([byte].withUnsafeBytes { handshake.feed($0) }) }
        #expect(outcomes.dropLast().allSatisfy { $0 == .needMore })
        #expect(outcomes.last == .accepted(consumed: 1))
    }

    @Test func refusesWrongAccept() {
        var handshake = WebSocketClientHandshake(nonce: nonce)
        let outcome = feed(&handshake, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n")
        #expect(outcome == .refused(status: 101, reason: "wrong Sec-WebSocket-Accept"))
    }

    @Test func refusesOtherStatusWithItsReason() {
        var handshake = WebSocketClientHandshake(nonce: nonce)
        let outcome = feed(&handshake, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        #expect(outcome == .refused(status: 403, reason: "Forbidden"))
    }

    @Test func aRefusedTokenSaysWhyFromItsChallenge() {
        var handshake = WebSocketClientHandshake(nonce: nonce)
        let outcome = feed(&handshake, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"confab\", "
                           + "error=\"invalid_token\", error_description=\"token_expired\"\r\n\r\n")
        #expect(outcome == .refused(status: 401, reason: "Unauthorized (token_expired)"))
        var bare = WebSocketClientHandshake(nonce: nonce)
        #expect(feed(&bare, "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"confab\"\r\n\r\n")
                == .refused(status: 401, reason: "Unauthorized"))
    }

    @Test func refusesGarbageAndOversizedHeads() {
        var garbage = WebSocketClientHandshake(nonce: nonce)
        #expect(feed(&garbage, "SSH-2.0-OpenSSH\r\n\r\n") == .refused(status: 0, reason: "not an HTTP response"))
        var endless = WebSocketClientHandshake(nonce: nonce)
        let outcome = feed(&endless, "HTTP/1.1 101 OK\r\nX: " + String(repeating: "a", count: 9000))
        #expect(outcome == .refused(status: 0, reason: "response head over 8192 bytes"))
    }
}

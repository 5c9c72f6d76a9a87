import Testing
@testable import ConfabCodec

@Suite struct HandshakeTests {
    func upgradeRequest(
        method: String = "GET", version: String = "HTTP/1.1",
        upgrade: String? = "websocket", connection: String? = "Upgrade",
        wsVersion: String? = "13", key: String? = "dGhlIHNhbXBsZSBub25jZQ=="
    ) -> HTTPRequest? {
        var text = "\(method) /chat \(version)\r\nHost: server.example.com\r\n"
        if let upgrade { text += "Upgrade: \(upgrade)\r\n" }
        if let connection { text += "Connection: \(connection)\r\n" }
        if let key { text += "Sec-WebSocket-Key: \(key)\r\n" }
        if let wsVersion { text += "Sec-WebSocket-Version: \(wsVersion)\r\n" }
        return request(text + "\r\n")
    }

    @Test func rfcAcceptExample() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func validRequestYieldsTheAcceptValue() throws {
        let r = try #require(upgradeRequest())
        #expect(WebSocketHandshake.validate(r) == .success("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
    }

    @Test func tokensAreCaseInsensitiveAndListed() throws {
        let r = try #require(upgradeRequest(upgrade: "WebSocket", connection: "keep-alive, upgrade"))
        #expect(WebSocketHandshake.validate(r) == .success("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
    }

    @Test func switchingProtocolsResponse() {
        let bytes = WebSocketHandshake.switchingProtocolsResponse(accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(String(decoding: bytes, as: UTF8.self) ==
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    @Test func nonGetIs405() throws {
        let r = try #require(upgradeRequest(method: "POST"))
        let error = try #require(WebSocketHandshake.validate(r).failure)
        #expect(error.status == 405)
        #expect(error.headers["Allow"] == "GET")
    }

    @Test func http10Is400() throws {
        let r = try #require(upgradeRequest(version: "HTTP/1.0"))
        #expect(WebSocketHandshake.validate(r).failure?.status == 400)
    }

    @Test(arguments: [(String?.none, String?.some("Upgrade")), ("websocket", nil), ("h2c", "Upgrade"), ("websocket", "keep-alive")])
    func missingUpgradeTokensAre426(upgrade: String?, connection: String?) throws {
        let r = try #require(upgradeRequest(upgrade: upgrade, connection: connection))
        let error = try #require(WebSocketHandshake.validate(r).failure)
        #expect(error.status == 426)
        #expect(error.reason == "Upgrade Required")
        #expect(error.headers["Upgrade"] == "websocket")
    }

    @Test(arguments: [String?.none, "8", "14", "13, 8"])
    func wrongVersionIs426WithVersionHeader(version: String?) throws {
        let r = try #require(upgradeRequest(wsVersion: version))
        let error = try #require(WebSocketHandshake.validate(r).failure)
        #expect(error.status == 426)
        #expect(error.headers["Sec-WebSocket-Version"] == "13")
        let response = String(decoding: error.response.encode(), as: UTF8.self)
        #expect(response.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"))
        #expect(response.contains("\r\nSec-WebSocket-Version: 13\r\n"))
    }

    @Test(arguments: [String?.none, "", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZSE=", "AAAAAAAAAAAAAAAAAAAAAA==AAAA", "!!!!!!!!!!!!!!!!!!!!!!=="])
    func badKeyIs400(key: String?) throws {
        let r = try #require(upgradeRequest(key: key))
        let error = try #require(WebSocketHandshake.validate(r).failure)
        #expect(error.status == 400)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

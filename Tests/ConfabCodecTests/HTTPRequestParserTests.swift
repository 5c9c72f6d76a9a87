import Testing
@testable import ConfabCodec

@Suite struct HTTPRequestParserTests {
    let upgrade = "GET /ws?name=Al%20ice&room=a+b HTTP/1.1\r\n"
        + "Host: example.com\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: keep-alive, Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + "\r\n"

    @Test func parsesAValidRequest() throws {
        let r = try #require(request(upgrade))
        #expect(r.method == "GET")
        #expect(r.target == "/ws?name=Al%20ice&room=a+b")
        #expect(r.rawPath == "/ws")
        #expect(r.path == "/ws")
        #expect(r.query == ["name": "Al ice", "room": "a b"])
        #expect(r.version == .http1_1)
        #expect(r.headers.count == 5)
        #expect(r.headers["host"] == "example.com")
        #expect(r.headers["SEC-WEBSOCKET-VERSION"] == "13")
        #expect(r.headers.hasToken("connection", "upgrade"))
        #expect(r.headers.hasToken("Connection", "Keep-Alive"))
        #expect(!r.headers.hasToken("Connection", "close"))
        #expect(r.keepAlive)
        #expect(!r.hasBody)
    }

    @Test func oneByteChunksGiveTheSameRequest() throws {
        let bytes = Array(upgrade.utf8)
        var parser = HTTPRequestParser()
        var result: HTTPParseResult = .needMore
        for (i, b) in bytes.enumerated() {
            result = [b].withUnsafeBytes { parser.parse($0) }
            if i < bytes.count - 1 { #expect(result == .needMore) }
        }
        guard case .request(let r, let consumed) = result else {
            Issue.record("expected a request, got \(result)")
            return
        }
        #expect(consumed == 1)
        #expect(r == request(upgrade))
    }

    @Test func everySplitGivesTheSameRequest() throws {
        let bytes = Array(upgrade.utf8)
        let expected = try #require(request(upgrade))
        for k in 0...bytes.count {
            var parser = HTTPRequestParser()
            let first = Array(bytes[..<k]).withUnsafeBytes { parser.parse($0) }
            if k == bytes.count {
                #expect(first == .request(expected, consumed: k))
            } else {
                #expect(first == .needMore)
                let second = Array(bytes[k...]).withUnsafeBytes { parser.parse($0) }
                #expect(second == .request(expected, consumed: bytes.count - k))
            }
        }
    }

    @Test func leftoverBytesAreNotConsumed() throws {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D]
        let bytes = Array(upgrade.utf8) + frame
        var parser = HTTPRequestParser()
        let result = bytes.withUnsafeBytes { parser.parse($0) }
        guard case .request(_, let consumed) = result else {
            Issue.record("expected a request")
            return
        }
        #expect(consumed == upgrade.utf8.count)
        #expect(Array(bytes[consumed...]) == frame)
    }

    @Test func parsesPipelinedRequestsOneAfterAnother() throws {
        let one = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        let two = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let bytes = Array((one + two).utf8)
        var parser = HTTPRequestParser()
        let first = bytes.withUnsafeBytes { parser.parse($0) }
        guard case .request(let a, let consumed) = first else {
            Issue.record("expected first request")
            return
        }
        #expect(a.path == "/a")
        let second = Array(bytes[consumed...]).withUnsafeBytes { parser.parse($0) }
        guard case .request(let b, let consumed2) = second else {
            Issue.record("expected second request")
            return
        }
        #expect(b.path == "/b")
        #expect(consumed2 == two.utf8.count)
    }

    @Test func toleratesBareLFAndLeadingEmptyLines() throws {
        let r = try #require(request("\r\n\nGET / HTTP/1.1\nHost: h\n\n"))
        #expect(r.path == "/")
        #expect(r.headers["Host"] == "h")
    }

    @Test func headerTooLargeIs431() {
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
        let error = parseError(big)
        #expect(error == .headerTooLarge(limit: 8192))
        #expect(error?.status == 431)
    }

    @Test func headerTooLargeWhenNeverTerminated() {
        // A client trickling a head that never ends must not grow the buffer past the limit.
        var parser = HTTPRequestParser(maxHeaderBytes: 100)
        let chunk = Array("GET / HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x61, count: 21)
        var results: [HTTPParseResult] = []
        for _ in 0..<3 { results.append(chunk.withUnsafeBytes { parser.parse($0) }) }
        #expect(results[0] == .needMore)
        #expect(results[1] == .needMore)
        #expect(results[2] == .failure(.headerTooLarge(limit: 100)))
    }

    @Test func headExactlyAtTheLimitIsAccepted() {
        let head = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(request(head) != nil)
        if case .request = parse(head, maxHeaderBytes: head.utf8.count) {} else {
            Issue.record("head of exactly maxHeaderBytes must parse")
        }
        #expect(parseError(head, maxHeaderBytes: head.utf8.count - 1)?.status == 431)
    }

    @Test(arguments: [
        "GET /\r\nHost: h\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / FTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
        "GET / HTTP/11\r\nHost: h\r\n\r\n",
        "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n",
        "\u{1}GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    ])
    func malformedRequestLineIs400(text: String) {
        let error = parseError(text)
        #expect(error == .malformedRequestLine)
        #expect(error?.status == 400)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nName : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
    ])
    func malformedHeaderIs400(text: String) {
        let error = parseError(text)
        #expect(error == .malformedHeader)
        #expect(error?.status == 400)
    }

    @Test func http2IsRefusedWith505() {
        let error = parseError("GET / HTTP/2.0\r\nHost: h\r\n\r\n")
        #expect(error == .unsupportedVersion(HTTPVersion(major: 2, minor: 0)))
        #expect(error?.status == 505)
    }

    @Test func hostRules() {
        #expect(parseError("GET / HTTP/1.1\r\n\r\n") == .missingHost)
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == .duplicateHost)
        #expect(request("GET / HTTP/1.0\r\n\r\n") != nil)
    }

    @Test func keepAliveRules() {
        #expect(request("GET / HTTP/1.1\r\nHost: h\r\n\r\n")?.keepAlive == true)
        #expect(request("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n")?.keepAlive == false)
        #expect(request("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.keepAlive == true)
    }

    @Test func bodiesAreFlagged() {
        #expect(request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")?.hasBody == true)
        #expect(request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n")?.contentLength == 5)
        #expect(request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")?.hasBody == false)
        #expect(request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")?.hasBody == true)
        #expect(parseError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n") == .invalidContentLength)
        #expect(parseError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
            == .invalidContentLength)
    }

    @Test func percentEncodedDotsAreDecodedInPath() throws {
        let r = try #require(request("GET /static/%2e%2e/%2E%2E/etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(r.rawPath == "/static/%2e%2e/%2E%2E/etc/passwd")
        #expect(r.path == "/static/../../etc/passwd")
    }

    @Test(arguments: [
        "GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a%ff HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /?q=%G1 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
    ])
    func invalidTargetIs400(text: String) {
        let error = parseError(text)
        #expect(error == .invalidTarget)
        #expect(error?.status == 400)
    }

    @Test func absoluteFormAndAsterisk() throws {
        let r = try #require(request("GET http://example.com/ws?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(r.path == "/ws")
        #expect(r.query == ["x": "1"])
        #expect(request("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n")?.path == "/")
        #expect(request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")?.path == "*")
    }

    @Test func repeatedQueryNameKeepsTheFirst() {
        #expect(request("GET /?a=1&a=2&b HTTP/1.1\r\nHost: h\r\n\r\n")?.query == ["a": "1", "b": ""])
    }

    @Test func failureIsSticky() {
        var parser = HTTPRequestParser()
        let bad = Array("BAD\r\n\r\n".utf8)
        let first = bad.withUnsafeBytes { parser.parse($0) }
        let again = Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
        #expect(first == .failure(.malformedRequestLine))
        #expect(again == first)
    }

    @Test func headerValuesAreTrimmedAndOrdered() throws {
        let r = try #require(request("GET / HTTP/1.1\r\nHost: h\r\nX-A:  one \t\r\nx-a: two\r\n\r\n"))
        #expect(r.headers["X-A"] == "one")
        #expect(r.headers.values("x-A") == ["one", "two"])
        #expect(r.headers.fields.map(\.name) == ["Host", "X-A", "x-a"])
    }
}

@Suite struct PercentEncodingTests {
    @Test func decodes() {
        #expect(PercentEncoding.decode("%2e%2E") == "..")
        #expect(PercentEncoding.decode("a%20b+c") == "a b+c")
        #expect(PercentEncoding.decode("a%20b+c", plusAsSpace: true) == "a b c")
        #expect(PercentEncoding.decode("%C3%A9") == "é")
        #expect(PercentEncoding.decode("plain") == "plain")
    }

    @Test(arguments: ["%", "%4", "%4g", "%00", "a\u{0}b", "%C3", "%ED%A0%80"])
    func rejects(text: String) {
        #expect(PercentEncoding.decode(text) == nil)
    }
}

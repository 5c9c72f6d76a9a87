import Testing
@testable import ConfabCodec

@Suite struct HTTPResponseTests {
    @Test func encodesStatusHeadersLengthAndBody() {
        let response = HTTPResponse(status: 404, headers: ["Content-Type": "text/plain"], text: "nope")
        #expect(String(decoding: response.encode(), as: UTF8.self) ==
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope")
    }

    @Test func customReasonAndExistingContentLength() {
        let response = HTTPResponse(status: 200, reason: "Fine", headers: ["Content-Length": "0"])
        #expect(String(decoding: response.encode(), as: UTF8.self) == "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func noBodyOrLengthFor204And101() {
        let text = String(decoding: HTTPResponse(status: 204, body: [1, 2]).encode(), as: UTF8.self)
        #expect(text == "HTTP/1.1 204 No Content\r\n\r\n")
    }

    @Test func crlfInHeadersCannotSplitTheResponse() {
        let response = HTTPResponse(status: 200, headers: ["X": "a\r\nSet-Cookie: evil"])
        let text = String(decoding: response.encode(), as: UTF8.self)
        #expect(text.contains("X: a  Set-Cookie: evil\r\n"))
    }

    @Test func reasonPhrases() {
        #expect(HTTPStatus.reasonPhrase(101) == "Switching Protocols")
        #expect(HTTPStatus.reasonPhrase(426) == "Upgrade Required")
        #expect(HTTPStatus.reasonPhrase(431) == "Request Header Fields Too Large")
        #expect(HTTPStatus.reasonPhrase(503) == "Service Unavailable")
        #expect(HTTPStatus.reasonPhrase(599) == "Server Error")
    }
}

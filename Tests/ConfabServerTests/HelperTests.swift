import ConfabCodec
import ConfabConfig
import ConfabProtocol
import Logging
import Testing
@testable import ConfabReactor
@testable import ConfabServer

/// The server's pure pieces, without a loop: admission policy, peer addresses, endpoint
/// tags, and the bytes `frame(_:for:)` makes of one message for each endpoint.
@Suite struct AdmissionPolicyTests {
    private func request(origin: String? = nil, host: String? = "chat.example:8080") -> HTTPRequest {
        var headers = HTTPHeaders()
        if let host { headers.add(name: "Host", value: host) }
        if let origin { headers.add(name: "Origin", value: origin) }
        return HTTPRequest(method: "GET", target: "/ws", rawPath: "/ws", path: "/ws", query: [:], version: .http1_1,
                           headers: headers, keepAlive: true, hasBody: false, contentLength: nil)
    }

    private func admission(_ configure: (inout ServerConfig) -> Void = { _ in }) -> Admission {
        var server = ServerConfig()
        configure(&server)
        return Admission(server)
    }

    @Test func peerAddressesLoseTheirPort() {
        #expect(Admission.ip(ofPeer: "1.2.3.4:5678") == "1.2.3.4")
        #expect(Admission.ip(ofPeer: "127.0.0.1:1") == "127.0.0.1")
        #expect(Admission.ip(ofPeer: "[::1]:5678") == "::1")
        #expect(Admission.ip(ofPeer: "[2001:db8::7]:443") == "2001:db8::7")
        // The reactor's "?" for an unknown peer, and anything without a port, stay as they are.
        #expect(Admission.ip(ofPeer: "?") == "?")
        #expect(Admission.ip(ofPeer: "localhost") == "localhost")
    }

    @Test func anyOriginAdmitsEveryOrigin() {
        let policy = admission { $0.allowedOrigins = .any }
        #expect(policy.check(request(origin: "https://evil.example"), ip: "1.2.3.4", openConnections: 0) == nil)
        #expect(policy.check(request(), ip: "1.2.3.4", openConnections: 0) == nil)
    }

    @Test func listedOriginsCompareLowercased() {
        let policy = admission { $0.allowedOrigins = .list(["https://good.example"]) }
        #expect(policy.check(request(origin: "https://good.example"), ip: "1.2.3.4", openConnections: 0) == nil)
        #expect(policy.check(request(origin: "HTTPS://Good.Example"), ip: "1.2.3.4", openConnections: 0) == nil)
        let refusal = policy.check(request(origin: "https://evil.example"), ip: "1.2.3.4", openConnections: 0)
        #expect(refusal == .forbiddenOrigin("https://evil.example"))
        #expect(refusal?.status == 403)
        #expect(refusal?.reason == "origin")
        #expect(refusal?.message == "origin https://evil.example is not allowed")
        // No Origin: not a browser, nothing to protect.
        #expect(policy.check(request(origin: nil), ip: "1.2.3.4", openConnections: 0) == nil)
    }

    @Test func sameOriginMeansTheHostTheRequestWasSentTo() {
        let policy = admission { $0.allowedOrigins = .sameOrigin }
        #expect(policy.originAllowed("http://chat.example:8080", host: "chat.example:8080"))
        #expect(policy.originAllowed("https://CHAT.example:8080", host: "chat.EXAMPLE:8080"))
        #expect(!policy.originAllowed("http://chat.example:8081", host: "chat.example:8080"))
        #expect(!policy.originAllowed("http://other.example:8080", host: "chat.example:8080"))
        #expect(!policy.originAllowed("chat.example:8080", host: "chat.example:8080"))  // no scheme
        #expect(!policy.originAllowed("http://chat.example:8080", host: nil))
        #expect(policy.check(request(origin: "http://evil.example", host: "chat.example:8080"), ip: "1.2.3.4", openConnections: 0)
                == .forbiddenOrigin("http://evil.example"))
    }

    @Test func serverLimitCountsOpenConnections() {
        let policy = admission { $0.maxConnections = 3 }
        #expect(policy.check(request(), ip: "1.2.3.4", openConnections: 2) == nil)
        let refusal = policy.check(request(), ip: "1.2.3.4", openConnections: 3)
        #expect(refusal == .serverFull)
        #expect(refusal?.status == 503)
        #expect(refusal?.reason == "max_connections")
        #expect(refusal?.message == "server is at its connection limit; try again later")
    }

    @Test func originIsCheckedBeforeCapacity() {
        let policy = admission {
            $0.allowedOrigins = .list(["https://good.example"])
            $0.maxConnections = 1
        }
        #expect(policy.check(request(origin: "https://evil.example"), ip: "1.2.3.4", openConnections: 5)
                == .forbiddenOrigin("https://evil.example"))
        #expect(policy.check(request(origin: "https://good.example"), ip: "1.2.3.4", openConnections: 5) == .serverFull)
    }

    @Test func perIPLimitCountsOpensAndReleasesOnClose() {
        var policy = admission { $0.maxConnectionsPerIP = 2 }
        policy.opened(1, ip: "1.2.3.4")
        #expect(policy.check(request(), ip: "1.2.3.4", openConnections: 1) == nil)
        policy.opened(2, ip: "1.2.3.4")
        let refusal = policy.check(request(), ip: "1.2.3.4", openConnections: 2)
        #expect(refusal == .tooManyFromIP("1.2.3.4"))
        #expect(refusal?.status == 503)
        #expect(refusal?.reason == "max_connections_per_ip")
        #expect(refusal?.message == "too many connections from 1.2.3.4")
        // Another address has its own count.
        #expect(policy.check(request(), ip: "5.6.7.8", openConnections: 2) == nil)
        policy.closed(1)
        #expect(policy.openByIP == ["1.2.3.4": 1])
        #expect(policy.check(request(), ip: "1.2.3.4", openConnections: 1) == nil)
        policy.closed(2)
        #expect(policy.openByIP.isEmpty)
        // A close never seen open (or seen twice) changes nothing, and never goes negative.
        policy.closed(2)
        policy.closed(3)
        #expect(policy.openByIP.isEmpty)
    }
}

@Suite struct EndpointTests {
    @Test func tagsAreDistinctAndRoundTrip() {
        let all: [Endpoint] = [.chat, .echo, .line, .pixide]
        #expect(Set(all.map(\.rawValue)).count == all.count)
        for endpoint in all { #expect(Endpoint(rawValue: endpoint.rawValue) == endpoint) }
        // Tags the server never hands out mean nothing to it (the reactor's client side uses none).
        #expect(Endpoint(rawValue: -1) == nil)
        #expect(Endpoint(rawValue: 99) == nil)
    }
}

/// `frame(_:for:to:)`: one message in the dialect of each endpoint.
@Suite struct FrameForEndpointTests {
    private func makeServer() throws -> ConfabServer {
        var logger = Logger(label: "confab-server-test")
        logger.logLevel = .critical
        var config = ConfabConfig()
        config.server.port = 0
        return try ConfabServer(config: config, logger: logger)
    }

    private func bytes(_ frame: OutboundFrame?) -> [UInt8]? {
        frame.map { Array(UnsafeRawBufferPointer(start: $0.base, count: $0.count)) }
    }

    /// A line endpoint's frame: plain text, no WebSocket header.
    private func text(_ frame: OutboundFrame?) -> String? {
        bytes(frame).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The messages in a buffer of unmasked server frames.
    private func texts(_ buffer: [UInt8]) -> [String] {
        var reader = WebSocketReader(limits: WebSocketLimits(requireMaskedFrames: false))
        var out: [String] = []
        let error = buffer.withUnsafeBytes { reader.feed($0) { if case .text(let t) = $0 { out.append(String(decoding: t, as: UTF8.self)) } } }
        #expect(error == nil)
        return out
    }

    /// 10:30:02 on the reader's clock, whatever the machine's time zone.
    private func tenThirty(_ offset: Int) -> Int64 { Int64(37_802 - offset + 86_400 * 20_000) * 1000 }

    private let ann = ChatUser(id: "uAnn", name: "Ann")

    @Test func chatEndpointSendsTheProtocolV1JSONAsOneTextFrame() throws {
        let server = try makeServer()
        let message = OutboundMessage(.joined(room: "dev", re: nil))
        let frame = bytes(server.frame(message, for: Endpoint.chat.rawValue))
        #expect(frame == FrameEncoder.encode(opcode: .text, payload: message.json))
        #expect(texts(frame ?? []) == [#"{"type":"joined","room":"dev"}"#])
        // A chat message is the bytes it was encoded to once, for every recipient.
        let chat = ChatMessage(room: "lobby", seq: 7, timestamp: 1_700_000_000_123, from: ann, text: "hi", action: false)
        let framed = bytes(server.frame(OutboundMessage(.message(chat)), for: Endpoint.chat.rawValue))
        #expect(framed == FrameEncoder.encode(opcode: .text, payload: chat.json))
        #expect(texts(framed ?? []) == [
            #"{"type":"message","room":"lobby","seq":7,"ts":"2023-11-14T22:13:20.123Z","from":{"id":"uAnn","name":"Ann"},"text":"hi"}"#,
        ])
    }

    @Test func lineEndpointRendersTextLines() throws {
        let server = try makeServer()
        let offset = WallClock.utcOffsetSeconds()
        let chat = ChatMessage(room: "lobby", seq: 1, timestamp: tenThirty(offset), from: ann, text: "hi", action: false)
        #expect(text(server.frame(OutboundMessage(.message(chat)), for: Endpoint.line.rawValue)) == "10:30:02 [lobby] Ann: hi\r\n")
        let action = ChatMessage(room: "dev", seq: 2, timestamp: tenThirty(offset), from: ann, text: "waves", action: true)
        #expect(text(server.frame(OutboundMessage(.message(action)), for: Endpoint.line.rawValue)) == "10:30:02 [dev] * Ann waves\r\n")
        let users = UserList(room: "lobby", count: 1, users: [ann], full: true)
        #expect(text(server.frame(OutboundMessage(.users(users, re: nil)), for: Endpoint.line.rawValue)) == "-- In lobby (1): Ann\r\n")
        // A multi-line message: CRLF line ends, continuation lines indented under the text.
        let lines = ChatMessage(room: "lobby", seq: 3, timestamp: tenThirty(offset), from: ann, text: "one\ntwo", action: false)
        #expect(text(server.frame(OutboundMessage(.message(lines)), for: Endpoint.line.rawValue))
                == "10:30:02 [lobby] Ann: one\r\n" + String(repeating: " ", count: 17) + "two\r\n")
        // Nothing to show for an ack: no frame at all.
        #expect(server.frame(OutboundMessage(.ack(re: RequestID(string: "1"), room: "lobby", seq: 1)), for: Endpoint.line.rawValue) == nil)
    }

    @Test func pixideEndpointNamesTheRecipientFromItsWelcome() throws {
        let server = try makeServer()
        let connection: ConnectionID = 42
        let limits = Welcome.Limits(maxMessageBytes: 4096, historySize: 50, maxRoomsPerUser: 20, ratePerSecond: 5,
                                    rateBurst: 20, resumeGraceSeconds: 30)
        let welcome = Welcome(user: ann, room: "dev", rooms: ["dev"], token: "t", resumed: false, server: "TestChat", limits: limits)
        let joined = bytes(server.frame(OutboundMessage(.welcome(welcome)), for: Endpoint.pixide.rawValue, to: connection))
        #expect(texts(joined ?? []) == [#"{"type":"joined","roomId":"dev","userId":"Ann","message":"Joined room: dev"}"#])
        #expect(server.pixideNames[connection] == "Ann")
        // A later `joined` to that connection repeats the name it learned.
        let switched = bytes(server.frame(OutboundMessage(.joined(room: "ops", re: nil)), for: Endpoint.pixide.rawValue, to: connection))
        #expect(texts(switched ?? []) == [#"{"type":"joined","roomId":"ops","userId":"Ann","message":"Joined room: ops"}"#])
        // A rename is two PixIDE messages: two frames in one buffer.
        let rename = ServerMessage.presence(room: "dev", changes: [PresenceChange(.rename, ChatUser(id: "uB", name: "Bea"), oldName: "Bob")])
        let renamed = bytes(server.frame(OutboundMessage(rename), for: Endpoint.pixide.rawValue))
        #expect(texts(renamed ?? []) == [
            #"{"type":"user_left","userId":"Bob","roomId":"dev","message":"Bob left the room"}"#,
            #"{"type":"user_joined","userId":"Bea","roomId":"dev","message":"Bea joined the room"}"#,
        ])
        // What PixIDE has no word for is not sent.
        let users = UserList(room: "dev", count: 1, users: [ann], full: true)
        #expect(server.frame(OutboundMessage(.users(users, re: nil)), for: Endpoint.pixide.rawValue, to: connection) == nil)
    }

    @Test func echoAndUnknownEndpointsGetNoChatMessages() throws {
        let server = try makeServer()
        let message = OutboundMessage(.system("hello", re: nil))
        #expect(server.frame(message, for: Endpoint.echo.rawValue) == nil)
        #expect(server.frame(message, for: 99) == nil)
        #expect(server.frame(message, for: -1) == nil)
    }
}

@Suite struct EntropyPoolTests {
    /// Several refills (32 words each): every word fresh, none repeated, none left at zero;
    /// a copy draws from the same pool, so it never repeats what the original handed out.
    @Test func wordsAreFreshAcrossRefillsAndCopies() {
        var pool = EntropyPool()
        var copy = pool
        var seen = Set<UInt64>()
        for index in 0..<200 {
            let word = index % 2 == 0 ? pool.next() : copy.next()
            #expect(word != 0)
            seen.insert(word)
        }
        #expect(seen.count == 200)
    }
}

import ConfabCodec
import ConfabConfig
import ConfabProtocol
import Foundation
import Glibc
import Logging
import Testing
@testable import ConfabReactor
@testable import ConfabServer

/// A real `ConfabServer` (built from a `ConfabConfig` with port 0 and started with `start()`)
/// on its own reactor, and its clients on the same loop:
///
/// - `connect(_:)`: WebSocket clients on the reactor's client side (`Reactor.connect`),
///   for protocol v1 conversations;
/// - `raw(port:)`: plain blocking-connect TCP sockets read without blocking, for HTTP
///   requests, upgrade requests whose whole answer matters, the line chat, and anything
///   that must reach the server in one loop turn.
///
/// A test lists steps (wait until a condition holds, then act) and calls `run()`, which runs
/// the loop: after every 1 ms tick it reads the raw sockets and takes every step whose
/// condition holds. When the last step is done the loop stops; if the deadline passes first
/// the loop stops and the test fails, naming the step it was waiting for.
final class ServerHarness: ClientDelegate {
    let server: ConfabServer
    let addresses: ConfabServer.Addresses
    var reactor: Reactor { server.reactor }

    private var clients: [ConnectionID: WSClient] = [:]
    private var raws: [RawClient] = []
    private var steps: [(label: String, until: () -> Bool, then: () -> Void)] = []
    private var nextStep = 0
    private var syncCounter = 0
    /// The step the loop was waiting for when the deadline passed.
    private(set) var timedOutWaitingFor: String?

    init(_ configure: (inout ConfabConfig) -> Void = { _ in }) throws {
        var config = ConfabConfig()
        config.server.host = "127.0.0.1"
        config.server.port = 0
        config.server.name = "TestChat"
        config.line.port = 0
        config.web.root = "/nonexistent-confab-test-root"
        configure(&config)
        var logger = Logger(label: "confab-server-test")
        logger.logLevel = .critical
        server = try ConfabServer(config: config, logger: logger)
        addresses = try server.start()
        server.reactor.clientDelegate = self
    }

    // MARK: Clients

    /// A protocol v1 (or echo, PixIDE) WebSocket client for `path` (with its query).
    func connect(_ path: String, headers: HTTPHeaders = [:]) -> WSClient {
        let address = try! ServerAddress(host: "127.0.0.1", port: addresses.port)
        let id = reactor.connect(to: address, hostHeader: "127.0.0.1:\(addresses.port)", path: path,
                                 headers: headers, limits: WebSocketLimits())
        let client = WSClient(id: id, harness: self)
        clients[id] = client
        return client
    }

    /// A raw TCP connection to `port` (default: the HTTP port), connected when this returns.
    func raw(port: Int? = nil) -> RawClient {
        let client = RawClient(port: port ?? addresses.port)
        raws.append(client)
        return client
    }

    /// A raw connection to the line chat.
    func lineUser() -> RawClient {
        guard let port = addresses.linePort else {
            Issue.record("the line chat is not enabled")
            return raw()
        }
        return raw(port: port)
    }

    func clientOpened(_ connection: ConnectionID) { clients[connection]?.opened = true }

    func clientReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID) {
        clients[connection]?.frames.append(message)
    }

    func clientClosed(_ connection: ConnectionID, cause: CloseCause) { clients[connection]?.closed = cause }

    // MARK: Steps

    /// Waits until `until` holds, then runs `action`.
    func step(_ label: String, until: @escaping () -> Bool = { true }, then action: @escaping () -> Void) {
        steps.append((label, until, action))
    }

    /// Waits until `until` holds.
    func wait(_ label: String, until: @escaping () -> Bool) {
        steps.append((label, until, {}))
    }

    /// Steps that make sure the server has handled everything `client` sent before: once the
    /// client is open, a `help` with a fresh id, then wait for the reply that echoes it.
    /// Returns the id, at whose reply `WSClient.types(before:)` cuts.
    @discardableResult
    func sync(_ client: @escaping @autoclosure () -> WSClient, _ label: String = "sync") -> String {
        syncCounter += 1
        let id = "sync\(syncCounter)"
        step("\(label): \(id) once open", until: { client().opened }) { client().send(#"{"type":"help","id":"\#(id)"}"#) }
        wait("\(label): reply to \(id)", until: { client().index(ofReplyTo: id) != nil })
        return id
    }

    struct TimedOut: Error, CustomStringConvertible {
        var step: String
        var description: String { "timed out waiting for: \(step)" }
    }

    /// Runs the loop through every step, or until `deadlineMs` of loop time have passed;
    /// then throws, so a test never reads what did not arrive. Either way the server's loop
    /// must have closed cleanly: every handle closed, every libuv request called back. The
    /// deadline only bounds a failing test: generous, for a loaded machine.
    func run(deadlineMs: UInt64 = 30_000, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reactor = self.reactor
        var done = false
        reactor.every(milliseconds: 1) { [unowned self] in
            guard !done else { return }
            for raw in raws { raw.poll() }
            while nextStep < steps.count, steps[nextStep].until() {
                steps[nextStep].then()
                nextStep += 1
            }
            if nextStep == steps.count {
                done = true
                reactor.stop()
            }
        }
        reactor.after(milliseconds: deadlineMs) { [unowned self] in
            guard !done else { return }
            done = true
            timedOutWaitingFor = nextStep < steps.count ? steps[nextStep].label : "(nothing)"
            reactor.stop()
        }
        server.run()
        for raw in raws { raw.close() }
        steps.removeAll()  // Their closures hold this harness.
        #expect(reactor.state == .closed && reactor.loopCloseStatus == 0, sourceLocation: sourceLocation)
        #expect(reactor.ledger.isBalanced, "\(reactor.ledger)", sourceLocation: sourceLocation)
        #expect(reactor.connectionCount == 0 && reactor.sessionCount == 0, sourceLocation: sourceLocation)
        if let step = timedOutWaitingFor { throw TimedOut(step: step) }
    }
}

/// A WebSocket client on the reactor's client side: what it received, in order.
final class WSClient {
    let id: ConnectionID
    unowned let harness: ServerHarness
    var opened = false
    /// Every text message received, as sent.
    var frames: [[UInt8]] = []
    var closed: CloseCause?

    init(id: ConnectionID, harness: ServerHarness) {
        self.id = id
        self.harness = harness
    }

    func send(_ json: String) {
        // The reactor drops what a client sends before its 101: a test that does is wrong.
        #expect(opened && closed == nil, "send on a client that is not open: \(json)")
        harness.reactor.sendText(Array(json.utf8), to: id)
    }

    func close(code: UInt16 = CloseCode.normalClosure, reason: String = "bye") {
        harness.reactor.close(id, code: code, reason: reason)
    }

    var texts: [String] { frames.map { String(decoding: $0, as: UTF8.self) } }
    var objects: [JSONObject] { frames.map(json) }
    /// The `type` of each message received.
    var types: [String] { objects.map { $0.string("type") ?? "?" } }

    /// Messages of one type, parsed.
    func all(_ type: String) -> [JSONObject] { objects.filter { $0.string("type") == type } }

    func count(_ type: String) -> Int { all(type).count }

    /// The index of the reply whose `re` is the string `id`.
    func index(ofReplyTo id: String) -> Int? { objects.firstIndex { $0.string("re") == id } }

    /// The types received before the reply to `id` (what a `sync` fenced off).
    func types(before id: String) -> [String] {
        guard let end = index(ofReplyTo: id) else { return types }
        return Array(types[..<end])
    }
}

/// A TCP socket opened with a blocking `connect` (on loopback it completes in the kernel's
/// backlog, before the server accepts) and read without blocking from the loop's tick.
final class RawClient {
    private(set) var fd: Int32
    private(set) var received: [UInt8] = []
    /// The peer closed (or reset) the connection.
    private(set) var ended = false

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket: \(errno)")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        precondition(result == 0, "connect to 127.0.0.1:\(port): errno \(errno)")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Writes all of `bytes` (small test inputs fit the socket buffer at once).
    func write(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #expect(sent == bytes.count, "raw write of \(bytes.count) bytes sent \(sent) (errno \(errno))")
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// Reads whatever has arrived, without blocking.
    func poll() {
        guard fd >= 0, !ended else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                received += buffer[0..<count]
            } else {
                if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { ended = true }
                return
            }
        }
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    // MARK: HTTP

    /// A GET-style request: the start line, `Host`, the given headers, a blank line.
    func request(_ method: String = "GET", _ target: String, headers: [(String, String)] = []) {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        write(text + "\r\n")
    }

    /// A WebSocket upgrade request for `target`.
    func upgrade(_ target: String, headers: [(String, String)] = []) {
        request("GET", target, headers: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
        ] + headers)
    }

    /// The complete responses received so far, in order. A 101 ends the list: what follows
    /// it is WebSocket frames. `bodiless` lists which responses answer a HEAD.
    func responses(bodiless: Set<Int> = []) -> [HTTPReply] {
        var replies: [HTTPReply] = []
        var offset = 0
        while let reply = HTTPReply.parse(received[offset...], bodiless: bodiless.contains(replies.count)) {
            replies.append(reply.reply)
            offset += reply.consumed
            if reply.reply.status == 101 { break }
        }
        return replies
    }

    /// The WebSocket messages received after a 101 (server frames are not masked).
    var messages: [WebSocketMessage] {
        guard let head = HTTPReply.parse(received[...], bodiless: true), head.reply.status == 101 else { return [] }
        var reader = WebSocketReader(limits: WebSocketLimits(requireMaskedFrames: false))
        var out: [WebSocketMessage] = []
        let rest = Array(received[head.consumed...])
        _ = rest.withUnsafeBytes { reader.feed($0) { out.append($0) } }
        return out
    }

    /// Sends one masked frame, as a client must.
    func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        write(FrameEncoder.encode(opcode: opcode, payload: payload, mask: 0x1234_5678))
    }

    // MARK: Lines

    /// The complete CRLF-terminated lines received so far.
    var lines: [String] {
        var out: [String] = []
        var start = 0
        for index in received.indices where received[index] == UInt8(ascii: "\n") {
            var end = index
            if end > start, received[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            out.append(String(decoding: received[start..<end], as: UTF8.self))
            start = index + 1
        }
        return out
    }

    func say(_ text: String) { write(text + "\r\n") }
}

/// One HTTP response as a raw client received it.
struct HTTPReply {
    var status: Int
    var reason: String
    /// Header names lowercased; values as sent.
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The first response in `bytes` and its length; nil until it is complete. A body is
    /// `Content-Length` long; a response without one (a 101) has none.
    static func parse(_ bytes: ArraySlice<UInt8>, bodiless: Bool) -> (reply: HTTPReply, consumed: Int)? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = bytes.indices.first(where: { bytes[$0...].starts(with: terminator) }) else { return nil }
        let head = String(decoding: bytes[bytes.startIndex..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2).map(String.init)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = headEnd + 4
        let length = bodiless || status == 101 ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.endIndex - bodyStart >= length else { return nil }
        let reply = HTTPReply(status: status, reason: statusLine.count > 2 ? statusLine[2] : "", headers: headers,
                              body: Array(bytes[bodyStart..<bodyStart + length]))
        return (reply, bodyStart + length - bytes.startIndex)
    }
}

/// A JSON text as an object (an empty one when it is not an object).
func json(_ bytes: [UInt8]) -> JSONObject {
    if case .object(let object)? = JSONParser.parse(bytes: bytes) { return object }
    guard case .object(let empty)? = JSONParser.parse("{}") else { fatalError("{} is an object") }
    return empty
}

func json(_ text: String) -> JSONObject { json(Array(text.utf8)) }

extension JSONObject {
    func object(_ key: String) -> JSONObject? {
        if case .object(let value)? = self[key] { return value }
        return nil
    }

    func array(_ key: String) -> [JSONValue] {
        if case .array(let value)? = self[key] { return value }
        return []
    }

    /// The members of an array of objects.
    func objects(_ key: String) -> [JSONObject] {
        array(key).compactMap { if case .object(let object) = $0 { return object } else { return nil } }
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value)? = self[key] { return value }
        return nil
    }
}

import ConfabCodec
import Logging
import Testing
@testable import ConfabReactor

/// One reactor plays both sides over real loopback TCP: an echo server (ReactorDelegate)
/// and a client (ClientDelegate). Each test runs the loop until the scenario calls
/// `finish()`, or a deadline timer stops it and the test fails. After every run the loop
/// must be closed and every libuv request called back.
final class Loopback: ReactorDelegate, ClientDelegate {
    let reactor: Reactor
    var port = 0
    var events: [String] = []
    var serverReceived: [String] = []
    var serverClosed: [CloseCause] = []
    var clientClosed: [CloseCause] = []
    var timedOut = false
    var onClientOpen: (ConnectionID) -> Void = { _ in }
    var onClientMessage: (ConnectionID, [UInt8]) -> Void = { _, _ in }
    var onClientClosed: (ConnectionID) -> Void = { _ in }
    /// Replaces the echo when set.
    var onServerMessage: ((ConnectionID, [UInt8]) -> Void)?
    /// Called before the route is decided.
    var onRoute: (ConnectionID) -> Void = { _ in }

    init(settings: ReactorSettings = ReactorSettings()) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        reactor = try Reactor(settings: settings, logger: logger)
        reactor.delegate = self
        reactor.clientDelegate = self
        port = try reactor.listen(host: "127.0.0.1", port: 0).port
    }

    func connect(path: String = "/ws", limits: WebSocketLimits = WebSocketLimits()) throws -> ConnectionID {
        reactor.connect(to: try ServerAddress(host: "127.0.0.1", port: port), hostHeader: "127.0.0.1:\(port)", path: path,
                        limits: limits)
    }

    /// Runs the loop until `finish()` or the deadline, then checks it closed cleanly. The
    /// deadline only bounds a failing test: generous, for a loaded machine.
    func run(deadlineMs: UInt64 = 30_000, sourceLocation: SourceLocation = #_sourceLocation) {
        let start = reactor.now
        reactor.every(milliseconds: 50) { [unowned self] in
            if reactor.now - start > deadlineMs {
                timedOut = true
                finish()
            }
        }
        reactor.run()
        expectClosedCleanly(reactor, sourceLocation: sourceLocation)
    }

    func finish() { reactor.stop() }

    /// The server-side end of a connection (the only connection that is not a client).
    func serverSide() -> ConnectionID? {
        var found: ConnectionID?
        reactor.forEachConnection { if !$0.isClient && $0.phase != .closed { found = $0.id } }
        return found
    }

    // Server: echo text and binary; refuse paths other than /ws.
    func route(_ request: HTTPRequest, connection: ConnectionID, peer: String) -> Route {
        onRoute(connection)
        guard request.path == "/ws" else {
            return .respond(HTTPResponse(status: 404, text: "no").encode(), keepAlive: false)
        }
        switch WebSocketHandshake.validate(request) {
        case .success(let accept): return .upgrade(accept: accept, endpoint: 7, limits: WebSocketLimits())
        case .failure(let error): return .respond(error.response.encode(), keepAlive: false)
        }
    }

    func opened(_ connection: ConnectionID, endpoint: Int) { events.append("server open \(endpoint)") }

    func received(_ message: [UInt8], binary: Bool, connection: ConnectionID, endpoint: Int) {
        serverReceived.append(String(decoding: message, as: UTF8.self))
        if let onServerMessage { return onServerMessage(connection, message) }
        reactor.send(OutboundFrame(FrameEncoder.encode(opcode: binary ? .binary : .text, payload: message)), to: connection)
    }

    func closed(_ connection: ConnectionID, endpoint: Int, cause: CloseCause) { serverClosed.append(cause) }

    func clientOpened(_ connection: ConnectionID) {
        events.append("client open")
        onClientOpen(connection)
    }

    func clientReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID) {
        onClientMessage(connection, message)
    }

    func clientClosed(_ connection: ConnectionID, cause: CloseCause) {
        clientClosed.append(cause)
        onClientClosed(connection)
    }
}

/// What must hold once `run()` has returned: the loop closed (uv_loop_close said 0), every
/// handle closed once and called back, every write, connect and shutdown called back,
/// no connection or session left, and the delegates released.
func expectClosedCleanly(_ reactor: Reactor, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reactor.state == .closed, sourceLocation: sourceLocation)
    #expect(reactor.loopCloseStatus == 0, sourceLocation: sourceLocation)
    #expect(reactor.ledger.isBalanced, "\(reactor.ledger)", sourceLocation: sourceLocation)
    #expect(reactor.ledger.handlesOpened > 0, sourceLocation: sourceLocation)
    #expect(reactor.connectionCount == 0, sourceLocation: sourceLocation)
    #expect(reactor.sessionCount == 0, sourceLocation: sourceLocation)
    #expect(reactor.delegate == nil && reactor.clientDelegate == nil, sourceLocation: sourceLocation)
}

func quietReactor(_ settings: ReactorSettings = ReactorSettings()) throws -> Reactor {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return try Reactor(settings: settings, logger: logger)
}

@Suite struct LoopbackTests {
    @Test func clientAndServerExchangeMessagesAndCloseCleanly() throws {
        let loop = try Loopback()
        var echoes: [String] = []
        loop.onClientOpen = { id in
            for text in ["hello", "héllo wörld", String(repeating: "x", count: 70_000 / 2)] {
                loop.reactor.sendText(Array(text.utf8), to: id)
            }
        }
        loop.onClientMessage = { id, message in
            echoes.append(String(decoding: message, as: UTF8.self))
            if echoes.count == 3 { loop.reactor.close(id, code: CloseCode.normalClosure, reason: "bye") }
        }
        // The server's close cause arrives once the handshake completes: then we are done.
        loop.onClientClosed = { _ in }
        var rounds = 0
        loop.reactor.every(milliseconds: 10) {
            rounds += 1
            if loop.serverClosed.count == 1 && loop.reactor.connectionCount == 0 { loop.finish() }
        }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(echoes == ["hello", "héllo wörld", String(repeating: "x", count: 35_000)])
        #expect(loop.events == ["server open 7", "client open"])
        #expect(loop.serverClosed == [.peerClosed(code: 1000, reason: "bye")])
        #expect(loop.clientClosed == [.local(code: 1000, reason: "bye")])
    }

    @Test func framesQueuedInATimerGoOutBeforeThePollNotAtTheNextEvent() throws {
        let loop = try Loopback()
        var queuedAfterTimer: Int?
        loop.onClientOpen = { _ in
            guard let server = loop.serverSide() else { return }
            // Equal timeouts fire in one timers phase, in order: the second sees what the
            // first left queued. Without a flush after each timer, the frame waits for the
            // next poll to return, which nothing else here would wake.
            loop.reactor.after(milliseconds: 20) { loop.reactor.sendText(Array("tick".utf8), to: server) }
            loop.reactor.after(milliseconds: 20) { queuedAfterTimer = loop.reactor.flushQueue.count }
        }
        loop.onClientMessage = { _, message in
            if message == Array("tick".utf8) { loop.finish() }
        }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(queuedAfterTimer == 0)
    }

    @Test func refusedHandshakeIsReportedToTheClient() throws {
        let loop = try Loopback()
        loop.onClientClosed = { _ in loop.finish() }
        _ = try loop.connect(path: "/nope")
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.clientClosed == [.transport("handshake refused (404): Not Found")])
    }

    @Test func connectFailureIsReported() throws {
        let loop = try Loopback()
        loop.reactor.stopAccepting()
        loop.onClientClosed = { _ in loop.finish() }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        guard case .transport(let reason)? = loop.clientClosed.first else {
            Issue.record("expected a transport failure, got \(loop.clientClosed)")
            return
        }
        #expect(reason.contains("ECONNREFUSED"))
    }

    @Test func serverCloseReachesClientWithItsCode() throws {
        let loop = try Loopback()
        var serverSide: ConnectionID?
        loop.onClientOpen = { _ in
            // The only server-side connection is the other end of ours.
            loop.reactor.forEachConnection { if !$0.isClient { serverSide = $0.id } }
            if let serverSide { loop.reactor.close(serverSide, code: CloseCode.goingAway, reason: "shutting down") }
        }
        loop.onClientClosed = { _ in }
        loop.reactor.every(milliseconds: 10) {
            if !loop.clientClosed.isEmpty && loop.reactor.connectionCount == 0 { loop.finish() }
        }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.clientClosed == [.peerClosed(code: 1001, reason: "shutting down")])
        #expect(loop.serverClosed == [.local(code: 1001, reason: "shutting down")])
    }
}

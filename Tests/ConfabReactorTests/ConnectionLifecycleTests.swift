import CLibUV
import ConfabCodec
import Testing
@testable import ConfabReactor

@Suite struct ConnectionLifecycleTests {
    /// Endpoint tags belong to server sessions only: a client connection is not taken for
    /// endpoint 0 (the chat endpoint) by broadcasts and lookups.
    @Test func endpointTagsCoverServerSessionsOnly() throws {
        let loop = try Loopback()
        loop.onClientOpen = { client in
            guard let server = loop.serverSide() else { return }
            var asked: [Int] = []
            loop.reactor.send(to: [client, server]) { endpoint in
                asked.append(endpoint)
                return nil
            }
            #expect(asked == [7])
            #expect(loop.reactor.endpoint(of: server) == 7)
            #expect(loop.reactor.endpoint(of: client) == nil)
            #expect(loop.reactor.connections(endpoint: 7) == [server])
            #expect(loop.reactor.connections(endpoint: 0).isEmpty)
            loop.finish()
        }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.events == ["server open 7", "client open"])
    }

    /// The delegate aborts every connection while the frame reader is delivering the first
    /// of two messages that arrived together. The reader is out of the connection while it
    /// runs (before, closing the connection replaced the reader it was running in); the
    /// second message goes nowhere, and the connection is closed once.
    @Test func aConnectionClosedFromItsOwnMessageCallback() throws {
        let loop = try Loopback()
        loop.onClientOpen = { id in
            // Queued in one loop turn: one write, so usually one read on the server.
            loop.reactor.sendText(Array("first".utf8), to: id)
            loop.reactor.sendText(Array("second".utf8), to: id)
        }
        loop.onServerMessage = { _, _ in loop.reactor.abortAll() }
        loop.onClientClosed = { _ in loop.finish() }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.serverReceived == ["first"])
        #expect(loop.serverClosed == [.transport("server shutting down")])
        #expect(loop.clientClosed.count == 1)
    }

    /// A connection that its route closed is not upgraded: no session opens (before, the
    /// upgrade revived the closed connection and counted a session that never ended).
    @Test func aRouteThatClosesTheConnectionDoesNotUpgradeIt() throws {
        let loop = try Loopback()
        loop.onRoute = { id in loop.reactor.close(id, code: CloseCode.goingAway, reason: "no") }
        loop.onClientClosed = { _ in loop.finish() }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.events.isEmpty)
        #expect(loop.clientClosed == [.transport("peer closed the connection")])
    }

    /// Closing a client before the server's 101 is reported like any other end (before,
    /// the delegate never heard of it and waited for an event that would not come).
    @Test func aClientClosedDuringItsHandshakeIsToldSo() throws {
        let loop = try Loopback()
        let id = try loop.connect()
        loop.reactor.close(id, code: CloseCode.normalClosure, reason: "bye")
        #expect(loop.clientClosed == [.local(code: CloseCode.normalClosure, reason: "bye")])
        loop.reactor.after(milliseconds: 1, keepsLoopAlive: false) { loop.finish() }
        loop.run()
        #expect(loop.clientClosed.count == 1)
    }

    /// Every way of closing, one after another on the same connection: `uv_close` is
    /// called once for it, and the delegate hears of the end once.
    @Test func aClosedConnectionIsNotClosedTwice() throws {
        let loop = try Loopback()
        loop.onClientOpen = { id in loop.reactor.sendText(Array("hi".utf8), to: id) }
        loop.onServerMessage = { id, _ in
            let reactor = loop.reactor
            reactor.close(id, code: CloseCode.goingAway, reason: "one")
            reactor.close(id, code: CloseCode.goingAway, reason: "two")
            guard let connection = reactor.connection(id) else { return }
            reactor.closeHandle(of: connection)
            reactor.closeHandle(of: connection)
            reactor.close(id, code: CloseCode.goingAway, reason: "three")
            reactor.abortAll()
            reactor.stop()
            reactor.stop()
        }
        _ = try loop.connect()
        loop.run()
        #expect(!loop.timedOut)
        #expect(loop.serverClosed == [.local(code: CloseCode.goingAway, reason: "one")])
        #expect(loop.clientClosed.count == 1)
        // Two connections (client and server end), the listener, the sweep and deadline
        // timers, the flush check: each closed exactly once.
        #expect(loop.reactor.ledger.closesRequested == 6)
    }

    /// A frame too large for one `uv_try_write` goes out through `uv_write`: every write
    /// started is called back, and the frames stay alive until then.
    @Test func largeWritesAreCalledBack() throws {
        var settings = ReactorSettings()
        settings.maxOutboundBytes = 64 << 20
        let loop = try Loopback(settings: settings)
        let size = 8 << 20
        var received = 0
        loop.onClientOpen = { _ in
            guard let server = loop.serverSide() else { return }
            let payload = [UInt8](repeating: 0x61, count: size)
            loop.reactor.send(OutboundFrame(FrameEncoder.encode(opcode: .binary, payload: payload)), to: server)
        }
        loop.onClientMessage = { id, message in
            received = message.count
            loop.reactor.close(id, code: CloseCode.normalClosure, reason: "bye")
        }
        loop.reactor.every(milliseconds: 5) {
            if loop.serverClosed.count == 1 && loop.reactor.connectionCount == 0 { loop.finish() }
        }
        _ = try loop.connect(limits: .conformance)
        loop.run()
        #expect(!loop.timedOut)
        #expect(received == size)
        #expect(loop.reactor.ledger.writesStarted > 0)
    }

    /// Closing a connection while a large write is still in libuv's queue: the write is
    /// called back (cancelled) before the handle's close callback frees the connection.
    @Test func writesInFlightAreCalledBackBeforeTheirConnectionIsFreed() throws {
        var settings = ReactorSettings()
        settings.maxOutboundBytes = 64 << 20
        let loop = try Loopback(settings: settings)
        var inFlight = 0
        loop.onClientOpen = { id in
            // The client stops reading, so the write cannot finish.
            if let client = loop.reactor.connection(id) { uv_read_stop(client.stream) }
            guard let server = loop.serverSide() else { return }
            let payload = [UInt8](repeating: 0x61, count: 12 << 20)
            loop.reactor.send(OutboundFrame(FrameEncoder.encode(opcode: .binary, payload: payload)), to: server)
            // Next loop turn, after the flush handed the frame to libuv.
            loop.reactor.after(milliseconds: 0, keepsLoopAlive: true) {
                inFlight = loop.reactor.connection(server)?.writesInFlight ?? 0
                loop.finish()
            }
        }
        _ = try loop.connect(limits: .conformance)
        loop.run()
        #expect(!loop.timedOut)
        #expect(inFlight == 1)
        #expect(loop.reactor.ledger.writesStarted >= 1)
    }

    /// Each connection slot, phase and decoder: what one idle connection costs must not grow.
    @Test func connectionFootprintDoesNotGrow() throws {
        let reactor = try quietReactor()
        let connection = reactor.makeConnection(isClient: false, input: .request(HTTPRequestParser()))
        // 296 bytes before the decoders became one enum, 248 after (glibc's usable size).
        #expect(malloc_usable_size(Unmanaged.passUnretained(connection).toOpaque()) <= 248)
        #expect(MemoryLayout<Connection.Input>.size <= MemoryLayout<WebSocketReader>.size)
        reactor.closeHandle(of: connection)
        reactor.run()
        expectClosedCleanly(reactor)
    }
}

@_silgen_name("malloc_usable_size") private func malloc_usable_size(_ pointer: UnsafeMutableRawPointer?) -> Int

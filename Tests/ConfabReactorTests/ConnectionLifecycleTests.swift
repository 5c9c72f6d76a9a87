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

    /// Each connection slot, phase and decoder: what one idle connection costs must not grow.
    @Test func connectionFootprintDoesNotGrow() throws {
        let reactor = try quietReactor()
        let connection = reactor.makeConnection(isClient: false, input: .request(HTTPRequestParser()))
        // 296 bytes before the decoders became one enum, 248 after (glibc's usable size).
        #expect(malloc_usable_size(Unmanaged.passUnretained(connection).toOpaque()) <= 248)
        #expect(MemoryLayout<Connection.Input>.size <= MemoryLayout<WebSocketReader>.size)
        reactor.closeHandle(of: connection)
        reactor.stop()
        reactor.run()
    }
}

@_silgen_name("malloc_usable_size") private func malloc_usable_size(_ pointer: UnsafeMutableRawPointer?) -> Int

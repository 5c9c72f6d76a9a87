import CLibUV
import ConfabCodec
import Glibc

/// The client side of a WebSocket, for `confab chat` and `confab load`: same loop, same
/// codec, same queues as the server side; frames we send are masked (RFC 6455 §5.3).
public protocol ClientDelegate: AnyObject {
    func clientOpened(_ connection: ConnectionID)
    func clientReceived(_ message: [UInt8], binary: Bool, connection: ConnectionID)
    /// Also called when the TCP connect or the handshake fails.
    func clientClosed(_ connection: ConnectionID, cause: CloseCause)
}

/// A resolved server address for `connect`.
public struct ServerAddress: Sendable {
    var storage: sockaddr_storage
    public let description: String

    /// Resolves `host` (name or literal) once, before any connection is made.
    public init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result, let address = first.pointee.ai_addr else {
            throw LibuvError(operation: "resolve \(host)", code: Int32(UV_EAI_NONAME.rawValue))
        }
        defer { freeaddrinfo(result) }
        storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen)))
        }
        description = "\(host):\(port)"
    }
}

extension Reactor {
    /// Opens a WebSocket to `address` and starts the handshake for `path` (with its query).
    /// Events arrive on `clientDelegate`; the id is valid at once for `sendText`/`close`.
    /// After `stop()` nothing is opened: the id names no connection and no event follows.
    public func connect(to address: ServerAddress, hostHeader: String, path: String,
                        headers: HTTPHeaders = [:], limits: WebSocketLimits) -> ConnectionID {
        guard mayOpenHandle("connect") else { return Self.noConnection }
        var nonce = [UInt8](repeating: 0, count: 16)
        var random = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = random.next() }
        let handshake = WebSocketClientHandshake(nonce: nonce)
        let pending = PendingClient(handshake: handshake, limits: limits,
                                    request: handshake.request(host: hostHeader, path: path, extraHeaders: headers))
        let connection = makeConnection(isClient: true, input: .response(pending))
        connection.peer = address.description

        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passUnretained(connection).toOpaque()
        var storage = address.storage
        let result = withUnsafePointer(to: &storage) { pointer in
            uv_tcp_connect(request, connection.tcp, UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self)) { request, status in
                guard let request else { return }
                defer { request.deallocate() }
                guard let data = request.pointee.data else {
                    assertionFailure("connect callback without its connection")
                    return
                }
                // The connection is still in the table: a pending connect is called back
                // (ECANCELED) before its handle's close callback.
                let connection = Unmanaged<Connection>.fromOpaque(data).takeUnretainedValue()
                connection.reactor.ledger.requestsCompleted += 1
                connection.reactor.didConnect(connection, status: status)
            }
        }
        if result < 0 {
            request.deallocate()
            connectFailed(connection, code: result)
        } else {
            ledger.requestsStarted += 1
        }
        return connection.id
    }

    /// Sends one text message from a client connection, masked with a fresh key.
    public func sendText(_ text: [UInt8], to id: ConnectionID) {
        guard let connection = connection(id), connection.phase == .webSocket else { return }
        enqueue(OutboundFrame(frame(.text, text, for: connection)), on: connection)
    }

    /// A control or data frame as `connection`'s role requires: masked from a client.
    func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], for connection: Connection) -> [UInt8] {
        guard connection.isClient else { return FrameEncoder.encode(opcode: opcode, payload: payload) }
        var random = SystemRandomNumberGenerator()
        return FrameEncoder.encode(opcode: opcode, payload: payload, mask: UInt32.random(in: .min ... .max, using: &random))
    }

    func closeFrame(code: UInt16?, reason: String, for connection: Connection) -> [UInt8] {
        guard connection.isClient else { return FrameEncoder.closeFrame(code: code, reason: reason) }
        var random = SystemRandomNumberGenerator()
        return FrameEncoder.closeFrame(code: code, reason: reason, mask: UInt32.random(in: .min ... .max, using: &random))
    }

    private func didConnect(_ connection: Connection, status: Int32) {
        // Closed before the connect finished (stop, abort): it was reported then.
        guard connection.phase != .closed else { return }
        guard status == 0 else {
            connectFailed(connection, code: status)
            return
        }
        assert(connection.phase == .http, "didConnect: connection \(connection.id) in .\(connection.phase) before it was connected")
        connection.phaseStarted = now
        startReading(connection)
        // Send our request; the bytes are not needed once they are queued.
        if case .response(var pending) = connection.takeInput() {
            enqueue(OutboundFrame(pending.request), on: connection)
            pending.request = []
            connection.restoreInput(.response(pending))
        } else {
            assertionFailure("didConnect: client connection \(connection.id) has no handshake")
        }
    }

    private func connectFailed(_ connection: Connection, code: Int32) {
        endSession(connection, cause: .transport("connect to \(connection.peer) failed: \(uvErrorDescription(code))"))
        closeHandle(of: connection)
    }

    /// Bytes from the server before the upgrade: its answer to our handshake.
    func readUpgradeResponse(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        guard case .response(var pending) = connection.takeInput() else {
            assertionFailure("readUpgradeResponse: client connection \(connection.id) in .http has no handshake")
            return
        }
        let outcome = pending.handshake.feed(bytes)
        switch outcome {
        case .needMore:
            connection.restoreInput(.response(pending))
        case .refused(let status, let reason):
            endSession(connection, cause: .refused(status: status, reason: reason))
            closeHandle(of: connection)
        case .accepted(let consumed):
            var limits = pending.limits
            limits.requireMaskedFrames = false  // servers do not mask
            limits.acceptsRegisteredCloseCodes = true  // 1012: the server restarts
            connection.input = .frames(WebSocketReader(limits: limits))
            connection.enter(.webSocket, now: now)
            connection.session = .client
            sessionCount += 1
            clientDelegate?.clientOpened(connection.id)
            // Frames right behind the 101, unless the delegate has closed the connection.
            if consumed < bytes.count, connection.phase != .closed {
                readFrames(connection, UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
            }
        }
    }
}

/// A client connection between TCP connect and the server's 101.
struct PendingClient {
    var handshake: WebSocketClientHandshake
    var limits: WebSocketLimits
    /// Sent once TCP is connected.
    var request: [UInt8]
}

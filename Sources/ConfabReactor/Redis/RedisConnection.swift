import CHiredis
import CLibUV
import ConfabCodec
import Glibc

/// One hiredis async context on the reactor's loop, for one connection attempt: resolve the
/// host (names only, off the loop thread by libuv), connect, log in (AUTH, SELECT), then PING
/// (the command connection) or SUBSCRIBE (the subscriber) until ready. Never reused: once it
/// has ended, its client makes a new one.
///
/// Living with hiredis: the context's `data` points here, unretained, while we use it. When
/// the context is done for (hiredis reports a failed connect or a disconnect, or answers a
/// command with NULL because it is freeing the context, or we give up on it) `data` is
/// cleared first, so no later callback of that context reaches us, and we never touch the
/// context again. hiredis frees it: after the connect or disconnect callback, at once from
/// `redisAsyncFree`, or, from inside one of its own callbacks, when that callback returns.
final class RedisConnection {
    enum Phase: Equatable {
        case idle
        /// `uv_getaddrinfo` in flight.
        case resolving
        /// A context exists: TCP connect, then the login commands.
        case connecting
        case ready
        /// Failed, lost or closed; nothing happens any more.
        case ended
    }

    unowned(unsafe) let reactor: Reactor
    let endpoint: RedisEndpoint
    /// Subscribed to once connected; empty for the command connection.
    let channels: [[UInt8]]
    /// Which of several resolved addresses to try, so attempts rotate through them.
    let attempt: Int
    /// Told when this connection is ready, ends by itself, or receives a message.
    weak var client: RedisClient?
    private(set) var phase = Phase.idle

    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private var resolveRequest: UnsafeMutablePointer<uv_getaddrinfo_t>?
    /// Reply handlers by the sequence number passed to hiredis as the command's privdata.
    private var pending: [UInt: (RedisReply) -> Void] = [:]
    private var nextSequence: UInt = 1
    /// `subscribe` confirmations received.
    private var confirmed = 0

    init(reactor: Reactor, endpoint: RedisEndpoint, channels: [[UInt8]], attempt: Int) {
        self.reactor = reactor
        self.endpoint = endpoint
        self.channels = channels
        self.attempt = attempt
    }

    /// Starts connecting. May end the connection before it returns (a refused address).
    func start() {
        guard phase == .idle else { return }
        if isNumericAddress(endpoint.host) {
            open(endpoint.host)
        } else {
            resolve()
        }
    }

    /// Sends a command; false (and the handler is not kept) unless the connection is
    /// connecting or ready and hiredis took the command. The handler gets the reply, or
    /// nothing here if the connection ends first: `close()` hands it back to the client.
    @discardableResult
    func command(_ arguments: [[UInt8]], reply: ((RedisReply) -> Void)?) -> Bool {
        guard phase == .connecting || phase == .ready else { return false }
        guard let reply else { return issue(arguments, nil, nil) }
        let sequence = nextSequence
        nextSequence = nextSequence == .max ? 1 : nextSequence + 1
        pending[sequence] = reply
        guard issue(arguments, replyCallback, UnsafeMutableRawPointer(bitPattern: sequence)) else {
            pending[sequence] = nil
            return false
        }
        return true
    }

    /// Ends the connection without telling the client, and hands back the handlers of the
    /// commands that will never be answered, oldest first. Safe to call again.
    func close() -> [(RedisReply) -> Void] {
        if phase != .ended {
            phase = .ended
            freeContext()
            // The callback still comes (cancelled, or with a result) and finds us ended.
            if let resolveRequest { uv_cancel(resolveRequest.cast(to: uv_req_t.self)) }
        }
        let unanswered = pending.sorted { $0.key < $1.key }.map(\.value)
        pending.removeAll()
        return unanswered
    }

    // MARK: Steps

    private func open(_ address: String) {
        phase = .connecting
        guard let context = redisAsyncConnect(address, Int32(endpoint.port)) else {
            return end("cannot make a hiredis context")
        }
        guard context.pointee.err == 0 else {
            let reason = errorText(context)
            redisAsyncFree(context)  // Not attached and no callbacks: its memory and socket go.
            return end("connect to \(address) port \(endpoint.port) failed: \(reason)")
        }
        guard attachToLoop(context, reactor.loop) else {
            redisAsyncFree(context)
            return end("cannot watch the socket of \(address) port \(endpoint.port)")
        }
        context.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        self.context = context
        // A subscriber hears nothing while no one publishes: keepalive finds a dead peer.
        if let socket = context.pointer(to: \redisAsyncContext.c) { _ = redisEnableKeepAlive(socket) }
        redisAsyncSetConnectCallback(context, connectCallback)
        redisAsyncSetDisconnectCallback(context, disconnectCallback)
    }

    /// Connected: queue the login and the step that makes the connection ready, all at once
    /// (Redis answers in order, so the last answer means every step before it succeeded).
    /// This runs in hiredis's connect callback, where the context must not be freed; if
    /// hiredis refuses a command (only when out of memory), the client's deadline ends it.
    fileprivate func connected() {
        if let password = endpoint.password {
            let user = endpoint.username.map { [Array($0.utf8)] } ?? []
            step([Array("AUTH".utf8)] + user + [Array(password.utf8)], "AUTH")
        }
        if endpoint.db != 0 { step([Array("SELECT".utf8), Array(String(endpoint.db).utf8)], "SELECT") }
        if channels.isEmpty {
            step([Array("PING".utf8)], "PING") { [unowned self] in becomeReady() }
        } else {
            issue([Array("SUBSCRIBE".utf8)] + channels, subscribeCallback, nil)
        }
    }

    private func step(_ arguments: [[UInt8]], _ name: String, then: (() -> Void)? = nil) {
        command(arguments) { [weak self] reply in
            guard let self, phase == .connecting else { return }
            if case .error(let message) = reply {
                end("\(name) refused: \(message)")
            } else {
                then?()
            }
        }
    }

    fileprivate func subscription(_ reply: redisReply) {
        guard reply.type == REDIS_REPLY_ARRAY, reply.elements >= 2, let elements = reply.element,
              let kind = elements[0]?.pointee, let channel = elements[1]?.pointee else { return }
        switch RedisReply.bytes(kind) {
        case Self.message:
            guard reply.elements >= 3, let payload = elements[2]?.pointee else { return }
            client?.received(channel: RedisReply.bytes(channel), payload: RedisReply.bytes(payload))
        case Self.subscribe:
            confirmed += 1
            if confirmed == channels.count, phase == .connecting { becomeReady() }
        default:
            break
        }
    }

    private static let message = Array("message".utf8)
    private static let subscribe = Array("subscribe".utf8)

    private func becomeReady() {
        phase = .ready
        client?.connectionReady(self)
    }

    /// We give up on the connection (a login step refused, or it could not start).
    private func end(_ reason: String) {
        guard phase != .ended else { return }
        phase = .ended
        freeContext()
        client?.connectionEnded(self, reason: reason)
    }

    /// hiredis is freeing the context: let go of it first, then report why.
    fileprivate func contextGone(_ context: UnsafeMutablePointer<redisAsyncContext>, _ what: String) {
        let reason = "\(what): \(errorText(context))"
        context.pointee.data = nil
        self.context = nil
        end(reason)
    }

    private func freeContext() {
        guard let context else { return }
        context.pointee.data = nil
        self.context = nil
        redisAsyncFree(context)
    }

    // MARK: hiredis calls

    /// The command as binary-safe arguments; hiredis copies them before returning.
    @discardableResult
    private func issue(_ arguments: [[UInt8]], _ callback: ReplyCallback?, _ privdata: UnsafeMutableRawPointer?) -> Bool {
        guard let context, !arguments.isEmpty, arguments.count < Int(Int32.max) else { return false }
        let lengths = arguments.map(\.count)
        // One buffer for all of them, never empty, so every argument has an address.
        let joined = arguments.joined() + [0]
        return joined.withUnsafeBufferPointer { buffer in
            guard let base = UnsafeRawPointer(buffer.baseAddress) else { return false }
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return (base + offset).assumingMemoryBound(to: CChar.self)
            }
            return redisAsyncCommandArgv(context, callback, privdata, Int32(arguments.count), &pointers, lengths) == REDIS_OK
        }
    }

    private func resolve() {
        phase = .resolving
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()  // Until the callback.
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(reactor.loop, request, { request, status, result in
            defer { uv_freeaddrinfo(result) }
            guard let request, let data = request.pointee.data else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeRetainedValue()
            request.deallocate()
            connection.reactor.ledger.requestsCompleted += 1
            connection.resolveRequest = nil
            connection.resolved(status, result)
        }, endpoint.host, nil, &hints)
        guard status == 0 else {
            Unmanaged.passUnretained(self).release()
            request.deallocate()
            return end("cannot resolve \(endpoint.host): \(uvErrorDescription(status))")
        }
        reactor.ledger.requestsStarted += 1
        resolveRequest = request
    }

    private func resolved(_ status: Int32, _ result: UnsafeMutablePointer<addrinfo>?) {
        guard phase == .resolving else { return }  // Closed meanwhile.
        var addresses: [String] = []
        var entry = result
        while let current = entry {
            if let address = current.pointee.ai_addr {
                var name = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
                if uv_ip_name(address, &name, name.count) == 0 {
                    addresses.append(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                }
            }
            entry = current.pointee.ai_next
        }
        guard status == 0, !addresses.isEmpty else {
            return end("cannot resolve \(endpoint.host): \(status == 0 ? "no address" : uvErrorDescription(status))")
        }
        open(addresses[attempt % addresses.count])
    }

    /// The connection whose context this is, while it is attached.
    fileprivate static func attached(to context: UnsafePointer<redisAsyncContext>) -> RedisConnection? {
        guard let data = context.pointee.data else { return nil }
        return Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
    }
}

/// hiredis's error text for the context (its own buffer, filled before any callback that
/// reports a failure).
private func errorText(_ context: UnsafePointer<redisAsyncContext>) -> String {
    withUnsafeBytes(of: context.pointee.c.errstr) { raw in
        let text = raw.prefix { $0 != 0 }
        return text.isEmpty ? "connection closed" : String(decoding: text, as: UTF8.self)
    }
}

/// An IPv4 or IPv6 literal, which needs no resolving.
private func isNumericAddress(_ host: String) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16)
    return uv_inet_pton(AF_INET, host, &buffer) == 0 || uv_inet_pton(AF_INET6, host, &buffer) == 0
}

/// hiredis's reply callback type, as a C function pointer.
private typealias ReplyCallback = @convention(c) (
    UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void

private func connectCallback(_ context: UnsafePointer<redisAsyncContext>?, _ status: Int32) {
    guard let context, let connection = RedisConnection.attached(to: context) else { return }
    if status == REDIS_OK {
        connection.connected()
    } else {
        connection.contextGone(UnsafeMutablePointer(mutating: context), "connect failed")
    }
}

private func disconnectCallback(_ context: UnsafePointer<redisAsyncContext>?, _ status: Int32) {
    guard let context, let connection = RedisConnection.attached(to: context) else { return }
    connection.contextGone(UnsafeMutablePointer(mutating: context), "connection lost")
}

/// A command's reply, or NULL when hiredis is freeing the context (after it failed).
private func replyCallback(_ context: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?,
                           _ privdata: UnsafeMutableRawPointer?) {
    guard let context, let connection = RedisConnection.attached(to: context) else { return }
    guard let reply = reply?.assumingMemoryBound(to: redisReply.self) else {
        return connection.contextGone(context, "connection lost")
    }
    connection.answer(UInt(bitPattern: privdata), RedisReply(reply))
}

/// Each `subscribe` confirmation and each `message`; NULL when the context is being freed.
private func subscribeCallback(_ context: UnsafeMutablePointer<redisAsyncContext>?, _ reply: UnsafeMutableRawPointer?,
                               _ privdata: UnsafeMutableRawPointer?) {
    guard let context, let connection = RedisConnection.attached(to: context) else { return }
    guard let reply = reply?.assumingMemoryBound(to: redisReply.self) else {
        return connection.contextGone(context, "connection lost")
    }
    connection.subscription(reply.pointee)
}

extension RedisConnection {
    fileprivate func answer(_ sequence: UInt, _ reply: RedisReply) {
        pending.removeValue(forKey: sequence)?(reply)
    }
}

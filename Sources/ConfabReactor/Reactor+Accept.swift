import CLibUV
import ConfabCodec
import Glibc
import Logging

/// What a listener's connections speak from their first byte.
public enum ListenerProtocol: Sendable {
    /// HTTP/1.1, with upgrades to WebSocket decided by the delegate.
    case http
    /// Plain text lines (telnet/nc users), handed to the delegate under this endpoint tag.
    case lines(endpoint: Int, maxLineBytes: Int)
}

/// A listening TCP socket and what its connections speak. `reactor` is unretained: the
/// reactor closes every listener before it goes.
final class Listener {
    let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
    let kind: ListenerProtocol
    unowned(unsafe) let reactor: Reactor

    init(kind: ListenerProtocol, reactor: Reactor) {
        self.kind = kind
        self.reactor = reactor
    }
}

extension Reactor {
    /// Binds and listens; returns the address actually bound (port 0 picks a free one).
    /// With `reusePort`, SO_REUSEPORT is set before the bind, so other processes (or
    /// reactors) that also set it can listen on the same port and the kernel spreads the
    /// connections among them; without it a second bind fails with EADDRINUSE.
    @discardableResult
    public func listen(host: String, port: Int, speaking kind: ListenerProtocol = .http, backlog: Int32 = 1024,
                       reusePort: Bool = false) throws -> (host: String, port: Int) {
        var address = try socketAddress(host: host, port: port)
        let isIPv6 = host.contains(":")
        guard mayOpenHandle("listen") else { throw LibuvError(operation: "listen on \(host):\(port)", code: Int32(UV_ECANCELED.rawValue)) }
        let listener = Listener(kind: kind, reactor: self)
        if reusePort {
            // libuv 1.44 has no flag for it: make the socket now (uv_tcp_init_ex) to set the option.
            let status = uv_tcp_init_ex(loop, listener.tcp, UInt32(isIPv6 ? AF_INET6 : AF_INET))
            guard status == 0 else {
                listener.tcp.deallocate()  // Never initialised: nothing to close.
                throw LibuvError(operation: "socket for \(host):\(port)", code: status)
            }
            opened(status, "uv_tcp_init_ex")
        } else {
            opened(uv_tcp_init(loop, listener.tcp), "uv_tcp_init")
        }
        setContext(listener.tcp.cast(to: uv_handle_t.self), listener)
        listeners.append(listener)
        if reusePort { try setReusePort(listener.tcp) }
        try withUnsafePointer(to: &address) { storage in
            try check(uv_tcp_bind(listener.tcp, UnsafeRawPointer(storage).assumingMemoryBound(to: sockaddr.self), 0), "bind \(host):\(port)")
        }
        try check(uv_listen(listener.tcp.cast(to: uv_stream_t.self), backlog) { server, status in
            guard let listener = context(server?.cast(to: uv_handle_t.self), as: Listener.self) else {
                assertionFailure("connection callback after the listener was closed")
                return
            }
            listener.reactor.accept(on: listener, status: status)
        }, "listen on \(host):\(port)")
        return try localAddress(of: listener.tcp)
    }

    private func setReusePort(_ tcp: UnsafeMutablePointer<uv_tcp_t>) throws {
        var fd: uv_os_fd_t = -1
        try check(uv_fileno(tcp.cast(to: uv_handle_t.self), &fd), "uv_fileno")
        var on: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw LibuvError(operation: "setsockopt(SO_REUSEPORT)", code: -errno)
        }
    }

    /// Stops accepting new connections on every listener; existing ones carry on.
    public func stopAccepting() {
        stopAccepting { _ in true }
    }

    /// Stops accepting on the listeners whose protocol `matches` (the line chat's while
    /// draining, when the HTTP listener stays open for health checks).
    public func stopAccepting(where matches: (ListenerProtocol) -> Bool) {
        // Each listener is closed once: it leaves the list as its close starts. The
        // handles' memory is freed in their close callbacks; the objects may go now.
        let closing = listeners.filter { matches($0.kind) }
        listeners.removeAll { matches($0.kind) }
        for listener in closing { closeAndFree(listener.tcp) }
    }

    func accept(on listener: Listener, status: Int32) {
        guard status == 0 else {
            acceptFailed(status)
            return
        }
        stats.connectionsAccepted += 1
        let connection = makeConnection(isClient: false, input: .request(HTTPRequestParser(maxHeaderBytes: settings.maxHeaderBytes)))
        let result = uv_accept(listener.tcp.cast(to: uv_stream_t.self), connection.stream)
        guard result == 0 else {
            acceptFailed(result)
            closeHandle(of: connection)
            return
        }
        guard !tookLastDescriptor(connection) else {
            acceptFailed(UV_EMFILE.rawValue)
            closeHandle(of: connection)  // Frees the descriptor now; the next accept reuses it.
            return
        }
        uv_tcp_nodelay(connection.tcp, 1)
        connection.peer = peerAddress(of: connection.tcp)
        logger.debug("connection accepted", metadata: ["peer": "\(connection.peer)", "conn": "\(connection.id)"])
        if case .lines(let endpoint, let maxLineBytes) = listener.kind {
            connection.input = .lines(LineState(maxLineBytes: maxLineBytes))
            connection.enter(.lines, now: now)
            connection.session = .server(endpoint: endpoint)
            sessionCount += 1
            delegate?.opened(connection.id, endpoint: endpoint)
            // The delegate may have closed it at once.
            guard connection.phase != .closed else { return }
        }
        startReading(connection)
    }

    func startReading(_ connection: Connection) {
        uv_read_start(connection.stream, { handle, _, buffer in
            // Every connection reads into the loop's one slab: its bytes are consumed
            // before the callback returns, so nothing is allocated per read.
            guard let connection = context(handle, as: Connection.self), let buffer else {
                assertionFailure("read allocation for a closed connection")
                return
            }
            buffer.pointee = uv_buf_init(connection.reactor.readSlab.assumingMemoryBound(to: CChar.self),
                                         UInt32(connection.reactor.settings.readBufferBytes))
        }, { stream, nread, _ in
            guard let connection = context(stream?.cast(to: uv_handle_t.self), as: Connection.self) else {
                assertionFailure("read callback for a closed connection")
                return
            }
            connection.reactor.didRead(connection, count: nread)
        })
    }

    /// Whether this connection holds the highest descriptor the process may open: the table
    /// is full (descriptors are allocated lowest first). Such a connection is shed at once, and
    /// counted: left open, the next accept would fail with EMFILE, and libuv sheds those with
    /// its reserved descriptor without telling us. It also keeps one descriptor for files.
    /// The limit is read again only when the descriptor reaches the one last read (it can be
    /// raised while running; a lowered one makes accept itself fail with EMFILE).
    private func tookLastDescriptor(_ connection: Connection) -> Bool {
        var fd: uv_os_fd_t = -1
        guard uv_fileno(connection.tcp.cast(to: uv_handle_t.self), &fd) == 0 else { return false }
        guard rlim_t(fd) + 1 >= knownDescriptorLimit else { return false }
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
        knownDescriptorLimit = limit.rlim_cur
        guard limit.rlim_cur != rlim_t.max else { return false }  // RLIM_INFINITY
        return rlim_t(fd) + 1 >= limit.rlim_cur
    }

    /// An accept that failed or was shed (out of descriptors), counted and logged at most
    /// once a second.
    private func acceptFailed(_ status: Int32) {
        stats.acceptErrors += 1
        let now = self.now
        guard now &- lastAcceptErrorLog >= 1000 else { return }
        lastAcceptErrorLog = now
        logger.warning("accept failed", metadata: ["error": "\(uvErrorDescription(status))", "failures": "\(stats.acceptErrors)"])
    }

    private func localAddress(of tcp: UnsafeMutablePointer<uv_tcp_t>) throws -> (host: String, port: Int) {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutablePointer(to: &storage) { pointer in
            try check(uv_tcp_getsockname(tcp, pointer.cast(to: sockaddr.self), &length), "getsockname")
        }
        return describe(storage)
    }

    private func peerAddress(of tcp: UnsafeMutablePointer<uv_tcp_t>) -> String {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            uv_tcp_getpeername(tcp, pointer.cast(to: sockaddr.self), &length)
        }
        guard result == 0 else { return "?" }
        let (host, port) = describe(storage)
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private func describe(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        var copy = storage
        var name = [CChar](repeating: 0, count: 64)
        return withUnsafePointer(to: &copy) { pointer in
            let address = UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self)
            _ = uv_ip_name(address, &name, name.count)
            let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let port: UInt16
            if Int32(storage.ss_family) == AF_INET6 {
                port = UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port
            } else {
                port = UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port
            }
            return (host, Int(UInt16(bigEndian: port)))
        }
    }
}

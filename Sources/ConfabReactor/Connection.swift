import CLibUV
import ConfabCodec

/// One TCP connection, accepted or opened by us: its libuv handle, where it is in its
/// life (`phase`), what decodes its bytes (`input`), and its outbound queue.
///
/// Kept small on purpose: an idle WebSocket holds the handle, a decoder with no
/// buffered bytes and a few scalars. Buffers exist only while bytes are in flight.
///
/// `reactor` is unowned and unretained: a connection lives in the reactor's table until
/// its close callback, and the reactor closes every handle (and the loop) before it goes
/// away (`Reactor.run()`, or its `deinit` if it never ran).
final class Connection {
    enum Phase {
        /// Reading an HTTP/1.1 request head (server) or the answer to ours (client).
        case http
        /// Upgraded: frames in, frames out.
        case webSocket
        /// A plain-text line session (the line listener).
        case lines
        /// Our close frame or last response is queued or sent; waiting for the peer's
        /// close or EOF.
        case closing
        /// `uv_close` has been called: nothing more happens until the close callback
        /// frees the handle. A connection never leaves this phase.
        case closed

        /// The steps a connection may take; anything else is a bug in the reactor.
        func mayBecome(_ next: Phase) -> Bool {
            switch (self, next) {
            case (.http, .webSocket), (.http, .lines), (.http, .closing),
                 (.webSocket, .closing), (.lines, .closing),
                 (_, .closed):
                return self != .closed
            default:
                return false
            }
        }
    }

    /// What turns this connection's bytes into events: one value for whichever decoder
    /// the phase needs. A read takes it out (`takeInput`) while it runs, so no callback
    /// it makes can reach it, and puts it back (`restoreInput`) unless the connection
    /// closed meanwhile.
    enum Input {
        /// Nothing to decode: taken out for a read, or after the last byte that matters.
        case none
        /// Server, `.http`: the request head so far.
        case request(HTTPRequestParser)
        /// Client, `.http`: our handshake, waiting for the server's 101.
        case response(PendingClient)
        /// `.webSocket` and `.closing` after an upgrade.
        case frames(WebSocketReader)
        /// `.lines`: the partial line.
        case lines(LineState)
    }

    /// Whether the delegate knows of this connection's session, and under which tag.
    enum Session: Equatable {
        /// Before the upgrade (or a line listener's accept). A server connection that
        /// ends here is not reported; a client's failed connect or handshake is.
        case pending
        /// Server side: a WebSocket or line session under the delegate's endpoint tag.
        case server(endpoint: Int)
        /// Client side: past the server's 101.
        case client
        /// The delegate has been told the session ended; nothing more is reported.
        case ended
    }

    // Word-sized fields first and the one-byte flags together at the end, so the object has
    // no padding between them (an idle connection's size is guarded by a test).
    let id: ConnectionID
    let tcp: UnsafeMutablePointer<uv_tcp_t>
    unowned(unsafe) let reactor: Reactor
    var input: Input
    var session: Session = .pending
    var peer: String = "?"

    /// The delegate's endpoint tag while a server-side session is open; nil before it
    /// opens, after it ends, and for clients.
    var endpoint: Int? {
        if case .server(let endpoint) = session { return endpoint }
        return nil
    }

    /// Frames waiting for the next flush, in order; `pendingBytes` is their total size.
    var pending = FrameQueue()
    var pendingBytes = 0
    /// `uv_write` requests not yet called back. Each holds this connection unretained, so
    /// the connection must outlive them: the close callback checks that it does.
    var writesInFlight = 0

    /// Loop time (ms) of the last event that proves the peer alive, and of the state change
    /// the timeouts are measured from.
    var lastHeard: UInt64
    var phaseStarted: UInt64

    /// Our side opened this connection (`Reactor.connect`): frames we send are masked.
    let isClient: Bool
    private(set) var phase: Phase = .http
    var isQueuedForFlush = false
    /// After the queue drains: shut the TCP write side down, then close.
    var shutdownWhenFlushed = false
    var pingOutstanding = false

    init(id: ConnectionID, reactor: Reactor, isClient: Bool, input: Input, now: UInt64) {
        self.id = id
        self.reactor = reactor
        self.isClient = isClient
        self.input = input
        self.tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        self.lastHeard = now
        self.phaseStarted = now
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { tcp.cast(to: uv_stream_t.self) }

    /// Bytes accepted for this peer and not yet on the wire: our queue plus libuv's.
    var queuedBytes: Int { pendingBytes + Int(uv_stream_get_write_queue_size(stream)) }

    /// Moves to `next` and restarts the phase clock. Only `Phase.mayBecome` steps are taken:
    /// leaving `.closed` would let the handle be closed twice, so it stops the process.
    func enter(_ next: Phase, now: UInt64) {
        precondition(phase != .closed, "connection \(id): .closed -> .\(next): a closed handle must never be reused")
        assert(phase.mayBecome(next), "connection \(id): .\(phase) -> .\(next) is not a lifecycle step")
        phase = next
        phaseStarted = now
    }

    /// Takes the decoder out for a read, leaving `.none` behind.
    func takeInput() -> Input {
        var taken = Input.none
        swap(&taken, &input)
        return taken
    }

    /// Puts a decoder back after a read, unless the connection closed while it ran
    /// (then its buffers go now).
    func restoreInput(_ decoder: Input) {
        guard phase != .closed else { return }
        if case .none = input {} else {
            assertionFailure("connection \(id) in .\(phase): a decoder was installed while another was out")
        }
        input = decoder
    }
}

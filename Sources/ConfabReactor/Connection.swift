import CLibUV
import ConfabCodec

/// One accepted TCP connection: its libuv handle, where it is in the protocol
/// (HTTP request, WebSocket, closing), and its outbound queue.
///
/// Kept small on purpose: an idle WebSocket holds the handle, a decoder with no
/// buffered bytes and a few scalars. Buffers exist only while bytes are in flight.
final class Connection {
    enum Phase {
        /// Reading an HTTP/1.1 request head.
        case http
        /// Upgraded: frames in, frames out.
        case webSocket
        /// A plain-text line session (the line listener).
        case lines
        /// Our close frame is queued or sent; waiting for the peer's close or EOF.
        case closing
        /// The handle is closing or closed; nothing more happens.
        case closed
    }

    let id: ConnectionID
    let tcp: UnsafeMutablePointer<uv_tcp_t>
    unowned(unsafe) let reactor: Reactor
    var phase: Phase = .http
    /// The request parser while in `.http`; the frame reader after the upgrade. Kept apart
    /// from `phase` so a callback may change the phase while the reader is mid-decode.
    var parser: HTTPRequestParser?
    var reader: WebSocketReader?
    var peer: String = "?"
    var endpoint: Int = -1
    /// Our side opened this connection (`Reactor.connect`): frames we send are masked.
    var isClient = false

    /// Frames waiting for the next flush, in order; `pendingBytes` is their total size.
    var pending: [OutboundFrame] = []
    var pendingBytes = 0
    var isQueuedForFlush = false
    /// `uv_write` requests not yet completed.
    var writesInFlight = 0
    /// After the queue drains: shut the TCP write side down, then close.
    var shutdownWhenFlushed = false

    /// Loop time (ms) of the last event that proves the peer alive, and of the state change
    /// the timeouts are measured from.
    var lastHeard: UInt64
    var phaseStarted: UInt64
    var pingOutstanding = false
    /// Set once the delegate has been told the session ended.
    var reportedClosed = false

    init(id: ConnectionID, reactor: Reactor, now: UInt64, maxHeaderBytes: Int) {
        self.id = id
        self.reactor = reactor
        self.tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        self.parser = HTTPRequestParser(maxHeaderBytes: maxHeaderBytes)
        self.lastHeard = now
        self.phaseStarted = now
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { tcp.cast(to: uv_stream_t.self) }

    /// Bytes accepted for this peer and not yet on the wire: our queue plus libuv's.
    var queuedBytes: Int { pendingBytes + Int(uv_stream_get_write_queue_size(stream)) }
}

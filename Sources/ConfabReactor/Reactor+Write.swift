import CLibUV
import ConfabCodec
import Logging

/// One `uv_write` in flight: the request and the frames whose bytes it points at,
/// kept alive until libuv calls back. The connection is unretained: libuv calls every
/// write back before the handle's close callback releases it (checked there).
private final class WriteRequest {
    let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
    var frames: [OutboundFrame] = []
    unowned(unsafe) let connection: Connection
    #if DEBUG
    /// libuv is done with the request: called back, or never accepted it.
    var isFinished = false
    #endif

    init(connection: Connection) { self.connection = connection }

    deinit {
        #if DEBUG
        assert(isFinished, "write request freed before its write callback: libuv would write freed frames")
        #endif
        request.deallocate()
    }

    /// Marks the request done with (debug builds check it before freeing the frames).
    @inline(__always)
    func finish() {
        #if DEBUG
        isFinished = true
        #endif
    }
}

extension Reactor {
    // MARK: Public sending API (loop thread only)

    /// Queues a frame (or, for a line session, text) for one connection. Unknown or
    /// closing connections are skipped.
    public func send(_ frame: OutboundFrame, to id: ConnectionID) {
        guard let connection = connection(id), connection.phase == .webSocket || connection.phase == .lines else { return }
        enqueue(frame, on: connection)
    }

    /// Queues one message for many connections: no copy and no allocation per recipient
    /// beyond a reference in each one's queue. `frame(endpoint)` gives the bytes for the
    /// connections of that endpoint (nil: they get nothing). It is asked once per endpoint met,
    /// so a broadcast is encoded once per dialect that has a recipient, never per recipient.
    public func send(to ids: [ConnectionID], except: ConnectionID? = nil, frame: (Int) -> OutboundFrame?) {
        var known: [(endpoint: Int, frame: OutboundFrame?)] = []
        var lastEndpoint = Int.min
        var lastFrame: OutboundFrame?
        for id in ids where id != except {
            guard let connection = connection(id) else { continue }
            switch connection.phase {
            case .webSocket, .lines: break
            case .http, .closing, .closed: continue
            }
            // Server sessions only: clients have no endpoint tag.
            guard let endpoint = connection.endpoint else { continue }
            if endpoint != lastEndpoint {
                lastEndpoint = endpoint
                if let hit = known.first(where: { $0.endpoint == lastEndpoint }) {
                    lastFrame = hit.frame
                } else {
                    lastFrame = frame(lastEndpoint)
                    known.append((lastEndpoint, lastFrame))
                }
            }
            if let lastFrame { enqueue(lastFrame, on: connection) }
        }
    }

    /// The endpoint tag of an open session (nil for unknown connections, ones not yet
    /// upgraded or whose session has ended, and client connections).
    public func endpoint(of id: ConnectionID) -> Int? {
        connection(id)?.endpoint
    }

    /// Connections still in use: sessions, and connections closing (a close handshake or a
    /// last response under way). Idle HTTP keep-alive connections are not counted: a drain
    /// need not wait for them.
    public var busyConnectionCount: Int {
        var count = 0
        forEachConnection { if $0.phase != .http && $0.phase != .closed { count += 1 } }
        return count
    }

    /// Open connections of one endpoint (shutdown notices).
    public func connections(endpoint: Int) -> [ConnectionID] {
        var ids: [ConnectionID] = []
        forEachConnection { if $0.endpoint == endpoint { ids.append($0.id) } }
        return ids
    }

    // MARK: Queue and flush

    func enqueue(_ frame: OutboundFrame, on connection: Connection) {
        assert(connection.phase != .closed, "enqueue: frame for connection \(connection.id) in .closed")
        stats.framesOut += 1
        stats.bytesOut += frame.count
        connection.pending.append(frame)
        connection.pendingBytes += frame.count
        if !connection.isQueuedForFlush {
            connection.isQueuedForFlush = true
            flushQueue.append(connection)
        }
    }

    /// Runs once per loop turn (uv_check): every connection with queued frames gets one
    /// write carrying all of them.
    func flushAll() {
        while !flushQueue.isEmpty {
            let queue = flushQueue
            flushQueue.removeAll(keepingCapacity: true)
            for connection in queue {
                connection.isQueuedForFlush = false
                flush(connection)
            }
        }
    }

    private func flush(_ connection: Connection) {
        guard connection.phase != .closed else { return }
        // Slow means: bytes offered in earlier loop turns that the peer has still not taken.
        // This turn's frames do not count, so one large frame (an echo, a long history) for a
        // reader that keeps up is fine, and memory stays within the limit plus one turn.
        if connection.phase != .closing, Int(uv_stream_get_write_queue_size(connection.stream)) > settings.maxOutboundBytes {
            slowConsumer(connection)
            guard connection.phase != .closed else { return }
        }
        if !connection.pending.isEmpty {
            write(connection)
        }
        if connection.shutdownWhenFlushed, connection.pending.isEmpty, connection.writesInFlight == 0 {
            connection.shutdownWhenFlushed = false
            shutdown(connection)
        }
    }

    private func write(_ connection: Connection) {
        bufferScratch.removeAll(keepingCapacity: true)
        for frame in connection.pending {
            bufferScratch.append(uv_buf_init(frame.base.assumingMemoryBound(to: CChar.self), UInt32(frame.count)))
        }
        var written = 0
        if connection.writesInFlight == 0 {
            // Fast path: most writes fit in the socket buffer and need no request at all.
            let result = uv_try_write(connection.stream, bufferScratch, UInt32(bufferScratch.count))
            if result >= 0 {
                written = Int(result)
            } else if result != UV_EAGAIN.rawValue {
                failWrite(connection, code: result)
                return
            }
        }
        if written == connection.pendingBytes {
            connection.pending.removeAll()
            connection.pendingBytes = 0
            return
        }
        // Queue what is left as one uv_write, starting inside the first unwritten frame.
        let request = WriteRequest(connection: connection)
        var skip = written
        var first = 0
        while skip >= connection.pending[first].count {
            skip -= connection.pending[first].count
            first += 1
        }
        request.frames = Array(connection.pending[first...])
        var buffers = Array(bufferScratch[first...])
        buffers[0].base += skip
        buffers[0].len -= skip
        connection.pending.removeAll()
        connection.pendingBytes = 0
        request.request.pointee.data = Unmanaged.passRetained(request).toOpaque()
        let result = uv_write(request.request, connection.stream, buffers, UInt32(buffers.count)) { request, status in
            guard let data = request?.pointee.data else {
                assertionFailure("write callback without its request")
                return
            }
            // The frames are released here, after libuv's last look at their bytes.
            let write = Unmanaged<WriteRequest>.fromOpaque(data).takeRetainedValue()
            write.finish()
            write.connection.reactor.didWrite(write.connection, status: status)
        }
        if result < 0 {
            request.finish()  // Never accepted: libuv holds nothing of it.
            Unmanaged<WriteRequest>.fromOpaque(UnsafeRawPointer(request.request.pointee.data!)).release()
            failWrite(connection, code: result)
            return
        }
        connection.writesInFlight += 1
        #if DEBUG
        ledger.writesStarted += 1
        #endif
    }

    private func didWrite(_ connection: Connection, status: Int32) {
        assert(connection.writesInFlight > 0, "write callback for connection \(connection.id) in .\(connection.phase) with no write in flight")
        connection.writesInFlight -= 1
        #if DEBUG
        ledger.writesCompleted += 1
        #endif
        // Once closed, the callback only releases the frames: cancelled writes (and ones
        // that completed just before the close) need nothing more.
        guard connection.phase != .closed else { return }
        if status < 0 {
            if status != UV_ECANCELED.rawValue { failWrite(connection, code: status) }
            return
        }
        flush(connection)
    }

    private func failWrite(_ connection: Connection, code: Int32) {
        logger.debug("write failed", metadata: ["peer": "\(connection.peer)", "error": "\(uvErrorDescription(code))"])
        endSession(connection, cause: .transport("write failed: \(uvErrorDescription(code))"))
        closeHandle(of: connection)
    }

    /// A peer that does not read while others talk: drop it rather than buffer without bound.
    /// Frames not yet handed to libuv are discarded (whole frames, so framing stays intact),
    /// a close 1008 goes behind what is already in flight, and the close timeout cuts TCP
    /// if the peer never reads it. A plain HTTP client that does this (pipelining requests
    /// without reading the answers) is simply closed.
    private func slowConsumer(_ connection: Connection) {
        stats.slowConsumersDropped += 1
        logger.warning("slow consumer dropped", metadata: ["peer": "\(connection.peer)", "queued": "\(connection.queuedBytes)"])
        let wasHTTP = connection.phase == .http
        let wasLines = connection.phase == .lines
        let reason = "slow consumer: outbound queue over \(settings.maxOutboundBytes) bytes"
        endSession(connection, cause: .local(code: CloseCode.policyViolation, reason: reason))
        guard !wasHTTP else {
            closeHandle(of: connection)
            return
        }
        if wasLines { connection.input = .none }
        connection.enter(.closing, now: now)
        connection.pending.removeAll()
        connection.pendingBytes = 0
        if !wasLines {
            enqueue(OutboundFrame(closeFrame(code: CloseCode.policyViolation, reason: "slow consumer", for: connection)), on: connection)
        }
        shutdownAfterFlush(connection)
    }
}
